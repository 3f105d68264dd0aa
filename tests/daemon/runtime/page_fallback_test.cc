// Issue 12: a page that cannot be fetched no longer blocks its article. A
// real FeedPoller (real HttpClient, SQLite store, Publisher, JSONL sink)
// against a loopback server whose teaser item links to a page answering
// 503 for ever: the item is retried for pipeline.max_page_attempts polls,
// then published from the feed's content with content_source_reason
// "page_fetch_failed", and never again once the page recovers.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "connectors/sinks/jsonl/jsonl_sink.h"
#include "daemon/runtime/article_builder.h"
#include "daemon/runtime/feed_poller.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackHttpServer;
using testing::TestRequest;
using testing::TestResponse;

TEST(PageFailureFallsBackTest, BoundCountsThisAttempt) {
  // max 3: the first two failed polls retry, the third falls back.
  EXPECT_FALSE(PageFailureFallsBack(0, 3, false));
  EXPECT_FALSE(PageFailureFallsBack(1, 3, false));
  EXPECT_TRUE(PageFailureFallsBack(2, 3, false));
  EXPECT_TRUE(PageFailureFallsBack(7, 3, false));  // bound lowered by reload
  EXPECT_TRUE(PageFailureFallsBack(0, 1, false));
}

TEST(PageFailureFallsBackTest, SubstantialFeedTextFallsBackAtOnce) {
  EXPECT_TRUE(PageFailureFallsBack(0, 3, true));
  EXPECT_TRUE(PageFailureFallsBack(0, 1000, true));
}

constexpr char kFullText[] =
    "<p>The harbour authority confirmed on Tuesday that the new ferry line "
    "will start in spring, connecting the old town with the islands twice "
    "an hour. Officials said the boats run on batteries charged overnight "
    "at the pier, and that tickets cost the same as the city's buses.</p>"
    "<p>Residents of the islands had asked for a faster link for years; "
    "the current boat takes forty minutes and stops running at nine in the "
    "evening. The new line will run until midnight on weekends.</p>"
    "<p>Construction of the two new piers begins next month and is "
    "expected to take twelve weeks, the authority said in its statement, "
    "adding that the old pier stays open during the works.</p>";

class PageFallbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("nf_page_fallback_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    server_.emplace([this](const TestRequest& req) {
      TestResponse r;
      if (req.path == "/feed") {
        r.headers.emplace_back("Content-Type", "application/rss+xml");
        r.body =
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
            "<title>Harbour</title><link>http://example.org/</link>"
            // A new body at every poll (as busy feeds have), so the item
            // itself is looked at each time.
            "<lastBuildDate>" +
            std::to_string(++feed_requests_) +
            "</lastBuildDate><item>"
            "<guid>urn:ferry</guid><title>Ferry line</title><link>" +
            server_->base_url() + "/page</link><description><![CDATA[" +
            description_ + "]]></description></item></channel></rss>";
        return r;
      }
      ++page_requests_;
      if (page_status_ != 200) {
        r.status = page_status_;
        r.body = "unavailable";
        return r;
      }
      r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
      r.body = std::string("<html><body><article><h1>Ferry</h1>") + kFullText +
               kFullText + "</article></body></html>";
      return r;
    });
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Polls the feed `polls` times with a fresh poller each time (as a
  // restart would), against one store file; returns each poll's summary.
  std::vector<PollSummary> Poll(int polls, FullArticleMode mode) {
    std::vector<PollSummary> out;
    for (int i = 0; i < polls; ++i) {
      boost::asio::io_context io(1);
      auto store = StateStore::Open((dir_ / "state.db").string());
      EXPECT_TRUE(store) << store.error().ToString();
      JsonlSinkOptions sink_options;
      sink_options.path = (dir_ / "out.jsonl").string();
      auto sink = JsonlSink::Create(io, sink_options);
      EXPECT_TRUE(sink);
      Publisher publisher(io.get_executor(), **sink, **store, 10);
      HttpClient http(io);
      DaemonConfig config;
      config.http.allow_private_targets = true;  // the page is on loopback
      config.pipeline.max_page_attempts = 3;
      FeedConfig feed;
      feed.name = "harbour";
      feed.url = server_->base_url() + "/feed";
      feed.full_article = mode;
      PollerEnv env;
      env.http = &http;
      env.store = store->get();
      env.publisher = &publisher;
      auto poller =
          std::make_shared<FeedPoller>(io.get_executor(), env, feed, config);
      std::optional<Result<PollSummary>> result;
      boost::asio::co_spawn(io, poller->PollOnce(),
                            [&](std::exception_ptr e, Result<PollSummary> r) {
                              if (e) {
                                result = Error::Internal("exception");
                              } else {
                                result = std::move(r);
                              }
                            });
      const auto deadline = std::chrono::steady_clock::now() + 30s;
      while (!result && std::chrono::steady_clock::now() < deadline) {
        io.run_one_for(20ms);
      }
      EXPECT_TRUE(result && *result)
          << (result ? result->error().ToString() : "timeout");
      if (result && *result) out.push_back(**result);
      (void)(*sink)->Close(1s);
      io.poll();
    }
    return out;
  }

  std::vector<nlohmann::json> Published() {
    std::vector<nlohmann::json> out;
    std::ifstream in(dir_ / "out.jsonl");
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    }
    return out;
  }

  std::filesystem::path dir_;
  std::optional<LoopbackHttpServer> server_;
  std::atomic<int> page_status_{503};
  std::atomic<int> page_requests_{0};
  std::atomic<int> feed_requests_{0};
  std::string description_ = "A new ferry line. Read more";
};

TEST_F(PageFallbackTest,
       TeaserWhosePageAnswers503ForEverIsPublishedAfterTheBound) {
  const auto first = Poll(2, FullArticleMode::kAuto);
  ASSERT_EQ(first.size(), 2u);
  for (const PollSummary& s : first) {
    EXPECT_EQ(s.published, 0u);
    EXPECT_EQ(s.incomplete, 1u);
  }
  EXPECT_TRUE(Published().empty());
  EXPECT_EQ(page_requests_.load(), 2);

  const auto third = Poll(1, FullArticleMode::kAuto);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].published, 1u);
  EXPECT_EQ(third[0].incomplete, 0u);
  EXPECT_EQ(page_requests_.load(), 3);
  auto articles = Published();
  ASSERT_EQ(articles.size(), 1u);
  EXPECT_EQ(articles[0]["content_source"], "feed");
  EXPECT_EQ(articles[0]["content_source_reason"], "page_fetch_failed");
  EXPECT_EQ(articles[0]["event"], "created");
  EXPECT_NE(articles[0]["content_text"].get<std::string>().find("ferry"),
            std::string::npos);

  // The page recovers: the unchanged item is not rebuilt nor republished.
  page_status_ = 200;
  const auto later = Poll(2, FullArticleMode::kAuto);
  ASSERT_EQ(later.size(), 2u);
  for (const PollSummary& s : later) {
    EXPECT_EQ(s.published, 0u);
    EXPECT_EQ(s.unchanged, 1u);
  }
  EXPECT_EQ(page_requests_.load(), 3);
  EXPECT_EQ(Published().size(), 1u);
}

TEST_F(PageFallbackTest, AttemptsAreForgottenOnceThePageComesBack) {
  ASSERT_EQ(Poll(2, FullArticleMode::kAuto).size(), 2u);  // two failures
  page_status_ = 200;
  const auto ok = Poll(1, FullArticleMode::kAuto);
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].published, 1u);
  auto articles = Published();
  ASSERT_EQ(articles.size(), 1u);
  EXPECT_EQ(articles[0]["content_source"], "page");
  EXPECT_TRUE(articles[0]["content_source_reason"].is_null());
  auto store = StateStore::Open((dir_ / "state.db").string());
  ASSERT_TRUE(store);
  const std::string id = articles[0]["id"];
  auto attempts = (*store)->PageAttempts(id);
  ASSERT_TRUE(attempts);
  EXPECT_EQ(*attempts, 0);
}

TEST_F(PageFallbackTest, FullTextInTheFeedFallsBackAtTheFirstFailure) {
  description_ = kFullText;  // not a teaser; fetched only because "always"
  const auto polls = Poll(1, FullArticleMode::kAlways);
  ASSERT_EQ(polls.size(), 1u);
  EXPECT_EQ(polls[0].published, 1u);
  EXPECT_EQ(page_requests_.load(), 1);
  auto articles = Published();
  ASSERT_EQ(articles.size(), 1u);
  EXPECT_EQ(articles[0]["content_source"], "feed");
  EXPECT_EQ(articles[0]["content_source_reason"], "page_fetch_failed");
}

TEST_F(PageFallbackTest, PermanentPageErrorFallsBackAtOnceWithTheReason) {
  page_status_ = 404;
  const auto polls = Poll(1, FullArticleMode::kAuto);
  ASSERT_EQ(polls.size(), 1u);
  EXPECT_EQ(polls[0].published, 1u);
  auto articles = Published();
  ASSERT_EQ(articles.size(), 1u);
  EXPECT_EQ(articles[0]["content_source_reason"], "page_fetch_failed");
}

}  // namespace
}  // namespace newsflow
