#include "connectors/builtin.h"

#include "config/config.h"
#include "connectors/sinks/jsonl/jsonl_sink.h"
#include "connectors/sinks/kafka/kafka_sink.h"

namespace newsflow {
namespace {

// The daemon's YAML (config/) is the one schema operators write; these map
// its sections onto each connector's own options struct.

Result<std::unique_ptr<Sink>> MakeKafkaSink(const SinkFactoryContext& ctx) {
  KafkaSinkOptions options;
  options.brokers = ctx.config.kafka.brokers;
  options.topic = ctx.config.kafka.topic;
  options.librdkafka = ctx.config.kafka.librdkafka;
  auto sink = KafkaSink::Create(ctx.io, std::move(options));
  if (!sink) return sink.error();
  return std::unique_ptr<Sink>(std::move(*sink));
}

Result<std::unique_ptr<Sink>> MakeJsonlSink(const SinkFactoryContext& ctx) {
  JsonlSinkOptions options;
  options.path = ctx.config.jsonl_path;
  auto sink = JsonlSink::Create(ctx.io, std::move(options));
  if (!sink) return sink.error();
  return std::unique_ptr<Sink>(std::move(*sink));
}

}  // namespace

void RegisterBuiltinConnectors(SinkRegistry& sinks) {
  sinks.Add("kafka", MakeKafkaSink);
  sinks.Add("jsonl", MakeJsonlSink);
}

}  // namespace newsflow
