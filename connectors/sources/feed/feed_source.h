#pragma once

// FeedSource: one poll of one feed — a conditional GET through the shared
// HttpClient, classification of the answer, and parsing.
//
// Threading: io_context thread only (like HttpClient). `done` runs on that
// thread, never inside Poll().

#include <chrono>
#include <functional>
#include <string>

#include "connectors/common/http/http_client.h"
#include "daemon/core/error.h"
#include "daemon/core/feed_item.h"

namespace newsflow {

// What the previous successful poll left behind (from the state store).
struct FeedValidators {
  std::string etag;
  std::string last_modified;
  std::string body_hash;  // sha256 of the last body that was processed
};

struct FeedPollRequest {
  std::string feed_name;          // for error messages
  HttpRequest http;               // url, proxy, UA, timeouts, caps
  FeedValidators previous;        // sent as If-None-Match / If-Modified-Since
  bool unconditional = false;     // ignore validators (periodic full refetch)
};

// How a poll ended when it did not fail.
enum class FeedPollStatus {
  kNotModified,    // 304
  kUnchangedBody,  // 200, but the body hash equals the previous one
  kNew,            // 200 with a body that was parsed into `feed`
};

struct FeedPollResult {
  FeedPollStatus status = FeedPollStatus::kNew;
  ParsedFeed feed;              // only for kNew
  FeedValidators validators;    // what to store once the poll's items are done
  std::string effective_url;    // after redirects
  int first_redirect_status = 0;
  std::chrono::milliseconds elapsed{0};
  size_t body_bytes = 0;
};

using FeedPollCallback = std::function<void(Result<FeedPollResult>)>;

// Polls once. Errors carry the feed name and URL in `where`: transport
// errors from HttpClient, kHttpStatus (non-2xx other than 304), kEmptyBody,
// kNotAFeed / kParse from the parser.
void PollFeed(HttpClient& client, FeedPollRequest request,
              FeedPollCallback done);

// Classifies a finished HTTP exchange; the pure part of PollFeed (exposed
// for tests).
Result<FeedPollResult> ClassifyFeedResponse(const FeedPollRequest& request,
                                            HttpResponse response);

}  // namespace newsflow
