#include "connectors/builtin.h"

#include "connectors/sinks/jsonl/jsonl_sink_descriptor.h"
#include "connectors/sinks/kafka/kafka_sink_descriptor.h"

namespace newsflow {

void RegisterBuiltinConnectors(SinkRegistry& sinks) {
  // The first one is the default when `sinks:` is absent.
  sinks.Add(KafkaSinkDescriptor());
  sinks.Add(JsonlSinkDescriptor());
}

const SinkRegistry& BuiltinSinks() {
  static const SinkRegistry* const registry = [] {
    auto* r = new SinkRegistry;
    RegisterBuiltinConnectors(*r);
    return r;
  }();
  return *registry;
}

}  // namespace newsflow
