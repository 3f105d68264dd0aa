// The demo site bundled in scripts/demo-site, end to end with real parts: the
// real newsflowd binary (`run --once`, jsonl sink), a real HTTP server on
// 127.0.0.1 serving the site's files by scripts/demo-site/routes.txt (the
// table scripts/demo serves), reached through the daemon's HTTP proxy
// setting. Needs no external corpus, so it runs on a bare clone.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/testing/daemon_process.h"
#include "tests/testing/loopback_http_server.h"
#include "tests/testing/schema_check.h"

namespace newsflow::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kFeedUrl[] =
    "http://harbourside-courier.example/category/local/feed/";
constexpr char kArticlePath[] =
    "/2025/10/14/millbrook-approves-floating-solar-farm/";

const fs::path kSiteDir = fs::path(NEWSFLOW_SOURCE_DIR) / "scripts/demo-site";

// Everything around the two stories on the site that must not reach a
// consumer (in any field of the published JSON).
const std::vector<std::string> kBoilerplate = {
    "Leave a Reply",
    "Your email address will not be published",
    "Required fields are marked",
    "Post Comment",
    "Share this",
    "Click to share",
    "Subscribe",
    "newsletter",
    "Related Posts",
    "Read more:",
    "Continue reading",
    "appeared first on",
    "cookies",
    "Advertisement",
    "Photo: Courier archive",
    "About Maggie Okafor",
    "thoughts on",
    "Alan P.",
    "Got a story?",
    "All rights reserved",
    "pixel.wp.example",
    "Lifeboat station open day"};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string TrimTrailingNewlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// routes.txt: "PATH FILE" lines, '#' comments.
std::map<std::string, std::string> Routes() {
  std::map<std::string, std::string> routes;
  std::istringstream in(ReadFile(kSiteDir / "routes.txt"));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string path, file;
    fields >> path >> file;
    routes[path] = ReadFile(kSiteDir / file);
  }
  return routes;
}

std::unique_ptr<LoopbackHttpServer> StartDemoSiteServer() {
  auto routes = Routes();
  return std::make_unique<LoopbackHttpServer>([routes](const TestRequest& r) {
    TestResponse resp;
    auto it = routes.find(r.path);
    if (it == routes.end()) {
      resp.status = 404;
      resp.body = "not found";
      return resp;
    }
    resp.headers.emplace_back("Content-Type",
                              r.path.ends_with("/feed/")
                                  ? "application/rss+xml; charset=UTF-8"
                                  : "text/html; charset=UTF-8");
    resp.body = it->second;
    return resp;
  });
}

class DemoSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nf_demo_site_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    server_ = StartDemoSiteServer();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::unique_ptr<LoopbackHttpServer> server_;
};

TEST_F(DemoSiteTest, RunOncePublishesBothStoriesCleanAndComplete) {
  const std::string config = (dir_ / "newsflow.yaml").string();
  const std::string out = (dir_ / "out.jsonl").string();
  std::ofstream(config) << "metrics:\n  listen: \"\"\n"
                        << "state:\n  path: " << (dir_ / "state.db").string()
                        << "\n"
                        << "http:\n  proxy: \"" << server_->base_url() << "\"\n"
                        << "sinks: [jsonl]\n"
                        << "jsonl_path: " << out << "\n"
                        << "feeds:\n"
                        << "  - name: courier-local\n"
                        << "    url: " << kFeedUrl << "\n"
                        << "    full_article: auto\n";
  auto run = RunDaemonCommand({"run", "--config", config, "--once"});
  ASSERT_EQ(run.exit_code, 0) << run.err;

  std::map<std::string, nlohmann::json> by_title;
  std::ifstream lines(out);
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    EXPECT_EQ(ArticleSchemaErrors(line), "") << line;
    for (const std::string& b : kBoilerplate) {
      EXPECT_EQ(line.find(b), std::string::npos)
          << "\"" << b << "\" leaked into " << line;
    }
    auto v = nlohmann::json::parse(line);
    EXPECT_EQ(v["feed"]["id"], "courier-local");
    EXPECT_EQ(v["event"], "created");
    by_title[v["title"].get<std::string>()] = v;
  }
  EXPECT_EQ(n, 2) << run.err;

  // Item 1 is a teaser in the feed: the text comes from the fetched page.
  const auto& solar =
      by_title["Millbrook approves floating solar farm on Hatherley Reservoir"];
  ASSERT_FALSE(solar.is_null()) << "item 1 missing\n" << run.err;
  EXPECT_EQ(solar["content_source"], "page");
  EXPECT_EQ(solar["content_text"].get<std::string>(),
            TrimTrailingNewlines(ReadFile(kSiteDir / "article.gold.txt")));
  EXPECT_EQ(solar["authors"], nlohmann::json::array({"Maggie Okafor"}));
  EXPECT_EQ(solar["published"], "2025-10-14T07:30:00Z");
  EXPECT_EQ(solar["canonical_url"],
            "http://harbourside-courier.example/2025/10/14/"
            "millbrook-approves-floating-solar-farm/");
  EXPECT_EQ(
      solar["categories"],
      nlohmann::json::array({"Local News", "Energy", "Hatherley Reservoir"}));
  EXPECT_EQ(solar["image"],
            "http://harbourside-courier.example/wp-content/uploads/2025/10/"
            "hatherley-reservoir.jpg");
  bool page_fetched = false;
  for (const auto& r : server_->requests()) {
    page_fetched |= r.path == kArticlePath;
  }
  EXPECT_TRUE(page_fetched);

  // Item 2 carries the full text in content:encoded.
  const auto& ferry =
      by_title["Night ferry to Gull Island returns after two-year pause"];
  ASSERT_FALSE(ferry.is_null()) << "item 2 missing\n" << run.err;
  EXPECT_EQ(ferry["content_source"], "feed");
  EXPECT_EQ(ferry["content_text"].get<std::string>(),
            TrimTrailingNewlines(ReadFile(kSiteDir / "fulltext.gold.txt")));
  EXPECT_EQ(ferry["authors"], nlohmann::json::array({"Daniel Reyes"}));
  EXPECT_EQ(ferry["published"], "2025-10-13T16:05:00Z");
}

// The config scripts/demo fills in is valid as shipped.
TEST_F(DemoSiteTest, DemoConfigChecksOut) {
  std::string config =
      ReadFile(fs::path(NEWSFLOW_SOURCE_DIR) / "config/demo.yaml.in");
  const std::map<std::string, std::string> fill = {
      {"@BOOTSTRAP@", "127.0.0.1:9092"},
      {"@TOPIC@", "news.articles.demo"},
      {"@PROXY@", server_->base_url()},
      {"@STATE@", (dir_ / "state.db").string()}};
  for (const auto& [from, to] : fill) {
    for (size_t at; (at = config.find(from)) != std::string::npos;) {
      config.replace(at, from.size(), to);
    }
  }
  const std::string path = (dir_ / "demo.yaml").string();
  std::ofstream(path) << config;
  auto r = RunDaemonCommand({"check-config", path});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(config.find(kFeedUrl), std::string::npos)
      << "demo.yaml.in does not poll the demo site's feed";
}

}  // namespace
}  // namespace newsflow::testing
