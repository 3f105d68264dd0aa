#pragma once

// Daemon: the `newsflowd run` process. Owns the io_context (one thread),
// the HTTP client, the state store, the sinks and one FeedPoller per feed.
//
// Signals: SIGTERM/SIGINT drain (stop polling, wait up to
// pipeline.drain_timeout for in-flight articles to be acknowledged, exit 0);
// SIGHUP reloads the config file (added feeds start, removed feeds stop,
// changed feeds restart; a bad file is rejected and the old config keeps
// running). Talks to systemd through sd_notify when started by it.

#include <memory>
#include <string>

namespace newsflow {

class SinkRegistry;

struct DaemonOptions {
  // YAML config file; loaded at start and on SIGHUP.
  std::string config_path = "/etc/newsflow/newsflow.yaml";
  // Poll every feed once, drain, exit (cron jobs, tests, debugging).
  bool once = false;
  // The sink types; null = the built-in ones (connectors/builtin.h). Tests
  // pass their own (e.g. one that can carry a fake cluster). Must outlive
  // Run().
  const SinkRegistry* sinks = nullptr;
};

class Daemon {
 public:
  explicit Daemon(DaemonOptions options);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs until a shutdown signal (or, with `once`, until every feed was
  // polled once). Returns the process exit code: 0 after a clean drain,
  // 1 when the config or a start-up dependency is bad, or (once) when a
  // feed failed.
  int Run();

 private:
  class Impl;
  DaemonOptions options_;
};

}  // namespace newsflow
