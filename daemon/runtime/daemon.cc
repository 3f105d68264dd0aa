#include "daemon/runtime/daemon.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cassert>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "connectors/builtin.h"
#include "daemon/cleaner/html_cleaner.h"
#include "daemon/core/logging.h"
#include "daemon/core/metrics.h"
#include "daemon/runtime/daemon_impl.h"
#include "daemon/runtime/fanout_sink.h"
#include "daemon/runtime/runtime_metrics.h"
#include "daemon/runtime/systemd_notify.h"
#include "daemon/runtime/worker_pool.h"

namespace newsflow {

Daemon::Impl::Impl(DaemonOptions options, DaemonConfig config,
                   const SinkRegistry& sinks)
    : options_(std::move(options)),
      config_(std::move(config)),
      sink_types_(sinks),
      signals_(io_, SIGINT, SIGTERM, SIGHUP),
      ticker_(io_),
      log_(GetLogger("daemon")) {}

#ifndef NEWSFLOW_VERSION
#define NEWSFLOW_VERSION "0.0.0"
#endif

Result<void> Daemon::Impl::Start() {
  DeclareDaemonSeries(NEWSFLOW_VERSION);
  auto store = StateStore::Open(config_.state.path);
  if (!store) return store.error();
  store_ = std::move(*store);
  stories_ = std::make_unique<StoryIndex>(store_.get());

  if (config_.cluster) {
    // Cluster mode (issue 15): the one listed sink makes the cluster and
    // the sink bound to it.
    if (auto created = CreateCluster(); !created) return created.error();
  } else {
    // The loader accepted only registered types, and at least one.
    std::vector<std::unique_ptr<Sink>> sinks;
    for (const std::string& type : config_.sinks) {
      const SinkDescriptor* descriptor = sink_types_.Find(type);
      assert(descriptor != nullptr);
      auto sink = descriptor->create(io_, config_.SinkSettingsFor(type));
      if (!sink) return sink.error();
      sinks.push_back(std::move(*sink));
    }
    assert(!sinks.empty());
    sink_ = sinks.size() == 1 ? std::move(sinks.front())
                              : std::make_unique<FanoutSink>(std::move(sinks));
  }

  HttpClientOptions http_options;
  http_options.default_user_agent = config_.http.user_agent;
  http_options.max_concurrent = config_.http.max_concurrent;
  http_options.max_host_connections = config_.http.max_host_connections;
  http_options.min_host_interval = config_.http.min_host_interval;
  http_options.max_body_bytes_in_flight = config_.http.max_body_bytes_in_flight;
  auto& metrics = MetricsRegistry::Global();
  http_options.body_bytes_in_flight = &metrics.GetGauge(
      "newsflow_http_body_bytes_in_flight",
      "Response body bytes reserved by transfers or held until parsed "
      "(http.max_body_bytes_in_flight bounds it).");
  http_options.body_budget_waits =
      &metrics.GetCounter("newsflow_http_body_budget_waits_total",
                          "Transfers that, next in line, waited for room in "
                          "http.max_body_bytes_in_flight.");
  http_ = std::make_unique<HttpClient>(io_, http_options);
  InitHtmlCleaner();  // libxml2's global init, on this thread, before workers
  WorkerPoolOptions pool_options{.threads = config_.pipeline.workers};
  pool_options.on_exhausted = [this] { OnWorkersExhausted(); };
  workers_ =
      std::make_unique<WorkerPool>(io_.get_executor(), std::move(pool_options));
  polls_ = std::make_unique<PollSlots>(
      io_.get_executor(), config_.pipeline.max_polls_in_progress,
      static_cast<size_t>(std::max(1L, config_.http.max_host_connections)),
      &metrics.GetGauge("newsflow_polls_in_progress",
                        "Feed polls from before the feed request until "
                        "their articles are durable "
                        "(pipeline.max_polls_in_progress bounds it)."),
      &metrics.GetCounter("newsflow_poll_slot_waits_total",
                          "Polls that waited for a slot (their host's or "
                          "pipeline.max_polls_in_progress)."));
  const int64_t outbox_max =
      config_.outbox.max_bytes > 0
          ? static_cast<int64_t>(config_.outbox.max_bytes)
          : DefaultOutboxMaxBytes(config_.state.path);
  publisher_ =
      std::make_unique<Publisher>(io_.get_executor(), *sink_, *store_,
                                  config_.pipeline.max_in_flight, outbox_max);
  log_->info("Outbox ready. max_bytes={}{}", outbox_max,
             config_.outbox.max_bytes > 0 ? "" : " (automatic)");
  if (cluster_mode()) {
    // Nothing is delivered before the first assignment, and then only
    // entries of owned feeds.
    publisher_->SetOwnership(
        [this](const std::string& feed) { return OwnsFeed(feed); });
    publisher_->StopDelivering();
  }
  // What the last run left is delivered before anything newer.
  if (auto resumed = publisher_->Resume(); !resumed) return resumed.error();
  events_ = std::make_unique<FeedEvents>(*sink_);
  // Cluster mode: feeds start when their partitions are assigned.
  if (cluster_mode()) return StartCluster();
  for (const FeedConfig& feed : config_.feeds) StartFeed(feed);
  return {};
}

void Daemon::Impl::StartFeed(const FeedConfig& feed,
                             std::chrono::steady_clock::time_point resume_at) {
  if (!OwnsFeed(feed.name)) return;  // cluster mode: another daemon's feed
  DeclareFeedSeries(feed.name);
  PollerEnv env;
  env.http = http_.get();
  env.store = store_.get();
  env.stories = stories_.get();
  env.publisher = publisher_.get();
  env.events = events_.get();
  env.workers = workers_.get();
  env.polls = polls_.get();
  auto poller =
      std::make_shared<FeedPoller>(io_.get_executor(), env, feed, config_);
  poller->ResumeScheduleAt(resume_at);
  pollers_[feed.name] = poller;
  ++running_pollers_;
  asio::co_spawn(
      io_, FeedPoller::Run(poller, options_.once),
      [this, log = log_, name = feed.name,
       weak = std::weak_ptr<FeedPoller>(poller)](std::exception_ptr e) {
        --running_pollers_;
        // --once: a failed last poll of a feed still configured
        // (not one retired by a reload) sets the exit code.
        auto it = pollers_.find(name);
        if (options_.once && it != pollers_.end() &&
            it->second == weak.lock() && it->second->last_poll_failed()) {
          any_feed_failed_ = true;
        }
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log->error("Feed poller ended by an exception. feed={} error={}",
                     name, ex.what());
        }
      });
}

// Every worker thread runs a parse the pollers gave up on (past
// pipeline.parse_timeout): nothing else can parse or clean until one ends,
// and a thread cannot be interrupted. Drain what is in flight and exit
// non-zero, so systemd restarts the daemon; those feeds already count a
// parser timeout, so a repeat quarantines them instead of wedging again.
void Daemon::Impl::OnWorkersExhausted() {
  if (workers_exhausted_) return;
  workers_exhausted_ = true;
  log_->critical(
      "Every worker thread is stuck in a parse past pipeline.parse_timeout; "
      "exiting for a restart. threads={}",
      workers_->threads());
  BeginShutdown("worker pool exhausted by stuck parses");
}

void Daemon::Impl::StopFeed(const std::string& name) {
  auto it = pollers_.find(name);
  if (it == pollers_.end()) return;
  it->second->Stop();
  retiring_.push_back(it->second);
  pollers_.erase(it);
}

int64_t DefaultOutboxMaxBytes(const std::string& state_path) {
  constexpr int64_t kCap = int64_t{1} << 30;  // 1 GiB
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::path(state_path).parent_path();
  if (dir.empty()) dir = ".";
  const auto space = std::filesystem::space(dir, ec);
  if (ec) return kCap;
  return std::min<int64_t>(kCap, static_cast<int64_t>(space.available / 10));
}

void Daemon::Impl::BeginShutdown(const char* why) {
  if (stopping_) return;
  stopping_ = true;
  // --once delivers the outbox (up to the drain timeout); a signal only
  // waits for what is in the sink: the rest stays in the outbox for the
  // next start.
  const bool drain_outbox = options_.once &&
                            std::string_view(why) != "SIGTERM" &&
                            std::string_view(why) != "SIGINT";
  drain_outbox_ = drain_outbox;
  if (publisher_ && !drain_outbox) publisher_->StopDelivering();
  log_->info(
      "Shutting down; draining in-flight articles. reason={} in_flight={} "
      "outbox={}",
      why, publisher_ ? publisher_->in_flight() : 0,
      publisher_ ? publisher_->outbox_articles() : 0);
  NotifyStopping();
  drain_deadline_ =
      std::chrono::steady_clock::now() + config_.pipeline.drain_timeout;
  ExtendStopTimeout();
  for (auto& [name, poller] : pollers_) poller->Stop();
  if (cluster_ && !left_cluster_) {
    // Hands the owned partitions over (revoked: their articles in the sink
    // are waited for) and leaves the group, within the drain.
    cluster_->Leave(config_.pipeline.drain_timeout, [this] {
      left_cluster_ = true;
      log_->info("Left the cluster.");
    });
  }
  // Unfinished page or feed fetches are abandoned: their items were not
  // published, so they are simply fetched again on the next start.
  if (http_) http_->CancelAll();
  // The metrics endpoint stays up while draining (/readyz answers 503
  // "shutting down"); Supervise() stops it when the drain ends.
  heartbeat_timer_.cancel();
  probe_timer_.cancel();
  reload_timer_.cancel();
}

void Daemon::Impl::ExtendStopTimeout() {
  // Covers closing the sinks after the drain (bounded by the time left) and
  // the process exit.
  constexpr auto kStopMargin = std::chrono::seconds(10);
  const auto left =
      std::max(std::chrono::steady_clock::duration::zero(),
               drain_deadline_ - std::chrono::steady_clock::now());
  NotifyExtendTimeout(std::chrono::duration_cast<std::chrono::microseconds>(
      left + kStopMargin));
}

Awaitable<void> Daemon::Impl::HandleSignals() {
  for (;;) {
    auto [ec, signo] =
        co_await signals_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    if (signo == SIGHUP && !stopping_) {
      RequestReload();
    } else if (signo != SIGHUP) {
      BeginShutdown(signo == SIGTERM ? "SIGTERM" : "SIGINT");
    }
  }
}

// Ticks every 100 ms: watchdog keep-alives, retiring stopped pollers,
// detecting the end of a `--once` run, and ending the drain.
Awaitable<void> Daemon::Impl::Supervise() {
  const auto watchdog = WatchdogInterval();
  auto next_watchdog = std::chrono::steady_clock::now();
  auto next_prune = next_watchdog;   // at start-up, then hourly
  auto next_extend = next_watchdog;  // while stopping, every second
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_prune && !stopping_) {
      next_prune = now + std::chrono::hours(1);
      auto pruned = PruneByRetention(*store_, config_.state.retention, Now());
      if (!pruned)
        log_->warn("State prune failed. error={}", pruned.error().ToString());
      else if (*pruned > 0)
        log_->info("State pruned. tombstoned={}", *pruned);
    }
    if (watchdog && now >= next_watchdog) {
      NotifyWatchdog();
      next_watchdog = now + *watchdog;
    }
    std::erase_if(retiring_, [](const auto& p) { return p->finished(); });
    if (options_.once && !stopping_ && running_pollers_ == 0 &&
        (!cluster_mode() || first_assignment_seen_)) {
      BeginShutdown("--once: every feed polled");
    }
    if (stopping_) {
      if (now >= next_extend) {
        ExtendStopTimeout();
        next_extend = now + std::chrono::seconds(1);
      }
      const bool pollers_done = running_pollers_ == 0;
      const bool idle = publisher_->in_flight() == 0 &&
                        (!drain_outbox_ || publisher_->outbox_articles() == 0);
      if ((pollers_done && idle && left_cluster_) || now >= drain_deadline_) {
        if (!idle) {
          log_->warn(
              "Drain deadline passed; undelivered articles stay in the "
              "outbox and are delivered after the next start. in_flight={} "
              "outbox={}",
              publisher_->in_flight(), publisher_->outbox_articles());
        }
        break;
      }
    }
    ticker_.expires_after(std::chrono::milliseconds(100));
    co_await ticker_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  signals_.cancel();
  // The endpoint's pending accept would keep io_.run() alive past the drain.
  if (metrics_server_) metrics_server_->Stop();
  ExtendStopTimeout();
  // Close blocks up to the timeout for outstanding acks, then fails what is
  // left (kRetry callbacks, posted): every poller can then finish.
  const auto left =
      std::max(std::chrono::milliseconds(0),
               std::chrono::duration_cast<std::chrono::milliseconds>(
                   drain_deadline_ - std::chrono::steady_clock::now()));
  if (auto closed = sink_->Close(left); !closed) {
    log_->warn("Sink close reported an error. error={}",
               closed.error().ToString());
  }
  if (workers_->stuck() > 0) {
    // A stuck job holds its thread (joining it may never return) and keeps
    // io_context::run() busy: leave without the destructors. The state
    // store is SQLite in WAL mode, committed per statement.
    const int code =
        workers_exhausted_ ? 3 : (options_.once && any_feed_failed_ ? 1 : 0);
    log_->warn("Exiting with parses still stuck. stuck={} exit_code={}",
               workers_->stuck(), code);
    spdlog::shutdown();
    std::_Exit(code);
  }
}

int Daemon::Impl::Run() {
  if (auto started = Start(); !started) {
    log_->error("Start-up failed. error={}", started.error().ToString());
    std::fprintf(stderr, "%snewsflowd: %s\n", StderrErrorPrefix(),
                 started.error().ToString().c_str());
    return 1;
  }
  if (auto served = StartMetricsServer(); !served) {
    log_->error("Start-up failed. error={}", served.error().ToString());
    std::fprintf(stderr, "%snewsflowd: %s\n", StderrErrorPrefix(),
                 served.error().ToString().c_str());
    return 1;
  }
  log_->info("Started. feeds={} sinks={} state={} metrics={}", pollers_.size(),
             config_.sinks.size(), config_.state.path,
             metrics_server_ ? config_.metrics.listen : "off");
  asio::co_spawn(io_, AnnounceReady(), asio::detached);
  asio::co_spawn(io_, Heartbeat(), asio::detached);
  asio::co_spawn(io_, HandleSignals(), asio::detached);
  asio::co_spawn(io_, Supervise(), asio::detached);
  io_.run();
  // Reports that came in with the sink's close are committed here.
  publisher_->FlushNow();
  const auto& stats = publisher_->stats();
  const size_t left = publisher_->outbox_articles();
  log_->info(
      "Stopped. published={} updated={} retried={} dropped={} "
      "left_in_outbox={}",
      stats.published, stats.updated, stats.retried, stats.dropped, left);
  if (left > 0) {
    log_->warn(
        "Undelivered articles stay in the outbox; the next start delivers "
        "them first. articles={} bytes={}",
        left, publisher_->outbox_bytes());
  }
  // --once: everything built must have been delivered.
  if (options_.once && left > 0) return 1;
  return (options_.once && any_feed_failed_) ? 1 : 0;
}

Daemon::Daemon(DaemonOptions options) : options_(std::move(options)) {}
Daemon::~Daemon() = default;

int Daemon::Run() {
  // Under systemd these lines are errors for `journalctl -p err` ("<3>").
  const SinkRegistry& sinks =
      options_.sinks != nullptr ? *options_.sinks : BuiltinSinks();
  auto config = LoadConfigFile(options_.config_path, sinks);
  if (!config) {
    std::fprintf(stderr, "%snewsflowd: %s\n", StderrErrorPrefix(),
                 config.error().ToString().c_str());
    return 1;
  }
  LogOptions log_options{config->log.level, config->log.format};
  if (!InitLogging(log_options)) {
    std::fprintf(stderr, "%snewsflowd: %s: invalid log level or format\n",
                 StderrErrorPrefix(), options_.config_path.c_str());
    return 1;
  }
  // SIGPIPE would kill us on a closed stdout (jsonl sink piped to head).
  std::signal(SIGPIPE, SIG_IGN);
  Impl impl(options_, std::move(*config), sinks);
  return impl.Run();
}

}  // namespace newsflow
