#pragma once

#include "config/sink_registry.h"

namespace newsflow {

// Registers every connector compiled into this binary. Adding a sink is its
// folder under connectors/sinks/ (with its descriptor) plus one line in
// builtin.cc and its keys in config/newsflow.example.yaml.
void RegisterBuiltinConnectors(SinkRegistry& sinks);

// A registry filled by RegisterBuiltinConnectors() once (thread-safe
// initialisation); what LoadConfigFile() and the daemon are given.
const SinkRegistry& BuiltinSinks();

}  // namespace newsflow
