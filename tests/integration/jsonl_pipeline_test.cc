// The daemon end to end without a broker: real binary, real loopback HTTP
// server, the jsonl sink, and `run --once`.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tests/integration/seed_fixture.h"
#include "tests/testing/corpus.h"
#include "tests/testing/daemon_process.h"
#include "tests/testing/loopback_http_server.h"
#include "tests/testing/schema_check.h"

namespace newsflow::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Lines(std::istream& in) {
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::vector<std::string> Lines(const fs::path& p) {
  std::ifstream in(p);
  return Lines(in);
}

// A scratch directory holding a config for one feed with the jsonl sink
// (out.jsonl), a state DB and no metrics endpoint; removed when done.
class JsonlSite {
 public:
  // `proxy` may be empty; `extra` is appended at the top level (before
  // `feeds:`), `feed_extra` inside the feed's mapping.
  JsonlSite(const std::string& tag, const std::string& feed_name,
            const std::string& feed_url, const std::string& proxy,
            const std::string& extra = "", const std::string& feed_extra = "")
      : dir_(fs::temp_directory_path() /
             ("nf_jsonl_" + tag + "_" + std::to_string(::getpid()))),
        config_((dir_ / "newsflow.yaml").string()) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream out(config_);
    out << "metrics:\n  listen: \"\"\n"
        << "state:\n  path: " << (dir_ / "state.db").string() << "\n";
    if (!proxy.empty()) out << "http:\n  proxy: \"" << proxy << "\"\n";
    out << extra << "sinks: [jsonl]\n"
        << "jsonl_path: " << (dir_ / "out.jsonl").string() << "\n"
        << "feeds:\n  - name: " << feed_name << "\n    url: " << feed_url
        << "\n"
        << feed_extra;
  }
  ~JsonlSite() { fs::remove_all(dir_); }
  JsonlSite(const JsonlSite&) = delete;
  JsonlSite& operator=(const JsonlSite&) = delete;

  const std::string& config() const { return config_; }
  CommandResult RunOnce() const {
    return RunDaemonCommand({"run", "--config", config_, "--once"});
  }
  std::vector<std::string> Output() const { return Lines(dir_ / "out.jsonl"); }

 private:
  fs::path dir_;
  std::string config_;
};

TEST(JsonlPipelineTest, OncePublishesSeedThenRememberesIt) {
  NF_REQUIRE_CORPUS("seed");
  auto server = StartSeedServer();
  JsonlSite site("seed", "frontier-world", kSeedFeedUrl, server->base_url());
  auto first = site.RunOnce();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto lines = site.Output();
  ASSERT_EQ(lines.size(), 2u) << first.err;
  for (const auto& line : lines) {
    EXPECT_EQ(ArticleSchemaErrors(line), "") << line;
    for (const auto& b : kSeedBoilerplate)
      EXPECT_EQ(line.find(b), std::string::npos) << b;
  }
  auto second = site.RunOnce();
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(site.Output().size(), 2u) << "second run republished";
}

// An RSS feed listing `dates` (RFC 822) in document order, item i titled
// "Backlog story i".
std::string DatedFeed(const std::vector<std::string>& dates) {
  std::string x =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<rss version=\"2.0\"><channel><title>Backlog</title>"
      "<link>http://backlog.example/</link><description>d</description>\n";
  for (size_t i = 0; i < dates.size(); ++i) {
    const std::string n = std::to_string(i);
    x += "<item><title>Backlog story " + n +
         "</title><link>http://backlog.example/a/" + n +
         "</link><guid>urn:backlog:" + n + "</guid><pubDate>" + dates[i] +
         "</pubDate><description><![CDATA[<p>Full text of backlog story " + n +
         ", long enough to be the article body without the page. It keeps "
         "going so that no teaser heuristic asks for the page.</p>]]>"
         "</description></item>\n";
  }
  return x + "</channel></rss>\n";
}

// The feed lists its items oldest first: "first in the file" and "newest"
// differ, so only ordering by date publishes the newest two.
TEST(JsonlPipelineTest, FirstPollBacklogPublishesOnlyTheNewestItems) {
  const std::string feed = DatedFeed(
      {"Mon, 06 Oct 2025 08:00:00 GMT", "Tue, 07 Oct 2025 08:00:00 GMT",
       "Wed, 08 Oct 2025 08:00:00 GMT", "Thu, 09 Oct 2025 08:00:00 GMT"});
  LoopbackHttpServer server([&](const TestRequest&) {
    TestResponse resp;
    resp.headers.emplace_back("Content-Type", "application/rss+xml");
    resp.body = feed;
    return resp;
  });
  JsonlSite site("backlog", "backlog", "http://backlog.example/feed.xml",
                 server.base_url(), "pipeline:\n  first_poll_backlog: 2\n",
                 "    full_article: never\n");
  auto first = site.RunOnce();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  std::set<std::string> titles;
  for (const auto& line : site.Output()) {
    EXPECT_EQ(ArticleSchemaErrors(line), "") << line;
    titles.insert(nlohmann::json::parse(line)["title"].get<std::string>());
  }
  EXPECT_EQ(titles,
            (std::set<std::string>{"Backlog story 3", "Backlog story 2"}))
      << first.err;
  // The older items were remembered, not queued for later.
  auto second = site.RunOnce();
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(site.Output().size(), 2u) << second.err;
}

TEST(JsonlPipelineTest, FetchCommandPrintsTheSameArticles) {
  NF_REQUIRE_CORPUS("seed");
  auto server = StartSeedServer();
  auto result =
      RunDaemonCommand({"fetch", kSeedFeedUrl, "--proxy", server->base_url()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::istringstream in(result.out);
  int n = 0;
  for (std::string line; std::getline(in, line); ++n) {
    EXPECT_EQ(ArticleSchemaErrors(line), "") << line;
    auto v = nlohmann::json::parse(line);
    if (n == 0) {
      EXPECT_EQ(
          SquashWhitespace(v["content_text"].get<std::string>()),
          SquashWhitespace(ReadFileOrDie(SeedDir() + "/article.gold.txt")));
    }
  }
  EXPECT_EQ(n, 2);
}

TEST(JsonlPipelineTest, UnreachableFeedFailsOnceRunWithOneLineNamingIt) {
  JsonlSite site("bad", "dead-feed", "http://127.0.0.1:1/feed.xml", "");
  auto r = site.RunOnce();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("dead-feed"), std::string::npos) << r.err;
}

TEST(CommandLineTest, UsageErrorsExitTwoAndBadConfigExitsOne) {
  EXPECT_EQ(RunDaemonCommand({}).exit_code, 2);
  EXPECT_EQ(RunDaemonCommand({"frobnicate"}).exit_code, 2);
  auto version = RunDaemonCommand({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("newsflowd ", 0), 0u);
  auto missing =
      RunDaemonCommand({"check-config", "/nonexistent/newsflow.yaml"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nonexistent/newsflow.yaml"), std::string::npos);
  // `run` with a file that exists but is invalid: exit 1, FILE:LINE:COL.
  const fs::path bad =
      fs::temp_directory_path() /
      ("nf_bad_config_" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(bad) << "metrics:\n  listen: \"\"\nsinks: [jsonl]\n"
                     << "jsonl_path: \"-\"\nfeeds:\n  - name: x\n"
                     << "    urll: http://x.test/\n";
  auto invalid = RunDaemonCommand({"run", "--config", bad.string()});
  fs::remove(bad);
  EXPECT_EQ(invalid.exit_code, 1) << invalid.err;
  EXPECT_NE(invalid.err.find(bad.string() + ":7:5:"), std::string::npos)
      << invalid.err;
}

TEST(CommandLineTest, ExtractPrintsTheSeedArticleText) {
  NF_REQUIRE_CORPUS("seed");
  auto r = RunDaemonCommand({"extract", SeedDir() + "/article.html"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SquashWhitespace(r.out),
            SquashWhitespace(ReadFileOrDie(SeedDir() + "/article.gold.txt")));
}

TEST(CommandLineTest, ParsePrintsTheParsersView) {
  NF_REQUIRE_CORPUS("seed");
  auto r = RunDaemonCommand({"parse", SeedDir() + "/feed.xml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto v = nlohmann::json::parse(r.out);
  EXPECT_EQ(v["format"], "rss2");
  EXPECT_EQ(v["items"].size(), 2u);
  EXPECT_EQ(v["items"][0]["published"], "2025-10-12T01:40:00Z");
}

// The feed's `timezone` reaches the parser: a zone-less pubDate (QQ style) is
// read in that zone; without the key it stays UTC.
// `fetch` instead of `run --once` when use_fetch.
std::string PublishedWithTimezone(const std::string& timezone_line,
                                  bool use_fetch = false) {
  const std::string feed =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<rss version=\"2.0\"><channel><title>TZ</title>"
      "<link>http://tz.example/</link><description>d</description>"
      "<item><title>Zone-less date</title>"
      "<link>http://tz.example/news/1.html</link>"
      "<guid>http://tz.example/news/1.html</guid>"
      "<pubDate>2018-09-18 10:11:12</pubDate>"
      "<description><![CDATA[<p>Full text of the story, long enough to be "
      "the article body without fetching the page. It keeps going for a "
      "while so that no teaser heuristic asks for the page.</p><p>Second "
      "paragraph with more words about the story and its details, written "
      "to be unmistakably the content of the item.</p>]]></description>"
      "</item></channel></rss>\n";
  const std::string page =
      "<html><head><title>Zone-less date</title></head><body><article><p>"
      "Full text of the story on the page, long enough to be the article "
      "body.</p></article></body></html>";
  LoopbackHttpServer server([&](const TestRequest& req) {
    TestResponse resp;
    if (req.path == "/feed.xml") {
      resp.headers.emplace_back("Content-Type", "application/rss+xml");
      resp.body = feed;
    } else {
      resp.headers.emplace_back("Content-Type", "text/html; charset=UTF-8");
      resp.body = page;
    }
    return resp;
  });
  JsonlSite site("tz", "tz-feed", "http://tz.example/feed.xml",
                 server.base_url(), "", timezone_line);
  auto r =
      use_fetch
          ? RunDaemonCommand({"fetch", "http://tz.example/feed.xml", "--config",
                              site.config(), "--proxy", server.base_url()})
          : site.RunOnce();
  std::vector<std::string> lines;
  if (use_fetch) {
    std::istringstream in(r.out);
    lines = Lines(in);
  } else {
    lines = site.Output();
  }
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (lines.size() != 1u)
    return "lines=" + std::to_string(lines.size()) + " " + r.err;
  auto v = nlohmann::json::parse(lines[0]);
  return v.value("published", std::string("missing"));
}

TEST(JsonlPipelineTest, FeedTimezoneAppliesToZonelessDates) {
  EXPECT_EQ(PublishedWithTimezone("    timezone: Asia/Shanghai\n"),
            "2018-09-18T02:11:12Z");
  EXPECT_EQ(PublishedWithTimezone("    timezone: \"+05:30\"\n"),
            "2018-09-18T04:41:12Z");
  EXPECT_EQ(PublishedWithTimezone(""), "2018-09-18T10:11:12Z");
}

TEST(JsonlPipelineTest, FetchCommandAppliesTheConfiguredFeedsTimezone) {
  EXPECT_EQ(PublishedWithTimezone("    timezone: Asia/Shanghai\n", true),
            "2018-09-18T02:11:12Z");
  EXPECT_EQ(PublishedWithTimezone("", true), "2018-09-18T10:11:12Z");
}

}  // namespace
}  // namespace newsflow::testing
