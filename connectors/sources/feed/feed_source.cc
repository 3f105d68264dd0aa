#include "connectors/sources/feed/feed_source.h"

#include "connectors/sources/feed/feed_parser.h"
#include "daemon/core/hash.h"

namespace newsflow {
namespace {

std::string Where(const FeedPollRequest& r) {
  return "feed " + r.feed_name + " (" + r.http.url + ")";
}

std::string StatusMessage(int status) {
  switch (status) {
    case 401:
      return "HTTP 401 Unauthorized";
    case 403:
      return "HTTP 403 Forbidden";
    case 404:
      return "HTTP 404 Not Found";
    case 410:
      return "HTTP 410 Gone";
    case 429:
      return "HTTP 429 Too Many Requests";
    case 500:
      return "HTTP 500 Internal Server Error";
    case 502:
      return "HTTP 502 Bad Gateway";
    case 503:
      return "HTTP 503 Service Unavailable";
    default:
      return "HTTP " + std::to_string(status);
  }
}

bool Contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

// Anti-bot interstitials answer with a status and an HTML challenge page
// instead of the feed; naming them saves the operator a packet capture.
std::string BotWall(const HttpResponse& response) {
  if (response.Header("cf-mitigated") == "challenge") {
    return "cf-mitigated: challenge";
  }
  const int s = response.status;
  if (s != 403 && s != 429 && s != 503) return "";
  const std::string_view head =
      std::string_view(response.body).substr(0, 16 << 10);
  const std::string& server = response.Header("server");
  if (Contains(server, "cloudflare") && (Contains(head, "challenge-platform") ||
                                         Contains(head, "Just a moment"))) {
    return "Cloudflare challenge page";
  }
  if (!response.Header("x-datadome").empty() ||
      Contains(head, "captcha-delivery.com")) {
    return "DataDome captcha";
  }
  if (Contains(server, "AkamaiGHost") && Contains(head, "Access Denied")) {
    return "Akamai access denied";
  }
  return "";
}

}  // namespace

HttpRequest ConditionalRequest(const FeedPollRequest& request) {
  HttpRequest http = request.http;
  if (!request.unconditional) {
    http.etag = request.previous.etag;
    http.last_modified = request.previous.last_modified;
  } else {
    http.etag.clear();
    http.last_modified.clear();
  }
  return http;
}

std::string FetchOutcomeName(const Result<FeedPollResult>& result) {
  if (result) {
    switch (result->status) {
      case FeedPollStatus::kNotModified:
        return "not_modified";
      case FeedPollStatus::kUnchangedBody:
        return "unchanged_body";
      case FeedPollStatus::kNew:
        // A body cut short: its complete items count, the poll does not.
        return result->feed.truncated ? "truncated" : "new";
    }
  }
  const Error& e = result.error();
  switch (e.code()) {
    case Errc::kHttpStatus: {
      const int s = e.http_status();
      if (e.message().starts_with("bot wall")) return "bot_wall";
      if (s == 304) return "http_304_unsolicited";
      if (s == 401 || s == 403 || s == 404 || s == 410 || s == 429) {
        return "http_" + std::to_string(s);
      }
      if (s >= 500 && s <= 599) return "http_5xx";
      if (s >= 400 && s <= 499) return "http_4xx";
      return "http_other";
    }
    case Errc::kInvalidArgument:
      return "invalid_url";
    default:
      return std::string(ErrcName(e.code()));
  }
}

Result<FeedPollResult> ClassifyFeedResponse(const FeedPollRequest& request,
                                            HttpResponse response) {
  FeedPollResult result;
  result.effective_url = response.effective_url;
  result.first_redirect_status = response.first_redirect_status;
  result.elapsed = response.elapsed;
  result.body_bytes = response.body.size();
  result.validators = request.previous;
  const bool sent_validators =
      !request.unconditional && (!request.previous.etag.empty() ||
                                 !request.previous.last_modified.empty());
  if (response.status == 304 && !sent_validators) {
    // Nothing to be "not modified" against: a broken cache or server.
    return Error(Errc::kHttpStatus,
                 "HTTP 304 Not Modified to a request without validators",
                 Where(request), 304);
  }
  if (response.status == 304) {
    result.status = FeedPollStatus::kNotModified;
    // RFC 9110: a 304 may refresh the validators.
    if (!response.Header("etag").empty())
      result.validators.etag = response.Header("etag");
    if (!response.Header("last-modified").empty()) {
      result.validators.last_modified = response.Header("last-modified");
    }
    return result;
  }
  if (response.status < 200 || response.status > 299) {
    std::string message = StatusMessage(response.status);
    if (std::string wall = BotWall(response); !wall.empty()) {
      message = "bot wall (" + wall + "): " + message;
    }
    return Error(Errc::kHttpStatus, std::move(message), Where(request),
                 response.status);
  }
  if (response.body.empty()) {
    return Error(Errc::kEmptyBody, "HTTP 200 with an empty body",
                 Where(request));
  }
  // "Expires: 0" marks servers whose validators cannot be trusted.
  const bool trust_validators = response.Header("expires") != "0";
  result.validators.etag = trust_validators ? response.Header("etag") : "";
  result.validators.last_modified =
      trust_validators ? response.Header("last-modified") : "";
  result.validators.body_hash = Sha256Hex(response.body);
  const bool same_etag = !request.previous.etag.empty() &&
                         result.validators.etag == request.previous.etag;
  const bool same_date =
      !request.previous.last_modified.empty() &&
      result.validators.last_modified == request.previous.last_modified;
  if ((same_etag || same_date) && !request.previous.body_hash.empty() &&
      result.validators.body_hash != request.previous.body_hash) {
    // Same validators, different content: they mean nothing on this
    // server. Dropping them makes the next poll unconditional; the body
    // hash still recognises an unchanged document.
    result.validators.etag.clear();
    result.validators.last_modified.clear();
    result.validators_distrusted = true;
  }
  if (!request.previous.body_hash.empty() &&
      result.validators.body_hash == request.previous.body_hash) {
    result.status = FeedPollStatus::kUnchangedBody;
    return result;
  }
  FeedParseOptions options;
  options.document_url = response.effective_url.empty()
                             ? request.http.url
                             : response.effective_url;
  options.content_location = response.Header("content-location");
  options.content_type = response.Header("content-type");
  options.assumed_zone = request.assumed_zone.get();
  auto parsed = ParseFeed(response.body, options);
  if (!parsed) return parsed.error().At(Where(request));
  result.status = FeedPollStatus::kNew;
  result.feed = std::move(*parsed);
  return result;
}

void PollFeed(HttpClient& client, FeedPollRequest request,
              FeedPollCallback done) {
  HttpRequest http = ConditionalRequest(request);
  client.Fetch(std::move(http),
               [request = std::move(request),
                done = std::move(done)](Result<HttpResponse> response) mutable {
                 if (!response) {
                   done(response.error().At(Where(request)));
                   return;
                 }
                 done(ClassifyFeedResponse(request, std::move(*response)));
               });
}

}  // namespace newsflow
