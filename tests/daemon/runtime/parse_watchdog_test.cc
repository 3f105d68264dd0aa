// The parse watchdog wired into quarantine (issue 11, item 1): a feed whose
// parse runs past pipeline.parse_timeout counts like a parser crash; the
// second in a row quarantines it (state, gauge, `quarantined` event, the
// next poll does not fetch). A real FeedPoller (real HttpClient, SQLite
// store, worker pool) against a loopback server; the slow parser is the
// test hook PollerEnv::before_parse_for_test.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/core/metrics.h"
#include "daemon/runtime/feed_poller.h"
#include "daemon/runtime/worker_pool.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackHttpServer;
using testing::TestRequest;
using testing::TestResponse;

// Acknowledges every article at once (on the io_context) and records the
// feed events.
class RecordingSink : public Sink {
 public:
  explicit RecordingSink(boost::asio::io_context& io) : io_(io) {}
  std::string_view Name() const override { return "sink.recording"; }
  void Publish(const Article&, const SinkDestination&,
               DeliveryCallback done) override {
    asio::post(io_, [done = std::move(done)] {
      done(DeliveryReport{DeliveryOutcome::kDelivered, {}});
    });
  }
  void PublishEvent(const FeedEvent& event) override {
    events.push_back(event.type);
  }
  Result<void> Close(std::chrono::milliseconds) override { return {}; }

  std::vector<std::string> events;

 private:
  boost::asio::io_context& io_;
};

std::string Feed() {
  return "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
         "<title>T</title><link>http://example.org/</link><item>"
         "<guid>urn:1</guid><title>One</title>"
         "<link>http://example.org/1</link><description>Body of one, long "
         "enough to be kept as the article text.</description></item>"
         "</channel></rss>";
}

class ParseWatchdogTest : public ::testing::Test {
 protected:
  ParseWatchdogTest()
      : server_([this](const TestRequest&) {
          ++fetches_;
          TestResponse r;
          r.headers.emplace_back("Content-Type", "application/rss+xml");
          r.body = Feed();
          return r;
        }),
        store_(std::move(*StateStore::Open(":memory:"))),
        sink_(io_),
        publisher_(io_.get_executor(), sink_, *store_, 10),
        events_(sink_),
        http_(io_),
        pool_(io_.get_executor(), WorkerPoolOptions{.threads = 2}) {}

  ~ParseWatchdogTest() override {
    release_ = true;
    io_.run_for(5s);  // the abandoned parses end
  }

  std::shared_ptr<FeedPoller> MakePoller(std::chrono::milliseconds parse_for,
                                         std::chrono::milliseconds timeout) {
    DaemonConfig config;
    config.pipeline.parse_timeout = timeout;
    FeedConfig feed;
    feed.name = "slowparse";
    feed.url = server_.base_url() + "/feed";
    feed.full_article = FullArticleMode::kNever;
    PollerEnv env;
    env.http = &http_;
    env.store = store_.get();
    env.publisher = &publisher_;
    env.events = &events_;
    env.workers = &pool_;
    env.before_parse_for_test = [this, parse_for] {
      const auto until = std::chrono::steady_clock::now() + parse_for;
      while (!release_ && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(1ms);
      }
    };
    return std::make_shared<FeedPoller>(io_.get_executor(), env, feed, config);
  }

  Result<PollSummary> Poll(FeedPoller& poller) {
    std::optional<Result<PollSummary>> out;
    boost::asio::co_spawn(
        io_, poller.PollOnce(),
        [&](std::exception_ptr e, Result<PollSummary> r) {
          out = e ? Result<PollSummary>(Error::Internal("exception"))
                  : std::move(r);
        });
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!out && std::chrono::steady_clock::now() < deadline) {
      io_.run_one_for(10ms);
    }
    if (!out) return Error::Internal("poll did not end");
    return std::move(*out);
  }

  FeedState State() { return *store_->LoadFeed("slowparse"); }

  double QuarantinedGauge() {
    return MetricsRegistry::Global()
        .GetGauge("newsflow_feed_quarantined", "", {{"feed", "slowparse"}})
        .value();
  }

  std::atomic<int> fetches_{0};
  std::atomic<bool> release_{false};
  LoopbackHttpServer server_;
  boost::asio::io_context io_{1};
  std::unique_ptr<StateStore> store_;
  RecordingSink sink_;
  Publisher publisher_;
  FeedEvents events_;
  HttpClient http_;
  WorkerPool pool_;
};

TEST_F(ParseWatchdogTest, TwoParseTimeoutsInARowQuarantineTheFeed) {
  auto poller = MakePoller(/*parse_for=*/20s, /*timeout=*/100ms);

  const auto start = std::chrono::steady_clock::now();
  Result<PollSummary> first = Poll(*poller);
  ASSERT_FALSE(first);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s)
      << "the poll waited for the stuck parse";
  EXPECT_NE(first.error().message().find("timed out"), std::string::npos)
      << first.error().ToString();
  EXPECT_EQ(State().parse_crashes, 1);
  EXPECT_FALSE(State().parse_in_progress);
  EXPECT_EQ(pool_.stuck(), 1u);
  EXPECT_EQ(QuarantinedGauge(), 0);

  Result<PollSummary> second = Poll(*poller);
  ASSERT_FALSE(second);
  EXPECT_EQ(State().parse_crashes, 2);
  EXPECT_EQ(QuarantinedGauge(), 1);
  EXPECT_EQ(std::count(sink_.events.begin(), sink_.events.end(),
                       std::string("quarantined")),
            1);
  EXPECT_EQ(fetches_, 2);

  // Quarantined: skipped without a fetch.
  Result<PollSummary> third = Poll(*poller);
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code(), Errc::kBlocked) << third.error().ToString();
  EXPECT_EQ(fetches_, 2);
}

TEST_F(ParseWatchdogTest, AParseWithinTheBoundResetsTheCount) {
  auto slow = MakePoller(/*parse_for=*/20s, /*timeout=*/100ms);
  ASSERT_FALSE(Poll(*slow));
  EXPECT_EQ(State().parse_crashes, 1);
  auto fine = MakePoller(/*parse_for=*/50ms, /*timeout=*/10s);
  Result<PollSummary> ok = Poll(*fine);
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->published, 1u);
  EXPECT_EQ(State().parse_crashes, 0);
}

}  // namespace
}  // namespace newsflow
