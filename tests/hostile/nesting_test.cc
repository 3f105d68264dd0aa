// Hostile publishers, item 1: documents nested far deeper than any real
// feed. The real binary parses them (`parse`, `check-config`, `run --once`
// against a loopback server playing the attacker) and must neither crash nor
// lose the healthy feed next to the hostile one.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/hostile/hostile_site.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow::testing {
namespace {

namespace fs = std::filesystem;

std::string Repeat(const std::string& s, int n) {
  std::string out;
  out.reserve(s.size() * n);
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// An RSS item whose media:group elements nest `depth` deep (the crash that
// killed `parse` and `run` at 30,000).
std::string DeepMediaFeed(int depth) {
  return "<?xml version=\"1.0\"?>\n<rss version=\"2.0\" "
         "xmlns:media=\"http://search.yahoo.com/mrss/\"><channel>"
         "<title>Deep</title><link>http://deep.example/</link>"
         "<item><title>Deep item</title><guid>deep-1</guid>"
         "<link>http://deep.example/a</link>"
         "<description>Some text of the deep item.</description>" +
         Repeat("<media:group>", depth) +
         "<media:content url=\"http://deep.example/i.jpg\"/>" +
         Repeat("</media:group>", depth) + "</item></channel></rss>\n";
}

// Deep markup inside an item's HTML: the cleaner and sanitizer walk it.
std::string DeepHtmlFeed(int depth) {
  return "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
         "<title>Deep HTML</title><link>http://deephtml.example/</link>"
         "<item><title>Deep markup</title><guid>deephtml-1</guid>"
         "<link>http://deephtml.example/a</link><description><![CDATA[" +
         Repeat("<div><blockquote>", depth) + "<p>Inner words.</p>" +
         Repeat("</blockquote></div>", depth) +
         "]]></description></item></channel></rss>\n";
}

// A JSON Feed whose extension member nests `depth` arrays.
std::string DeepJsonFeed(int depth) {
  return "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"J\","
         "\"items\":[{\"id\":\"j1\",\"url\":\"http://j.example/1\","
         "\"title\":\"Json item\",\"content_text\":\"Json text.\","
         "\"_ext\":" +
         Repeat("[", depth) + Repeat("]", depth) + "}]}";
}

std::string HealthyFeed() {
  return "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
         "<title>Healthy</title><link>http://healthy.example/</link>"
         "<item><title>Healthy story</title><guid>healthy-1</guid>"
         "<link>http://healthy.example/story</link>"
         "<description>A healthy feed next to a hostile one keeps "
         "publishing.</description></item></channel></rss>\n";
}

// 128+N means death by signal N (see RunDaemonCommand).
void ExpectNoCrash(const CommandResult& r, const std::string& what) {
  EXPECT_LT(r.exit_code, 128)
      << what << " died by signal " << (r.exit_code - 128) << "\n"
      << r.err;
  EXPECT_GE(r.exit_code, 0) << what << " did not finish\n" << r.err;
}

TEST(HostileNestingTest, ParseSurvivesDeepMediaGroups) {
  HostileSite dir("media");
  for (int depth : {30000, 100000}) {
    const std::string file = dir.Write("media.xml", DeepMediaFeed(depth));
    auto r = RunDaemonCommand({"parse", file});
    ExpectNoCrash(r, "parse of " + std::to_string(depth) + " media:group");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    // The item itself is still read: nesting is ignored past the cap, not
    // the whole document.
    EXPECT_NE(r.out.find("Deep item"), std::string::npos);
  }
}

TEST(HostileNestingTest, ParseSurvivesDeepJsonFeed) {
  HostileSite dir("json");
  const std::string file = dir.Write("feed.json", DeepJsonFeed(100000));
  auto r = RunDaemonCommand({"parse", file});
  ExpectNoCrash(r, "parse of a 100,000-deep JSON Feed");
}

TEST(HostileNestingTest, ExtractSurvivesDeepPages) {
  HostileSite dir("pages");
  const int depth = 100000;
  const std::string words = Repeat("word ", 300);
  const std::string html = dir.Write(
      "deep.html", "<html><body>" + Repeat("<div><ul><li>", depth) + "<p>" +
                       words + "</p>" + Repeat("</li></ul></div>", depth) +
                       "</body></html>");
  const std::string jsonld =
      dir.Write("jsonld.html",
                "<html><head><script type=\"application/ld+json\">" +
                    Repeat("{\"@graph\":[", depth) + "{}" +
                    Repeat("]}", depth) + "</script></head><body><article><p>" +
                    words + "</p></article></body></html>");
  for (const auto& f : {html, jsonld}) {
    auto r = RunDaemonCommand({"extract", f});
    ExpectNoCrash(r, "extract " + f);
  }
}

TEST(HostileNestingTest, CheckConfigRefusesDeepOpml) {
  HostileSite dir("opml");
  const std::string opml = dir.Write(
      "subs.opml", "<opml version=\"2.0\"><body>" +
                       Repeat("<outline text=\"folder\">", 100000) +
                       Repeat("</outline>", 100000) + "</body></opml>");
  const std::string config = dir.Write(
      "newsflow.yaml",
      "sinks: [jsonl]\njsonl_path: " + (dir.dir() / "out.jsonl").string() +
          "\nopml: [" + opml + "]\n");
  auto r = RunDaemonCommand({"check-config", config});
  ExpectNoCrash(r, "check-config of a 100,000-deep OPML");
  EXPECT_EQ(r.exit_code, 1);
  // One line: FILE:LINE:COL: what.
  EXPECT_NE(r.err.find(opml + ":1:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nested deeper than"), std::string::npos) << r.err;
}

// The daemon path: the hostile feeds and a healthy one in one config; every
// feed's article arrives and the process exits by itself.
TEST(HostileNestingTest, RunPublishesHealthyAndHostileFeeds) {
  LoopbackHttpServer server([](const TestRequest& req) {
    TestResponse resp;
    resp.headers.push_back({"Content-Type", "application/rss+xml"});
    if (req.host.rfind("deep.example", 0) == 0) {
      resp.body = DeepMediaFeed(30000);
    } else if (req.host.rfind("deephtml.example", 0) == 0) {
      resp.body = DeepHtmlFeed(50000);
    } else if (req.host.rfind("json.example", 0) == 0) {
      resp.headers[0].second = "application/feed+json";
      resp.body = DeepJsonFeed(100000);
    } else {
      resp.body = HealthyFeed();
    }
    return resp;
  });
  HostileSite site("run");
  site.WriteConfig(
      "  - name: deep\n    url: http://deep.example/feed\n"
      "  - name: deephtml\n    url: http://deephtml.example/feed\n"
      "  - name: deepjson\n    url: http://json.example/feed\n"
      "  - name: healthy\n    url: http://healthy.example/feed\n",
      "http:\n  proxy: \"" + server.base_url() +
          "\"\ndefaults:\n  full_article: never\n");
  auto r = site.RunOnce(std::chrono::seconds(120));
  ExpectNoCrash(r, "run --once with deeply nested feeds");
  const std::string all = site.Output();
  EXPECT_NE(all.find("Healthy story"), std::string::npos) << r.err;
  EXPECT_NE(all.find("Deep item"), std::string::npos) << r.err;
  EXPECT_NE(all.find("Deep markup"), std::string::npos) << r.err;
  EXPECT_NE(all.find("Json item"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace newsflow::testing
