// Publisher with a fake sink (unit): the durable outbox — written before the
// sink sees an article, mark-after-ack, retry kept and offered again, drop
// removed, per-key order, in-flight bound, resume after a crash,
// back-pressure by bytes, the sink's own routing, metrics.

#include "daemon/runtime/publisher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <map>
#include <optional>
#include <vector>

#include "daemon/core/metrics.h"

namespace newsflow {
namespace {

class FakeSink : public Sink {
 public:
  struct Call {
    std::string id, destination, value;
    ArticleEvent event;
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
    calls.push_back({article.id, destination.name, ArticleToJson(article),
                     article.event, std::move(done)});
  }
  // The Publisher's call: records the serialization it handed over, then
  // as Publish() (whose `value` is the sink's own ArticleToJson).
  void PublishSerialized(const Article& article, SerializedArticle json,
                         const SinkDestination& destination,
                         DeliveryCallback done) override {
    handed.push_back(std::move(json));
    Publish(article, destination, std::move(done));
  }
  SinkHealth Health() const override {
    return healthy ? SinkHealth{} : SinkHealth{false, "fake down"};
  }
  Result<void> Close(std::chrono::milliseconds) override { return {}; }

  std::vector<Call> calls;
  std::vector<SerializedArticle> handed;  // by call, PublishSerialized only
  bool healthy = true;
};

Article MakeArticle(const std::string& id,
                    std::vector<std::string> categories = {},
                    ArticleEvent event = ArticleEvent::kCreated) {
  Article a;
  a.id = id;
  a.event = event;
  a.content_text = "text of " + id;
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

// poll()/run_for() once the io_context ran out of work stop it; these
// restart it first.
void Poll(asio::io_context& io) {
  io.restart();
  io.poll();
}
void RunFor(asio::io_context& io, std::chrono::milliseconds d) {
  io.restart();
  io.run_for(d);
}

size_t OutboxRows(StateStore& store) {
  auto rows = store.OutboxLoad(0, 1'000'000, false);
  return rows ? rows->size() : 0;
}

TEST_F(PublisherTest, WritesTheOutboxFirstAndMarksOnlyDeliveredArticles) {
  Publisher p(io_.get_executor(), sink_, *store_, 10);
  const uint64_t before = Published("created");
  int done = 0;
  for (const char* id : {"a", "b", "c"}) {
    p.Publish(MakeArticle(id), {}, "item-" + std::string(id),
              [&](const DeliveryReport&) { ++done; });
  }
  // Not handed over before the outbox write is committed (end of turn).
  EXPECT_TRUE(sink_.calls.empty());
  EXPECT_EQ(OutboxRows(*store_), 0u);
  EXPECT_TRUE(p.IsInFlight("a"));  // built, not delivered: dedup knows
  Poll(io_);
  ASSERT_EQ(sink_.calls.size(), 3u);
  EXPECT_EQ(OutboxRows(*store_), 3u);
  EXPECT_EQ(p.in_flight(), 3u);
  EXPECT_EQ(p.outbox_articles(), 3u);
  // Nothing is marked before the ack.
  EXPECT_FALSE(store_->FindArticle("a")->has_value());
  sink_.calls[0].done({DeliveryOutcome::kDelivered, ""});
  sink_.calls[1].done({DeliveryOutcome::kRetry, "broker down"});
  sink_.calls[2].done({DeliveryOutcome::kDrop, "invalid"});
  Poll(io_);
  EXPECT_EQ(done, 2);  // final reports only; b stays in the outbox
  EXPECT_EQ(p.in_flight(), 0u);
  auto a = store_->FindArticle("a");
  ASSERT_TRUE(a && *a);
  EXPECT_EQ((*a)->item_hash, "item-a");
  EXPECT_EQ((*a)->content_hash, "h-a");
  EXPECT_FALSE(store_->FindArticle("b")->has_value());
  EXPECT_FALSE(store_->FindArticle("c")->has_value());
  EXPECT_EQ(OutboxRows(*store_), 1u);
  EXPECT_FALSE(p.IsInFlight("a"));
  EXPECT_TRUE(p.IsInFlight("b"));
  EXPECT_FALSE(p.IsInFlight("c"));
  EXPECT_EQ(p.stats().published, 1u);
  EXPECT_EQ(p.stats().retried, 1u);
  EXPECT_EQ(p.stats().dropped, 1u);
  EXPECT_EQ(Published("created"), before + 1);
  // The retried one is offered again after the retry delay.
  RunFor(io_, Publisher::kRetryDelay + std::chrono::milliseconds(200));
  ASSERT_EQ(sink_.calls.size(), 4u);
  EXPECT_EQ(sink_.calls[3].id, "b");
  sink_.calls[3].done({DeliveryOutcome::kDelivered, ""});
  Poll(io_);
  EXPECT_EQ(OutboxRows(*store_), 0u);
  EXPECT_EQ(p.outbox_articles(), 0u);
  EXPECT_EQ(p.outbox_bytes(), 0);
  EXPECT_TRUE(store_->FindArticle("b")->has_value());
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
  Poll(io_);  // durable in the outbox, then handed to the sink
  ASSERT_EQ(sink_.calls.size(), 1u);
  EXPECT_EQ(store_->OutboxLoad(0, 10, false)->size(), 1u);
  sink_.calls[0].done(
      {DeliveryOutcome::kDeadLettered, "too large", "message_too_large"});
  Poll(io_);
  EXPECT_EQ(seen, DeliveryOutcome::kDeadLettered);
  EXPECT_EQ(p.FindPending("d"), nullptr);
  EXPECT_TRUE(store_->OutboxLoad(0, 10, false)->empty());  // final: it left
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
// sink options, and publishes to what Route() chose — also after the route
// went through the outbox. (The Kafka sink's category/topic rules:
// kafka_sink_config_test.)
TEST_F(PublisherTest, PublishesWhereTheSinksOwnRoutingSays) {
  Publisher p(io_.get_executor(), sink_, *store_, 10);
  p.Publish(MakeArticle("s", {"Sports"}), {}, "i", nullptr);
  p.Publish(MakeArticle("w"), {}, "i", nullptr);
  p.Publish(MakeArticle("f", {"Sports"}), {{"dest", "feed.own"}}, "i", nullptr);
  Poll(io_);
  ASSERT_EQ(sink_.calls.size(), 3u);
  EXPECT_EQ(sink_.calls[0].destination, "cat:Sports");
  EXPECT_EQ(sink_.calls[1].destination, "");  // sink default
  EXPECT_EQ(sink_.calls[2].destination, "feed.own");
}

TEST(DestinationCodecTest, RoundTrips) {
  SinkDestination d{"a", {{"x", {}}, {"", {{"deep", {}}}}}};
  auto back = DecodeDestination(EncodeDestination(d));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->name, "a");
  ASSERT_EQ(back->parts.size(), 2u);
  EXPECT_EQ(back->parts[1].parts[0].name, "deep");
  EXPECT_FALSE(DecodeDestination("nope"));
}

// An updated version never overtakes its created one: one entry per key in
// the sink, in build order, also when the first one is retried.
TEST_F(PublisherTest, KeepsPerKeyOrder) {
  Publisher p(io_.get_executor(), sink_, *store_, 10);
  p.Publish(MakeArticle("a"), {}, "i1", nullptr);
  p.Publish(MakeArticle("a", {}, ArticleEvent::kUpdated), {}, "i2", nullptr);
  p.Publish(MakeArticle("b"), {}, "i1", nullptr);
  Poll(io_);
  ASSERT_EQ(sink_.calls.size(), 2u);
  EXPECT_EQ(sink_.calls[0].id, "a");
  EXPECT_EQ(sink_.calls[0].event, ArticleEvent::kCreated);
  EXPECT_EQ(sink_.calls[1].id, "b");
  EXPECT_EQ(p.FindPending("a")->item_hash, "i2");
  EXPECT_EQ(p.FindPending("a")->entries, 2u);
  sink_.calls[0].done({DeliveryOutcome::kRetry, "timed out"});
  Poll(io_);
  EXPECT_EQ(sink_.calls.size(), 2u);  // the update waits behind the retry
  RunFor(io_, Publisher::kRetryDelay + std::chrono::milliseconds(200));
  ASSERT_EQ(sink_.calls.size(), 3u);
  EXPECT_EQ(sink_.calls[2].id, "a");
  EXPECT_EQ(sink_.calls[2].event, ArticleEvent::kCreated);
  sink_.calls[2].done({DeliveryOutcome::kDelivered, ""});
  Poll(io_);
  ASSERT_EQ(sink_.calls.size(), 4u);
  EXPECT_EQ(sink_.calls[3].event, ArticleEvent::kUpdated);
  sink_.calls[3].done({DeliveryOutcome::kDelivered, ""});
  Poll(io_);
  EXPECT_EQ((*store_->FindArticle("a"))->item_hash, "i2");
  EXPECT_EQ(p.FindPending("a"), nullptr);
}

// At most max_in_flight in the sink; the rest waits (beyond a window, on
// disk only) and follows in build order as acks come back.
TEST_F(PublisherTest, BoundsWhatIsInTheSink) {
  Publisher p(io_.get_executor(), sink_, *store_, 2);
  for (int i = 0; i < 10; ++i) {
    p.Publish(MakeArticle("a" + std::to_string(i)), {}, "i", nullptr);
  }
  Poll(io_);
  ASSERT_EQ(sink_.calls.size(), 2u);
  EXPECT_EQ(MetricsRegistry::Global()
                .GetGauge("newsflow_articles_in_flight", "")
                .value(),
            2.0);
  EXPECT_EQ(OutboxRows(*store_), 10u);
  for (size_t next = 0; next < 10; ++next) {
    ASSERT_GT(sink_.calls.size(), next);
    EXPECT_EQ(sink_.calls[next].id, "a" + std::to_string(next));
    sink_.calls[next].done({DeliveryOutcome::kDelivered, ""});
    Poll(io_);
    EXPECT_LE(p.in_flight(), 2u);
  }
  EXPECT_EQ(sink_.calls.size(), 10u);
  EXPECT_EQ(OutboxRows(*store_), 0u);
}

// Issue 16: the sink gets the outbox row's value with the article (one
// serialization per article), byte for byte what it would make itself,
// for entries kept in memory, entries loaded back from the outbox table
// (beyond the in-memory window) and retried entries alike.
TEST_F(PublisherTest, HandsTheSinkTheOutboxValue) {
  Publisher p(io_.get_executor(), sink_, *store_, 1);  // window: 2 in memory
  for (int i = 0; i < 5; ++i) {
    Article a = MakeArticle("v" + std::to_string(i), {"World"});
    a.title = "T\u00e9l\u00e9 \"" + std::to_string(i) + "\"";
    a.content_html = "<p>x &amp; y</p>";
    p.Publish(a, {}, "iv", nullptr);
  }
  Poll(io_);
  auto rows = store_->OutboxLoad(0, 100);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 5u);
  std::map<std::string, std::string> row_value;
  for (const OutboxEntry& e : *rows) row_value[e.id] = e.value;

  // v0 is retried once: offered again (after the others started) with the
  // very same bytes.
  ASSERT_EQ(sink_.calls.size(), 1u);
  sink_.calls[0].done({DeliveryOutcome::kRetry, "later"});
  Poll(io_);
  for (size_t next = 1; next < 6; ++next) {
    if (sink_.calls.size() <= next) {
      RunFor(io_, Publisher::kRetryDelay + std::chrono::milliseconds(200));
    }
    ASSERT_EQ(sink_.calls.size(), next + 1) << "one in flight at a time";
    sink_.calls[next].done({DeliveryOutcome::kDelivered, ""});
    Poll(io_);
  }
  ASSERT_EQ(sink_.calls.size(), 6u);
  ASSERT_EQ(sink_.handed.size(), 6u);
  std::vector<size_t> v0;
  for (size_t i = 0; i < sink_.calls.size(); ++i) {
    if (sink_.calls[i].id == "v0") v0.push_back(i);
  }
  ASSERT_EQ(v0.size(), 2u);
  EXPECT_EQ(sink_.handed[v0[0]], sink_.handed[v0[1]])
      << "the retry shares the bytes";
  for (size_t i = 0; i < sink_.calls.size(); ++i) {
    SCOPED_TRACE(sink_.calls[i].id);
    ASSERT_NE(sink_.handed[i], nullptr);
    // calls[i].value: ArticleToJson of the article the sink was handed.
    EXPECT_EQ(*sink_.handed[i], sink_.calls[i].value);
    EXPECT_EQ(*sink_.handed[i], row_value[sink_.calls[i].id]);
  }
  EXPECT_EQ(OutboxRows(*store_), 0u);
}

// kill -9 with articles in the outbox (written, handed to the sink, never
// acked): the next start delivers the very same values first, and dedup
// knows them as built before they are delivered.
TEST(PublisherResumeTest, RedeliversWhatACrashLeft) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("nf_publisher_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "state.db").string();
  std::vector<std::string> values;
  {
    asio::io_context io;
    FakeSink sink;
    auto store = std::move(*StateStore::Open(path));
    auto p = std::make_unique<Publisher>(io.get_executor(), sink, *store, 1);
    p->Publish(MakeArticle("x", {"World"}), {}, "ix", nullptr);
    p->Publish(MakeArticle("y"), {}, "iy", nullptr);
    p->Publish(MakeArticle("x", {"World"}, ArticleEvent::kUpdated), {}, "ix2",
               nullptr);
    Poll(io);
    ASSERT_EQ(sink.calls.size(), 1u);  // max_in_flight 1
    values.push_back(sink.calls[0].value);
    // The "crash": the sink's report never comes. (The callback would
    // dangle; it is dropped with the sink.)
    sink.calls.clear();
  }
  asio::io_context io;
  FakeSink sink;
  auto store = std::move(*StateStore::Open(path));
  Publisher p(io.get_executor(), sink, *store, 10);
  ASSERT_TRUE(p.Resume());
  EXPECT_EQ(p.outbox_articles(), 3u);
  EXPECT_GT(p.outbox_bytes(), 0);
  ASSERT_NE(p.FindPending("x"), nullptr);
  EXPECT_EQ(p.FindPending("x")->item_hash, "ix2");
  ASSERT_EQ(sink.calls.size(), 2u);  // x (created) and y; x's update waits
  EXPECT_EQ(sink.calls[0].value, values[0]);
  EXPECT_EQ(sink.calls[0].destination, "cat:World");
  EXPECT_EQ(sink.calls[1].id, "y");
  sink.calls[0].done({DeliveryOutcome::kDelivered, ""});
  sink.calls[1].done({DeliveryOutcome::kDelivered, ""});
  Poll(io);
  ASSERT_EQ(sink.calls.size(), 3u);
  EXPECT_EQ(sink.calls[2].id, "x");
  EXPECT_EQ(sink.calls[2].event, ArticleEvent::kUpdated);
  sink.calls[2].done({DeliveryOutcome::kDelivered, ""});
  Poll(io);
  EXPECT_EQ(p.outbox_articles(), 0u);
  EXPECT_EQ(OutboxRows(*store), 0u);
  EXPECT_EQ((*store->FindArticle("x"))->item_hash, "ix2");
  std::filesystem::remove_all(dir);
}

// Bytes are counted as the store counts them, and a full outbox suspends
// WaitForRoom() until an ack frees room.
TEST_F(PublisherTest, WaitForRoomSuspendsWhileTheOutboxIsFull) {
  Publisher p(io_.get_executor(), sink_, *store_, 10, /*max_bytes=*/1000);
  p.Publish(MakeArticle("a"), {}, "i", nullptr);
  Poll(io_);
  auto rows = store_->OutboxLoad(0, 10, false);
  ASSERT_TRUE(rows && rows->size() == 1u);
  EXPECT_EQ(p.outbox_bytes(), (*rows)[0].bytes);
  p.Publish(MakeArticle("b"), {}, "i", nullptr);
  Poll(io_);
  ASSERT_TRUE(p.OutboxFull()) << p.outbox_bytes();
  bool resumed = false;
  asio::co_spawn(
      io_,
      [&]() -> Awaitable<void> {
        co_await p.WaitForRoom();
        resumed = true;
      },
      asio::detached);
  Poll(io_);
  EXPECT_FALSE(resumed);
  EXPECT_GT(
      MetricsRegistry::Global().GetGauge("newsflow_outbox_bytes", "").value(),
      1000.0);
  sink_.calls[0].done({DeliveryOutcome::kDelivered, ""});
  Poll(io_);
  EXPECT_TRUE(resumed);
}

TEST_F(PublisherTest, DurableResumesOnceTheWriteIsCommitted) {
  Publisher p(io_.get_executor(), sink_, *store_, 10);
  p.Publish(MakeArticle("a"), {}, "i", nullptr);
  bool durable = false;
  asio::co_spawn(
      io_,
      [&]() -> Awaitable<void> {
        co_await p.Durable();
        durable = OutboxRows(*store_) == 1;
      },
      asio::detached);
  Poll(io_);
  EXPECT_TRUE(durable);
}

TEST_F(PublisherTest, ReadinessFollowsTheSink) {
  Publisher p(io_.get_executor(), sink_, *store_, 2);
  EXPECT_TRUE(p.SinkHealthy());
  sink_.healthy = false;
  EXPECT_FALSE(p.SinkHealthy());
}

}  // namespace
}  // namespace newsflow
