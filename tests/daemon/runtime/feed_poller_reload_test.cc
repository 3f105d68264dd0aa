// What a reload does to running pollers (real FeedPoller, HttpClient,
// SQLite store, JSONL sink, loopback HTTP server): live settings reach the
// next poll (ApplySettings), a stopped poller abandons its fetch without
// counting a failure, and a replacing poller keeps the old schedule.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "connectors/sinks/jsonl/jsonl_sink.h"
#include "daemon/core/metrics.h"
#include "daemon/normalizer/normalizer.h"
#include "daemon/runtime/feed_poller.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::LoopbackHttpServer;
using testing::TestRequest;
using testing::TestResponse;

constexpr char kRss[] =
    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>"
    "<link>http://example.org/</link><item><guid>urn:1</guid><title>One"
    "</title><link>http://example.org/1</link><description>Body of one."
    "</description></item></channel></rss>";

// The daemon's pieces for one poller on one io_context.
class PollerReloadTest : public ::testing::Test {
 protected:
  PollerReloadTest()
      : server_([this](const TestRequest& req) { return Serve(req); }),
        store_(std::move(*StateStore::Open(":memory:"))),
        sink_(std::move(*JsonlSink::Create(io_, {OutPath()}))),
        publisher_(io_.get_executor(), *sink_, *store_, 10),
        http_(io_) {
    feed_.name = "reload-feed";
    feed_.url = server_.base_url() + "/feed";
    feed_.full_article = FullArticleMode::kNever;
    config_.http.user_agent = "ua-1";
  }
  ~PollerReloadTest() override {
    std::error_code ec;
    std::filesystem::remove(OutPath(), ec);
  }

  static std::string OutPath() {
    return (std::filesystem::temp_directory_path() /
            ("nf_poller_reload_" + std::to_string(::getpid()) + ".jsonl"))
        .string();
  }

  TestResponse Serve(const TestRequest& req) {
    {
      std::lock_guard lock(mu_);
      agents_.push_back(req.Header("user-agent"));
      request_times_.push_back(Clock::now());
    }
    if (hang_) std::this_thread::sleep_for(3s);
    TestResponse r;
    r.headers.emplace_back("Content-Type", "application/rss+xml");
    r.body = kRss;
    if (edited_) {
      r.body.replace(r.body.find("Body of one."), 12, "Body of one, edited.");
    }
    return r;
  }

  std::shared_ptr<FeedPoller> MakePoller() {
    PollerEnv env;
    env.http = &http_;
    env.store = store_.get();
    env.publisher = &publisher_;
    return std::make_shared<FeedPoller>(io_.get_executor(), env, feed_,
                                        config_);
  }

  Result<PollSummary> PollOnce(FeedPoller& poller) {
    std::optional<Result<PollSummary>> out;
    boost::asio::co_spawn(
        io_, poller.PollOnce(),
        [&](std::exception_ptr, Result<PollSummary> r) { out = std::move(r); });
    io_.restart();
    while (!out) io_.run_one_for(100ms);
    return std::move(*out);
  }

  size_t Requests() {
    std::lock_guard lock(mu_);
    return agents_.size();
  }

  boost::asio::io_context io_{1};
  LoopbackHttpServer server_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<JsonlSink> sink_;
  Publisher publisher_;
  HttpClient http_;
  FeedConfig feed_;
  DaemonConfig config_;
  std::atomic<bool> hang_{false};
  std::atomic<bool> edited_{false};  // the item's description changed
  std::mutex mu_;
  std::vector<std::string> agents_;
  std::vector<Clock::time_point> request_times_;
};

TEST_F(PollerReloadTest, LiveSettingsReachTheNextPoll) {
  auto poller = MakePoller();
  ASSERT_TRUE(PollOnce(*poller));
  DaemonConfig fresh = config_;
  fresh.http.user_agent = "ua-2";
  poller->ApplySettings(fresh);
  ASSERT_TRUE(PollOnce(*poller));
  std::lock_guard lock(mu_);
  ASSERT_EQ(agents_.size(), 2u);
  EXPECT_EQ(agents_[0], "ua-1");
  EXPECT_EQ(agents_[1], "ua-2") << "the running poller kept its old copy";
}

// Issue 13: global filters are live (ApplySettings rebuilds the plan); a
// filtered article is recorded as seen, not published, and counted.
TEST_F(PollerReloadTest, GlobalFiltersApplyLiveAndAreCounted) {
  auto poller = MakePoller();
  FilterRule rule;
  rule.field = FilterField::kTitle;
  rule.keywords = {"one"};
  config_.filters.exclude = {rule};
  poller->ApplySettings(config_);
  Counter& filtered = MetricsRegistry::Global().GetCounter(
      "newsflow_articles_filtered_total",
      "Articles rejected by filters, by feed and rule.",
      {{"feed", feed_.name}, {"rule", "global.exclude[0]"}});
  const uint64_t before = filtered.value();
  auto summary = PollOnce(*poller);
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->filtered, 1u);
  EXPECT_EQ(summary->published, 0u);
  EXPECT_EQ(filtered.value(), before + 1);
  auto known = store_->FindArticle(ArticleId(feed_.name, "urn:1", ""));
  ASSERT_TRUE(known && *known);
  EXPECT_EQ((*known)->content_hash, kFilteredContentHash);
  // Edited in the feed, and the filter gone (live again): the article
  // stays seen, never re-evaluated nor published.
  edited_ = true;
  config_.filters = {};
  poller->ApplySettings(config_);
  summary = PollOnce(*poller);
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->status, FeedPollStatus::kNew);
  EXPECT_EQ(summary->filtered, 1u);
  EXPECT_EQ(summary->published, 0u);
  EXPECT_EQ(filtered.value(), before + 1);
}

TEST_F(PollerReloadTest, StopCancelsTheFetchWithoutCountingAFailure) {
  hang_ = true;  // the server answers after 3 s
  auto poller = MakePoller();
  std::optional<Result<PollSummary>> out;
  boost::asio::co_spawn(
      io_, poller->PollOnce(),
      [&](std::exception_ptr, Result<PollSummary> r) { out = std::move(r); });
  while (Requests() == 0) io_.run_one_for(10ms);
  const auto stopped_at = Clock::now();
  poller->Stop();
  while (!out) io_.run_one_for(10ms);
  EXPECT_LT(Clock::now() - stopped_at, 1s) << "the fetch was waited for";
  ASSERT_FALSE(*out);
  EXPECT_EQ(out->error().code(), Errc::kCancelled);
  auto state = store_->LoadFeed(feed_.name);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->consecutive_failures, 0);
  EXPECT_FALSE(state->last_attempt.has_value());
  // The transfer itself is cancelled (the server would answer after 3 s):
  // a retired poller holds no connection slot.
  const auto until = stopped_at + 2s;
  while (http_.Active() > 0 && Clock::now() < until) io_.run_one_for(50ms);
  EXPECT_EQ(http_.Active(), 0u) << "the retired poller's transfer ran on";
  const auto settle = Clock::now() + 4s;
  while (http_.Active() > 0 && Clock::now() < settle) io_.run_one_for(50ms);
}

TEST_F(PollerReloadTest, AReplacingPollerKeepsTheSchedule) {
  auto poller = MakePoller();
  const auto at = Clock::now() + 1s;
  poller->ResumeScheduleAt(at);
  bool finished = false;
  boost::asio::co_spawn(io_, FeedPoller::Run(poller, /*once=*/true),
                        [&](std::exception_ptr) { finished = true; });
  while (!finished) io_.run_one_for(50ms);
  std::lock_guard lock(mu_);
  ASSERT_EQ(request_times_.size(), 1u);
  EXPECT_GE(request_times_[0], at - 10ms) << "polled at once";
}

}  // namespace
}  // namespace newsflow
