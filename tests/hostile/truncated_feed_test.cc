// Hostile publishers, item 9: a body cut short (the connection ends early
// with a Content-Length that matches what was sent, as a truncated gzip
// that curl accepts does). The item the cut falls into is not published,
// the poll counts as failed, and the next poll fetches the whole document
// again (no validators stored from the cut one).

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "tests/hostile/hostile_site.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow::testing {
namespace {

const char kFullFeed[] =
    "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>T</title>"
    "<link>http://t.example/</link>"
    "<item><title>Complete story</title><guid>one</guid>"
    "<link>http://t.example/one</link><description>All of it.</description>"
    "</item><item><title>Cut story</title><guid>two</guid>"
    "<link>http://t.example/two</link><description>The second story has "
    "words that never arrive</description></item></channel></rss>\n";

TEST(HostileTruncatedFeedTest, UnclosedItemIsNotPublishedAndPollIsRetried) {
  std::atomic<bool> cut{true};
  LoopbackHttpServer server([&](const TestRequest&) {
    TestResponse r;
    r.headers.push_back({"Content-Type", "application/rss+xml"});
    r.headers.push_back({"ETag", "\"v1\""});
    std::string body = kFullFeed;
    if (cut) body = body.substr(0, body.find("never arrive"));
    r.body = body;
    r.gzip = true;
    return r;
  });
  HostileSite site("trunc");
  site.WriteConfig("  - name: cut\n    url: " + server.base_url() +
                   "/feed\n    full_article: never\n");
  auto first = site.RunOnce();
  // The poll failed (retryable): `run --once` says so in its exit code.
  EXPECT_EQ(first.exit_code, 1) << first.err;
  EXPECT_NE(first.err.find("truncated"), std::string::npos) << first.err;
  std::string out = site.Output();
  EXPECT_NE(out.find("Complete story"), std::string::npos) << first.err;
  EXPECT_EQ(out.find("Cut story"), std::string::npos) << out;
  EXPECT_EQ(out.find("never"), std::string::npos) << out;

  cut = false;
  auto second = site.RunOnce();
  EXPECT_EQ(second.exit_code, 0) << second.err;
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  // The cut document's ETag was not trusted.
  EXPECT_EQ(requests[1].Header("if-none-match"), "");
  out = site.Output();
  EXPECT_NE(out.find("Cut story"), std::string::npos) << second.err;
  EXPECT_NE(out.find("never arrive"), std::string::npos) << out;
}

}  // namespace
}  // namespace newsflow::testing
