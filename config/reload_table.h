#pragma once

// The reload table: every config field (dotted YAML path) with what a
// SIGHUP reload does with a change to it, its default and a one-line
// description. The daemon's reload and the docs (newsflow.yaml(5)) read the
// same rows; config/reload_table_test fails when the loader accepts a field
// the table does not list.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace newsflow {

class SinkRegistry;
struct DaemonConfig;

enum class ReloadClass {
  kLive,         // reaches the running daemon and its pollers on reload
  kRestart,      // needs a restart; a reload logs and reports it
  kFeedRestart,  // per feed: a changed feed's poller is replaced (keeping
                 // its schedule); other feeds are untouched
};

// "live" | "restart" | "per-feed-restart".
std::string_view ReloadClassName(ReloadClass c);

struct ConfigField {
  std::string path;  // "http.user_agent", "feeds[].url", "sinks"
  ReloadClass reload = ReloadClass::kRestart;
  std::string default_value;  // as written in YAML; "" = empty / none
  std::string description;    // one line
  // For the loader's own fields outside feeds: whether two configs agree
  // on it. Null for per-feed rows (a feed is compared whole) and for
  // sink-owned rows (SinkSettings::ChangedPaths).
  std::function<bool(const DaemonConfig&, const DaemonConfig&)> same;
};

// The whole table: the loader's own fields, then each registered sink's
// (SinkDescriptor::fields), then `defaults.<key>` for every per-feed key
// that defaults: accepts (same class and description as feeds[].<key>).
std::vector<ConfigField> ConfigFieldTable(const SinkRegistry& sinks);

// The row for `path`, or nullptr.
const ConfigField* FindConfigField(const std::vector<ConfigField>& table,
                                   std::string_view path);

// Paths of the fields outside feeds whose values differ between `old` and
// `fresh` (the table's `same`, then each sink's ChangedPaths), table order.
std::vector<std::string> ChangedFields(const SinkRegistry& sinks,
                                       const DaemonConfig& old,
                                       const DaemonConfig& fresh);

// Every dotted path the loader accepts, from the same field tables it reads
// with (sections, feeds[], defaults) plus each sink's known_paths. Defined
// in config.cc.
std::vector<std::string> LoaderFieldPaths(const SinkRegistry& sinks);

}  // namespace newsflow
