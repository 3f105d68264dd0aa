#pragma once

#include "daemon/core/sink_registry.h"

namespace newsflow {

// Registers every connector compiled into this binary. Adding a sink is its
// folder under connectors/sinks/ plus one line in builtin.cc.
void RegisterBuiltinConnectors(SinkRegistry& sinks);

}  // namespace newsflow
