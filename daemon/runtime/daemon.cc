#include "daemon/runtime/daemon.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <map>
#include <sstream>

#include "config/config.h"
#include "connectors/builtin.h"
#include "connectors/sinks/kafka/kafka_sink_config.h"
#include "daemon/cleaner/html_cleaner.h"
#include "daemon/core/logging.h"
#include "daemon/core/metrics.h"
#include "daemon/core/sink_registry.h"
#include "daemon/runtime/async_util.h"
#include "daemon/runtime/fanout_sink.h"
#include "daemon/runtime/feed_events.h"
#include "daemon/runtime/feed_poller.h"
#include "daemon/runtime/metrics_server.h"
#include "daemon/runtime/publisher.h"
#include "daemon/runtime/runtime_metrics.h"
#include "daemon/runtime/systemd_notify.h"
#include "daemon/runtime/worker_pool.h"
#include "daemon/state/state_store.h"

namespace newsflow {

// Everything that lives for one Run(). Member order is destruction order in
// reverse: the io_context outlives every object that holds a timer or a
// pending operation on it.
class Daemon::Impl {
 public:
  Impl(DaemonOptions options, DaemonConfig config)
      : options_(std::move(options)),
        config_(std::move(config)),
        signals_(io_, SIGINT, SIGTERM, SIGHUP),
        ticker_(io_),
        log_(GetLogger("daemon")) {}

  int Run();

 private:
  Result<void> Start();
  void StartFeed(const FeedConfig& feed);
  void StopFeed(const std::string& name);
  void Reload();
  void BeginShutdown(const char* why);
  // While stopping: EXTEND_TIMEOUT_USEC= for what is left of the drain plus
  // a margin, so pipeline.drain_timeout is honoured even when it is longer
  // than the unit's TimeoutStopSec.
  void ExtendStopTimeout();
  Awaitable<void> HandleSignals();
  Awaitable<void> Supervise();
  // Operator-facing pieces (metrics endpoint, readiness, STATUS=).
  Result<void> StartMetricsServer();
  Awaitable<void> AnnounceReady();
  Awaitable<bool> ProbeBrokersOnce(std::string* last_error);
  Awaitable<void> Heartbeat();
  std::string StatusLine() const;
  std::optional<std::string> NotReadyReason() const;
  std::string RenderFeedHealth() const;
  void CollectMetrics();

  DaemonOptions options_;
  DaemonConfig config_;
  asio::io_context io_{1};
  asio::signal_set signals_;
  asio::steady_timer ticker_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<HttpClient> http_;
  // Parsing and cleaning; after io_ so it is joined first.
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<FeedEvents> events_;  // null unless kafka.events_topic
  std::map<std::string, std::shared_ptr<FeedPoller>> pollers_;
  // Pollers being stopped (removed or changed by a reload) until they end.
  std::vector<std::shared_ptr<FeedPoller>> retiring_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point drain_deadline_{};
  bool any_feed_failed_ = false;
  std::unique_ptr<MetricsServer> metrics_server_;
  asio::steady_timer heartbeat_timer_{io_};
  asio::steady_timer probe_timer_{io_};
  // Set by Heartbeat() each second; /healthz fails when it goes stale.
  std::chrono::steady_clock::time_point last_heartbeat_ =
      std::chrono::steady_clock::now();
  // READY=1 was sent (after the broker probe); /readyz needs it.
  bool announced_ready_ = false;
  // Result of the start-up TCP probe of kafka.brokers ("" = reachable).
  std::string broker_probe_problem_;
  std::string last_status_;
};

// Successful starts (Start() and reloads) so far; /readyz needs one.
static Counter& ReloadCounter(const char* result) {
  return MetricsRegistry::Global().GetCounter(
      "newsflow_config_reloads_total",
      "SIGHUP reloads by result (ok, rejected).", {{"result", result}});
}

#ifndef NEWSFLOW_VERSION
#define NEWSFLOW_VERSION "0.0.0"
#endif

Result<void> Daemon::Impl::Start() {
  DeclareDaemonSeries(NEWSFLOW_VERSION);
  auto store = StateStore::Open(config_.state.path);
  if (!store) return store.error();
  store_ = std::move(*store);

  SinkRegistry registry;
  RegisterBuiltinConnectors(registry);
  std::vector<std::unique_ptr<Sink>> sinks;
  for (SinkKind kind : config_.sinks) {
    const char* type = kind == SinkKind::kKafka ? "kafka" : "jsonl";
    auto sink = registry.Create(type, SinkFactoryContext{io_, config_});
    if (!sink) return sink.error();
    sinks.push_back(std::move(*sink));
  }
  if (sinks.empty()) return Error::Config("no sink configured");
  sink_ = sinks.size() == 1 ? std::move(sinks.front())
                            : std::make_unique<FanoutSink>(std::move(sinks));

  HttpClientOptions http_options;
  http_options.default_user_agent = config_.http.user_agent;
  http_options.max_concurrent = config_.http.max_concurrent;
  http_options.max_host_connections = config_.http.max_host_connections;
  http_options.min_host_interval = config_.http.min_host_interval;
  http_ = std::make_unique<HttpClient>(io_, http_options);
  InitHtmlCleaner();  // libxml2's global init, on this thread, before workers
  workers_ = std::make_unique<WorkerPool>(
      io_.get_executor(),
      WorkerPoolOptions{.threads = config_.pipeline.workers});
  publisher_ = std::make_unique<Publisher>(io_.get_executor(), *sink_, *store_,
                                           config_.pipeline.max_in_flight);
  publisher_->SetCategoryTopics(config_.kafka.topics_by_category);
  if (!config_.kafka.events_topic.empty()) {
    KafkaSinkOptions events_options;
    events_options.brokers = config_.kafka.brokers;
    events_options.librdkafka = config_.kafka.librdkafka;
    auto events = FeedEvents::Create(io_, std::move(events_options),
                                     config_.kafka.events_topic);
    if (!events) return events.error();
    events_ = std::move(*events);
  }
  for (const FeedConfig& feed : config_.feeds) StartFeed(feed);
  return {};
}

void Daemon::Impl::StartFeed(const FeedConfig& feed) {
  DeclareFeedSeries(feed.name);
  PollerEnv env;
  env.http = http_.get();
  env.store = store_.get();
  env.publisher = publisher_.get();
  env.events = events_.get();
  env.workers = workers_.get();
  auto poller =
      std::make_shared<FeedPoller>(io_.get_executor(), env, feed, config_);
  pollers_[feed.name] = poller;
  asio::co_spawn(io_, FeedPoller::Run(poller, options_.once),
                 [log = log_, name = feed.name](std::exception_ptr e) {
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& ex) {
                     log->error(
                         "Feed poller ended by an exception. feed={} error={}",
                         name, ex.what());
                   }
                 });
}

void Daemon::Impl::StopFeed(const std::string& name) {
  auto it = pollers_.find(name);
  if (it == pollers_.end()) return;
  it->second->Stop();
  retiring_.push_back(it->second);
  pollers_.erase(it);
}

void Daemon::Impl::Reload() {
  NotifyReloading();
  auto fresh = LoadConfigFile(options_.config_path);
  if (!fresh) {
    log_->error("Reload rejected; the running configuration stays. error={}",
                fresh.error().ToString());
    ReloadCounter("rejected").Inc();
    NotifyStatus(StatusLine() +
                 "; last reload rejected: " + fresh.error().ToString());
    NotifyReady();
    return;
  }
  std::map<std::string, const FeedConfig*> wanted;
  for (const FeedConfig& f : fresh->feeds) wanted[f.name] = &f;
  size_t added = 0, removed = 0, changed = 0;
  std::vector<std::string> to_stop;
  for (const auto& [name, poller] : pollers_) {
    auto it = wanted.find(name);
    if (it == wanted.end()) {
      to_stop.push_back(name);
      ++removed;
    } else if (!(*it->second == poller->config())) {
      to_stop.push_back(name);
      ++changed;
    }
  }
  for (const auto& name : to_stop) StopFeed(name);
  // New pollers use the new feed settings; global sections that need new
  // connections (kafka, state, http client) apply on restart.
  const DaemonConfig old = config_;
  config_.feeds = fresh->feeds;
  config_.scheduler = fresh->scheduler;
  config_.pipeline.first_poll_backlog = fresh->pipeline.first_poll_backlog;
  config_.http.user_agent = fresh->http.user_agent;
  config_.http.proxy = fresh->http.proxy;
  for (const FeedConfig& f : config_.feeds) {
    if (!pollers_.contains(f.name)) {
      const bool was_changed =
          std::find(to_stop.begin(), to_stop.end(), f.name) != to_stop.end();
      if (!was_changed) ++added;
      StartFeed(f);
    }
  }
  // Sections that own connections or sockets apply on restart only; say
  // which, so that an operator is not left guessing.
  std::vector<std::string> restart_only;
  if (!(fresh->kafka.brokers == old.kafka.brokers &&
        fresh->kafka.topic == old.kafka.topic &&
        fresh->kafka.librdkafka == old.kafka.librdkafka)) {
    restart_only.push_back("kafka");
  }
  if (fresh->state.path != old.state.path) restart_only.push_back("state");
  if (fresh->metrics.listen != old.metrics.listen)
    restart_only.push_back("metrics");
  if (fresh->log.level != old.log.level ||
      fresh->log.format != old.log.format) {
    restart_only.push_back("log");
  }
  if (fresh->sinks != old.sinks || fresh->jsonl_path != old.jsonl_path) {
    restart_only.push_back("sinks");
  }
  if (fresh->http.connect_timeout != old.http.connect_timeout ||
      fresh->http.total_timeout != old.http.total_timeout ||
      fresh->http.max_body_bytes != old.http.max_body_bytes ||
      fresh->http.max_redirects != old.http.max_redirects ||
      fresh->http.max_host_connections != old.http.max_host_connections ||
      fresh->http.max_concurrent != old.http.max_concurrent ||
      fresh->pipeline.max_in_flight != old.pipeline.max_in_flight ||
      fresh->pipeline.drain_timeout != old.pipeline.drain_timeout) {
    restart_only.push_back("http/pipeline limits");
  }
  if (!restart_only.empty()) {
    std::string which;
    for (const auto& w : restart_only) which += (which.empty() ? "" : ",") + w;
    log_->warn(
        "Reload: these changed settings apply only after a restart. "
        "sections={}",
        which);
  }
  log_->info("Configuration reloaded. feeds={} added={} removed={} changed={}",
             pollers_.size(), added, removed, changed);
  ReloadCounter("ok").Inc();
  last_status_ = StatusLine();
  NotifyStatus(last_status_);
  NotifyReady();
}

void Daemon::Impl::BeginShutdown(const char* why) {
  if (stopping_) return;
  stopping_ = true;
  log_->info(
      "Shutting down; draining in-flight articles. reason={} in_flight={}", why,
      publisher_ ? publisher_->in_flight() : 0);
  NotifyStopping();
  drain_deadline_ =
      std::chrono::steady_clock::now() + config_.pipeline.drain_timeout;
  ExtendStopTimeout();
  for (auto& [name, poller] : pollers_) poller->Stop();
  // Unfinished page or feed fetches are abandoned: their items were not
  // published, so they are simply fetched again on the next start.
  if (http_) http_->CancelAll();
  // The metrics endpoint stays up while draining (/readyz answers 503
  // "shutting down"); Supervise() stops it when the drain ends.
  heartbeat_timer_.cancel();
  probe_timer_.cancel();
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
      Reload();
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
    if (options_.once && !stopping_) {
      bool all_done = true;
      for (const auto& [name, p] : pollers_) {
        all_done = all_done && p->finished();
        any_feed_failed_ =
            any_feed_failed_ || (p->finished() && p->last_poll_failed());
      }
      if (all_done) BeginShutdown("--once: every feed polled");
    }
    if (stopping_) {
      if (now >= next_extend) {
        ExtendStopTimeout();
        next_extend = now + std::chrono::seconds(1);
      }
      bool pollers_done = retiring_.empty();
      for (const auto& [name, p] : pollers_)
        pollers_done = pollers_done && p->finished();
      const bool idle = publisher_->in_flight() == 0;
      if ((pollers_done && idle) || now >= drain_deadline_) {
        if (!idle) {
          log_->warn(
              "Drain deadline passed; undelivered articles will be "
              "published again on the next start. in_flight={}",
              publisher_->in_flight());
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
  if (events_) (void)events_->Close(std::chrono::milliseconds(1000));
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
  const auto& stats = publisher_->stats();
  log_->info("Stopped. published={} updated={} retried={} dropped={}",
             stats.published, stats.updated, stats.retried, stats.dropped);
  return (options_.once && any_feed_failed_) ? 1 : 0;
}

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

// One pass over kafka.brokers: true as soon as one accepts a TCP
// connection; else `*last_error` says why the last one did not.
Awaitable<bool> Daemon::Impl::ProbeBrokersOnce(std::string* last_error) {
  asio::ip::tcp::resolver resolver(io_);
  std::stringstream list(config_.kafka.brokers);
  std::string broker;
  while (std::getline(list, broker, ',') && !stopping_) {
    broker.erase(0, broker.find_first_not_of(" \t"));
    if (auto scheme = broker.find("://"); scheme != std::string::npos) {
      broker.erase(0, scheme + 3);
    }
    const size_t colon = broker.rfind(':');
    std::string host = broker.substr(0, colon);
    const std::string port =
        colon == std::string::npos ? "9092" : broker.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[') {
      host = host.substr(1, host.size() - 2);
    }
    auto [rec, endpoints] = co_await resolver.async_resolve(
        host, port, asio::as_tuple(asio::use_awaitable));
    if (rec) {
      *last_error = broker + ": " + rec.message();
      continue;
    }
    asio::ip::tcp::socket socket(io_);
    asio::steady_timer guard(io_);
    guard.expires_after(std::chrono::seconds(2));
    guard.async_wait([&socket](boost::system::error_code ec) {
      if (!ec) socket.close();
    });
    auto [cec, ep] = co_await asio::async_connect(
        socket, endpoints, asio::as_tuple(asio::use_awaitable));
    guard.cancel();
    if (!cec) co_return true;
    *last_error = broker + ": " + cec.message();
  }
  co_return false;
}

// READY=1 means "the sink is connected": for Kafka, a TCP connection to one
// of kafka.brokers succeeded (librdkafka connects lazily and has no
// "connected" event observable through Sink). After kReadyProbeTimeout
// READY=1 is sent anyway, with a STATUS= naming the unreachable brokers:
// the pipeline retries deliveries, and a unit stuck in "activating" would
// only make systemd kill a daemon that recovers by itself. Until a later
// probe (every 5 s) succeeds, /readyz answers 503.
Awaitable<void> Daemon::Impl::AnnounceReady() {
  constexpr auto kReadyProbeTimeout = std::chrono::seconds(5);
  const bool uses_kafka = std::find(config_.sinks.begin(), config_.sinks.end(),
                                    SinkKind::kKafka) != config_.sinks.end();
  std::string last_error;
  bool reachable = !uses_kafka;
  const auto deadline = std::chrono::steady_clock::now() + kReadyProbeTimeout;
  while (!reachable && !stopping_) {
    reachable = co_await ProbeBrokersOnce(&last_error);
    if (reachable || std::chrono::steady_clock::now() >= deadline) break;
    probe_timer_.expires_after(std::chrono::milliseconds(250));
    co_await probe_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (stopping_) co_return;
  if (!reachable) {
    broker_probe_problem_ = "Kafka unreachable (" + last_error + ")";
    log_->warn(
        "No Kafka broker answered at start; ready anyway, deliveries are "
        "retried. brokers={} error={}",
        config_.kafka.brokers, last_error);
  }
  announced_ready_ = true;
  last_status_ = StatusLine();
  NotifyStatus(last_status_);
  NotifyReady();
  log_->info("Ready. status=\"{}\"", last_status_);
  while (!reachable && !stopping_) {
    probe_timer_.expires_after(std::chrono::seconds(5));
    co_await probe_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopping_) co_return;
    reachable = co_await ProbeBrokersOnce(&last_error);
  }
  if (!broker_probe_problem_.empty()) {
    broker_probe_problem_.clear();
    log_->info("A Kafka broker answers now. brokers={}", config_.kafka.brokers);
  }
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
  if (!broker_probe_problem_.empty() && announced_ready_) {
    status += "; " + broker_probe_problem_;
  }
  if (sink_ && !sink_->Healthy()) {
    status += "; sink unhealthy (" + std::string(sink_->Name()) + ")";
  }
  return status;
}

std::optional<std::string> Daemon::Impl::NotReadyReason() const {
  if (stopping_) return "shutting down";
  if (!announced_ready_) return "starting (probing the sink)";
  if (!broker_probe_problem_.empty()) return broker_probe_problem_;
  if (sink_ && !sink_->Healthy()) {
    return "sink " + std::string(sink_->Name()) + " is unhealthy";
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
  r.GetGauge("newsflow_sink_healthy", "1 while the sink is believed reachable.")
      .Set(sink_ && sink_->Healthy() ? 1 : 0);
  r.GetGauge("newsflow_ready", "1 when /readyz answers 200.")
      .Set(NotReadyReason() ? 0 : 1);
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

Daemon::Daemon(DaemonOptions options) : options_(std::move(options)) {}
Daemon::~Daemon() = default;

int Daemon::Run() {
  auto config = LoadConfigFile(options_.config_path);
  // Under systemd these lines are errors for `journalctl -p err` ("<3>").
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
  Impl impl(options_, std::move(*config));
  return impl.Run();
}

}  // namespace newsflow
