// Readiness, liveness and what operators see: READY=1 after the sink's
// health check (Sink::Health), STATUS=, /metrics, /healthz, /readyz.

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <cstdio>

#include "daemon/core/metrics.h"
#include "daemon/runtime/daemon_impl.h"
#include "daemon/runtime/runtime_metrics.h"
#include "daemon/runtime/systemd_notify.h"

namespace newsflow {

Result<void> Daemon::Impl::StartMetricsServer() {
  if (config_.metrics.listen.empty()) return {};
  MetricsServerProbes probes;
  probes.collect = [this] { CollectMetrics(); };
  probes.extra = [this] { return RenderFeedHealth() + RenderProcessMetrics(); };
  probes.live = [this] {
    // Heartbeat() ticks every second on this loop; a stale tick means a
    // coroutine hogs the thread.
    return stopping_ || std::chrono::steady_clock::now() - last_heartbeat_ <
                            std::chrono::seconds(10);
  };
  probes.ready = [this] { return NotReadyReason(); };
  auto server =
      MetricsServer::Start(io_, config_.metrics.listen,
                           MetricsRegistry::Global(), std::move(probes));
  if (!server) return server.error();
  metrics_server_ = std::move(*server);
  return {};
}

// READY=1 means "the sink is connected": the sink's own health check
// (Sink::Health) passes. After kReadyProbeTimeout READY=1 is sent anyway,
// with a STATUS= naming the sink's problem: the pipeline retries
// deliveries, and a unit stuck in "activating" would only make systemd kill
// a daemon that recovers by itself. Until the sink is healthy, /readyz
// answers 503.
Awaitable<void> Daemon::Impl::AnnounceReady() {
  constexpr auto kReadyProbeTimeout = std::chrono::seconds(5);
  const auto deadline = std::chrono::steady_clock::now() + kReadyProbeTimeout;
  SinkHealth health = sink_->Health();
  while (!health.ok && !stopping_ &&
         std::chrono::steady_clock::now() < deadline) {
    probe_timer_.expires_after(std::chrono::milliseconds(100));
    co_await probe_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    health = sink_->Health();
  }
  if (stopping_) co_return;
  if (!health.ok) {
    log_->warn(
        "The sink is not healthy at start; ready anyway, deliveries are "
        "retried. sink={} problem={}",
        sink_->Name(), health.problem);
  }
  announced_ready_ = true;
  last_status_ = StatusLine();
  NotifyStatus(last_status_);
  NotifyReady();
  log_->info("Ready. status=\"{}\"", last_status_);
}

// Once a second: proves the loop turns (for /healthz) and refreshes
// STATUS= when it changed (e.g. the sink went unhealthy).
Awaitable<void> Daemon::Impl::Heartbeat() {
  while (!stopping_) {
    last_heartbeat_ = std::chrono::steady_clock::now();
    if (announced_ready_) {
      std::string status = StatusLine();
      if (status != last_status_) {
        last_status_ = std::move(status);
        NotifyStatus(last_status_);
      }
    }
    heartbeat_timer_.expires_after(std::chrono::seconds(1));
    co_await heartbeat_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

std::string Daemon::Impl::StatusLine() const {
  std::string status = "Polling " + std::to_string(pollers_.size()) + " feeds";
  if (publisher_) {
    status += ", " + std::to_string(publisher_->stats().published) +
              " published, " + std::to_string(publisher_->in_flight()) +
              " in flight";
  }
  // Articles waiting beyond the sink for a while: the outbox is filling
  // (a poll's own burst, delivered within seconds, is not worth a line).
  if (publisher_ && publisher_->outbox_articles() > publisher_->in_flight()) {
    const auto oldest = publisher_->OldestEntry();
    if (publisher_->OutboxFull() ||
        (oldest && Now() - *oldest > std::chrono::seconds(10))) {
      status += "; " + OutboxLine();
    }
  }
  if (sink_ && announced_ready_) {
    if (SinkHealth h = sink_->Health(); !h.ok) status += "; " + h.problem;
  }
  if (cluster_mode()) status += "; " + ClusterStatusLine();
  if (!restart_pending_.empty()) {
    status += "; restart needed for " + restart_pending_;
  }
  if (!last_reload_error_.empty()) {
    status += "; last reload rejected: " + last_reload_error_;
  }
  return status;
}

// "outbox filling: N articles waiting, X MiB (P % of outbox.max_bytes)",
// or "outbox full: ... fetching paused".
std::string Daemon::Impl::OutboxLine() const {
  const int64_t bytes = publisher_->outbox_bytes();
  const int64_t max = publisher_->max_bytes();
  const int percent =
      max > 0 && max != Publisher::kUnbounded
          ? static_cast<int>(std::min<int64_t>(100, bytes * 100 / max))
          : 0;
  char mib[32];
  std::snprintf(mib, sizeof mib, "%.1f",
                static_cast<double>(bytes) / (1 << 20));
  std::string line =
      publisher_->OutboxFull() ? "outbox full: " : "outbox filling: ";
  line += std::to_string(publisher_->outbox_articles()) +
          " articles waiting, " + mib + " MiB (" + std::to_string(percent) +
          "% of outbox.max_bytes)";
  if (publisher_->OutboxFull()) line += ", fetching paused";
  return line;
}

std::optional<std::string> Daemon::Impl::NotReadyReason() const {
  if (stopping_) return "shutting down";
  if (!announced_ready_) return "starting (asking the sink's health check)";
  if (publisher_ && publisher_->OutboxFull()) return OutboxLine();
  if (sink_) {
    if (SinkHealth h = sink_->Health(); !h.ok) return h.problem;
  }
  if (cluster_) {
    // E.g. the group refuses to take this daemon in: it would own nothing
    // and answer ready for ever.
    if (ClusterStatus s = cluster_->Status(); !s.healthy) return s.problem;
  }
  return std::nullopt;
}

void Daemon::Impl::CollectMetrics() {
  auto& r = MetricsRegistry::Global();
  r.GetGauge("newsflow_feeds", "Feeds currently polled.")
      .Set(static_cast<double>(pollers_.size()));
  r.GetGauge("newsflow_feeds_retiring",
             "Feeds removed or changed by a reload, finishing their work.")
      .Set(static_cast<double>(retiring_.size()));
  if (publisher_) {
    // The depth itself is newsflow_articles_in_flight, kept live by the
    // Publisher.
    r.GetGauge("newsflow_pipeline_in_flight_limit",
               "pipeline.max_in_flight (fetching pauses at this depth).")
        .Set(static_cast<double>(config_.pipeline.max_in_flight));
  }
  if (publisher_) publisher_->UpdateGauges();  // the oldest entry's age
  r.GetGauge("newsflow_sink_healthy", "1 while the sink is believed reachable.")
      .Set(sink_ && sink_->Health().ok ? 1 : 0);
  r.GetGauge("newsflow_ready", "1 when /readyz answers 200.")
      .Set(NotReadyReason() ? 0 : 1);
  UpdateClusterMetrics();
}

namespace {

// The fetch outcome a feed's stored last error starts with (FeedPoller
// stores "<outcome>: <error>"), or "other" for errors stored otherwise.
std::string ErrorKind(const std::string& last_error) {
  const size_t colon = last_error.find(": ");
  if (colon == std::string::npos || colon == 0) return "other";
  const std::string kind = last_error.substr(0, colon);
  for (char c : kind) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return "other";
    }
  }
  return kind;
}

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

// Per-feed health from the state store, rendered at scrape time (cheap
// indexed reads) so that feeds removed by a reload vanish from /metrics.
// Live per-feed gauges the pollers own (consecutive failures, last success,
// next poll) are in the registry and are not repeated here: a family may
// appear only once in the exposition.
std::string Daemon::Impl::RenderFeedHealth() const {
  std::string up, attempt, error;
  for (const auto& [name, poller] : pollers_) {
    const std::string label = "{feed=\"" + EscapeLabel(name) + "\"}";
    auto state =
        store_ ? store_->LoadFeed(name) : Result<FeedState>(FeedState{});
    if (!state) continue;
    auto seconds = [](TimePoint t) {
      return std::to_string(
          std::chrono::duration_cast<std::chrono::milliseconds>(
              t.time_since_epoch())
              .count() /
          1000.0);
    };
    up +=
        "newsflow_feed_up" + label + " " +
        (state->consecutive_failures == 0 && state->last_success ? "1" : "0") +
        "\n";
    if (state->last_attempt) {
      attempt += "newsflow_feed_last_attempt_timestamp_seconds" + label + " " +
                 seconds(*state->last_attempt) + "\n";
    }
    if (!state->last_error.empty()) {
      error += "newsflow_feed_last_error_info{feed=\"" + EscapeLabel(name) +
               "\",kind=\"" + ErrorKind(state->last_error) + "\"} 1\n";
    }
  }
  std::string out;
  auto family = [&out](const char* name, const char* help,
                       const std::string& body) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name +
           " gauge\n" + body;
  };
  family("newsflow_feed_up", "1 when the feed's last poll succeeded.", up);
  family("newsflow_feed_last_attempt_timestamp_seconds",
         "Unix time of the feed's last poll attempt.", attempt);
  family("newsflow_feed_last_error_info",
         "The kind of the feed's last error, while it is failing.", error);
  return out;
}

}  // namespace newsflow
