#include "connectors/sinks/kafka/kafka_sink_config.h"

#include <librdkafka/rdkafka.h>

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

}  // namespace newsflow
