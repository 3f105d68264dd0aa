#pragma once

// FeedPlan: everything one feed's polls derive from its FeedConfig and the
// global DaemonConfig — the feed request, the page request template, the
// cleaning options, the assumed time zone, the sink options — computed in one
// place. FeedPoller and `newsflowd fetch` both build their requests from
// it, so the command line sends exactly what the daemon sends.
//
// Request policy:
//  - Credentials (the feed's `cookies` and every entry of its `headers`,
//    which is also where `auth:` lands) go only to the origin (scheme, host,
//    port) of the configured feed URL: with the feed request, and with a
//    page request whose URL is on that origin. A feed that moved to another
//    origin, and pages on any other origin, get none; a redirect off the
//    origin drops them (HttpClient follows redirects hop by hop).
//  - The feed URL is the operator's choice: no SSRF guard on its host. Page
//    links and every redirect hop that leaves the configured host come from
//    the feed's publisher: guarded unless `http.allow_private_targets`.
//  - `page_cookies` go with page requests on the feed's own site only:
//    the configured URL's host or registrable domain (feeds.example.com
//    and www.example.com are one site; example.co.uk and other.co.uk are
//    not). Never with the feed request, never to other sites.
//  - Both share the user agent (feed's, else http.user_agent), proxy
//    (override, else feed's, else http.proxy), timeouts, body cap and
//    redirect cap.
//
// A plan is immutable once built; FeedPoller holds it by shared_ptr so a
// live settings change is one assignment and in-flight builds keep theirs.
// No Asio here; any thread may read a built plan.

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "config/config.h"
#include "connectors/common/http/http_client.h"
#include "daemon/cleaner/html_cleaner.h"
#include "daemon/core/timezone.h"
#include "daemon/filter/article_filter.h"

namespace newsflow {

struct FeedPlan {
  std::string name;          // the feed id (FeedConfig::name)
  std::string url;           // the configured feed URL
  std::string origin;        // "scheme://host:port" of `url`, lower-case
  HttpRequest feed_request;  // the feed's request for `url`, credentials in
  HttpRequest page_request;  // template for page links (url empty)
  HttpHeaders credentials;   // headers only the feed's origin gets
  std::string cookie;        // the feed's `cookies`, same rule
  // The feed's `page_cookies`: only for page requests on the feed's own
  // site (SameSite(url, page), daemon/core/url.h), joined with `cookie`
  // when both apply.
  std::string page_cookie;
  // The feed's sink-owned keys (FeedConfig::sink_options), for Sink::Route.
  std::map<std::string, std::string> sink_options;
  std::chrono::seconds interval{900};  // configured poll interval
  // `interval:` written on the feed: used as is, not the adaptive estimate.
  bool interval_explicit = false;
  FullArticleMode full_article = FullArticleMode::kAuto;
  // pipeline.max_page_attempts: polls whose page fetch failed before an
  // item is published from the feed's content.
  int max_page_attempts = 3;
  CleanOptions clean;             // per-feed selectors (base_url empty)
  std::string language_override;  // "" = from the feed/page
  // Global + feed article filters (issue 13); null = none.
  std::shared_ptr<const ArticleFilter> filter;
  // The feed's `timezone` for zone-less dates; null = UTC.
  std::shared_ptr<const TimeZone> assumed_zone;
  // Non-empty when the configured timezone no longer loads (tzdata changed
  // since the config was validated); dates are then read as UTC.
  std::string warning;
};

// Overrides of the command line (`newsflowd fetch --proxy`).
struct FeedPlanOverrides {
  std::string proxy;  // "" = the feed's / http.proxy
};

// Builds the plan of `feed` under `config`.
FeedPlan MakeFeedPlan(const FeedConfig& feed, const DaemonConfig& config,
                      const FeedPlanOverrides& overrides = {});

// The feed request for `url` (the configured URL or where it moved):
// credentials only when `url` is on the configured URL's origin, and the
// SSRF guard (unless http.allow_private_targets) when it is not.
HttpRequest FeedRequestFor(const FeedPlan& plan, const std::string& url);

// The request for a page an item links to: guarded (unless allowed),
// credentials only when `url` is on the configured URL's origin, the
// feed's page_cookies only when `url` is on its site.
HttpRequest PageRequestFor(const FeedPlan& plan, const std::string& url);

// "scheme://host:port" of an absolute http(s) URL as a browser reads it
// (daemon/core/url: lower-case, IDNA, IPv4 forms, userinfo dropped), the
// default port spelled out and a trailing dot dropped; "" when `url` is
// not one.
std::string OriginOf(std::string_view url);

}  // namespace newsflow
