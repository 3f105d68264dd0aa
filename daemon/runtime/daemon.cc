#include "daemon/runtime/daemon.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <map>

#include "config/config.h"
#include "connectors/builtin.h"
#include "daemon/core/logging.h"
#include "daemon/core/sink_registry.h"
#include "daemon/runtime/async_util.h"
#include "connectors/sinks/kafka/kafka_sink_config.h"
#include "daemon/runtime/fanout_sink.h"
#include "daemon/runtime/feed_events.h"
#include "daemon/runtime/feed_poller.h"
#include "daemon/runtime/publisher.h"
#include "daemon/runtime/systemd_notify.h"
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
  Awaitable<void> HandleSignals();
  Awaitable<void> Supervise();

  DaemonOptions options_;
  DaemonConfig config_;
  asio::io_context io_{1};
  asio::signal_set signals_;
  asio::steady_timer ticker_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<FeedEvents> events_;  // null unless kafka.events_topic
  std::map<std::string, std::shared_ptr<FeedPoller>> pollers_;
  // Pollers being stopped (removed or changed by a reload) until they end.
  std::vector<std::shared_ptr<FeedPoller>> retiring_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point drain_deadline_{};
  bool any_feed_failed_ = false;
};

Result<void> Daemon::Impl::Start() {
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
  http_ = std::make_unique<HttpClient>(io_, http_options);
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
  auto poller = std::make_shared<FeedPoller>(
      io_.get_executor(), PollerEnv{http_.get(), store_.get(), publisher_.get(), events_.get()},
      feed, config_);
  pollers_[feed.name] = poller;
  asio::co_spawn(io_, FeedPoller::Run(poller, options_.once),
                 [log = log_, name = feed.name](std::exception_ptr e) {
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& ex) {
                     log->error("Feed poller ended by an exception. feed={} error={}",
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
      const bool was_changed = std::find(to_stop.begin(), to_stop.end(), f.name) != to_stop.end();
      if (!was_changed) ++added;
      StartFeed(f);
    }
  }
  if (!(fresh->kafka.brokers == old.kafka.brokers && fresh->kafka.librdkafka == old.kafka.librdkafka &&
        fresh->state.path == old.state.path)) {
    log_->warn("Reload: kafka and state settings apply only after a restart.");
  }
  log_->info("Configuration reloaded. feeds={} added={} removed={} changed={}",
             pollers_.size(), added, removed, changed);
  NotifyStatus("Polling " + std::to_string(pollers_.size()) + " feeds");
  NotifyReady();
}

void Daemon::Impl::BeginShutdown(const char* why) {
  if (stopping_) return;
  stopping_ = true;
  log_->info("Shutting down; draining in-flight articles. reason={} in_flight={}",
             why, publisher_ ? publisher_->in_flight() : 0);
  NotifyStopping();
  drain_deadline_ = std::chrono::steady_clock::now() + config_.pipeline.drain_timeout;
  for (auto& [name, poller] : pollers_) poller->Stop();
  // Unfinished page or feed fetches are abandoned: their items were not
  // published, so they are simply fetched again on the next start.
  if (http_) http_->CancelAll();
}

Awaitable<void> Daemon::Impl::HandleSignals() {
  for (;;) {
    auto [ec, signo] = co_await signals_.async_wait(asio::as_tuple(asio::use_awaitable));
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
  auto next_prune = next_watchdog;  // at start-up, then hourly
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_prune && !stopping_) {
      next_prune = now + std::chrono::hours(1);
      auto pruned = PruneByRetention(*store_, config_.state.retention, Now());
      if (!pruned) log_->warn("State prune failed. error={}", pruned.error().ToString());
      else if (*pruned > 0) log_->info("State pruned. tombstoned={}", *pruned);
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
        any_feed_failed_ = any_feed_failed_ || (p->finished() && p->last_poll_failed());
      }
      if (all_done) BeginShutdown("--once: every feed polled");
    }
    if (stopping_) {
      bool pollers_done = retiring_.empty();
      for (const auto& [name, p] : pollers_) pollers_done = pollers_done && p->finished();
      const bool idle = publisher_->in_flight() == 0;
      if ((pollers_done && idle) || now >= drain_deadline_) {
        if (!idle) {
          log_->warn("Drain deadline passed; undelivered articles will be "
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
  // Close blocks up to the timeout for outstanding acks, then fails what is
  // left (kRetry callbacks, posted): every poller can then finish.
  const auto left = std::max(std::chrono::milliseconds(0),
                             std::chrono::duration_cast<std::chrono::milliseconds>(
                                 drain_deadline_ - std::chrono::steady_clock::now()));
  if (auto closed = sink_->Close(left); !closed) {
    log_->warn("Sink close reported an error. error={}", closed.error().ToString());
  }
  if (events_) (void)events_->Close(std::chrono::milliseconds(1000));
}

int Daemon::Impl::Run() {
  if (auto started = Start(); !started) {
    log_->error("Start-up failed. error={}", started.error().ToString());
    std::fprintf(stderr, "newsflowd: %s\n", started.error().ToString().c_str());
    return 1;
  }
  log_->info("Started. feeds={} sinks={} state={}", pollers_.size(),
             config_.sinks.size(), config_.state.path);
  NotifyReady();
  NotifyStatus("Polling " + std::to_string(pollers_.size()) + " feeds");
  asio::co_spawn(io_, HandleSignals(), asio::detached);
  asio::co_spawn(io_, Supervise(), asio::detached);
  io_.run();
  const auto& stats = publisher_->stats();
  log_->info("Stopped. published={} updated={} retried={} dropped={}",
             stats.published, stats.updated, stats.retried, stats.dropped);
  return (options_.once && any_feed_failed_) ? 1 : 0;
}

Daemon::Daemon(DaemonOptions options) : options_(std::move(options)) {}
Daemon::~Daemon() = default;

int Daemon::Run() {
  auto config = LoadConfigFile(options_.config_path);
  if (!config) {
    std::fprintf(stderr, "newsflowd: %s\n", config.error().ToString().c_str());
    return 1;
  }
  LogOptions log_options{config->log.level, config->log.format};
  if (!InitLogging(log_options)) {
    std::fprintf(stderr, "newsflowd: %s: invalid log level or format\n",
                 options_.config_path.c_str());
    return 1;
  }
  // SIGPIPE would kill us on a closed stdout (jsonl sink piped to head).
  std::signal(SIGPIPE, SIG_IGN);
  Impl impl(options_, std::move(*config));
  return impl.Run();
}

}  // namespace newsflow
