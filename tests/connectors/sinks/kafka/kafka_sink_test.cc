// Integration tests: KafkaSink against the real local broker (ctest fixture
// kafka_broker, scripts/kafka-broker), checked with an independent consumer.

#include "connectors/sinks/kafka/kafka_sink.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "tests/testing/kafka_test_util.h"

namespace newsflow {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Article MakeArticle(int i, ArticleEvent event = ArticleEvent::kCreated) {
  Article a;
  a.id = "art-" + std::to_string(i);
  a.event = event;
  a.feed.id = "feed-" + std::to_string(i % 2);
  a.feed.url = "https://example.org/feed.xml";
  a.url = "https://example.org/story/" + std::to_string(i);
  a.canonical_url = a.url;
  a.title = "Story \"" + std::to_string(i) + "\" — ünïcode";
  a.fetched_at = *MakeUtc(2025, 10, 12, 1, 40, i, 123);
  a.content_text = "Body of story " + std::to_string(i);
  a.content_hash =
      (event == ArticleEvent::kUpdated ? "bb" : "aa") + std::to_string(i);
  a.word_count = 4;
  return a;
}

// Runs `io` until `done()` or `limit` passed.
template <class Pred>
bool RunUntil(boost::asio::io_context& io, Pred done, milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(milliseconds(50));
  }
  return done();
}

class KafkaSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = testing::TestBrokerBootstrap();
    ASSERT_TRUE(b) << b.error().ToString();
    bootstrap_ = *b;
  }
  std::string bootstrap_;
};

TEST_F(KafkaSinkTest, PublishesKeysValuesAndCloudEventsHeaders) {
  const std::string topic = testing::UniqueTopicName("nf-sink-test");
  const std::string other = testing::UniqueTopicName("nf-sink-routed");
  ASSERT_TRUE(testing::CreateTopic(bootstrap_, topic));
  ASSERT_TRUE(testing::CreateTopic(bootstrap_, other, 1));

  boost::asio::io_context io;
  KafkaSinkOptions options;
  options.brokers = bootstrap_;
  options.topic = topic;
  options.linger_ms = 5;
  auto sink = KafkaSink::Create(io, options);
  ASSERT_TRUE(sink) << sink.error().ToString();

  // art-0..3 created, then art-0 updated (same key, new content hash).
  std::vector<Article> articles;
  for (int i = 0; i < 4; ++i) articles.push_back(MakeArticle(i));
  articles.push_back(MakeArticle(0, ArticleEvent::kUpdated));

  std::vector<std::optional<DeliveryReport>> reports(articles.size() + 1);
  int calls = 0;
  for (size_t i = 0; i < articles.size(); ++i) {
    (*sink)->Publish(articles[i], SinkDestination{}, [&, i](DeliveryReport r) {
      ++calls;
      reports[i] = std::move(r);
    });
  }
  Article routed = MakeArticle(9);
  (*sink)->Publish(routed, SinkDestination{other, {}}, [&](DeliveryReport r) {
    ++calls;
    reports.back() = std::move(r);
  });
  EXPECT_EQ(calls, 0) << "callbacks must never run inside Publish()";

  const int expected = static_cast<int>(reports.size());
  ASSERT_TRUE(RunUntil(
      io, [&] { return calls >= expected; }, milliseconds(30000)))
      << "only " << calls << " of " << expected << " callbacks fired";
  for (size_t i = 0; i < reports.size(); ++i) {
    ASSERT_TRUE(reports[i].has_value());
    EXPECT_EQ(reports[i]->outcome, DeliveryOutcome::kDelivered)
        << i << ": " << reports[i]->error;
  }
  EXPECT_TRUE((*sink)->Health().ok);
  EXPECT_TRUE((*sink)->Close(seconds(5)));
  RunUntil(
      io, [] { return false; }, milliseconds(200));
  EXPECT_EQ(calls, expected) << "each callback exactly once";

  auto msgs =
      testing::ConsumeAll(bootstrap_, topic, articles.size(), seconds(30));
  ASSERT_EQ(msgs.size(), articles.size());
  // Messages of one key are in one partition, in publish order.
  std::map<std::string, std::vector<testing::ConsumedMessage>> by_key;
  for (const auto& m : msgs) by_key[m.key].push_back(m);
  ASSERT_EQ(by_key.size(), 4u);
  ASSERT_EQ(by_key["art-0"].size(), 2u);
  EXPECT_EQ(by_key["art-0"][0].partition, by_key["art-0"][1].partition);
  EXPECT_LT(by_key["art-0"][0].offset, by_key["art-0"][1].offset);

  for (const auto& m : msgs) {
    SCOPED_TRACE(m.key + " @" + std::to_string(m.offset));
    const bool updated =
        m.key == "art-0" && m.offset == by_key["art-0"][1].offset;
    const Article& a =
        updated ? articles[4] : articles[std::stoi(m.key.substr(4))];
    // The value, read with an independent JSON parser and compared field
    // by field with what MakeArticle() set (not with ArticleToJson, the
    // serializer the sink itself uses).
    auto json = nlohmann::json::parse(m.value, nullptr, false);
    ASSERT_FALSE(json.is_discarded());
    EXPECT_EQ(json["schema_version"], 1);
    EXPECT_EQ(json["id"], m.key);
    EXPECT_EQ(json["event"], updated ? "updated" : "created");
    const std::string n = m.key.substr(4);
    EXPECT_EQ(json["title"], "Story \"" + n + "\" \u2014 \u00fcn\u00efcode");
    EXPECT_EQ(json["url"], "https://example.org/story/" + n);
    EXPECT_EQ(json["canonical_url"], "https://example.org/story/" + n);
    EXPECT_EQ(json["feed"]["id"], "feed-" + std::to_string(std::stoi(n) % 2));
    EXPECT_EQ(json["feed"]["url"], "https://example.org/feed.xml");
    EXPECT_EQ(json["content_text"], "Body of story " + n);
    EXPECT_EQ(json["content_hash"], (updated ? "bb" : "aa") + n);
    EXPECT_EQ(json["word_count"], 4);
    EXPECT_EQ(json["fetched_at"], "2025-10-12T01:40:0" + n + ".123Z");

    EXPECT_EQ(m.Header("content-type"), "application/json; charset=utf-8");
    EXPECT_EQ(m.Header("ce_specversion"), "1.0");
    EXPECT_EQ(m.Header("ce_id"), a.id + ":" + a.content_hash);
    EXPECT_EQ(m.Header("ce_source"), "/feeds/" + a.feed.id);
    EXPECT_EQ(m.Header("ce_type"), updated ? "org.newsflow.article.updated"
                                           : "org.newsflow.article.created");
    // Spelled out rather than via FormatRfc3339: MakeArticle(i) is fetched
    // at 01:40:0i.123 UTC.
    EXPECT_EQ(m.Header("ce_time"),
              "2025-10-12T01:40:0" + m.key.substr(4) + ".123Z");
    EXPECT_EQ(m.Header("ce_subject"), a.id);
    EXPECT_EQ(m.Header("schema-version"), "1");
    EXPECT_EQ(m.Header("ce_dataschema"),
              "https://newsflow.example/schemas/article/1.json");
    EXPECT_EQ(m.headers.size(), 9u);
  }

  auto routed_msgs = testing::ConsumeAll(bootstrap_, other, 1, seconds(30));
  ASSERT_EQ(routed_msgs.size(), 1u);
  EXPECT_EQ(routed_msgs[0].key, "art-9");
  EXPECT_EQ(routed_msgs[0].Header("ce_source"), "/feeds/feed-1");
}

// The nine CloudEvents headers of `a`, names and values in record order,
// spelled out (not built by the sink's own code): what the sink sent
// before issue 16 and must keep sending.
std::vector<std::pair<std::string, std::string>> ExpectedHeaders(
    const Article& a, const std::string& ce_time) {
  return {{"content-type", "application/json; charset=utf-8"},
          {"ce_specversion", "1.0"},
          {"ce_id", a.id + ":" + a.content_hash},
          {"ce_source", "/feeds/" + a.feed.id},
          {"ce_type", a.event == ArticleEvent::kUpdated
                          ? "org.newsflow.article.updated"
                          : "org.newsflow.article.created"},
          {"ce_time", ce_time},
          {"ce_subject", a.id},
          {"ce_dataschema", "https://newsflow.example/schemas/article/1.json"},
          {"schema-version", "1"}};
}

// Issue 16: the Publisher's call (PublishSerialized, the outbox value
// handed over) and Publish() put the same bytes on the wire as the sink
// did before: the value is KafkaRecordValue(article) byte for byte (the
// JSON handed over when it fits, the trimmed copy when it does not), the
// headers are the same nine, in the same order. Every report arrives
// once, on the io_context thread, in fewer closures than records (posted
// per poll round).
TEST_F(KafkaSinkTest, PublishSerializedSendsTheSameRecordsAsBefore) {
  const std::string topic = testing::UniqueTopicName("nf-sink-ser");
  const std::string plain = testing::UniqueTopicName("nf-sink-plain");
  ASSERT_TRUE(testing::CreateTopic(bootstrap_, topic, 1));
  ASSERT_TRUE(testing::CreateTopic(bootstrap_, plain, 1));
  boost::asio::io_context io;
  KafkaSinkOptions options;
  options.brokers = bootstrap_;
  options.topic = topic;
  options.linger_ms = 20;
  options.max_message_bytes = 6000;
  auto sink = KafkaSink::Create(io, options);
  ASSERT_TRUE(sink) << sink.error().ToString();

  std::vector<Article> articles;
  std::vector<std::string> ce_times;  // spelled out, not FormatRfc3339
  for (int i = 0; i < 60; ++i) {
    Article a = MakeArticle(
        i, i % 7 == 3 ? ArticleEvent::kUpdated : ArticleEvent::kCreated);
    a.id = "ser-" + std::to_string(i);
    a.content_html = "<p>x &amp; \"y\" \u00e9</p>";
    if (i % 20 == 5) a.content_text.assign(9000, 'z');  // trimmed
    char ce_time[32];
    std::snprintf(ce_time, sizeof ce_time, "2025-10-12T01:40:%02d.123Z", i);
    if (i % 20 == 6) {  // whole seconds: no fraction
      a.fetched_at = *MakeUtc(2025, 10, 12, 1, 40, i, 0);
      std::snprintf(ce_time, sizeof ce_time, "2025-10-12T01:40:%02dZ", i);
    }
    articles.push_back(std::move(a));
    ce_times.push_back(ce_time);
  }
  const std::thread::id io_thread = std::this_thread::get_id();
  std::vector<int> calls(2 * articles.size(), 0);
  bool off_thread = false;
  auto report = [&](size_t slot) {
    return [&, slot](DeliveryReport r) {
      ++calls[slot];
      off_thread |= std::this_thread::get_id() != io_thread;
      EXPECT_EQ(r.outcome, DeliveryOutcome::kDelivered) << slot << r.error;
    };
  };
  for (size_t i = 0; i < articles.size(); ++i) {
    (*sink)->PublishSerialized(
        articles[i],
        std::make_shared<const std::string>(ArticleToJson(articles[i])),
        SinkDestination{}, report(i));
    (*sink)->Publish(articles[i], SinkDestination{plain, {}},
                     report(articles.size() + i));
  }
  EXPECT_EQ(std::count(calls.begin(), calls.end(), 0),
            static_cast<long>(calls.size()))
      << "callbacks must never run inside Publish()";
  size_t handlers = 0;
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  while (std::count(calls.begin(), calls.end(), 1) <
             static_cast<long>(calls.size()) &&
         std::chrono::steady_clock::now() < deadline) {
    io.restart();
    handlers += io.run_one_for(milliseconds(50));
  }
  EXPECT_TRUE((*sink)->Close(seconds(5)));
  RunUntil(
      io, [] { return false; }, milliseconds(200));
  for (size_t slot = 0; slot < calls.size(); ++slot) {
    EXPECT_EQ(calls[slot], 1) << "slot " << slot << ": exactly once";
  }
  EXPECT_FALSE(off_thread) << "callbacks run on the io_context thread";
  EXPECT_LT(handlers, calls.size() / 2) << "reports are posted in batches";

  for (const std::string& t : {topic, plain}) {
    SCOPED_TRACE(t);
    auto msgs =
        testing::ConsumeAll(bootstrap_, t, articles.size(), seconds(30));
    ASSERT_EQ(msgs.size(), articles.size());
    for (const auto& m : msgs) {
      SCOPED_TRACE(m.key);
      const size_t i = std::stoul(m.key.substr(4));
      const Article& a = articles[i];
      bool truncated = false;
      EXPECT_EQ(m.value, KafkaRecordValue(a, 6000, &truncated));
      EXPECT_EQ(truncated, a.content_text.size() == 9000);
      if (!truncated) EXPECT_EQ(m.value, ArticleToJson(a));
      EXPECT_EQ(m.headers, ExpectedHeaders(a, ce_times[i]));
    }
  }
}

TEST_F(KafkaSinkTest, TooLargeRecordIsTrimmedFlaggedAndDelivered) {
  const std::string topic = testing::UniqueTopicName("nf-sink-large");
  ASSERT_TRUE(testing::CreateTopic(bootstrap_, topic, 1));
  boost::asio::io_context io;
  KafkaSinkOptions options;
  options.brokers = bootstrap_;
  options.topic = topic;
  options.max_message_bytes = 3000;
  auto sink = KafkaSink::Create(io, options);
  ASSERT_TRUE(sink) << sink.error().ToString();

  Article big = MakeArticle(1);
  big.content_text.assign(10000, 'x');
  std::optional<DeliveryReport> report;
  (*sink)->Publish(big, SinkDestination{},
                   [&](DeliveryReport r) { report = std::move(r); });
  ASSERT_TRUE(RunUntil(
      io, [&] { return report.has_value(); }, milliseconds(10000)));
  EXPECT_EQ(report->outcome, DeliveryOutcome::kDelivered) << report->error;
  EXPECT_TRUE((*sink)->Close(seconds(5)));
  auto got = testing::ConsumeAll(bootstrap_, topic, 1, seconds(30));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_LE(got[0].value.size(), 3000u);
  auto v = nlohmann::json::parse(got[0].value);
  EXPECT_EQ(v["truncated"], true);
  EXPECT_EQ(
      v["content_text"].get<std::string>(),
      big.content_text.substr(0, v["content_text"].get<std::string>().size()));
}

TEST_F(KafkaSinkTest, RecordTooLargeEvenWithoutBodyIsDropped) {
  const std::string topic = testing::UniqueTopicName("nf-sink-huge-meta");
  ASSERT_TRUE(testing::CreateTopic(bootstrap_, topic, 1));
  boost::asio::io_context io;
  KafkaSinkOptions options;
  options.brokers = bootstrap_;
  options.topic = topic;
  options.librdkafka = {{"message.max.bytes", "2000"}};
  auto sink = KafkaSink::Create(io, options);
  ASSERT_TRUE(sink) << sink.error().ToString();

  Article big = MakeArticle(1);
  big.title.assign(5000, 't');  // metadata alone exceeds the limit
  std::optional<DeliveryReport> report;
  (*sink)->Publish(big, SinkDestination{},
                   [&](DeliveryReport r) { report = std::move(r); });
  EXPECT_FALSE(report.has_value());
  ASSERT_TRUE(RunUntil(
      io, [&] { return report.has_value(); }, milliseconds(10000)));
  EXPECT_EQ(report->outcome, DeliveryOutcome::kDrop);
  EXPECT_NE(report->error.find("too large"), std::string::npos)
      << report->error;
  EXPECT_TRUE((*sink)->Close(seconds(5)));
}

TEST_F(KafkaSinkTest, InvalidTopicNameIsDropped) {
  boost::asio::io_context io;
  KafkaSinkOptions options;
  options.brokers = bootstrap_;
  options.message_timeout_ms = 10000;
  auto sink = KafkaSink::Create(io, options);
  ASSERT_TRUE(sink) << sink.error().ToString();
  std::optional<DeliveryReport> report;
  (*sink)->Publish(MakeArticle(1), SinkDestination{"bad topic name!", {}},
                   [&](DeliveryReport r) { report = std::move(r); });
  ASSERT_TRUE(RunUntil(
      io, [&] { return report.has_value(); }, milliseconds(20000)));
  EXPECT_EQ(report->outcome, DeliveryOutcome::kDrop) << report->error;
  EXPECT_NE(report->error.find("bad topic name!"), std::string::npos)
      << report->error;
  (void)(*sink)->Close(seconds(1));
}

std::string HeaderOf(const testing::ConsumedMessage& m,
                     const std::string& name) {
  for (const auto& [k, v] : m.headers) {
    if (k == name) return v;
  }
  return "<missing>";
}

// Issue 12: a record Kafka can never take goes to kafka.dead_letter_topic
// (key and headers kept, the reason in a header) and is reported
// kDeadLettered, not kDrop.
TEST_F(KafkaSinkTest, RecordTooLargeEvenWithoutBodyIsDeadLettered) {
  const std::string topic = testing::UniqueTopicName("nf-sink-dlq-src");
  const std::string dlq = testing::UniqueTopicName("nf-sink-dlq");
  ASSERT_TRUE(testing::CreateTopic(bootstrap_, topic, 1));
  ASSERT_TRUE(testing::CreateTopic(bootstrap_, dlq, 1));
  boost::asio::io_context io;
  KafkaSinkOptions options;
  options.brokers = bootstrap_;
  options.topic = topic;
  options.dead_letter_topic = dlq;
  options.librdkafka = {{"message.max.bytes", "2000"}};
  auto sink = KafkaSink::Create(io, options);
  ASSERT_TRUE(sink) << sink.error().ToString();

  Article big = MakeArticle(1);
  big.title.assign(5000, 't');  // metadata alone exceeds the limit
  std::optional<DeliveryReport> report;
  (*sink)->Publish(big, SinkDestination{},
                   [&](DeliveryReport r) { report = std::move(r); });
  ASSERT_TRUE(RunUntil(
      io, [&] { return report.has_value(); }, milliseconds(20000)));
  EXPECT_EQ(report->outcome, DeliveryOutcome::kDeadLettered) << report->error;
  EXPECT_EQ(report->dead_letter_reason, "message_too_large");
  EXPECT_TRUE((*sink)->Close(seconds(5)));

  auto got = testing::ConsumeAll(bootstrap_, dlq, 1, seconds(30));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].key, "art-1");
  EXPECT_TRUE(got[0].value.empty());  // too large here too: headers only
  EXPECT_EQ(HeaderOf(got[0], "newsflow_dead_letter_reason"),
            "message_too_large");
  EXPECT_EQ(HeaderOf(got[0], "newsflow_original_topic"), topic);
  EXPECT_EQ(HeaderOf(got[0], "ce_subject"), "art-1");
  EXPECT_GT(std::stoul(HeaderOf(got[0], "newsflow_original_value_bytes")),
            5000u);
  auto left = testing::TopicMessageCount(bootstrap_, topic);
  ASSERT_TRUE(left);
  EXPECT_EQ(*left, 0);
}

TEST_F(KafkaSinkTest, InvalidTopicIsDeadLetteredWithItsValue) {
  const std::string dlq = testing::UniqueTopicName("nf-sink-dlq-inv");
  ASSERT_TRUE(testing::CreateTopic(bootstrap_, dlq, 1));
  boost::asio::io_context io;
  KafkaSinkOptions options;
  options.brokers = bootstrap_;
  options.dead_letter_topic = dlq;
  options.message_timeout_ms = 10000;
  auto sink = KafkaSink::Create(io, options);
  ASSERT_TRUE(sink) << sink.error().ToString();
  std::optional<DeliveryReport> report;
  (*sink)->Publish(MakeArticle(2), SinkDestination{"bad topic name!", {}},
                   [&](DeliveryReport r) { report = std::move(r); });
  ASSERT_TRUE(RunUntil(
      io, [&] { return report.has_value(); }, milliseconds(20000)));
  EXPECT_EQ(report->outcome, DeliveryOutcome::kDeadLettered) << report->error;
  (void)(*sink)->Close(seconds(5));
  auto got = testing::ConsumeAll(bootstrap_, dlq, 1, seconds(30));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].key, "art-2");
  EXPECT_EQ(nlohmann::json::parse(got[0].value)["id"], "art-2");
  EXPECT_EQ(got[0].value, ArticleToJson(MakeArticle(2)));
  EXPECT_EQ(HeaderOf(got[0], "newsflow_original_topic"), "bad topic name!");
  EXPECT_NE(HeaderOf(got[0], "newsflow_dead_letter_reason"), "<missing>");
  // The article's nine headers in their order, then the four reasons.
  auto expected = ExpectedHeaders(MakeArticle(2), "2025-10-12T01:40:02.123Z");
  expected.emplace_back("newsflow_dead_letter_reason",
                        HeaderOf(got[0], "newsflow_dead_letter_reason"));
  expected.emplace_back("newsflow_dead_letter_error",
                        HeaderOf(got[0], "newsflow_dead_letter_error"));
  expected.emplace_back("newsflow_original_topic", "bad topic name!");
  expected.emplace_back("newsflow_original_value_bytes",
                        std::to_string(got[0].value.size()));
  EXPECT_EQ(got[0].headers, expected);
  EXPECT_NE(HeaderOf(got[0], "newsflow_dead_letter_error"), "");
}

TEST(KafkaPermanentReasonTest, ClassifiesLibrdkafkaCodes) {
  EXPECT_STREQ(KafkaPermanentReason(10), "message_too_large");  // MSG_SIZE
  EXPECT_STREQ(KafkaPermanentReason(18), "message_too_large");  // RECORD_LIST
  EXPECT_STREQ(KafkaPermanentReason(17), "invalid_topic");
  EXPECT_STREQ(KafkaPermanentReason(29), "topic_authorization_failed");
  EXPECT_STREQ(KafkaPermanentReason(-188), "unknown_topic");  // __UNKNOWN_TOPIC
  EXPECT_EQ(KafkaPermanentReason(-192), nullptr);             // __MSG_TIMED_OUT
  EXPECT_EQ(KafkaPermanentReason(-150), nullptr);             // __FATAL
  EXPECT_EQ(KafkaPermanentReason(3), nullptr);     // UNKNOWN_TOPIC_OR_PART
  EXPECT_EQ(KafkaPermanentReason(31), nullptr);    // CLUSTER_AUTHORIZATION
  EXPECT_EQ(KafkaPermanentReason(-184), nullptr);  // __QUEUE_FULL
}

// Issue 12: a fatal producer error (injected with librdkafka's
// rd_kafka_test_fatal_error) makes the sink recreate its producer. Records
// the failed producer held come back as kRetry; publishing them again (as
// the pipeline does) delivers every article: nothing is lost.
TEST_F(KafkaSinkTest, FatalProducerErrorRecreatesTheProducerNothingLost) {
  const std::string topic = testing::UniqueTopicName("nf-sink-fatal");
  ASSERT_TRUE(testing::CreateTopic(bootstrap_, topic, 3));
  boost::asio::io_context io;
  KafkaSinkOptions options;
  options.brokers = bootstrap_;
  options.topic = topic;
  options.linger_ms = 200;  // some records still queued at the fatal error
  auto sink = KafkaSink::Create(io, options);
  ASSERT_TRUE(sink) << sink.error().ToString();

  constexpr int kArticles = 60;
  std::map<int, DeliveryOutcome> last;
  int reports = 0, retries = 0;
  std::function<void(int)> publish = [&](int i) {
    (*sink)->Publish(MakeArticle(i), SinkDestination{},
                     [&, i](DeliveryReport r) {
                       ++reports;
                       last[i] = r.outcome;
                       if (r.outcome == DeliveryOutcome::kRetry) {
                         ++retries;
                         publish(i);  // offered again, as the next poll does
                       }
                     });
  };
  for (int i = 0; i < kArticles / 2; ++i) publish(i);
  ASSERT_TRUE((*sink)->InjectFatalErrorForTest("injected by the test"));
  for (int i = kArticles / 2; i < kArticles; ++i) publish(i);
  auto all_delivered = [&] {
    if (static_cast<int>(last.size()) < kArticles) return false;
    for (const auto& [i, o] : last) {
      if (o != DeliveryOutcome::kDelivered) return false;
    }
    return true;
  };
  ASSERT_TRUE(RunUntil(io, all_delivered, milliseconds(60000)))
      << "reports=" << reports << " retries=" << retries;
  EXPECT_EQ((*sink)->producer_generation(), 1);
  EXPECT_GT(retries, 0);  // the fatal error did fail records back
  EXPECT_TRUE((*sink)->Close(seconds(5)));

  auto got = testing::ConsumeAll(bootstrap_, topic, kArticles, seconds(30));
  std::set<std::string> keys;
  for (const auto& m : got) keys.insert(m.key);
  EXPECT_EQ(keys.size(), static_cast<size_t>(kArticles));
}

// No broker at all: the record times out and comes back as kRetry, and the
// sink reports itself unhealthy.
TEST(KafkaSinkNoBrokerTest, UnreachableBrokerYieldsRetry) {
  boost::asio::io_context io;
  KafkaSinkOptions options;
  options.brokers = "127.0.0.1:1";  // refused
  options.librdkafka = {{"message.timeout.ms", "1500"}};
  auto sink = KafkaSink::Create(io, options);
  ASSERT_TRUE(sink) << sink.error().ToString();
  std::optional<DeliveryReport> report;
  int calls = 0;
  (*sink)->Publish(MakeArticle(1), SinkDestination{"t", {}},
                   [&](DeliveryReport r) {
                     ++calls;
                     report = std::move(r);
                   });
  ASSERT_TRUE(RunUntil(
      io, [&] { return report.has_value(); }, milliseconds(15000)));
  EXPECT_EQ(report->outcome, DeliveryOutcome::kRetry);
  EXPECT_FALSE(report->error.empty());
  EXPECT_FALSE((*sink)->Health().ok);
  EXPECT_TRUE((*sink)->Close(milliseconds(100)));
  RunUntil(
      io, [] { return false; }, milliseconds(100));
  EXPECT_EQ(calls, 1);
}

// Close() cancels what could not be delivered; each callback gets kRetry,
// posted, and runs when the io_context is polled again.
TEST(KafkaSinkNoBrokerTest, CloseCancelsLeftoversWithRetry) {
  boost::asio::io_context io;
  KafkaSinkOptions options;
  options.brokers = "127.0.0.1:1";
  auto sink = KafkaSink::Create(io, options);
  ASSERT_TRUE(sink) << sink.error().ToString();
  std::vector<DeliveryReport> reports;
  for (int i = 0; i < 3; ++i) {
    (*sink)->Publish(MakeArticle(i), SinkDestination{}, [&](DeliveryReport r) {
      reports.push_back(std::move(r));
    });
  }
  auto closed = (*sink)->Close(milliseconds(200));
  EXPECT_FALSE(closed);
  EXPECT_TRUE(reports.empty());
  RunUntil(
      io, [&] { return reports.size() >= 3; }, milliseconds(5000));
  RunUntil(
      io, [] { return false; }, milliseconds(100));
  ASSERT_EQ(reports.size(), 3u);
  for (const auto& r : reports) EXPECT_EQ(r.outcome, DeliveryOutcome::kRetry);

  // Publishing after Close is answered (kRetry), not lost.
  std::optional<DeliveryReport> late;
  (*sink)->Publish(MakeArticle(7), SinkDestination{},
                   [&](DeliveryReport r) { late = r; });
  RunUntil(
      io, [&] { return late.has_value(); }, milliseconds(1000));
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->outcome, DeliveryOutcome::kRetry);
}

}  // namespace
}  // namespace newsflow
