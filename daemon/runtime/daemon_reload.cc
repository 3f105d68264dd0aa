// SIGHUP: re-read the config and apply it by the reload table
// (config/reload_table.h): live fields reach the daemon and its running
// pollers (FeedPoller::ApplySettings), per-feed changes replace only the
// pollers of the feeds that changed (the new poller keeps the old one's
// schedule; the old one's fetch is abandoned), restart-only changes are
// logged and shown in STATUS= until a restart. SIGHUPs are debounced: a
// burst (an editor saving, a config management run) makes one reload.

#include <algorithm>

#include "config/reload_table.h"
#include "daemon/core/metrics.h"
#include "daemon/runtime/daemon_impl.h"
#include "daemon/runtime/systemd_notify.h"

namespace newsflow {
namespace {

// SIGHUPs closer together than this make one reload.
constexpr auto kReloadDebounce = std::chrono::milliseconds(300);

Counter& ReloadCounter(const char* result) {
  return MetricsRegistry::Global().GetCounter(
      "newsflow_config_reloads_total",
      "SIGHUP reloads by result (ok, rejected).", {{"result", result}});
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

// Copies the live fields outside feeds from `fresh` into `running`; the
// caller then hands `running` to the pollers.
void ApplyLiveFields(const DaemonConfig& fresh, DaemonConfig& running) {
  running.state.retention = fresh.state.retention;
  running.http.user_agent = fresh.http.user_agent;
  running.http.proxy = fresh.http.proxy;
  running.http.connect_timeout = fresh.http.connect_timeout;
  running.http.total_timeout = fresh.http.total_timeout;
  running.http.max_body_bytes = fresh.http.max_body_bytes;
  running.http.max_redirects = fresh.http.max_redirects;
  running.http.allow_private_targets = fresh.http.allow_private_targets;
  running.scheduler = fresh.scheduler;
  running.pipeline.drain_timeout = fresh.pipeline.drain_timeout;
  running.pipeline.first_poll_backlog = fresh.pipeline.first_poll_backlog;
  running.filters = fresh.filters;
}

}  // namespace

void Daemon::Impl::RequestReload() {
  // Re-arming cancels the pending wait (its handler sees operation_aborted):
  // only the last SIGHUP of a burst reloads.
  reload_timer_.expires_after(kReloadDebounce);
  reload_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec && !stopping_) Reload();
  });
}

void Daemon::Impl::Reload() {
  NotifyReloading();
  auto fresh = LoadConfigFile(options_.config_path, sink_types_);
  if (!fresh) {
    log_->error("Reload rejected; the running configuration stays. error={}",
                fresh.error().ToString());
    ReloadCounter("rejected").Inc();
    // Kept in StatusLine() (the heartbeat rewrites STATUS= every second)
    // until a reload succeeds.
    last_reload_error_ = fresh.error().ToString();
    last_status_ = StatusLine();
    NotifyStatus(last_status_);
    NotifyReady();
    return;
  }
  last_reload_error_.clear();

  // Fields outside feeds, by their class in the table.
  const std::vector<ConfigField> table = ConfigFieldTable(sink_types_);
  std::vector<std::string> live, restart;
  for (const std::string& path : ChangedFields(sink_types_, config_, *fresh)) {
    const ConfigField* field = FindConfigField(table, path);
    const bool is_live =
        field != nullptr && field->reload == ReloadClass::kLive;
    (is_live ? live : restart).push_back(path);
  }
  ApplyLiveFields(*fresh, config_);

  // Feeds: per-feed restart of the changed ones, keeping their schedule.
  std::map<std::string, const FeedConfig*> wanted;
  for (const FeedConfig& f : fresh->feeds) wanted[f.name] = &f;
  size_t added = 0, removed = 0, changed = 0;
  std::vector<std::string> to_stop;
  std::map<std::string, std::chrono::steady_clock::time_point> schedule;
  for (const auto& [name, poller] : pollers_) {
    auto it = wanted.find(name);
    if (it == wanted.end()) {
      to_stop.push_back(name);
      ++removed;
    } else if (!(*it->second == poller->config())) {
      to_stop.push_back(name);
      schedule[name] = poller->next_poll_at();
      ++changed;
    } else if (!live.empty()) {
      poller->ApplySettings(config_);
    }
  }
  for (const auto& name : to_stop) StopFeed(name);
  config_.feeds = fresh->feeds;
  if (cluster_mode()) MapFeeds();  // before StartFeed asks who owns what
  for (const FeedConfig& f : config_.feeds) {
    if (pollers_.contains(f.name)) continue;
    auto was = schedule.find(f.name);
    if (was == schedule.end()) {
      ++added;
      StartFeed(f);
    } else {
      StartFeed(f, was->second);
    }
  }

  if (cluster_mode()) {
    // The mapping depends on the whole feed list: an added or removed feed
    // may move others between partitions (and so between daemons).
    ReconcileOwnedFeeds();
    publisher_->OwnershipChanged();
  }

  restart_pending_ = Join(restart);
  MetricsRegistry::Global()
      .GetGauge("newsflow_config_restart_pending",
                "1 while a reload changed fields that apply only after a "
                "restart.")
      .Set(restart.empty() ? 0 : 1);
  if (!restart.empty()) {
    log_->warn(
        "Reload: these changed settings apply only after a restart. "
        "fields={}",
        restart_pending_);
  }
  log_->info(
      "Configuration reloaded. feeds={} added={} removed={} changed={} "
      "live={}",
      pollers_.size(), added, removed, changed, Join(live));
  ReloadCounter("ok").Inc();
  last_status_ = StatusLine();
  NotifyStatus(last_status_);
  NotifyReady();
}

}  // namespace newsflow
