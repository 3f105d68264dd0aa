// Feeds from more than one file (include:, OPML) and the per-feed keys
// added for operators (timezone, auth). Real files in a temp directory.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "connectors/builtin.h"

namespace newsflow {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class ConfigSourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nf_cfgsrc_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "conf.d");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& rel, const std::string& text) {
    const fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  std::string Error(const std::string& main_text) {
    auto cfg = LoadConfigFile(Write("main.yaml", main_text), BuiltinSinks());
    if (cfg) return "OK";
    EXPECT_EQ(cfg.error().code(), Errc::kConfig);
    return cfg.error().ToString();
  }
  std::string P(const std::string& rel) { return (dir_ / rel).string(); }
  fs::path dir_;
};

TEST_F(ConfigSourcesTest, IncludeGlobAppliesDefaultsInSortedOrder) {
  Write("conf.d/b.yaml", "feeds:\n  - {name: b, url: \"http://b.example/\"}\n");
  Write("conf.d/a.yaml",
        "feeds:\n  - name: a\n    url: http://a.example/\n    interval: 1h\n");
  Write("conf.d/ignored.txt", "not yaml: [");
  auto cfg = LoadConfigFile(
      Write("main.yaml",
            "defaults: {interval: 5m}\n"
            "include: [conf.d/*.yaml]\n"
            "feeds:\n  - {name: main, url: \"http://m.example/\"}\n"),
      BuiltinSinks());
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  ASSERT_EQ(cfg->feeds.size(), 3u);
  EXPECT_EQ(cfg->feeds[0].name, "main");
  EXPECT_EQ(cfg->feeds[1].name, "a");
  EXPECT_EQ(cfg->feeds[1].interval, 1h);
  EXPECT_EQ(cfg->feeds[2].name, "b");
  EXPECT_EQ(cfg->feeds[2].interval, 5min);
}

TEST_F(ConfigSourcesTest, IncludeDirectoryAndNoMatchIsFine) {
  Write("feeds.d/x.yml", "feeds:\n  - {name: x, url: \"http://x.example/\"}\n");
  auto cfg = LoadConfigFile(
      Write("main.yaml", "include: [feeds.d, \"nothing/*.yaml\"]\n"),
      BuiltinSinks());
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  ASSERT_EQ(cfg->feeds.size(), 1u);
  EXPECT_EQ(cfg->feeds[0].name, "x");
}

TEST_F(ConfigSourcesTest, ErrorsInIncludedFilesPointIntoThem) {
  Write("conf.d/a.yaml",
        "feeds:\n  - name: a\n    url: http://a.example/\n    intervall: 1h\n");
  EXPECT_EQ(Error("include: [conf.d/*.yaml]\n"),
            P("conf.d/a.yaml") +
                ":4:5: unknown key \"intervall\" in feeds[0] (did you mean "
                "\"interval\"?)");
  Write("conf.d/a.yaml", "feeds: [\n");
  EXPECT_EQ(
      Error("include: [conf.d/*.yaml]\n").rfind(P("conf.d/a.yaml") + ":", 0),
      0u);
  Write("conf.d/a.yaml", "kafka: {}\n");
  EXPECT_EQ(Error("include: [conf.d/*.yaml]\n"),
            P("conf.d/a.yaml") + ":1:1: unknown key \"kafka\" at top level");
}

TEST_F(ConfigSourcesTest, DuplicateNamesAcrossFilesNameBothPlaces) {
  Write("conf.d/a.yaml",
        "feeds:\n  - {name: same, url: \"http://a.example/\"}\n");
  EXPECT_EQ(Error("include: [conf.d/]\nfeeds:\n  - name: same\n    url: "
                  "http://b.example/\n"),
            P("conf.d/a.yaml") +
                ":2:12: feeds[0].name: duplicate feed name \"same\" "
                "(first defined at " +
                P("main.yaml") + ":3:11)");
}

TEST_F(ConfigSourcesTest, MissingPlainIncludeIsAnErrorAtTheEntry) {
  EXPECT_EQ(Error("include:\n  - conf.d/*.yaml\n  - extra.yaml\n"),
            P("main.yaml") + ":3:5: include[1]: no such file \"" +
                P("extra.yaml") + "\"");
}

TEST_F(ConfigSourcesTest, OpmlOutlinesBecomeFeeds) {
  Write("subs.opml", R"(<?xml version="1.0"?>
<opml version="2.0">
  <head><title>subs</title></head>
  <body>
    <outline text="World">
      <outline text="BBC News: World" type="rss" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>
      <outline title="Ars Technica" text="ignored" xmlUrl="http://feeds.arstechnica.com/arstechnica/index"/>
    </outline>
  </body>
</opml>
)");
  auto cfg = LoadConfigFile(
      Write("main.yaml",
            "defaults: {full_article: always}\nopml: [subs.opml]\n"),
      BuiltinSinks());
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  ASSERT_EQ(cfg->feeds.size(), 2u);
  EXPECT_EQ(cfg->feeds[0].name, "bbc-news-world");
  EXPECT_EQ(cfg->feeds[0].url, "https://feeds.bbci.co.uk/news/world/rss.xml");
  EXPECT_EQ(cfg->feeds[0].full_article, FullArticleMode::kAlways);
  EXPECT_EQ(cfg->feeds[1].name, "ars-technica");
}

TEST_F(ConfigSourcesTest, OpmlErrorsHaveFileLineColumn) {
  Write("bad.opml",
        "<opml><body>\n  <outline text=\"x\" "
        "xmlUrl=\"ftp://x/\"/>\n</body></opml>\n");
  EXPECT_EQ(Error("opml: [bad.opml]\n"),
            P("bad.opml") +
                ":2:3: opml: xmlUrl: invalid URL \"ftp://x/\" (need an "
                "absolute http:// or https:// URL)");
  Write("broken.opml", "<opml><body>\n<outline text=\"x\"\n</body></opml>\n");
  const std::string e = Error("opml: [broken.opml]\n");
  EXPECT_EQ(e.rfind(P("broken.opml") + ":3:", 0), 0u) << e;
  EXPECT_NE(e.find("opml: XML error"), std::string::npos) << e;
}

TEST_F(ConfigSourcesTest, TimezoneIsValidated) {
  auto cfg = LoadConfigFile(
      Write("main.yaml",
            "feeds:\n"
            "  - {name: a, url: \"http://a/\", timezone: \"+05:30\"}\n"
            "  - {name: b, url: \"http://b/\", timezone: UTC}\n"),
      BuiltinSinks());
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  EXPECT_EQ(cfg->feeds[0].timezone, "+05:30");
  EXPECT_EQ(Error("defaults:\n  timezone: \"+25:00\"\n")
                .find(":2:13: defaults.timezone: invalid time zone"),
            P("main.yaml").size())
      << Error("defaults:\n  timezone: \"+25:00\"\n");
  if (fs::is_regular_file("/usr/share/zoneinfo/Europe/Berlin")) {
    EXPECT_EQ(Error("defaults: {timezone: Europe/Berlin}\n"), "OK");
    EXPECT_EQ(Error("defaults: {timezone: Mars/Olympus}\n"),
              P("main.yaml") +
                  ":1:22: defaults.timezone: unknown time zone "
                  "\"Mars/Olympus\" (not in /usr/share/zoneinfo)");
  }
}

TEST_F(ConfigSourcesTest, AuthBecomesAnAuthorizationHeader) {
  ::setenv("NF_TEST_FEED_PASSWORD", "p4ss", 1);
  auto cfg = LoadConfigFile(Write("main.yaml",
                                  "feeds:\n"
                                  "  - name: a\n    url: http://a/\n"
                                  "    auth: {type: basic, username: user, "
                                  "password: \"${NF_TEST_FEED_PASSWORD}\"}\n"
                                  "  - name: b\n    url: http://b/\n    auth: "
                                  "{type: bearer, token: t0k}\n"),
                            BuiltinSinks());
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  ASSERT_EQ(cfg->feeds[0].headers.size(), 1u);
  EXPECT_EQ(cfg->feeds[0].headers[0].first, "Authorization");
  EXPECT_EQ(cfg->feeds[0].headers[0].second,
            "Basic dXNlcjpwNHNz");  // user:p4ss
  EXPECT_EQ(cfg->feeds[1].headers[0].second, "Bearer t0k");
  EXPECT_EQ(Error("feeds:\n  - name: a\n    url: http://a/\n    auth: {type: "
                  "digest}\n"),
            P("main.yaml") +
                ":4:18: feeds[0].auth.type: invalid value \"digest\" "
                "(expected basic or bearer)");
  EXPECT_EQ(Error("defaults: {headers: {Authorization: x}}\n"
                  "feeds:\n  - name: a\n    url: http://a/\n    auth: {type: "
                  "bearer, token: t}\n"),
            P("main.yaml") +
                ":5:11: feeds[0].auth: conflicts with an Authorization header "
                "(from headers or defaults)");
}

TEST(ConfigFilesTest, InstalledDefaultConfigLoads) {
  auto cfg = LoadConfigFile(NEWSFLOW_SOURCE_DIR "/config/newsflow.default.yaml",
                            BuiltinSinks());
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  EXPECT_EQ(cfg->state.path, "/var/lib/newsflow/state.db");
  EXPECT_EQ(cfg->metrics.listen, "127.0.0.1:9464");
}

}  // namespace
}  // namespace newsflow
