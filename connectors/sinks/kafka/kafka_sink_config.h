#pragma once

// Options of the Kafka sink and the librdkafka producer configuration built
// from them. Pure configuration: no I/O, usable without a broker.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "daemon/core/error.h"
#include "daemon/core/sink.h"

// librdkafka's opaque configuration handle (from <librdkafka/rdkafka.h>).
typedef struct rd_kafka_conf_s rd_kafka_conf_t;

namespace spdlog {
class logger;
}  // namespace spdlog

namespace newsflow {

struct KafkaSinkOptions {
  // Comma-separated bootstrap servers (librdkafka "bootstrap.servers").
  std::string brokers = "127.0.0.1:9092";
  // Default topic for articles (YAML kafka.topic).
  std::string topic = "news.articles.v1";
  // Article category (exact, case-sensitive) -> topic, for feeds without
  // their own `topic`; the first of an article's categories that matches
  // wins (YAML kafka.topics_by_category).
  std::map<std::string, std::string> topics_by_category;
  // Topic for feed-level events (Sink::PublishEvent); "" = not published
  // (YAML kafka.events_topic).
  std::string events_topic;
  // Topic for articles Kafka rejects for good (too large even trimmed,
  // invalid or unknown topic, authorization); "" = none: they are dropped
  // and logged, as before (YAML kafka.dead_letter_topic). See README.md.
  std::string dead_letter_topic;
  // Client id shown in broker logs and quotas ("client.id").
  std::string client_id = "newsflowd";
  // How long librdkafka batches before sending ("linger.ms"). 50 rather than
  // librdkafka's 5: articles trickle in, a few ms of extra latency is
  // irrelevant for news, and bigger batches compress far better.
  int linger_ms = 50;
  // "compression.type": zstd suits repetitive JSON/HTML best per CPU cycle.
  std::string compression = "zstd";
  // "message.timeout.ms": how long librdkafka keeps retrying one message
  // before reporting it (then kRetry); librdkafka's default, 5 minutes.
  int message_timeout_ms = 300000;
  // Largest record value we hand to librdkafka. A bigger article is trimmed
  // (content_html emptied, then content_text cut at a UTF-8 boundary) and
  // flagged "truncated": true instead of being rejected. 0 = derive it from
  // librdkafka "message.max.bytes" (default 1000000) minus 4 KiB for the key,
  // headers and record overhead. Keep it below the topic's max.message.bytes.
  size_t max_message_bytes = 0;
  // Raw librdkafka properties, applied LAST so they override everything
  // above and our fixed defaults (e.g. {"message.max.bytes", "4000000"}).
  std::map<std::string, std::string> librdkafka;

  bool operator==(const KafkaSinkOptions&) const = default;
};

// The Kafka sink's routing (KafkaSink::Route): the feed's own "topic"
// option, else the topic of the article's first category found in
// options.topics_by_category, else options.topic.
std::string KafkaTopicFor(const KafkaSinkOptions& options,
                          const Article& article, const FeedSinkOptions& feed);

// Kafka's topic name rule (kafka.common.internals.Topic): 1-249 of
// [A-Za-z0-9._-], not "." or "..". The problem, or nullopt.
std::optional<std::string> CheckKafkaTopic(const std::string& topic);

// One line of librdkafka's own log (a log_cb; any of its threads) into
// `logger`, syslog level 0..7 mapped to spdlog's: <= 3 err, 4 warn,
// 5-6 info, 7 debug. spdlog loggers are thread-safe.
void LogLibrdkafkaLine(spdlog::logger& logger, int level, const char* fac,
                       const char* buf);

// Frees a configuration that was not handed to rd_kafka_new().
struct RdKafkaConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const;
};
using RdKafkaConfPtr = std::unique_ptr<rd_kafka_conf_t, RdKafkaConfDeleter>;

// Builds the producer configuration: bootstrap.servers, client.id, then our
// defaults (enable.idempotence=true, acks=all, partitioner=murmur2_random,
// linger.ms, compression.type, message.timeout.ms), then options.librdkafka.
// Fails with Errc::kConfig naming the offending key when librdkafka rejects
// a property or value. Cross-property conflicts (e.g. acks=1 with
// idempotence) are only detected by rd_kafka_new(), i.e. KafkaSink::Create().
Result<RdKafkaConfPtr> BuildProducerConf(const KafkaSinkOptions& options);

}  // namespace newsflow

namespace newsflow {

// The effective value limit: options.max_message_bytes, else librdkafka's
// "message.max.bytes" (from options.librdkafka, default 1000000) - 4096.
size_t EffectiveMaxMessageBytes(const KafkaSinkOptions& options);

}  // namespace newsflow
