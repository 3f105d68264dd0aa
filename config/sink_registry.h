#pragma once

// SinkRegistry: the sink types compiled into this binary, each described by
// a SinkDescriptor — its name in `sinks:`, the YAML keys it owns and how to
// read them, the per-feed keys it owns, its reload table rows and its
// factory. The config loader asks the registry for the sink-owned parts of
// the schema; the daemon asks it for the sinks. Filled by one explicit call,
// RegisterBuiltinConnectors() in connectors/builtin.cc — no self-registering
// static objects (dropped when linked from static libraries, no defined
// initialisation order). A sink's health check is its Sink::Health().

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/reload_table.h"
#include "daemon/core/cluster.h"
#include "daemon/core/error.h"
#include "daemon/core/sink.h"

namespace boost::asio {
class io_context;
}

namespace newsflow {

namespace yaml_fields {
struct SinkYaml;  // config/yaml_fields.h
}

// One sink type's settings, read from YAML by its descriptor. Immutable once
// loaded (configs share them).
class SinkSettings {
 public:
  SinkSettings() = default;
  SinkSettings(const SinkSettings&) = delete;
  SinkSettings& operator=(const SinkSettings&) = delete;
  virtual ~SinkSettings() = default;

  // Dotted paths of the fields that differ in `other` (same sink type),
  // e.g. {"jsonl_path"}; empty when equal. A reload reports them with
  // their class from the reload table.
  virtual std::vector<std::string> ChangedPaths(
      const SinkSettings& other) const = 0;
};

struct SinkDescriptor {
  // The name in `sinks:` ("jsonl").
  std::string type;
  // Top-level YAML keys the sink reads ("jsonl_path"); unique across sinks
  // and the loader's own keys.
  std::vector<std::string> keys;
  // Per-feed string keys the sink reads (in feeds[] and defaults:), kept in
  // FeedConfig::sink_options and handed to Sink::Route().
  std::vector<std::string> feed_keys;
  // Checks one per-feed value; the problem, or nullopt. Empty: any string.
  std::function<std::optional<std::string>(std::string_view key,
                                           const std::string& value)>
      check_feed_value;
  // Reads the values of `keys` (absent keys are null nodes) with the
  // loader's rules (yaml_fields::ReadMap: FILE:LINE:COL, unknown keys).
  std::function<Result<std::shared_ptr<const SinkSettings>>(
      const yaml_fields::SinkYaml& yaml)>
      parse;
  // When the sink is listed in `sinks:`: what its settings lack ("needs
  // jsonl_path ..."), or nullopt. Empty: nothing to check.
  std::function<std::optional<std::string>(const SinkSettings&)> check_enabled;
  // Creates the sink from `settings` (made by `parse`). The io_context
  // outlives the sink.
  std::function<Result<std::unique_ptr<Sink>>(boost::asio::io_context& io,
                                              const SinkSettings& settings)>
      create;
  // Cluster mode (issue 15, daemon/core/cluster.h): creates the cluster
  // and the sink bound to it from this sink's `settings`. Empty: the sink
  // type cannot carry a cluster (the loader refuses `cluster:` with it).
  std::function<Result<ClusterParts>(boost::asio::io_context& io,
                                     const SinkSettings& settings,
                                     const ClusterOptions& options)>
      create_cluster;
  // `newsflowd cluster status`: the group as its coordinator describes it,
  // waiting up to `timeout`. Empty exactly when create_cluster is.
  std::function<Result<ClusterDescription>(const SinkSettings& settings,
                                           const ClusterOptions& options,
                                           std::chrono::milliseconds timeout)>
      describe_cluster;
  // Reload table rows of every path under `keys` and of `feed_keys`
  // (config/reload_table.h), in the order the docs list them.
  std::vector<ConfigField> fields;
  // Every dotted path `parse` accepts (what the reload table test checks
  // against `fields`); e.g. {"jsonl_path"}.
  std::function<std::vector<std::string>()> known_paths;
};

class SinkRegistry {
 public:
  SinkRegistry() = default;
  SinkRegistry(const SinkRegistry&) = delete;
  SinkRegistry& operator=(const SinkRegistry&) = delete;

  // REQUIRES: the type, its keys and feed keys are not registered yet.
  void Add(SinkDescriptor descriptor);

  // nullptr for an unknown type.
  const SinkDescriptor* Find(std::string_view type) const;

  // Registration order; the first one is the sink used when `sinks:` is
  // absent.
  const std::vector<SinkDescriptor>& descriptors() const {
    return descriptors_;
  }

 private:
  std::vector<SinkDescriptor> descriptors_;
};

}  // namespace newsflow
