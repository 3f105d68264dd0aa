// Hostile publishers, item 14: a page with bytes invalid in its declared
// charset made libxml2 print "encoding error : input conversion failed ..."
// straight to stderr: under systemd that reached the journal with no feed,
// no URL and no priority. Now every such diagnostic is a log line of the
// feed's logger naming the page, and none reaches stderr raw.
// Since issue 13 pages are decoded to UTF-8 before libxml2 sees them
// (daemon/core/encoding.h): the bad byte becomes U+FFFD, the text after it
// is kept (libxml2's iconv path lost it), and the decoder's warning is the
// diagnostic that goes through the feed's logger.

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "tests/hostile/hostile_site.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow::testing {
namespace {

TEST(HostileLibraryDiagnosticsTest, LibxmlErrorsGoThroughTheLogger) {
  LoopbackHttpServer server([](const TestRequest& req) {
    TestResponse r;
    if (req.path == "/feed") {
      r.headers.push_back({"Content-Type", "application/rss+xml"});
      r.body =
          "<rss version=\"2.0\"><channel><title>T</title><item>"
          "<title>Bad bytes</title><guid>b</guid>"
          "<link>http://p.example/story</link><description>Teaser."
          "</description></item></channel></rss>";
    } else {
      r.headers.push_back({"Content-Type", "text/html"});
      // 0x9D is undefined in windows-1252: iconv refuses it.
      r.body =
          "<html><head><meta charset=\"windows-1252\"></head><body><article>"
          "<p>Caf\x9d and \x93quotes\x94 in a paragraph of the story that is "
          "long enough to be one.</p></article></body></html>";
    }
    return r;
  });
  HostileSite site("libxml");
  site.WriteConfig(
      "  - name: badbytes\n    url: http://p.example/feed\n"
      "    full_article: always\n",
      "http:\n  proxy: \"" + server.base_url() + "\"\n");
  auto r = site.RunOnce();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_GE(server.request_count(), 2u) << "the page was not fetched";
  std::istringstream lines(r.err);
  bool routed = false;
  for (std::string line; std::getline(lines, line);) {
    EXPECT_NE(line.rfind("encoding error", 0), 0u) << line;
    EXPECT_NE(line.rfind("I/O error", 0), 0u) << line;
    if (line.find("[feed.badbytes] Page decoding diagnostic.") !=
            std::string::npos &&
        line.find("http://p.example/story") != std::string::npos) {
      routed = true;
    }
  }
  EXPECT_TRUE(routed) << r.err;
  // The story after the bad byte is there, with its quotes.
  const std::string out = site.Output();
  EXPECT_NE(out.find("Caf\xEF\xBF\xBD and “quotes” in a paragraph of the "
                     "story that is long enough to be one."),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace newsflow::testing
