#include "daemon/runtime/feed_plan.h"

#include <utility>

#include "daemon/core/text_util.h"
#include "daemon/core/url.h"

namespace newsflow {
namespace {

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
  auto parsed = Url::Parse(url);
  if (!parsed || !parsed->IsHttp() || parsed->host().empty()) return "";
  const int port = parsed->port() >= 0           ? parsed->port()
                   : parsed->scheme() == "https" ? 443
                                                 : 80;
  std::string host = parsed->host();
  // A trailing dot names the same host ("example.org." = "example.org").
  if (host.size() > 1 && host.back() == '.') host.pop_back();
  return parsed->scheme() + "://" + host + ":" + std::to_string(port);
}

FeedPlan MakeFeedPlan(const FeedConfig& feed, const DaemonConfig& config,
                      const FeedPlanOverrides& overrides) {
  FeedPlan plan;
  plan.name = feed.name;
  plan.url = feed.url;
  plan.origin = OriginOf(feed.url);
  plan.sink_options = feed.sink_options;
  plan.interval = feed.interval;
  plan.interval_explicit = feed.interval_explicit;
  plan.full_article = feed.full_article;
  plan.max_page_attempts = config.pipeline.max_page_attempts;
  plan.clean.remove_selectors = feed.remove_selectors;
  plan.clean.keep_selectors = feed.keep_selectors;
  plan.language_override = feed.language;
  plan.cookie = feed.cookies;
  plan.page_cookie = feed.page_cookies;

  HttpRequest base;
  base.user_agent =
      feed.user_agent.empty() ? config.http.user_agent : feed.user_agent;
  base.proxy = !overrides.proxy.empty() ? overrides.proxy
               : !feed.proxy.empty()    ? feed.proxy
                                        : config.http.proxy;
  // Every configured header is a credential: operators put API keys in
  // X-Api-Key as often as in Authorization, and the feed's origin is the
  // only one they were written for.
  plan.credentials = feed.headers;
  base.connect_timeout = config.http.connect_timeout;
  base.total_timeout = config.http.total_timeout;
  base.max_body_bytes = config.http.max_body_bytes;
  base.max_redirects = config.http.max_redirects;

  plan.page_request = base;
  plan.page_request.allow_private_targets = config.http.allow_private_targets;
  plan.page_request.allow_private_redirect_targets =
      config.http.allow_private_targets;
  // Operator-configured feed URLs may point anywhere; a redirect that
  // leaves the configured host is a link from the publisher like any page.
  base.allow_private_targets = true;
  base.allow_private_redirect_targets = config.http.allow_private_targets;
  plan.feed_request = std::move(base);
  plan.feed_request = FeedRequestFor(plan, feed.url);

  if (!config.filters.empty() || !feed.filters.empty()) {
    // The loader compiled every regex already; this cannot fail for a
    // loaded config.
    auto filter = ArticleFilter::Compile(config.filters, feed.filters);
    if (filter) {
      plan.filter = std::move(*filter);
    } else {
      plan.warning = "filters ignored: " + filter.error().ToString();
    }
  }
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
  // Only the configured origin is the operator's choice. A feed that moved
  // elsewhere (a confirmed 301/308, or a state restored from the cluster's
  // changelog) is the publisher's: guarded like a page.
  if (OriginOf(url) != plan.origin) {
    request.allow_private_targets = plan.page_request.allow_private_targets;
  }
  AddCredentials(plan, request);
  return request;
}

HttpRequest PageRequestFor(const FeedPlan& plan, const std::string& url) {
  HttpRequest request = plan.page_request;
  request.url = url;
  AddCredentials(plan, request);
  if (!plan.page_cookie.empty() && SameSite(plan.url, url)) {
    request.cookie = request.cookie.empty()
                         ? plan.page_cookie
                         : request.cookie + "; " + plan.page_cookie;
  }
  return request;
}

}  // namespace newsflow
