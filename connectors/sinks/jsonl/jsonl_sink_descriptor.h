#pragma once

// The JSON-lines sink's descriptor (config/sink_registry.h): `sinks:
// [jsonl]`, the top-level `jsonl_path` key (required when enabled), the
// reload table row and the factory. Registered by connectors/builtin.cc.

#include "config/sink_registry.h"
#include "connectors/sinks/jsonl/jsonl_sink_config.h"

namespace newsflow {

// What the descriptor reads from YAML. options.path is "" when
// `jsonl_path` is absent (the sink then cannot be enabled).
struct JsonlSinkSettings final : SinkSettings {
  JsonlSinkOptions options{.path = ""};

  std::vector<std::string> ChangedPaths(
      const SinkSettings& other) const override;
};

SinkDescriptor JsonlSinkDescriptor();

}  // namespace newsflow
