#include "daemon/runtime/feed_plan.h"

#include <gtest/gtest.h>

#include <string>

#include "daemon/core/url.h"

namespace newsflow {
namespace {

std::string HeaderOf(const HttpRequest& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

FeedConfig PrivateFeed() {
  FeedConfig feed;
  feed.name = "private";
  feed.url = "https://news.example/feed.xml?key=1";
  feed.cookies = "sid=42";
  // `auth:` loads as an Authorization header, in config order.
  feed.headers = {{"X-Keep", "yes"},
                  {"Authorization", "Bearer secret"},
                  {"cookie", "extra=1"},
                  {"Proxy-Authorization", "Basic cHg="}};
  return feed;
}

TEST(HttpRequestDefaultsTest, AreTheSafeOnes) {
  const HttpRequest r;
  EXPECT_FALSE(r.allow_private_targets);  // SSRF guard on
  EXPECT_TRUE(r.cookie.empty());
  EXPECT_TRUE(r.headers.empty());
  EXPECT_TRUE(r.proxy.empty());
  EXPECT_GT(r.connect_timeout.count(), 0);
  EXPECT_LE(r.connect_timeout, std::chrono::seconds(10));
  EXPECT_LE(r.total_timeout, std::chrono::seconds(30));
  EXPECT_EQ(r.max_body_bytes, size_t{16} << 20);
  EXPECT_EQ(r.max_redirects, 5);
}

TEST(FeedPlanTest, FeedRequestCarriesTheCredentialsAndMayReachAnyHost) {
  DaemonConfig config;
  const FeedPlan plan = MakeFeedPlan(PrivateFeed(), config);
  const HttpRequest& r = plan.feed_request;
  EXPECT_EQ(r.url, "https://news.example/feed.xml?key=1");
  EXPECT_EQ(r.cookie, "sid=42");
  EXPECT_EQ(HeaderOf(r, "Authorization"), "Bearer secret");
  EXPECT_EQ(HeaderOf(r, "cookie"), "extra=1");
  EXPECT_EQ(HeaderOf(r, "Proxy-Authorization"), "Basic cHg=");
  EXPECT_EQ(HeaderOf(r, "X-Keep"), "yes");
  // The operator chose this URL: no SSRF guard on it.
  EXPECT_TRUE(r.allow_private_targets);
  EXPECT_EQ(plan.origin, "https://news.example:443");
}

TEST(FeedPlanTest, CredentialsGoOnlyToTheFeedsOrigin) {
  DaemonConfig config;
  const FeedPlan plan = MakeFeedPlan(PrivateFeed(), config);
  for (const char* elsewhere :
       {"https://other.example/story", "http://news.example/story",
        "https://news.example:8443/story", "https://sub.news.example/story",
        "https://news.example.evil.example/story",
        "https://news.example@evil.example/story"}) {
    SCOPED_TRACE(elsewhere);
    const HttpRequest page = PageRequestFor(plan, elsewhere);
    EXPECT_EQ(page.url, elsewhere);
    EXPECT_EQ(page.cookie, "");
    EXPECT_EQ(HeaderOf(page, "Authorization"), "");
    EXPECT_EQ(HeaderOf(page, "cookie"), "");
    EXPECT_EQ(HeaderOf(page, "Proxy-Authorization"), "");
    // Configured headers are credentials too (issue 11 item 2): an API key
    // in X-Keep is no more for other hosts than one in Authorization.
    EXPECT_EQ(HeaderOf(page, "X-Keep"), "");
    // A feed that moved to another origin loses them too.
    const HttpRequest moved = FeedRequestFor(plan, elsewhere);
    EXPECT_EQ(moved.cookie, "");
    EXPECT_EQ(HeaderOf(moved, "Authorization"), "");
  }
  // Same origin (case, explicit default port): the pages get them.
  const HttpRequest same =
      PageRequestFor(plan, "HTTPS://News.Example:443/2025/story");
  EXPECT_EQ(same.cookie, "sid=42");
  EXPECT_EQ(HeaderOf(same, "Authorization"), "Bearer secret");
  // Exactly one copy of each header, however often the plan is used.
  size_t auth = 0;
  for (const auto& h : FeedRequestFor(plan, plan.url).headers) {
    auth += h.first == "Authorization";
  }
  EXPECT_EQ(auth, 1u);
}

TEST(FeedPlanTest, PageLinksAreGuardedUnlessAllowed) {
  DaemonConfig config;
  FeedConfig feed = PrivateFeed();
  feed.url = "http://127.0.0.1:8080/feed";  // the operator's choice
  FeedPlan plan = MakeFeedPlan(feed, config);
  EXPECT_TRUE(plan.feed_request.allow_private_targets);
  EXPECT_FALSE(plan.page_request.allow_private_targets);
  EXPECT_FALSE(
      PageRequestFor(plan, "http://127.0.0.1:8080/x").allow_private_targets);
  EXPECT_FALSE(PageRequestFor(plan, "http://10.0.0.1/").allow_private_targets);
  config.http.allow_private_targets = true;
  plan = MakeFeedPlan(feed, config);
  EXPECT_TRUE(PageRequestFor(plan, "http://10.0.0.1/").allow_private_targets);
}

// A feed that moved (a confirmed 301/308, or a feed state restored from
// the cluster's changelog) to another origin is the publisher's choice, not
// the operator's: its first hop is guarded like a page, so a move (or a
// forged changelog record) naming the metadata service or a LAN host is
// refused. The configured origin itself may stay private.
TEST(FeedPlanTest, AMoveOffTheConfiguredOriginIsGuarded) {
  DaemonConfig config;
  FeedConfig feed = PrivateFeed();
  feed.url = "http://127.0.0.1:8080/feed";
  FeedPlan plan = MakeFeedPlan(feed, config);
  EXPECT_TRUE(FeedRequestFor(plan, "http://127.0.0.1:8080/moved.xml")
                  .allow_private_targets);
  EXPECT_FALSE(FeedRequestFor(plan, "http://169.254.169.254/latest/")
                   .allow_private_targets);
  EXPECT_FALSE(
      FeedRequestFor(plan, "http://127.0.0.1:9090/feed").allow_private_targets);
  config.http.allow_private_targets = true;
  plan = MakeFeedPlan(feed, config);
  EXPECT_TRUE(FeedRequestFor(plan, "http://169.254.169.254/latest/")
                  .allow_private_targets);
}

TEST(FeedPlanTest, SharedSettingsAndOverrides) {
  DaemonConfig config;
  config.http.user_agent = "global-agent/1";
  config.http.proxy = "http://global-proxy:3128";
  config.http.connect_timeout = std::chrono::milliseconds(1234);
  config.http.total_timeout = std::chrono::milliseconds(5678);
  config.http.max_body_bytes = 1 << 20;
  config.http.max_redirects = 2;
  FeedConfig feed = PrivateFeed();
  feed.sink_options["topic"] = "t";
  feed.language = "de";
  feed.remove_selectors = {".ad"};
  feed.keep_selectors = {"article"};
  feed.full_article = FullArticleMode::kAlways;
  FeedPlan plan = MakeFeedPlan(feed, config);
  for (const HttpRequest& r :
       {plan.feed_request, PageRequestFor(plan, "https://x.example/")}) {
    EXPECT_EQ(r.user_agent, "global-agent/1");
    EXPECT_EQ(r.proxy, "http://global-proxy:3128");
    EXPECT_EQ(r.connect_timeout.count(), 1234);
    EXPECT_EQ(r.total_timeout.count(), 5678);
    EXPECT_EQ(r.max_body_bytes, size_t{1} << 20);
    EXPECT_EQ(r.max_redirects, 2);
  }
  EXPECT_EQ(plan.sink_options.at("topic"), "t");
  EXPECT_EQ(plan.language_override, "de");
  EXPECT_EQ(plan.clean.remove_selectors, feed.remove_selectors);
  EXPECT_EQ(plan.clean.keep_selectors, feed.keep_selectors);
  EXPECT_EQ(plan.full_article, FullArticleMode::kAlways);

  feed.user_agent = "feed-agent/2";
  feed.proxy = "http://feed-proxy:3128";
  plan = MakeFeedPlan(feed, config);
  EXPECT_EQ(plan.page_request.user_agent, "feed-agent/2");
  EXPECT_EQ(plan.page_request.proxy, "http://feed-proxy:3128");
  // `newsflowd fetch --proxy` wins over both.
  plan = MakeFeedPlan(feed, config, {.proxy = "http://cli:1"});
  EXPECT_EQ(plan.feed_request.proxy, "http://cli:1");
  EXPECT_EQ(plan.page_request.proxy, "http://cli:1");
}

TEST(FeedPlanTest, TimezoneIsLoadedOnce) {
  DaemonConfig config;
  FeedConfig feed = PrivateFeed();
  EXPECT_EQ(MakeFeedPlan(feed, config).assumed_zone, nullptr);
  feed.timezone = "+05:30";
  const FeedPlan plan = MakeFeedPlan(feed, config);
  ASSERT_NE(plan.assumed_zone, nullptr);
  EXPECT_TRUE(plan.warning.empty());
}

// Issue 13: page_cookies (e.g. a consent cookie) go to the feed's own site
// only: same host or same registrable domain, any scheme or port.
TEST(FeedPlanTest, PageCookiesGoOnlyToPagesOfTheFeedsSite) {
  FeedConfig feed;
  feed.name = "consent";
  feed.url = "https://feeds.example.co.uk/rss.xml";
  feed.page_cookies = "euconsent-v2=abc";
  const FeedPlan plan = MakeFeedPlan(feed, DaemonConfig{});
  for (const char* same :
       {"https://feeds.example.co.uk/story/1",
        "https://www.example.co.uk/story/1", "https://example.co.uk/story/1",
        "http://news.example.co.uk:8080/story/1"}) {
    SCOPED_TRACE(same);
    EXPECT_EQ(PageRequestFor(plan, same).cookie, "euconsent-v2=abc");
  }
  for (const char* other :
       {"https://other.co.uk/story/1",  // co.uk is a public suffix
        "https://feeds.example.com/story/1",
        "https://feeds.example.co.uk.evil.example/story/1",
        "https://co.uk/story/1"}) {
    SCOPED_TRACE(other);
    EXPECT_EQ(PageRequestFor(plan, other).cookie, "");
  }
  // Never with the feed request itself.
  EXPECT_EQ(plan.feed_request.cookie, "");
  EXPECT_EQ(FeedRequestFor(plan, feed.url).cookie, "");

  // With `cookies` too: both on the feed's origin, joined into one header.
  feed.cookies = "sid=42";
  const FeedPlan both = MakeFeedPlan(feed, DaemonConfig{});
  EXPECT_EQ(PageRequestFor(both, "https://feeds.example.co.uk/s/2").cookie,
            "sid=42; euconsent-v2=abc");
  EXPECT_EQ(PageRequestFor(both, "https://www.example.co.uk/s/2").cookie,
            "euconsent-v2=abc");

  // Loopback feeds: the host is the site (127.0.0.2 is another one).
  feed.cookies.clear();
  feed.url = "http://127.0.0.1:8080/feed.xml";
  const FeedPlan local = MakeFeedPlan(feed, DaemonConfig{});
  EXPECT_EQ(PageRequestFor(local, "http://127.0.0.1:9090/a").cookie,
            "euconsent-v2=abc");
  EXPECT_EQ(PageRequestFor(local, "http://127.0.0.2:8080/a").cookie, "");
}

TEST(SameSiteTest, RegistrableDomainOrHost) {
  EXPECT_EQ(RegistrableDomainOf("https://news.bbc.co.uk/x"), "bbc.co.uk");
  EXPECT_EQ(RegistrableDomainOf("https://WWW.Example.COM./x"), "example.com");
  EXPECT_EQ(RegistrableDomainOf("http://localhost:8080/"), "localhost");
  EXPECT_EQ(RegistrableDomainOf("http://[::1]/"), "::1");
  EXPECT_EQ(RegistrableDomainOf("not a url"), "");
  EXPECT_TRUE(SameSite("https://a.example.com/", "http://b.example.com:81/"));
  EXPECT_FALSE(SameSite("https://a.github.io/", "https://b.github.io/"));
  EXPECT_FALSE(SameSite("not a url", "not a url"));
}

TEST(OriginOfTest, SchemeHostPort) {
  EXPECT_EQ(OriginOf("http://Example.org/a"), "http://example.org:80");
  EXPECT_EQ(OriginOf("https://example.org"), "https://example.org:443");
  EXPECT_EQ(OriginOf("https://example.org.:443/x"), "https://example.org:443");
  EXPECT_EQ(OriginOf("http://u:p@example.org:8080?q"),
            "http://example.org:8080");
  EXPECT_EQ(OriginOf("http://[::1]:9/x"), "http://[::1]:9");
  EXPECT_EQ(OriginOf("http://[::1]/x"), "http://[::1]:80");
  EXPECT_EQ(OriginOf("ftp://example.org/"), "");
  EXPECT_EQ(OriginOf("/relative"), "");
  EXPECT_EQ(OriginOf("http://"), "");
  // As a browser reads them (daemon/core/url).
  EXPECT_EQ(OriginOf("http:///nohost"), "http://nohost:80");
  EXPECT_EQ(OriginOf("http://0x7f.1/"), "http://127.0.0.1:80");
}

}  // namespace
}  // namespace newsflow
