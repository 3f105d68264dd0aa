#include "connectors/sinks/kafka/kafka_sink_descriptor.h"

#include <cctype>

#include "config/yaml_fields.h"
#include "connectors/sinks/kafka/kafka_cluster.h"
#include "connectors/sinks/kafka/kafka_sink.h"
#include "connectors/sinks/kafka/kafka_transactions.h"

namespace newsflow {
namespace {

using yaml_fields::Field;

// librdkafka properties that would turn "seen after the broker acknowledged
// it" into "seen when sent" (acks below all) or allow duplicates and
// reordering on retry (no idempotence): refused with FILE:LINE:COL, since
// every delivery guarantee of newsflow rests on them. The problem, or
// nullopt.
std::optional<std::string> WeakensDelivery(const std::string& key,
                                           const std::string& value) {
  std::string v;
  for (char c : value) v += static_cast<char>(std::tolower(c));
  if ((key == "acks" || key == "request.required.acks") && v != "all" &&
      v != "-1") {
    return "acks=" + value +
           " would mark articles delivered before every in-sync replica has "
           "them (newsflow requires acks=all; see the kafka sink README)";
  }
  if (key == "enable.idempotence" && v != "true") {
    return "enable.idempotence=" + value +
           " would let retries duplicate or reorder articles of one key "
           "(newsflow requires it; see the kafka sink README)";
  }
  return std::nullopt;
}

std::optional<std::string> CheckNonEmpty(const std::string& s) {
  if (s.empty()) return "must not be empty";
  return std::nullopt;
}

// The `kafka:` section's fields, reading into `*o`. Also the list of keys
// known_paths() reports, so the reload table test sees what parse accepts
// (the per-feed `topic` the loader reports itself, from feed_keys).
std::vector<Field> KafkaFields(const yaml_fields::Source& src,
                               KafkaSinkOptions* o) {
  return {
      yaml_fields::StringField(src, "brokers", &o->brokers, CheckNonEmpty),
      yaml_fields::StringField(src, "topic", &o->topic, CheckKafkaTopic),
      Field{"librdkafka",
            [&src, o](const YAML::Node& n,
                      const std::string& path) -> Result<void> {
              auto m = yaml_fields::ReadStringMap(src, n, path);
              if (!m) return m.error();
              for (auto& [key, value] : *m) {
                if (auto bad = WeakensDelivery(key, value)) {
                  return src.ErrorAt(n[key], path + "." + key + ": " + *bad);
                }
                o->librdkafka[key] = value;
              }
              return {};
            }},
      Field{"topics_by_category",
            [&src, o](const YAML::Node& n,
                      const std::string& path) -> Result<void> {
              auto m = yaml_fields::ReadStringMap(src, n, path);
              if (!m) return m.error();
              for (auto& [category, topic] : *m) {
                if (auto bad = CheckKafkaTopic(topic)) {
                  return src.ErrorAt(n, path + "." + category + ": " + *bad);
                }
                o->topics_by_category[category] = topic;
              }
              return {};
            }},
      yaml_fields::StringField(
          src, "events_topic", &o->events_topic,
          [](const std::string& t) -> std::optional<std::string> {
            return t.empty() ? std::nullopt : CheckKafkaTopic(t);
          }),
      yaml_fields::StringField(
          src, "dead_letter_topic", &o->dead_letter_topic,
          [](const std::string& t) -> std::optional<std::string> {
            return t.empty() ? std::nullopt : CheckKafkaTopic(t);
          }),
  };
}

Result<std::shared_ptr<const SinkSettings>> Parse(
    const yaml_fields::SinkYaml& yaml) {
  auto settings = std::make_shared<KafkaSinkSettings>();
  if (auto r = yaml_fields::ReadMap(yaml.src, yaml.Get("kafka"), "kafka",
                                    KafkaFields(yaml.src, &settings->options));
      !r) {
    return r.error();
  }
  return std::shared_ptr<const SinkSettings>(std::move(settings));
}

Result<std::unique_ptr<Sink>> Create(boost::asio::io_context& io,
                                     const SinkSettings& settings) {
  auto sink = KafkaSink::Create(
      io, static_cast<const KafkaSinkSettings&>(settings).options);
  if (!sink) return sink.error();
  return std::unique_ptr<Sink>(std::move(*sink));
}

// Cluster mode (issue 15): the cluster and the sink bound to it. With
// exactly_once the sink is transactional and shares the cluster's
// transactions (transactional.id = <group>.<instance>); otherwise it is
// the ordinary idempotent sink.
Result<ClusterParts> CreateCluster(boost::asio::io_context& io,
                                   const SinkSettings& settings,
                                   const ClusterOptions& options) {
  const KafkaSinkOptions& sink_options =
      static_cast<const KafkaSinkSettings&>(settings).options;
  std::shared_ptr<KafkaTransactions> transactions;
  ClusterParts parts;
  if (options.exactly_once) {
    KafkaTransactionsOptions t;
    t.sink = sink_options;
    t.transactional_id = options.group + "." + KafkaClusterInstance(options);
    t.transaction_timeout = options.session_timeout;
    t.commit_interval = options.commit_interval;
    auto created = KafkaTransactions::Create(io, std::move(t));
    if (!created) return created.error();
    transactions = *created;
    auto sink = KafkaSink::CreateTransactional(io, sink_options, transactions);
    if (!sink) return sink.error();
    parts.sink = std::move(*sink);
  } else {
    auto sink = KafkaSink::Create(io, sink_options);
    if (!sink) return sink.error();
    parts.sink = std::move(*sink);
  }
  auto cluster =
      KafkaCluster::Create(io, sink_options, options, std::move(transactions));
  if (!cluster) return cluster.error();
  parts.cluster = std::move(*cluster);
  return parts;
}

Result<ClusterDescription> DescribeCluster(const SinkSettings& settings,
                                           const ClusterOptions& options,
                                           std::chrono::milliseconds timeout) {
  return DescribeKafkaCluster(
      static_cast<const KafkaSinkSettings&>(settings).options, options,
      timeout);
}

std::vector<std::string> KnownPaths() {
  yaml_fields::Source src("(field tables)");
  KafkaSinkOptions options;
  std::vector<std::string> out;
  for (const Field& f : KafkaFields(src, &options)) {
    out.push_back("kafka." + std::string(f.key));
  }
  return out;
}

}  // namespace

std::vector<std::string> KafkaSinkSettings::ChangedPaths(
    const SinkSettings& other) const {
  const auto& o = static_cast<const KafkaSinkSettings&>(other).options;
  std::vector<std::string> out;
  if (o.brokers != options.brokers) out.push_back("kafka.brokers");
  if (o.topic != options.topic) out.push_back("kafka.topic");
  if (o.librdkafka != options.librdkafka) out.push_back("kafka.librdkafka");
  if (o.topics_by_category != options.topics_by_category) {
    out.push_back("kafka.topics_by_category");
  }
  if (o.events_topic != options.events_topic) {
    out.push_back("kafka.events_topic");
  }
  if (o.dead_letter_topic != options.dead_letter_topic) {
    out.push_back("kafka.dead_letter_topic");
  }
  // A field added above without a line here still counts as a change.
  if (out.empty() && !(o == options)) out.push_back("kafka");
  return out;
}

SinkDescriptor KafkaSinkDescriptor() {
  constexpr ReloadClass kRestart = ReloadClass::kRestart;
  SinkDescriptor d;
  d.type = "kafka";
  d.keys = {"kafka"};
  d.feed_keys = {"topic"};
  d.check_feed_value = [](std::string_view, const std::string& value) {
    return CheckKafkaTopic(value);
  };
  d.parse = Parse;
  d.create = Create;
  d.create_cluster = CreateCluster;
  d.describe_cluster = DescribeCluster;
  d.fields = {
      {"kafka.brokers", kRestart, "127.0.0.1:9092",
       "bootstrap servers, comma-separated"},
      {"kafka.topic", kRestart, "news.articles.v1", "default article topic"},
      {"kafka.librdkafka", kRestart, "{}",
       "librdkafka properties, applied last (override ours)"},
      {"kafka.topics_by_category", kRestart, "{}",
       "category -> topic for feeds without their own topic"},
      {"kafka.events_topic", kRestart, "",
       "topic for feed-level events; empty = not published"},
      {"kafka.dead_letter_topic", kRestart, "",
       "topic for articles Kafka rejects for good; empty = dropped, logged"},
      {"feeds[].topic", ReloadClass::kFeedRestart, "",
       "the feed's own Kafka topic; empty = by category, else kafka.topic"},
  };
  d.known_paths = KnownPaths;
  return d;
}

}  // namespace newsflow
