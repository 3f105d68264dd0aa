#pragma once

// The Kafka sink's descriptor (config/sink_registry.h): `sinks: [kafka]`,
// the `kafka:` section, the per-feed `topic` key, the reload table rows and
// the factory. Registered by connectors/builtin.cc.

#include "config/sink_registry.h"
#include "connectors/sinks/kafka/kafka_sink_config.h"

namespace newsflow {

// What the descriptor reads from YAML: the sink's options.
struct KafkaSinkSettings final : SinkSettings {
  KafkaSinkOptions options;

  std::vector<std::string> ChangedPaths(
      const SinkSettings& other) const override;
};

SinkDescriptor KafkaSinkDescriptor();

}  // namespace newsflow
