#pragma once

// MetricsServer: the daemon's HTTP endpoint for operators (Boost.Beast,
// HTTP/1.1, one coroutine per connection on the daemon's io_context).
//
//   GET /metrics  Prometheus text format 0.0.4 of a MetricsRegistry
//                 (`collect` runs first so that scrape-time gauges are fresh)
//   GET /healthz  200 "ok" while the process and its event loop answer
//                 (the handler runs on the loop) and `live` says so; else 503
//   GET /readyz   200 "ready" when `ready` returns no problem; 503 with the
//                 problem as the body otherwise
//   anything else 404 (405 for methods other than GET/HEAD)
//
// Threading: Start(), Stop() and every probe run on the io_context thread.
// Beast stays out of this header (compile time): it is included only by
// metrics_server.cc.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "daemon/core/error.h"

namespace boost::asio {
class io_context;
}

namespace newsflow {

class MetricsRegistry;

struct MetricsServerProbes {
  // Refreshes scrape-time gauges before /metrics renders. Optional.
  std::function<void()> collect;
  // Extra Prometheus text appended to /metrics (series whose set changes
  // with the config, e.g. per-feed health, rendered fresh each scrape so a
  // removed feed's series disappear). Optional.
  std::function<std::string()> extra;
  // Liveness beyond "the loop runs": false makes /healthz answer 503.
  // Optional (unset = always live).
  std::function<bool()> live;
  // Readiness: nullopt = ready, else the reason it is not (503 body).
  // Optional (unset = always ready).
  std::function<std::optional<std::string>()> ready;
};

class MetricsServer {
 public:
  // Binds `listen` ("host:port", "[v6]:port"; port 0 = ephemeral) and starts
  // accepting. `registry` must outlive the server. Fails with kIo when the
  // address cannot be resolved or bound, kConfig when it is malformed.
  static Result<std::unique_ptr<MetricsServer>> Start(
      boost::asio::io_context& io, const std::string& listen,
      MetricsRegistry& registry, MetricsServerProbes probes);

  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The bound port (useful with port 0).
  uint16_t port() const;

  // Stops accepting and closes open connections; idempotent. Pending
  // coroutines finish on the io_context's next run.
  void Stop();

  struct State;  // implementation detail (metrics_server.cc)

 private:
  explicit MetricsServer(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace newsflow
