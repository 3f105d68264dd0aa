// Hostile publishers, items 2 and 3: a feed's redirect may not carry the
// operator's credentials to another origin, nor reach a private address on
// another host. The real binary runs `run --once` against loopback servers:
// the configured feed lives on 127.0.0.1, the attacker's redirect names
// "localhost" (another host that resolves to loopback, standing for any
// internal address; nothing leaves this machine even if the guard failed).

#include <gtest/gtest.h>

#include <string>

#include "tests/hostile/hostile_site.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow::testing {
namespace {

// The private feed's config: credentials of every kind, page links off.
void WriteSite(HostileSite& site, const std::string& feed_url,
               bool allow_private) {
  site.WriteConfig(
      "  - name: private\n    url: " + feed_url +
          "\n    full_article: never\n    cookies: \"sid=s3cret\"\n"
          "    headers:\n      X-Api-Key: k3y\n"
          "    auth: {type: bearer, token: t0ken}\n",
      std::string("http:\n  allow_private_targets: ") +
          (allow_private ? "true" : "false") + "\n");
}

bool HasCredential(const TestRequest& r) {
  return !r.Header("authorization").empty() || !r.Header("cookie").empty() ||
         !r.Header("x-api-key").empty();
}

// Item 3: the configured URL may be private, but its redirect to another
// (internal) host is refused like a page link, and nothing from that host
// is published.
TEST(HostileRedirectTest, RedirectToAnotherPrivateHostIsBlocked) {
  LoopbackHttpServer internal([](const TestRequest&) {
    TestResponse r;
    r.body = RssFeed({"SECRET internal item"});
    return r;
  });
  const std::string target =
      "http://localhost:" + std::to_string(internal.port()) + "/admin/feed";
  LoopbackHttpServer feed([&](const TestRequest&) {
    TestResponse r;
    r.status = 302;
    r.headers.push_back({"Location", target});
    return r;
  });
  HostileSite site("redirect_ssrf");
  WriteSite(site, feed.base_url() + "/feed", /*allow_private=*/false);
  auto r = site.RunOnce();
  EXPECT_EQ(internal.request_count(), 0u) << r.err;
  EXPECT_EQ(site.Output().find("SECRET"), std::string::npos);
  EXPECT_NE(r.err.find("blocked"), std::string::npos) << r.err;
}

// Item 2: credentials stay with the configured origin. A same-origin hop
// keeps them; the hop to another origin (allowed here, so the fetch
// succeeds) arrives without Authorization, Cookie or configured headers.
TEST(HostileRedirectTest, CredentialsDoNotFollowARedirectToAnotherOrigin) {
  LoopbackHttpServer other([](const TestRequest&) {
    TestResponse r;
    r.body = RssFeed({"Moved story"});
    return r;
  });
  const std::string target =
      "http://localhost:" + std::to_string(other.port()) + "/feed";
  LoopbackHttpServer feed([&](const TestRequest& req) {
    TestResponse r;
    r.status = 302;
    r.headers.push_back({"Location", req.path == "/start" ? "/next" : target});
    return r;
  });
  HostileSite site("redirect_creds");
  WriteSite(site, feed.base_url() + "/start", /*allow_private=*/true);
  auto r = site.RunOnce();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Both hops on the configured origin carried every credential.
  ASSERT_EQ(feed.requests().size(), 2u);
  for (const auto& req : feed.requests()) {
    EXPECT_EQ(req.Header("x-api-key"), "k3y") << req.path;
    EXPECT_EQ(req.Header("authorization"), "Bearer t0ken") << req.path;
    EXPECT_NE(req.Header("cookie").find("sid=s3cret"), std::string::npos);
  }
  ASSERT_EQ(other.requests().size(), 1u);
  EXPECT_FALSE(HasCredential(other.requests()[0]))
      << "authorization=" << other.requests()[0].Header("authorization")
      << " cookie=" << other.requests()[0].Header("cookie")
      << " x-api-key=" << other.requests()[0].Header("x-api-key");
  EXPECT_NE(site.Output().find("Moved story"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace newsflow::testing
