// Publisher with a fake sink (unit): mark-after-ack, retry/drop leave the
// store untouched, the sink's own routing, in-flight bound, metrics.

#include "daemon/runtime/publisher.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <vector>

#include "daemon/core/metrics.h"

namespace newsflow {
namespace {

class FakeSink : public Sink {
 public:
  struct Call {
    std::string id, destination;
    DeliveryCallback done;
  };
  std::string_view Name() const override { return "sink.fake"; }
  // The feed's "dest" option, else "cat:<first category>", else default.
  SinkDestination Route(const Article& article,
                        const FeedSinkOptions& feed) const override {
    if (auto it = feed.find("dest"); it != feed.end()) return {it->second, {}};
    if (!article.categories.empty()) {
      return {"cat:" + article.categories.front(), {}};
    }
    return {};
  }
  void Publish(const Article& article, const SinkDestination& destination,
               DeliveryCallback done) override {
    calls.push_back({article.id, destination.name, std::move(done)});
  }
  SinkHealth Health() const override {
    return healthy ? SinkHealth{} : SinkHealth{false, "fake down"};
  }
  Result<void> Close(std::chrono::milliseconds) override { return {}; }

  std::vector<Call> calls;
  bool healthy = true;
};

Article MakeArticle(const std::string& id,
                    std::vector<std::string> categories = {}) {
  Article a;
  a.id = id;
  a.feed.id = "pub-test-feed";
  a.categories = std::move(categories);
  a.content_hash = "h-" + id;
  a.fetched_at = Now();
  return a;
}

class PublisherTest : public ::testing::Test {
 protected:
  PublisherTest() : store_(std::move(*StateStore::Open(":memory:"))) {}
  asio::io_context io_;
  FakeSink sink_;
  std::unique_ptr<StateStore> store_;
};

uint64_t Published(const char* event) {
  return MetricsRegistry::Global()
      .GetCounter("newsflow_articles_published_total", "",
                  {{"feed", "pub-test-feed"}, {"event", event}})
      .value();
}

TEST_F(PublisherTest, MarksOnlyDeliveredArticles) {
  Publisher p(io_.get_executor(), sink_, *store_, 10);
  const uint64_t before = Published("created");
  int done = 0;
  for (const char* id : {"a", "b", "c"}) {
    p.Publish(MakeArticle(id), {}, "item-" + std::string(id),
              [&](const DeliveryReport&) { ++done; });
  }
  ASSERT_EQ(sink_.calls.size(), 3u);
  EXPECT_EQ(p.in_flight(), 3u);
  EXPECT_TRUE(p.IsInFlight("a"));
  // Nothing is marked before the ack.
  EXPECT_FALSE(store_->FindArticle("a")->has_value());
  sink_.calls[0].done({DeliveryOutcome::kDelivered, ""});
  sink_.calls[1].done({DeliveryOutcome::kRetry, "broker down"});
  sink_.calls[2].done({DeliveryOutcome::kDrop, "invalid"});
  EXPECT_EQ(done, 3);
  EXPECT_EQ(p.in_flight(), 0u);
  auto a = store_->FindArticle("a");
  ASSERT_TRUE(a && *a);
  EXPECT_EQ((*a)->item_hash, "item-a");
  EXPECT_EQ((*a)->content_hash, "h-a");
  EXPECT_FALSE(store_->FindArticle("b")->has_value());
  EXPECT_FALSE(store_->FindArticle("c")->has_value());
  EXPECT_EQ(p.stats().published, 1u);
  EXPECT_EQ(p.stats().retried, 1u);
  EXPECT_EQ(p.stats().dropped, 1u);
  EXPECT_EQ(Published("created"), before + 1);
}

// Issue 12: a dead-lettered delivery is final: the article is recorded as
// seen (so an unchanged item is never rebuilt) with its reason, counted in
// newsflow_articles_dead_lettered_total, and not published.
TEST_F(PublisherTest, DeadLetteredArticleIsRecordedAndCounted) {
  Publisher p(io_.get_executor(), sink_, *store_, 10);
  Counter& dead = MetricsRegistry::Global().GetCounter(
      "newsflow_articles_dead_lettered_total", "", {{"feed", "pub-test-feed"}});
  const uint64_t before = dead.value();
  const uint64_t published_before = Published("created");
  std::optional<DeliveryOutcome> seen;
  p.Publish(MakeArticle("d"), {}, "item-d",
            [&](const DeliveryReport& r) { seen = r.outcome; });
  ASSERT_EQ(sink_.calls.size(), 1u);
  sink_.calls[0].done(
      {DeliveryOutcome::kDeadLettered, "too large", "message_too_large"});
  EXPECT_EQ(seen, DeliveryOutcome::kDeadLettered);
  EXPECT_EQ(p.in_flight(), 0u);
  auto d = store_->FindArticle("d");
  ASSERT_TRUE(d && *d);
  EXPECT_EQ((*d)->item_hash, "item-d");
  EXPECT_EQ(**store_->FindDeadLetter("d"), "message_too_large");
  EXPECT_EQ(p.stats().dead_lettered, 1u);
  EXPECT_EQ(p.stats().published, 0u);
  EXPECT_EQ(dead.value(), before + 1);
  EXPECT_EQ(Published("created"), published_before);
  EXPECT_TRUE(IsFinal(DeliveryOutcome::kDeadLettered));
  EXPECT_FALSE(IsFinal(DeliveryOutcome::kDrop));
}

// Routing is the sink's: the publisher hands it the article and the feed's
// sink options, and publishes to what Route() chose. (The Kafka sink's
// category/topic rules: kafka_sink_config_test.)
TEST_F(PublisherTest, PublishesWhereTheSinksOwnRoutingSays) {
  Publisher p(io_.get_executor(), sink_, *store_, 10);
  p.Publish(MakeArticle("s", {"Sports"}), {}, "i", nullptr);
  p.Publish(MakeArticle("w"), {}, "i", nullptr);
  p.Publish(MakeArticle("f", {"Sports"}), {{"dest", "feed.own"}}, "i", nullptr);
  ASSERT_EQ(sink_.calls.size(), 3u);
  EXPECT_EQ(sink_.calls[0].destination, "cat:Sports");
  EXPECT_EQ(sink_.calls[1].destination, "");  // sink default
  EXPECT_EQ(sink_.calls[2].destination, "feed.own");
}

TEST_F(PublisherTest, WaitForCapacitySuspendsAtTheBound) {
  Publisher p(io_.get_executor(), sink_, *store_, 2);
  p.Publish(MakeArticle("a"), {}, "i", nullptr);
  p.Publish(MakeArticle("b"), {}, "i", nullptr);
  bool resumed = false;
  asio::co_spawn(
      io_,
      [&]() -> Awaitable<void> {
        co_await p.WaitForCapacity();
        resumed = true;
      },
      asio::detached);
  io_.poll();
  EXPECT_FALSE(resumed);
  EXPECT_EQ(MetricsRegistry::Global()
                .GetGauge("newsflow_articles_in_flight", "")
                .value(),
            2.0);
  sink_.calls[0].done({DeliveryOutcome::kDelivered, ""});
  io_.poll();
  EXPECT_TRUE(resumed);
}

TEST_F(PublisherTest, ReadinessFollowsTheSink) {
  Publisher p(io_.get_executor(), sink_, *store_, 2);
  EXPECT_TRUE(p.SinkHealthy());
  sink_.healthy = false;
  EXPECT_FALSE(p.SinkHealthy());
}

}  // namespace
}  // namespace newsflow
