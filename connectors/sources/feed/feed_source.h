#pragma once

// FeedSource: one poll of one feed — a conditional GET through the shared
// HttpClient, classification of the answer, and parsing.
//
// Threading: io_context thread only (like HttpClient). `done` runs on that
// thread, never inside Poll().

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "connectors/common/http/http_client.h"
#include "daemon/core/error.h"
#include "daemon/core/feed_item.h"
#include "daemon/core/timezone.h"

namespace newsflow {

// What the previous successful poll left behind (from the state store).
struct FeedValidators {
  std::string etag;
  std::string last_modified;
  std::string body_hash;  // sha256 of the last body that was processed
};

struct FeedPollRequest {
  std::string feed_name;       // for error messages
  HttpRequest http;            // url, proxy, UA, timeouts, caps
  FeedValidators previous;     // sent as If-None-Match / If-Modified-Since
  bool unconditional = false;  // ignore validators (periodic full refetch)
  // Zone for feed dates that carry none (the feed's `timezone`); null = UTC.
  std::shared_ptr<const TimeZone> assumed_zone;
};

// How a poll ended when it did not fail.
enum class FeedPollStatus {
  kNotModified,    // 304
  kUnchangedBody,  // 200, but the body hash equals the previous one
  kNew,            // 200 with a body that was parsed into `feed`
};

struct FeedPollResult {
  FeedPollStatus status = FeedPollStatus::kNew;
  ParsedFeed feed;            // only for kNew
  FeedValidators validators;  // what to store once the poll's items are done
  std::string effective_url;  // after redirects
  int first_redirect_status = 0;
  std::chrono::milliseconds elapsed{0};
  size_t body_bytes = 0;
  // The server sent the validators we already had with a different body
  // (ETag/Last-Modified that never change): they were dropped from
  // `validators`, so later polls rely on the body hash instead.
  bool validators_distrusted = false;
};

using FeedPollCallback = std::function<void(Result<FeedPollResult>)>;

// The HTTP request PollFeed sends: `request.http` plus If-None-Match /
// If-Modified-Since from `previous` unless `unconditional`.
HttpRequest ConditionalRequest(const FeedPollRequest& request);

// Polls once. Errors carry the feed name and URL in `where`: transport
// errors from HttpClient, kHttpStatus (non-2xx other than 304), kEmptyBody,
// kNotAFeed / kParse from the parser.
void PollFeed(HttpClient& client, FeedPollRequest request,
              FeedPollCallback done);

// Classifies a finished HTTP exchange; the pure part of PollFeed (exposed
// for tests). Defences against broken servers:
//  - a 304 to a request that carried no validator is an error (kHttpStatus,
//    status 304), never "not modified";
//  - "Expires: 0" → the response's validators are not stored;
//  - a 200 that repeats our validators with a different body → validators
//    dropped (validators_distrusted) and the body processed;
//  - a 200 whose body hash equals the last one → kUnchangedBody.
// Bot walls (cf-mitigated: challenge, or a Cloudflare/DataDome/Akamai
// challenge page on 403/429/503) are kHttpStatus errors whose message starts
// with "bot wall".
Result<FeedPollResult> ClassifyFeedResponse(const FeedPollRequest& request,
                                            HttpResponse response);

// The stable outcome label of a poll for logs and
// newsflow_feed_fetches_total{outcome}: new, not_modified, unchanged_body,
// dns, connect, tls, timeout, connection_reset, too_many_redirects,
// http_401, http_403, bot_wall, http_404, http_410, http_429, http_5xx,
// http_4xx (other 4xx), http_304_unsolicited, http_other, empty_body,
// too_large, not_a_feed, parse, blocked, invalid_url, cancelled, or the
// ErrcName of anything else.
std::string FetchOutcomeName(const Result<FeedPollResult>& result);

}  // namespace newsflow
