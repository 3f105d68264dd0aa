#include "connectors/sinks/kafka/kafka_sink_config.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <string>
#include <utility>
#include <vector>

namespace newsflow {

void RdKafkaConfDeleter::operator()(rd_kafka_conf_t* conf) const {
  if (conf != nullptr) rd_kafka_conf_destroy(conf);
}

namespace {

Result<void> Set(rd_kafka_conf_t* conf, const std::string& key,
                 const std::string& value) {
  char errstr[512] = "";
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr,
                        sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    return Error::Config("librdkafka property '" + key + "': " + errstr,
                         "kafka.librdkafka." + key);
  }
  return {};
}

}  // namespace

Result<RdKafkaConfPtr> BuildProducerConf(const KafkaSinkOptions& options) {
  RdKafkaConfPtr conf(rd_kafka_conf_new());
  const std::vector<std::pair<std::string, std::string>> ours = {
      {"bootstrap.servers", options.brokers},
      {"client.id", options.client_id},
      // No duplicates on retry and per-partition order kept: the state store
      // marks an article seen only after delivery, so retries are routine.
      {"enable.idempotence", "true"},
      {"acks", "all"},
      // Same key -> same partition as Java clients, Streams and Connect
      // (librdkafka's default hashes with CRC32).
      {"partitioner", "murmur2_random"},
      {"linger.ms", std::to_string(options.linger_ms)},
      {"compression.type", options.compression},
      {"message.timeout.ms", std::to_string(options.message_timeout_ms)},
  };
  for (const auto& [key, value] : ours) {
    if (auto r = Set(conf.get(), key, value); !r) return r.error();
  }
  for (const auto& [key, value] : options.librdkafka) {
    if (auto r = Set(conf.get(), key, value); !r) return r.error();
  }
  return conf;
}

std::string KafkaTopicFor(const KafkaSinkOptions& options,
                          const Article& article, const FeedSinkOptions& feed) {
  if (auto it = feed.find("topic"); it != feed.end() && !it->second.empty()) {
    return it->second;
  }
  for (const std::string& category : article.categories) {
    if (auto it = options.topics_by_category.find(category);
        it != options.topics_by_category.end()) {
      return it->second;
    }
  }
  return options.topic;
}

std::optional<std::string> CheckKafkaTopic(const std::string& topic) {
  bool ok =
      !topic.empty() && topic.size() <= 249 && topic != "." && topic != "..";
  for (char c : topic) {
    ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
  }
  if (ok) return std::nullopt;
  return "invalid Kafka topic \"" + topic +
         "\" (use 1-249 of A-Z a-z 0-9 . _ -)";
}

size_t EffectiveMaxMessageBytes(const KafkaSinkOptions& options) {
  if (options.max_message_bytes > 0) return options.max_message_bytes;
  size_t limit = 1000000;  // librdkafka's default message.max.bytes
  if (auto it = options.librdkafka.find("message.max.bytes");
      it != options.librdkafka.end()) {
    try {
      limit = std::stoul(it->second);
    } catch (const std::exception&) {
      // rd_kafka_conf_set() rejects it with a proper error; keep the default.
    }
  }
  // Key (32 bytes), ~10 headers and the record/batch framing fit in 4 KiB.
  constexpr size_t kOverhead = 4096;
  return limit > 2 * kOverhead ? limit - kOverhead : limit / 2;
}

void LogLibrdkafkaLine(spdlog::logger& logger, int level, const char* fac,
                       const char* buf) {
  auto spd = level <= 3   ? spdlog::level::err
             : level <= 4 ? spdlog::level::warn
             : level <= 6 ? spdlog::level::info
                          : spdlog::level::debug;
  logger.log(spd, "librdkafka {}: {}", fac, buf);
}

}  // namespace newsflow
