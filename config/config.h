#pragma once

// The daemon's configuration: plain structs with documented defaults, and
// the YAML loader that fills and validates them.
//
// The loader never throws and never partially succeeds: it returns a fully
// validated DaemonConfig or one Error(Errc::kConfig) whose where() is
// "FILE:LINE:COL" (1-based) of the offending key or value and whose message
// starts with the YAML path, e.g.
//   newsflow.yaml:12:15: feeds[2].interval: invalid duration "15x" (use e.g.
//   90s, 15m, 1h)
// Error::ToString() gives exactly that line (what `check-config` prints).
// See config/newsflow.example.yaml for every key and config/README.md for
// the rules.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/core/cluster.h"
#include "daemon/core/error.h"

namespace newsflow {

class SinkRegistry;
class SinkSettings;

// When to fetch the linked page instead of using the feed's own content.
enum class FullArticleMode {
  kAuto,    // fetch when the feed item looks like a teaser
  kAlways,  // always fetch the page
  kNever,   // use the feed's content only
};

// "auto" | "always" | "never".
std::string_view FullArticleModeName(FullArticleMode mode);

// --- issue 13, content helper: article filters (daemon/filter/README.md) ---
// The article field a filter rule looks at.
enum class FilterField {
  kAny,         // title, summary, text, categories and authors
  kTitle,       // title
  kText,        // content_text (and summary)
  kCategories,  // each category
  kAuthor,      // each author
  kLanguage,    // the article's language tag ("en" also matches "en-US")
};

// One include/exclude rule: `keywords` (any of them, case-insensitive,
// whole words) or `regex` (RE2 syntax, validated at load), not both.
struct FilterRule {
  FilterField field = FilterField::kAny;
  std::vector<std::string> keywords;
  std::string regex;
  bool operator==(const FilterRule&) const = default;
};

// `filters:` (top level = every feed; per feed = that feed too). An
// article passes when no `exclude` rule matches and, if there are
// `include` rules, at least one of them matches; global and feed filters
// must both pass.
struct FilterConfig {
  std::vector<FilterRule> include;
  std::vector<FilterRule> exclude;
  bool empty() const { return include.empty() && exclude.empty(); }
  bool operator==(const FilterConfig&) const = default;
};
// --- end issue 13 -----------------------------------------------------------

// One feed to poll. Unset fields fall back to the `defaults:` block, then to
// the values below; "" string fields fall back to the global setting named.
struct FeedConfig {
  std::string name;  // required, unique, [A-Za-z0-9._-]+ (max 128); the feed id
  std::string url;   // required, absolute http:// or https:// URL
  std::chrono::seconds interval{900};  // poll interval (defaults.interval, 15m)
  // `interval:` was written on this feed itself: the scheduler uses it as
  // is instead of the adaptive estimate (which applies to feeds that only
  // get defaults.interval). min/max_interval and server hints still bound it.
  bool interval_explicit = false;
  FullArticleMode full_article = FullArticleMode::kAuto;  // page fetching
  std::string user_agent;  // User-Agent; "" -> http.user_agent
  std::string proxy;       // proxy URL; "" -> http.proxy
  // Extra request headers, in config order (e.g. Authorization for a
  // private feed; use ${ENV} for the secret).
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> remove_selectors;  // CSS selectors the cleaner drops
  std::vector<std::string> keep_selectors;  // CSS selectors of the main content
  std::string language;  // language tag override; "" -> from the feed/page
  // Time zone for feed/page dates that carry none ("UTC", "+05:30", or an
  // IANA name such as "Europe/Berlin"); "" -> UTC. Validated here; applying
  // it is the parser's/normalizer's job (see config/README.md).
  std::string timezone;
  std::string cookies;  // Cookie header for feed fetches ("a=1; b=2")
  // Cookie header for the feed's article pages on its own site (same host
  // or registrable domain as `url`; e.g. a consent cookie). Issue 13.
  std::string page_cookies;
  // The feed's own article filters (issue 13), on top of the global ones.
  FilterConfig filters;
  // Per-feed keys owned by sinks (SinkDescriptor::feed_keys, e.g. a feed's
  // own destination), by key; handed to Sink::Route().
  std::map<std::string, std::string> sink_options;

  // Reload compares old and new settings to decide which pollers restart.
  bool operator==(const FeedConfig&) const = default;
};

// State store (SQLite) settings.
struct StateConfig {
  std::string path = "/var/lib/newsflow/state.db";  // directory must exist
  std::chrono::hours retention{24 *
                               90};  // article rows older than this are pruned
};

// HTTP fetcher settings.
struct HttpConfig {
  std::string user_agent = "newsflowd/0.1 (+https://github.com/newsflow)";
  std::string proxy;  // "" = no proxy (libcurl still honours no env vars)
  std::chrono::milliseconds connect_timeout{10000};  // TCP+TLS connect cap
  std::chrono::milliseconds total_timeout{30000};    // whole transfer cap
  size_t max_body_bytes = 16 << 20;  // bodies larger than this fail (too_large)
  int max_redirects = 5;             // redirect chain cap
  long max_host_connections = 2;     // concurrent connections per host
  size_t max_concurrent = 256;       // concurrent transfers overall
  // Response bodies in flight (received and not yet parsed/cleaned) across
  // all transfers; a transfer starts only when its worst case fits. Must
  // be >= max_body_bytes. See connectors/common/http/README.md.
  size_t max_body_bytes_in_flight = size_t{256} << 20;
  // Minimum spacing between request starts to one host (0 = no limit).
  std::chrono::milliseconds min_host_interval{100};
  // Let links that come from feeds (full-article fetches) reach private,
  // loopback and link-local addresses (SSRF guard off). Configured feed
  // URLs may point anywhere regardless.
  bool allow_private_targets = false;
};

// Prometheus metrics / health endpoint.
struct MetricsConfig {
  std::string listen = "127.0.0.1:9464";  // host:port; "" disables the endpoint
};

// Poll scheduling bounds (applied to every feed's adaptive interval).
struct SchedulerConfig {
  std::chrono::seconds min_interval{300};    // lower clamp, >= 1s
  std::chrono::seconds max_interval{86400};  // upper clamp, >= min_interval
  bool adaptive = true;  // derive the interval from the items' publish rate
  // Every Nth poll ignores ETag/Last-Modified (servers that wrongly answer
  // 304); 0 = never.
  int unconditional_every = 24;
  // Consistent 301/308 answers needed before the stored feed URL moves.
  int redirect_move_hits = 3;
};

// Pipeline limits.
struct PipelineConfig {
  size_t max_in_flight = 1000;  // articles handed to sinks and not yet acked
  std::chrono::seconds drain_timeout{30};  // SIGTERM: wait this long for acks
  size_t first_poll_backlog =
      0;  // items published on a feed's first poll; 0 = all
  // Threads that parse feeds and clean/extract pages (the io_context thread
  // only does I/O); 0 = one per CPU core (std::thread::hardware_concurrency).
  size_t workers = 0;
  // Polls whose page fetch for a teaser item failed (5xx, 429, timeout,
  // DNS, connect) before the item is published from the feed's own content
  // (content_source_reason "page_fetch_failed"); counted per item across
  // polls and restarts. An item whose feed text is not a teaser (full_article:
  // always) falls back at the first failure.
  int max_page_attempts = 3;
  // A feed parse running longer than this counts like a parser crash
  // (twice in a row quarantines the feed); the poll stops waiting for it.
  std::chrono::milliseconds parse_timeout{30000};
  // Feed polls in progress at once, from before the feed request until the
  // poll's articles are durable in the outbox (memory: at most this many
  // parsed feeds); restart to change.
  size_t max_polls_in_progress = 256;
};

// The durable outbox (daemon/runtime/publisher.h): built articles wait
// there, in the state store's file, until the sink acknowledges them.
struct OutboxConfig {
  // Disk budget; fetching pauses while the outbox holds this much.
  // 0 = automatic: min(1 GiB, 10 % of the free space of the state
  // directory at start) (DefaultOutboxMaxBytes).
  uint64_t max_bytes = 0;
};

// Logging.
struct LogConfig {
  std::string level = "info";   // trace|debug|info|warn|error|critical|off
  std::string format = "text";  // text|json
};

// Everything newsflowd reads from its YAML file.
struct DaemonConfig {
  StateConfig state;
  HttpConfig http;
  MetricsConfig metrics;
  SchedulerConfig scheduler;
  PipelineConfig pipeline;
  OutboxConfig outbox;
  LogConfig log;
  // Sink types articles go to, as listed in `sinks:` (registered names, no
  // duplicates); absent: the first registered type. Non-empty once loaded.
  std::vector<std::string> sinks;
  // Settings of every registered sink type (listed in `sinks:` or not), by
  // type, as read by its descriptor from the keys it owns.
  std::map<std::string, std::shared_ptr<const SinkSettings>, std::less<>>
      sink_settings;
  // Feeds from the main file, then from `include:` files (in order, files
  // of one pattern sorted by name), then from `opml:` files. May be empty
  // (the daemon then idles).
  std::vector<FeedConfig> feeds;
  // Global article filters (`filters:`), for every feed. Issue 13.
  FilterConfig filters;
  // `cluster:` (issue 15, docs/cluster.md): several daemons share the feeds
  // through the one listed sink's cluster (SinkDescriptor::create_cluster).
  // Absent: single node, nothing changes.
  std::optional<ClusterOptions> cluster;
  std::string source_path;  // file (or source name) this was loaded from

  // REQUIRES: `type` registered when this config was loaded.
  const SinkSettings& SinkSettingsFor(std::string_view type) const;
};

// Reads and validates the YAML file at `path`; the keys sinks own are read
// by their descriptors in `sinks` (connectors/builtin.h: BuiltinSinks()).
// An unreadable file is an Errc::kConfig error with where() = path.
Result<DaemonConfig> LoadConfigFile(const std::string& path,
                                    const SinkRegistry& sinks);

// Same, from memory; `source_name` is used in error locations and stored in
// source_path.
Result<DaemonConfig> LoadConfigString(std::string_view yaml,
                                      const std::string& source_name,
                                      const SinkRegistry& sinks);

}  // namespace newsflow
