// The Kafka sink's descriptor and routing (unit, no broker): the `kafka:`
// section and per-feed `topic` are read by the sink (same FILE:LINE:COL
// and unknown-key rules as the rest of the config), routing picks the
// topic, settings report what changed, events need a topic, and health is
// not ok before any broker answered.

#include "connectors/sinks/kafka/kafka_sink_descriptor.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "config/config.h"
#include "connectors/builtin.h"
#include "connectors/sinks/kafka/kafka_feed_events.h"
#include "connectors/sinks/kafka/kafka_sink.h"

namespace newsflow {
namespace {

Result<DaemonConfig> Load(std::string_view yaml) {
  return LoadConfigString(yaml, "k.yaml", BuiltinSinks());
}

const KafkaSinkOptions& Options(const DaemonConfig& cfg) {
  return static_cast<const KafkaSinkSettings&>(cfg.SinkSettingsFor("kafka"))
      .options;
}

Article WithCategories(std::vector<std::string> categories) {
  Article a;
  a.id = "a";
  a.feed.id = "f";
  a.categories = std::move(categories);
  return a;
}

TEST(KafkaSinkDescriptorTest, ReadsItsSectionAndFeedTopics) {
  auto cfg = Load(
      "kafka:\n"
      "  brokers: \"b1:9092,b2:9092\"\n"
      "  topic: news.all\n"
      "  librdkafka: {linger.ms: \"5\"}\n"
      "  topics_by_category: {Sports: news.sports}\n"
      "  events_topic: news.events\n"
      "defaults: {topic: news.default}\n"
      "feeds:\n"
      "  - {name: a, url: \"http://a/\"}\n"
      "  - {name: b, url: \"http://b/\", topic: news.b}\n");
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  const KafkaSinkOptions& o = Options(*cfg);
  EXPECT_EQ(o.brokers, "b1:9092,b2:9092");
  EXPECT_EQ(o.topic, "news.all");
  EXPECT_EQ(o.librdkafka.at("linger.ms"), "5");
  EXPECT_EQ(o.topics_by_category.at("Sports"), "news.sports");
  EXPECT_EQ(o.events_topic, "news.events");
  EXPECT_EQ(cfg->feeds[0].sink_options.at("topic"), "news.default");
  EXPECT_EQ(cfg->feeds[1].sink_options.at("topic"), "news.b");
}

TEST(KafkaSinkDescriptorTest, ErrorsKeepTheLoadersShape) {
  auto bad_key = Load("kafka:\n  brokers: x\n  topik: y\n");
  ASSERT_FALSE(bad_key);
  EXPECT_EQ(bad_key.error().ToString(),
            "k.yaml:3:3: unknown key \"topik\" in kafka (did you mean "
            "\"topic\"?)");
  auto bad_feed_topic =
      Load("feeds:\n  - {name: a, url: \"http://a/\", topic: \"a/b\"}\n");
  ASSERT_FALSE(bad_feed_topic);
  EXPECT_EQ(bad_feed_topic.error().ToString(),
            "k.yaml:2:40: feeds[0].topic: invalid Kafka topic \"a/b\" (use "
            "1-249 of A-Z a-z 0-9 . _ -)");
  auto bad_category = Load("kafka:\n  topics_by_category: {S: \"x y\"}\n");
  ASSERT_FALSE(bad_category);
  EXPECT_NE(bad_category.error().ToString().find(
                "kafka.topics_by_category.S: invalid Kafka topic"),
            std::string::npos)
      << bad_category.error().ToString();
}

// Hostile configuration (issue 11 item 11): pass-through properties that
// would silently break "seen only after the broker acknowledged it" are
// refused where they are written.
TEST(KafkaSinkDescriptorTest, RefusesPropertiesThatBreakTheGuarantee) {
  struct Case {
    const char* yaml;
    const char* where;
  };
  for (const Case& c : {
           Case{"kafka:\n  librdkafka: {acks: \"0\"}\n", "k.yaml:2:22: "},
           Case{"kafka:\n  librdkafka:\n    acks: \"1\"\n", "k.yaml:3:11: "},
           Case{"kafka:\n  librdkafka:\n    request.required.acks: \"0\"\n",
                "k.yaml:3:28: "},
           Case{"kafka:\n  librdkafka:\n    enable.idempotence: \"false\"\n",
                "k.yaml:3:25: "},
       }) {
    auto cfg = Load(c.yaml);
    ASSERT_FALSE(cfg) << c.yaml;
    EXPECT_EQ(cfg.error().ToString().rfind(c.where, 0), 0u)
        << cfg.error().ToString();
    EXPECT_NE(cfg.error().ToString().find("kafka.librdkafka."),
              std::string::npos);
  }
  // The safe spellings load.
  for (const char* ok :
       {"kafka:\n  librdkafka: {acks: all}\n",
        "kafka:\n  librdkafka: {acks: \"-1\"}\n",
        "kafka:\n  librdkafka: {enable.idempotence: \"true\"}\n"}) {
    auto cfg = Load(ok);
    EXPECT_TRUE(cfg) << cfg.error().ToString();
  }
}

TEST(KafkaSinkDescriptorTest, RoutesByFeedTopicThenCategoryThenDefault) {
  KafkaSinkOptions o;
  o.topic = "news.all";
  o.topics_by_category = {{"Sports", "news.sports"}, {"Business", "news.biz"}};
  EXPECT_EQ(KafkaTopicFor(o, WithCategories({"Local", "Sports"}), {}),
            "news.sports");
  EXPECT_EQ(KafkaTopicFor(o, WithCategories({"World"}), {}), "news.all");
  EXPECT_EQ(
      KafkaTopicFor(o, WithCategories({"Sports"}), {{"topic", "feed.own"}}),
      "feed.own");
  EXPECT_EQ(KafkaTopicFor(o, WithCategories({"Business", "Sports"}), {}),
            "news.biz");  // the article's first matching category
}

TEST(KafkaSinkDescriptorTest, SettingsReportWhatChanged) {
  auto a = Load("kafka: {brokers: \"a:1\"}\n");
  auto b = Load("kafka: {brokers: \"b:1\", events_topic: ev}\n");
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->SinkSettingsFor("kafka")
                  .ChangedPaths(a->SinkSettingsFor("kafka"))
                  .empty());
  EXPECT_EQ(
      a->SinkSettingsFor("kafka").ChangedPaths(b->SinkSettingsFor("kafka")),
      (std::vector<std::string>{"kafka.brokers", "kafka.events_topic"}));
}

TEST(KafkaSinkDescriptorTest, EventStreamNeedsATopic) {
  boost::asio::io_context io;
  auto events = KafkaFeedEvents::Create(io, KafkaSinkOptions{});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code(), Errc::kConfig);
}

TEST(KafkaSinkDescriptorTest, NotHealthyBeforeABrokerAnswered) {
  boost::asio::io_context io;
  KafkaSinkOptions o;
  o.brokers = "127.0.0.1:1";  // nothing listens
  auto sink = KafkaSink::Create(io, o);
  ASSERT_TRUE(sink) << sink.error().ToString();
  const SinkHealth health = (*sink)->Health();
  EXPECT_FALSE(health.ok);
  EXPECT_NE(health.problem.find("Kafka unreachable"), std::string::npos)
      << health.problem;
  (void)(*sink)->Close(std::chrono::milliseconds(0));
}

// Cluster mode (issue 15): the Kafka sink can carry a cluster, and
// `cluster status` against a broker that does not answer is an error
// within the timeout, not a hang.
TEST(KafkaSinkDescriptorTest, CarriesAClusterAndDescribeFailsWithoutABroker) {
  const SinkDescriptor d = KafkaSinkDescriptor();
  ASSERT_TRUE(d.create_cluster);
  ASSERT_TRUE(d.describe_cluster);
  KafkaSinkSettings settings;
  settings.options.brokers = "127.0.0.1:1";  // nothing listens there
  ClusterOptions options;
  options.group = "g";
  const auto start = std::chrono::steady_clock::now();
  auto described =
      d.describe_cluster(settings, options, std::chrono::milliseconds(1000));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_FALSE(described);
  EXPECT_EQ(described.error().code(), Errc::kSink)
      << described.error().ToString();

  // create_cluster makes both parts without waiting for a broker.
  boost::asio::io_context io;
  options.exactly_once = true;
  options.instance = "i1";
  auto parts = d.create_cluster(io, settings, options);
  ASSERT_TRUE(parts) << parts.error().ToString();
  ASSERT_NE(parts->cluster, nullptr);
  ASSERT_NE(parts->sink, nullptr);
  EXPECT_EQ(parts->sink->Name(), "sink.kafka");
  EXPECT_EQ(parts->cluster->Status().instance, "i1");
  EXPECT_TRUE(parts->cluster->Status().partitions.empty());
}

}  // namespace
}  // namespace newsflow
