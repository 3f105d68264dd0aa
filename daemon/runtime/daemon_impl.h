#pragma once

// Daemon::Impl, shared by the three files that implement it (internal to
// daemon/runtime; includes Asio):
//   daemon.cc         wiring: start, pollers, signals, supervision, drain
//   daemon_reload.cc  SIGHUP: the reload table applied (config/reload_table.h)
//   daemon_health.cc  readiness (asks the sink's health check), heartbeat,
//                     STATUS=, /metrics, /healthz, /readyz
// Threading: everything runs on io_, the daemon's single thread.

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/sink_registry.h"
#include "daemon/core/cluster.h"
#include "daemon/core/sink.h"
#include "daemon/runtime/async_util.h"
#include "daemon/runtime/daemon.h"
#include "daemon/runtime/feed_events.h"
#include "daemon/runtime/feed_poller.h"
#include "daemon/runtime/metrics_server.h"
#include "daemon/runtime/poll_slots.h"
#include "daemon/runtime/publisher.h"
#include "daemon/state/state_store.h"

namespace newsflow {

// outbox.max_bytes = 0: min(1 GiB, 10 % of the free space of the state
// file's directory now).
int64_t DefaultOutboxMaxBytes(const std::string& state_path);

// Everything that lives for one Run(). Member order is destruction order in
// reverse: the io_context outlives every object that holds a timer or a
// pending operation on it.
class WorkerPool;

class Daemon::Impl {
 public:
  Impl(DaemonOptions options, DaemonConfig config, const SinkRegistry& sinks);

  int Run();

 private:
  // daemon.cc
  Result<void> Start();
  // `resume_at`: the schedule of the poller this one replaces (reload of a
  // changed feed); epoch = poll at once.
  void StartFeed(const FeedConfig& feed,
                 std::chrono::steady_clock::time_point resume_at = {});
  void StopFeed(const std::string& name);
  void BeginShutdown(const char* why);
  // WorkerPoolOptions::on_exhausted: drain, then exit 3.
  void OnWorkersExhausted();
  // While stopping: EXTEND_TIMEOUT_USEC= for what is left of the drain plus
  // a margin, so pipeline.drain_timeout is honoured even when it is longer
  // than the unit's TimeoutStopSec.
  void ExtendStopTimeout();
  Awaitable<void> HandleSignals();
  Awaitable<void> Supervise();

  // daemon_cluster.cc (issue 15): cluster mode. Nothing here runs without
  // `cluster:`.
  bool cluster_mode() const { return cluster_ != nullptr; }
  // Creates the cluster and its sink (instead of the listed sink).
  Result<void> CreateCluster();
  // Joins the group (after the publisher resumed; no feed starts here).
  Result<void> StartCluster();
  // Recomputes feed_partitions_ from config_.feeds.
  void MapFeeds();
  // Whether `feed` may be polled / delivered now.
  bool OwnsFeed(const std::string& feed) const;
  // Starts the owned feeds that do not run, stops the running ones not
  // owned (after an assignment or a reload that moved feeds).
  void ReconcileOwnedFeeds();
  void OnAssigned(std::vector<int> partitions, std::vector<StateRecord> state);
  void OnRevoked(std::vector<int> partitions, std::function<void()> done);
  void OnLost(std::vector<int> partitions);
  std::pair<int, StateRecord> DeliveredRecord(const Article& article);
  // StateStore observer: mirrors writes of owned feeds to Record().
  void MirrorStateChange(const StateChange& change);
  // Waits until none of `feeds` has an article in the sink and their
  // pollers ended (bounded by session_timeout), then calls `done`.
  Awaitable<void> FinishRevocation(std::vector<std::string> feeds,
                                   std::vector<int> partitions,
                                   std::function<void()> done);
  std::vector<std::string> FeedsOf(const std::vector<int>& partitions) const;
  // One `type` feed event ("assigned" / "revoked") per feed of `feeds`,
  // with its partition, this instance and `reason` (when not empty).
  void EmitOwnershipEvents(const char* type,
                           const std::vector<std::string>& feeds,
                           const std::string& reason = {});
  void UpdateClusterMetrics();
  std::string ClusterStatusLine() const;

  // daemon_reload.cc: SIGHUPs within kReloadDebounce make one reload.
  void RequestReload();
  void Reload();

  // daemon_health.cc: operator-facing pieces.
  Result<void> StartMetricsServer();
  Awaitable<void> AnnounceReady();
  Awaitable<void> Heartbeat();
  std::string StatusLine() const;
  std::string OutboxLine() const;
  std::optional<std::string> NotReadyReason() const;
  std::string RenderFeedHealth() const;
  void CollectMetrics();

  DaemonOptions options_;
  DaemonConfig config_;
  const SinkRegistry& sink_types_;
  asio::io_context io_{1};
  asio::signal_set signals_;
  asio::steady_timer ticker_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<StoryIndex> stories_;  // story ids, on store_ (issue 13)
  // Cluster mode (issue 15): null without `cluster:`. Outlives the sink
  // bound to it, as in ClusterParts (member order).
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<Sink> sink_;
  std::string cluster_instance_;  // cluster.instance, or the host name
  std::map<std::string, int> feed_partitions_;  // every configured feed
  // Configured URL of every feed, by name (MapFeeds, with feed_partitions_).
  std::map<std::string, std::string> feed_urls_;
  std::set<int> owned_partitions_;     // assigned, not revoked
  std::set<int> revoking_partitions_;  // revoked, handover not done yet
  bool restoring_ = false;  // applying restored records: not mirrored
  bool first_assignment_seen_ = false;
  bool left_cluster_ = true;  // Leave() finished (true: not in a cluster)
  uint64_t cluster_rebalances_ = 0;
  uint64_t tx_committed_seen_ = 0;
  uint64_t tx_aborted_seen_ = 0;
  std::unique_ptr<HttpClient> http_;
  // Parsing and cleaning; after io_ so it is joined first.
  std::unique_ptr<WorkerPool> workers_;
  // Polls in progress (pipeline.max_polls_in_progress; per host
  // http.max_host_connections), shared by every poller, in cluster mode
  // too.
  std::unique_ptr<PollSlots> polls_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<FeedEvents> events_;
  std::map<std::string, std::shared_ptr<FeedPoller>> pollers_;
  // Pollers being stopped (removed or changed by a reload) until they end.
  std::vector<std::shared_ptr<FeedPoller>> retiring_;
  bool stopping_ = false;
  // The drain waits for the whole outbox (--once), not only the sink.
  bool drain_outbox_ = false;
  std::chrono::steady_clock::time_point drain_deadline_{};
  bool any_feed_failed_ = false;
  // Poller coroutines (pollers_ and retiring_) that have not returned yet:
  // kept by StartFeed and the coroutines' completion, so that the 100 ms
  // supervision tick never walks every feed (with thousands of feeds
  // waiting that walk was the cost that grew with feeds x wall time).
  size_t running_pollers_ = 0;
  bool workers_exhausted_ = false;
  std::unique_ptr<MetricsServer> metrics_server_;
  asio::steady_timer heartbeat_timer_{io_};
  asio::steady_timer probe_timer_{io_};
  asio::steady_timer reload_timer_{io_};
  // Set by Heartbeat() each second; /healthz fails when it goes stale.
  std::chrono::steady_clock::time_point last_heartbeat_ =
      std::chrono::steady_clock::now();
  // READY=1 was sent (after the sink's health check passed or the probe
  // window ended); /readyz needs it.
  bool announced_ready_ = false;
  std::string last_status_;
  // Restart-only fields changed by reloads since the start (reload table
  // paths, comma-separated); "" = none. Shown in STATUS=.
  std::string restart_pending_;
  // The error of the last rejected reload, shown in STATUS= until a reload
  // succeeds ("" = none).
  std::string last_reload_error_;
};

}  // namespace newsflow
