// `newsflowd fetch` builds its requests from the feed plan, like the daemon:
// page links are guarded against private addresses and never get the
// feed's credentials. Real HttpClient against loopback servers.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "daemon/cli/commands.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow {
namespace {

using testing::LoopbackHttpServer;
using testing::TestRequest;
using testing::TestResponse;

class FetchCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pages_ = std::make_unique<LoopbackHttpServer>([](const TestRequest&) {
      TestResponse r;
      r.headers.emplace_back("Content-Type", "text/html");
      r.body = "<html><body><article><p>" + std::string(600, 'p') +
               " secret internal page</p></article></body></html>";
      return r;
    });
    feeds_ = std::make_unique<LoopbackHttpServer>([this](const TestRequest&) {
      TestResponse r;
      r.headers.emplace_back("Content-Type", "application/rss+xml");
      r.body =
          "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T"
          "</title><link>http://example.org/</link><item><guid>urn:1</guid>"
          "<title>Teaser</title><link>" +
          pages_->base_url() +
          "/story</link><description>Read more</description></item>"
          "</channel></rss>";
      return r;
    });
    config_path_ = std::filesystem::temp_directory_path() /
                   ("nf_fetch_cli_" + std::to_string(::getpid()) + ".yaml");
  }
  void TearDown() override { std::filesystem::remove(config_path_); }

  std::string FeedUrl() const { return feeds_->base_url() + "/feed.xml"; }

  void WriteConfig(bool allow_private) {
    std::ofstream out(config_path_);
    out << "sinks: [jsonl]\njsonl_path: \"-\"\n"
        << "http:\n  allow_private_targets: "
        << (allow_private ? "true" : "false") << "\n"
        << "feeds:\n  - name: private\n    url: " << FeedUrl() << "\n"
        << "    cookies: \"sid=7\"\n"
        << "    auth: {type: bearer, token: s3cret}\n"
        << "    headers: {X-Keep: \"yes\"}\n";
  }

  int Fetch(std::string* out) {
    ::testing::internal::CaptureStdout();
    const int rc = RunFetchCommand(FeedUrl(), /*full_article=*/true,
                                   config_path_.string(), "");
    *out = ::testing::internal::GetCapturedStdout();
    return rc;
  }

  std::unique_ptr<LoopbackHttpServer> pages_;
  std::unique_ptr<LoopbackHttpServer> feeds_;
  std::filesystem::path config_path_;
};

TEST_F(FetchCommandTest, PageLinksToLoopbackAreRefusedLikeInTheDaemon) {
  WriteConfig(/*allow_private=*/false);
  std::string out;
  EXPECT_EQ(Fetch(&out), kExitOk);
  // The feed (the operator's URL) was fetched with its credentials ...
  ASSERT_EQ(feeds_->requests().size(), 1u);
  EXPECT_EQ(feeds_->requests()[0].Header("authorization"), "Bearer s3cret");
  EXPECT_EQ(feeds_->requests()[0].Header("cookie"), "sid=7");
  // ... the loopback page link was not: the article is the teaser.
  EXPECT_EQ(pages_->request_count(), 0u);
  EXPECT_EQ(out.find("secret internal page"), std::string::npos) << out;
  EXPECT_NE(out.find("Teaser"), std::string::npos) << out;
}

TEST_F(FetchCommandTest, PagesNeverGetTheFeedsCredentials) {
  WriteConfig(/*allow_private=*/true);
  std::string out;
  EXPECT_EQ(Fetch(&out), kExitOk);
  ASSERT_EQ(pages_->requests().size(), 1u);
  const TestRequest page = pages_->requests()[0];
  EXPECT_EQ(page.Header("authorization"), "");
  EXPECT_EQ(page.Header("cookie"), "");
  EXPECT_EQ(page.Header("x-keep"), "");  // configured headers are credentials
  EXPECT_NE(out.find("secret internal page"), std::string::npos) << out;
}

}  // namespace
}  // namespace newsflow
