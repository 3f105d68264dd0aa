#include "config/reload_table.h"

#include "config/config.h"
#include "config/sink_registry.h"

namespace newsflow {
namespace {

constexpr ReloadClass kLive = ReloadClass::kLive;
constexpr ReloadClass kRestart = ReloadClass::kRestart;
constexpr ReloadClass kFeed = ReloadClass::kFeedRestart;

// The loader's own fields, in the order of config/newsflow.example.yaml.
// Live fields reach the running pollers through FeedPoller::ApplySettings
// or are read by the daemon when used; see Daemon reload (daemon_reload.cc).
// Compares one field of two configs.
#define NF_SAME(field)                                       \
  [](const DaemonConfig& a, const DaemonConfig& b) -> bool { \
    return a.field == b.field;                               \
  }

// The same for a field of the optional `cluster:` section (present on one
// side only = different).
#define NF_SAME_CLUSTER(field)                                               \
  [](const DaemonConfig& a, const DaemonConfig& b) -> bool {                 \
    return a.cluster.has_value() == b.cluster.has_value() &&                 \
           (!a.cluster.has_value() || a.cluster->field == b.cluster->field); \
  }

const std::vector<ConfigField>& OwnFields() {
  static const std::vector<ConfigField> fields = {
      {"sinks", kRestart, "[<first registered sink>]",
       "sink types articles go to (each needs its own settings)",
       NF_SAME(sinks)},
      {"state.path", kRestart, "/var/lib/newsflow/state.db",
       "SQLite state store file (its directory must exist)",
       NF_SAME(state.path)},
      {"state.retention", kLive, "90d",
       "article rows older than this are pruned (hourly)",
       NF_SAME(state.retention)},
      {"http.user_agent", kLive, "newsflowd/0.1 (+https://github.com/newsflow)",
       "User-Agent of feed and page fetches (feeds may override)",
       NF_SAME(http.user_agent)},
      {"http.proxy", kLive, "", "proxy URL for fetches; empty = none",
       NF_SAME(http.proxy)},
      {"http.connect_timeout", kLive, "10s", "TCP+TLS connect cap per fetch",
       NF_SAME(http.connect_timeout)},
      {"http.total_timeout", kLive, "30s", "whole-transfer cap per fetch",
       NF_SAME(http.total_timeout)},
      {"http.max_body_bytes", kLive, "16MiB",
       "larger bodies fail the fetch (too_large)",
       NF_SAME(http.max_body_bytes)},
      {"http.max_redirects", kLive, "5", "redirect chain cap",
       NF_SAME(http.max_redirects)},
      {"http.max_host_connections", kRestart, "2",
       "concurrent connections per host", NF_SAME(http.max_host_connections)},
      {"http.max_concurrent", kRestart, "256", "concurrent transfers overall",
       NF_SAME(http.max_concurrent)},
      {"http.max_body_bytes_in_flight", kRestart, "256MiB",
       "response bodies received and not yet parsed, all transfers together",
       NF_SAME(http.max_body_bytes_in_flight)},
      {"http.min_host_interval", kRestart, "100ms",
       "minimum spacing between request starts to one host",
       NF_SAME(http.min_host_interval)},
      {"http.allow_private_targets", kLive, "false",
       "let links from feeds reach private/loopback addresses",
       NF_SAME(http.allow_private_targets)},
      {"metrics.listen", kRestart, "127.0.0.1:9464",
       "host:port of /metrics, /healthz, /readyz; empty = off",
       NF_SAME(metrics.listen)},
      {"scheduler.min_interval", kLive, "5m", "lower clamp of poll intervals",
       NF_SAME(scheduler.min_interval)},
      {"scheduler.max_interval", kLive, "1d", "upper clamp of poll intervals",
       NF_SAME(scheduler.max_interval)},
      {"scheduler.adaptive", kLive, "true",
       "derive intervals from the items' publish rate",
       NF_SAME(scheduler.adaptive)},
      {"scheduler.unconditional_every", kLive, "24",
       "every Nth poll ignores ETag/Last-Modified; 0 = never",
       NF_SAME(scheduler.unconditional_every)},
      {"scheduler.redirect_move_hits", kLive, "3",
       "consistent 301/308 answers before the stored feed URL moves",
       NF_SAME(scheduler.redirect_move_hits)},
      {"pipeline.max_in_flight", kRestart, "1000",
       "articles handed to sinks and not yet acknowledged",
       NF_SAME(pipeline.max_in_flight)},
      {"pipeline.drain_timeout", kLive, "30s",
       "on SIGTERM, wait this long for acknowledgements",
       NF_SAME(pipeline.drain_timeout)},
      {"pipeline.workers", kRestart, "0",
       "threads for parsing and cleaning; 0 = one per core",
       NF_SAME(pipeline.workers)},
      {"pipeline.parse_timeout", kLive, "30s",
       "a feed parse this slow counts as a parser crash (quarantine)",
       NF_SAME(pipeline.parse_timeout)},
      {"pipeline.first_poll_backlog", kLive, "0",
       "items published on a feed's first poll; 0 = all",
       NF_SAME(pipeline.first_poll_backlog)},
      {"pipeline.max_page_attempts", kLive, "3",
       "failed page fetches before a teaser is published from the feed",
       NF_SAME(pipeline.max_page_attempts)},
      {"pipeline.max_polls_in_progress", kRestart, "256",
       "feed polls in progress at once (fetch until durable in the outbox)",
       NF_SAME(pipeline.max_polls_in_progress)},
      {"outbox.max_bytes", kRestart, "0",
       "outbox disk budget; 0 = min(1GiB, 10% of free space at start)",
       NF_SAME(outbox.max_bytes)},
      {"log.level", kRestart, "info",
       "trace, debug, info, warn, error, critical or off", NF_SAME(log.level)},
      {"log.format", kRestart, "text", "text or json", NF_SAME(log.format)},
      {"filters", kLive, "{}",
       "global article filters: {include: [rule], exclude: [rule]}",
       NF_SAME(filters)},
      {"cluster.group", kRestart, "",
       "cluster mode: group id of the daemons sharing the feeds (required)",
       NF_SAME_CLUSTER(group)},
      {"cluster.exactly_once", kRestart, "false",
       "commit articles and feed state in one transaction",
       NF_SAME_CLUSTER(exactly_once)},
      {"cluster.partitions", kRestart, "60",
       "partitions of the internal streams (an existing stream keeps its own)",
       NF_SAME_CLUSTER(partitions)},
      {"cluster.instance", kRestart, "<host name>",
       "this daemon's stable name in the group (fences its old incarnation)",
       NF_SAME_CLUSTER(instance)},
      {"cluster.session_timeout", kRestart, "10s",
       "a daemon silent this long loses its feeds (3s..300s)",
       NF_SAME_CLUSTER(session_timeout)},
      {"cluster.commit_interval", kRestart, "200ms",
       "exactly_once: how often the open transaction commits",
       NF_SAME_CLUSTER(commit_interval)},
      {"include", kFeed, "",
       "more files with feeds: lists (globs, directories, files)"},
      {"opml", kFeed, "", "OPML files whose outlines become feeds"},
      {"feeds[].name", kFeed, "", "feed id: unique, [A-Za-z0-9._-]{1,128}"},
      {"feeds[].url", kFeed, "", "absolute http(s) URL of the feed"},
      {"feeds[].interval", kFeed, "15m", "poll interval"},
      {"feeds[].full_article", kFeed, "auto",
       "fetch the linked page: auto, always or never"},
      {"feeds[].user_agent", kFeed, "", "User-Agent; empty = http.user_agent"},
      {"feeds[].proxy", kFeed, "", "proxy URL; empty = http.proxy"},
      {"feeds[].headers", kFeed, "{}", "extra request headers for the feed"},
      {"feeds[].remove_selectors", kFeed, "[]",
       "CSS selectors the cleaner drops"},
      {"feeds[].keep_selectors", kFeed, "[]",
       "CSS selectors of the main content"},
      {"feeds[].cookies", kFeed, "", "Cookie header for feed fetches"},
      {"feeds[].page_cookies", kFeed, "",
       "Cookie header for article pages on the feed's own site"},
      {"feeds[].filters", kFeed, "{}",
       "the feed's article filters, on top of the global ones"},
      {"feeds[].language", kFeed, "", "language tag override"},
      {"feeds[].timezone", kFeed, "UTC",
       "zone for dates that carry none (UTC, +05:30, Europe/Berlin)"},
      {"feeds[].auth", kFeed, "",
       "{type: basic, username, password} or {type: bearer, token}"},
  };
  return fields;
}

#undef NF_SAME
#undef NF_SAME_CLUSTER

}  // namespace

std::string_view ReloadClassName(ReloadClass c) {
  switch (c) {
    case ReloadClass::kLive:
      return "live";
    case ReloadClass::kRestart:
      return "restart";
    case ReloadClass::kFeedRestart:
      return "per-feed-restart";
  }
  return "restart";
}

std::vector<ConfigField> ConfigFieldTable(const SinkRegistry& sinks) {
  std::vector<ConfigField> table = OwnFields();
  for (const SinkDescriptor& d : sinks.descriptors()) {
    table.insert(table.end(), d.fields.begin(), d.fields.end());
  }
  // defaults: takes every per-feed key but the feed's identity and auth.
  std::vector<ConfigField> defaults;
  for (const ConfigField& f : table) {
    if (!f.path.starts_with("feeds[].")) continue;
    const std::string key = f.path.substr(8);
    if (key == "name" || key == "url" || key == "auth") continue;
    ConfigField d = f;
    d.path = "defaults." + key;
    d.description = "default of feeds[]." + key;
    defaults.push_back(std::move(d));
  }
  table.insert(table.end(), defaults.begin(), defaults.end());
  return table;
}

std::vector<std::string> ChangedFields(const SinkRegistry& sinks,
                                       const DaemonConfig& old,
                                       const DaemonConfig& fresh) {
  std::vector<std::string> out;
  for (const ConfigField& f : OwnFields()) {
    if (f.same && !f.same(old, fresh)) out.push_back(f.path);
  }
  for (const SinkDescriptor& d : sinks.descriptors()) {
    auto a = old.sink_settings.find(d.type);
    auto b = fresh.sink_settings.find(d.type);
    if (a == old.sink_settings.end() || b == fresh.sink_settings.end()) {
      continue;
    }
    for (std::string& path : a->second->ChangedPaths(*b->second)) {
      out.push_back(std::move(path));
    }
  }
  return out;
}

const ConfigField* FindConfigField(const std::vector<ConfigField>& table,
                                   std::string_view path) {
  for (const ConfigField& f : table) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

}  // namespace newsflow
