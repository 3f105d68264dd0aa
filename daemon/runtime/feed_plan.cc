#include "daemon/runtime/feed_plan.h"

#include <utility>

#include "daemon/core/text_util.h"

namespace newsflow {
namespace {

bool IsCredentialHeader(const std::string& name) {
  return EqualsIgnoreCaseAscii(name, "authorization") ||
         EqualsIgnoreCaseAscii(name, "cookie") ||
         EqualsIgnoreCaseAscii(name, "proxy-authorization");
}

// Adds the feed's credentials to `request` when it goes to the feed's
// origin.
void AddCredentials(const FeedPlan& plan, HttpRequest& request) {
  if (plan.origin.empty() || OriginOf(request.url) != plan.origin) return;
  request.headers.insert(request.headers.end(), plan.credentials.begin(),
                         plan.credentials.end());
  request.cookie = plan.cookie;
}

}  // namespace

std::string OriginOf(std::string_view url) {
  const size_t colon = url.find("://");
  if (colon == std::string_view::npos) return "";
  const std::string scheme = ToLowerAscii(url.substr(0, colon));
  if (scheme != "http" && scheme != "https") return "";
  std::string_view rest = url.substr(colon + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
    rest.remove_prefix(at + 1);  // userinfo
  }
  std::string_view host = rest;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {  // [v6]:port
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return "";
    host = rest.substr(0, close + 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return "";
      port = rest.substr(close + 2);
    }
  } else if (const size_t c = rest.rfind(':'); c != std::string_view::npos) {
    host = rest.substr(0, c);
    port = rest.substr(c + 1);
  }
  if (host.empty()) return "";
  if (port.empty()) port = scheme == "https" ? "443" : "80";
  while (port.size() > 1 && port.front() == '0') port.remove_prefix(1);
  std::string origin = scheme + "://" + ToLowerAscii(host);
  // A trailing dot names the same host ("example.org." = "example.org").
  if (origin.back() == '.') origin.pop_back();
  return origin + ":" + std::string(port);
}

FeedPlan MakeFeedPlan(const FeedConfig& feed, const DaemonConfig& config,
                      const FeedPlanOverrides& overrides) {
  FeedPlan plan;
  plan.name = feed.name;
  plan.url = feed.url;
  plan.origin = OriginOf(feed.url);
  plan.sink_options = feed.sink_options;
  plan.interval = feed.interval;
  plan.full_article = feed.full_article;
  plan.clean.remove_selectors = feed.remove_selectors;
  plan.clean.keep_selectors = feed.keep_selectors;
  plan.language_override = feed.language;
  plan.cookie = feed.cookies;

  HttpRequest base;
  base.user_agent =
      feed.user_agent.empty() ? config.http.user_agent : feed.user_agent;
  base.proxy = !overrides.proxy.empty() ? overrides.proxy
               : !feed.proxy.empty()    ? feed.proxy
                                        : config.http.proxy;
  for (const auto& header : feed.headers) {
    (IsCredentialHeader(header.first) ? plan.credentials : base.headers)
        .push_back(header);
  }
  base.connect_timeout = config.http.connect_timeout;
  base.total_timeout = config.http.total_timeout;
  base.max_body_bytes = config.http.max_body_bytes;
  base.max_redirects = config.http.max_redirects;

  plan.page_request = base;
  plan.page_request.allow_private_targets = config.http.allow_private_targets;
  // Operator-configured feed URLs may point anywhere.
  base.allow_private_targets = true;
  plan.feed_request = std::move(base);
  plan.feed_request = FeedRequestFor(plan, feed.url);

  if (!feed.timezone.empty()) {
    // The config loader validated the name; tzdata may have changed since.
    auto zone = TimeZone::Load(feed.timezone);
    if (zone) {
      plan.assumed_zone = std::make_shared<const TimeZone>(std::move(*zone));
    } else {
      plan.warning = "timezone ignored, zone-less dates read as UTC: " +
                     zone.error().ToString();
    }
  }
  return plan;
}

HttpRequest FeedRequestFor(const FeedPlan& plan, const std::string& url) {
  HttpRequest request = plan.feed_request;
  // feed_request may already carry the credentials: start from the shared
  // part again.
  request.headers = plan.page_request.headers;
  request.cookie.clear();
  request.url = url;
  AddCredentials(plan, request);
  return request;
}

HttpRequest PageRequestFor(const FeedPlan& plan, const std::string& url) {
  HttpRequest request = plan.page_request;
  request.url = url;
  AddCredentials(plan, request);
  return request;
}

}  // namespace newsflow
