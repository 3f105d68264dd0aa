#include "connectors/sources/feed/feed_source.h"

#include "connectors/sources/feed/feed_parser.h"
#include "daemon/normalizer/normalizer.h"

namespace newsflow {
namespace {

std::string Where(const FeedPollRequest& r) {
  return "feed " + r.feed_name + " (" + r.http.url + ")";
}

std::string StatusMessage(int status) {
  switch (status) {
    case 401: return "HTTP 401 Unauthorized";
    case 403: return "HTTP 403 Forbidden";
    case 404: return "HTTP 404 Not Found";
    case 410: return "HTTP 410 Gone";
    case 429: return "HTTP 429 Too Many Requests";
    case 500: return "HTTP 500 Internal Server Error";
    case 502: return "HTTP 502 Bad Gateway";
    case 503: return "HTTP 503 Service Unavailable";
    default: return "HTTP " + std::to_string(status);
  }
}

}  // namespace

Result<FeedPollResult> ClassifyFeedResponse(const FeedPollRequest& request,
                                            HttpResponse response) {
  FeedPollResult result;
  result.effective_url = response.effective_url;
  result.first_redirect_status = response.first_redirect_status;
  result.elapsed = response.elapsed;
  result.body_bytes = response.body.size();
  result.validators = request.previous;
  if (response.status == 304) {
    result.status = FeedPollStatus::kNotModified;
    // RFC 9110: a 304 may refresh the validators.
    if (!response.Header("etag").empty()) result.validators.etag = response.Header("etag");
    if (!response.Header("last-modified").empty()) {
      result.validators.last_modified = response.Header("last-modified");
    }
    return result;
  }
  if (response.status < 200 || response.status > 299) {
    std::string message = StatusMessage(response.status);
    if (response.Header("cf-mitigated") == "challenge") {
      message += " (bot wall: cf-mitigated challenge)";
    }
    return Error(Errc::kHttpStatus, std::move(message), Where(request),
                 response.status);
  }
  if (response.body.empty()) {
    return Error(Errc::kEmptyBody, "HTTP 200 with an empty body", Where(request));
  }
  // "Expires: 0" marks servers whose validators cannot be trusted.
  const bool trust_validators = response.Header("expires") != "0";
  result.validators.etag = trust_validators ? response.Header("etag") : "";
  result.validators.last_modified =
      trust_validators ? response.Header("last-modified") : "";
  result.validators.body_hash = Sha256Hex(response.body);
  if (!request.previous.body_hash.empty() &&
      result.validators.body_hash == request.previous.body_hash) {
    result.status = FeedPollStatus::kUnchangedBody;
    return result;
  }
  FeedParseOptions options;
  options.document_url =
      response.effective_url.empty() ? request.http.url : response.effective_url;
  options.content_type = response.Header("content-type");
  auto parsed = ParseFeed(response.body, options);
  if (!parsed) return parsed.error().At(Where(request));
  result.status = FeedPollStatus::kNew;
  result.feed = std::move(*parsed);
  return result;
}

void PollFeed(HttpClient& client, FeedPollRequest request,
              FeedPollCallback done) {
  HttpRequest http = request.http;
  if (!request.unconditional) {
    http.etag = request.previous.etag;
    http.last_modified = request.previous.last_modified;
  }
  client.Fetch(std::move(http),
               [request = std::move(request), done = std::move(done)](
                   Result<HttpResponse> response) mutable {
                 if (!response) {
                   done(response.error().At(Where(request)));
                   return;
                 }
                 done(ClassifyFeedResponse(request, std::move(*response)));
               });
}

}  // namespace newsflow
