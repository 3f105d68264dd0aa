#include "config/config.h"

#include <glob.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <cassert>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <pugixml.hpp>
#include <sstream>

#include "config/reload_table.h"
#include "config/sink_registry.h"
#include "config/yaml_fields.h"
#include "daemon/cleaner/selector_syntax.h"
#include "daemon/core/text_util.h"
#include "daemon/core/url.h"

namespace newsflow {
namespace {

using namespace std::chrono_literals;
using yaml_fields::Field;
using yaml_fields::Source;

// A check on a string value; returns the problem, or nullopt when valid.
using Check = std::function<std::optional<std::string>(const std::string&)>;

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool IsAsciiAlnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

std::optional<std::string> CheckHttpUrl(const std::string& url) {
  const std::string bad = "invalid URL " + Quote(url) +
                          " (need an absolute http:// or https:// URL)";
  // The URL model (daemon/core/url.h) decides what the URL is; an operator's
  // URL must in addition be written out in full: no spaces or controls, and
  // none of the slips a browser forgives ("http:///x", "http://h:/").
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad;
  }
  Result<Url> parsed = Url::Parse(url);
  if (!parsed || !parsed->IsHttp()) return bad;
  const size_t colon = url.find(':');
  if (url.compare(colon, 3, "://") != 0 || colon + 3 >= url.size() ||
      url[colon + 3] == '/' || url[colon + 3] == '\\') {
    return bad;
  }
  const size_t end = url.find_first_of("/?#\\", colon + 3);
  const std::string authority = url.substr(colon + 3, end - colon - 3);
  if (authority.ends_with(':')) return bad;
  return std::nullopt;
}

std::optional<std::string> CheckFeedName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 128;
  for (char c : name) {
    ok = ok && (IsAsciiAlnum(c) || c == '.' || c == '_' || c == '-');
  }
  if (ok) return std::nullopt;
  return "invalid feed name " + Quote(name) +
         " (use 1-128 of A-Z a-z 0-9 . _ -)";
}

// cluster.group and cluster.instance: they name topics/streams and the
// transactional identity, so the broker-safe alphabet only.
std::optional<std::string> CheckClusterName(const std::string& name,
                                            bool allow_empty) {
  if (name.empty() && allow_empty) return std::nullopt;
  bool ok = !name.empty() && name.size() <= 200;
  for (char c : name) {
    ok = ok && (IsAsciiAlnum(c) || c == '.' || c == '_' || c == '-');
  }
  if (ok) return std::nullopt;
  return "invalid name " + Quote(name) + " (use 1-200 of A-Z a-z 0-9 . _ -)";
}

std::optional<std::string> CheckNonEmpty(const std::string& s) {
  if (s.empty()) return "must not be empty";
  return std::nullopt;
}

// A filter regex: RE2 syntax (linear time, no backreferences), compiled
// once here to report errors at load; daemon/filter compiles it again.
std::optional<std::string> CheckRegex(const std::string& pattern) {
  if (pattern.empty()) return "empty regular expression";
  RE2::Options options;
  options.set_log_errors(false);
  RE2 re(pattern, options);
  if (!re.ok()) return "invalid regular expression (RE2): " + re.error();
  return std::nullopt;
}

std::optional<std::string> CheckLanguage(const std::string& tag) {
  // BCP 47 shape only: a 2-8 letter primary subtag, then 1-8 alnum subtags.
  size_t i = 0;
  size_t n = 0;
  while (i < tag.size() && std::isalpha(static_cast<unsigned char>(tag[i]))) {
    ++i;
    ++n;
  }
  bool ok = n >= 2 && n <= 8;
  while (ok && i < tag.size()) {
    ok = tag[i] == '-';
    ++i;
    n = 0;
    while (i < tag.size() && IsAsciiAlnum(tag[i])) {
      ++i;
      ++n;
    }
    ok = ok && n >= 1 && n <= 8;
  }
  if (ok) return std::nullopt;
  return "invalid language tag " + Quote(tag) + " (use e.g. en, de, pt-BR)";
}

std::optional<std::string> CheckListen(const std::string& listen) {
  if (listen.empty()) return std::nullopt;  // metrics disabled
  size_t colon = listen.rfind(':');
  const std::string bad = "invalid listen address " + Quote(listen) +
                          " (use host:port, e.g. 127.0.0.1:9464 or [::1]:9464)";
  if (colon == std::string::npos || colon == 0) return bad;
  std::string host = listen.substr(0, colon);
  std::string port = listen.substr(colon + 1);
  if (host.find(':') != std::string::npos &&
      !(host.front() == '[' && host.back() == ']')) {
    return bad;
  }
  if (port.empty() || port.size() > 5) return bad;
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return bad;
  }
  if (std::stoi(port) > 65535) return bad;
  return std::nullopt;
}

std::optional<std::string> CheckHeader(const std::string& name,
                                       const std::string& value) {
  static constexpr std::string_view kTokenExtra = "!#$%&'*+-.^_`|~";
  bool ok = !name.empty();
  for (char c : name) {
    ok = ok && (IsAsciiAlnum(c) || kTokenExtra.find(c) != std::string::npos);
  }
  if (!ok) return "invalid header name " + Quote(name);
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') {
      return "header " + Quote(name) + " has a line break in its value";
    }
  }
  return std::nullopt;
}

std::optional<std::string> CheckTimezone(const std::string& tz) {
  if (tz.empty() || tz == "UTC" || tz == "Z") return std::nullopt;
  const std::string bad = "invalid time zone " + Quote(tz) +
                          " (use UTC, an offset like +05:30, or an IANA name "
                          "like Europe/Berlin)";
  if (tz[0] == '+' || tz[0] == '-') {
    // +HH:MM or +HHMM, |offset| <= 14h.
    std::string digits;
    for (size_t i = 1; i < tz.size(); ++i) {
      if (tz[i] == ':' && i == 3) continue;
      if (!std::isdigit(static_cast<unsigned char>(tz[i]))) return bad;
      digits += tz[i];
    }
    if (digits.size() != 4) return bad;
    const int hours = std::stoi(digits.substr(0, 2));
    const int minutes = std::stoi(digits.substr(2));
    if (minutes > 59 || hours * 60 + minutes > 14 * 60) return bad;
    return std::nullopt;
  }
  for (char c : tz) {
    if (!(IsAsciiAlnum(c) || c == '/' || c == '_' || c == '-' || c == '+')) {
      return bad;
    }
  }
  if (tz.find("..") != std::string::npos || tz.front() == '/') return bad;
  // With tzdata installed, the name must exist; without it, the shape check
  // above is all we can do.
  std::error_code ec;
  if (std::filesystem::is_directory("/usr/share/zoneinfo", ec) &&
      !std::filesystem::is_regular_file("/usr/share/zoneinfo/" + tz, ec)) {
    return "unknown time zone " + Quote(tz) + " (not in /usr/share/zoneinfo)";
  }
  return std::nullopt;
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v =
        (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint8_t(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// "FILE:LINE:COL" for a byte offset into `text` (1-based, columns in bytes).
std::string WhereOffset(const std::string& file, const std::string& text,
                        size_t offset) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return file + ":" + std::to_string(line) + ":" + std::to_string(col);
}

// A feed name made from an OPML outline title: lower case, runs of other
// characters turned into '-', at most 128 characters.
std::string Slug(std::string_view title) {
  std::string out;
  for (char c : title) {
    if (IsAsciiAlnum(c) || c == '.' || c == '_') {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && (out.back() == '-' || out.back() == '.'))
    out.pop_back();
  if (out.size() > 128) out.resize(128);
  return out;
}

bool ReadWholeFile(const std::string& path, std::string* out,
                   std::string* problem) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    *problem = "is a directory";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *problem = std::strerror(errno);
    return false;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  *out = buf.str();
  return true;
}

// Reads the YAML tree into a DaemonConfig. One Loader per document.
class Loader {
 public:
  Loader(Source src, const SinkRegistry& sinks)
      : src_(std::move(src)), sinks_(sinks) {}

  Result<DaemonConfig> Load(const YAML::Node& root) {
    if (root.IsDefined() && !root.IsNull() && !root.IsMap()) {
      return src_.ErrorAt(root, "the document must be a map of settings");
    }
    YAML::Node defaults_node, feeds_node, sinks_node, include_node, opml_node;
    std::vector<Field> top;
    for (auto& [key, fields] : Sections()) {
      top.push_back(Section(key, std::move(fields)));
    }
    top.push_back(Keep("defaults", &defaults_node));
    top.push_back(Keep("feeds", &feeds_node));
    top.push_back(Keep("include", &include_node));
    top.push_back(Keep("opml", &opml_node));
    top.push_back(Field{
        "filters",
        [this](const YAML::Node& n, const std::string& path) -> Result<void> {
          return ReadFilters(n, path, &cfg_.filters);
        }});
    ClusterOptions cluster;
    top.push_back(Field{
        "cluster",
        [this, &cluster](const YAML::Node& n,
                         const std::string& path) -> Result<void> {
          cluster_node_ = n;
          return yaml_fields::ReadMap(src_, n, path, ClusterFields(&cluster));
        }});
    top.push_back(
        Field{"sinks",
              [this, &sinks_node](const YAML::Node& n,
                                  const std::string& path) -> Result<void> {
                sinks_node = n;
                return ReadSinks(n, path);
              }});
    // Keys the sinks own are kept and handed to their descriptors below.
    std::map<std::string, YAML::Node, std::less<>> sink_nodes;
    for (const SinkDescriptor& d : sinks_.descriptors()) {
      for (const std::string& key : d.keys) {
        top.push_back(Keep(key, &sink_nodes[key]));
      }
    }
    if (auto r = yaml_fields::ReadMap(src_, root, "", top); !r) {
      return r.error();
    }
    for (const SinkDescriptor& d : sinks_.descriptors()) {
      yaml_fields::SinkYaml yaml{src_, {}};
      for (const std::string& key : d.keys) yaml.nodes[key] = sink_nodes[key];
      auto settings = d.parse(yaml);
      if (!settings) return settings.error();
      cfg_.sink_settings[d.type] = std::move(*settings);
    }
    if (cfg_.sinks.empty() && !sinks_.descriptors().empty()) {
      cfg_.sinks.push_back(sinks_.descriptors().front().type);
    }

    // Cross-field checks, each pointing at the node that is wrong.
    if (cfg_.scheduler.min_interval > cfg_.scheduler.max_interval) {
      return src_.ErrorAt(
          max_interval_mark_,
          "scheduler.max_interval: must be >= min_interval (" +
              yaml_fields::FormatDuration(cfg_.scheduler.min_interval) + ")");
    }
    if (cfg_.http.max_body_bytes_in_flight < cfg_.http.max_body_bytes) {
      // Without its mark the budget is the default: point at max_body_bytes.
      return src_.ErrorAt(
          body_budget_mark_.is_null() ? max_body_mark_ : body_budget_mark_,
          "http.max_body_bytes_in_flight: must be >= max_body_bytes (" +
              std::to_string(cfg_.http.max_body_bytes) + " bytes)");
    }
    for (const std::string& type : cfg_.sinks) {
      const SinkDescriptor* d = sinks_.Find(type);
      assert(d != nullptr);  // ReadSinks accepts registered types only
      if (!d->check_enabled) continue;
      if (auto problem = d->check_enabled(*cfg_.sink_settings.at(type))) {
        return src_.ErrorAt(sinks_node,
                            "sinks: " + Quote(type) + " " + *problem);
      }
    }

    if (cluster_node_.IsDefined() && !cluster_node_.IsNull()) {
      if (auto r = CheckCluster(cluster); !r) return r.error();
      cfg_.cluster = std::move(cluster);
    }

    // `defaults:` must be applied before feeds whatever the key order.
    FeedConfig feed_template;
    if (auto r = yaml_fields::ReadMap(src_, defaults_node, "defaults",
                                      FeedFields(&feed_template, false));
        !r) {
      return r.error();
    }
    if (auto r = ReadFeeds(feeds_node, feed_template); !r) return r.error();
    if (auto r = ReadIncludes(include_node, feed_template); !r)
      return r.error();
    if (auto r = ReadOpml(opml_node, feed_template); !r) return r.error();
    return std::move(cfg_);
  }

 private:
  Field Section(std::string_view key, std::vector<Field> fields) {
    return Field{
        key,
        [this, fields = std::move(fields)](
            const YAML::Node& n, const std::string& path) -> Result<void> {
          return yaml_fields::ReadMap(src_, n, path, fields);
        }};
  }

  // `cluster:` (issue 15). Its presence is what turns cluster mode on.
  std::vector<Field> ClusterFields(ClusterOptions* c) {
    return {
        Field{"group",
              [this, c](const YAML::Node& n, const std::string& path) {
                return Str("group", &c->group,
                           [](const std::string& s) {
                             return CheckClusterName(s, false);
                           })
                    .read(n, path);
              }},
        Enum<bool>("exactly_once", &c->exactly_once,
                   {{"false", false}, {"true", true}}),
        Int("partitions", &c->partitions, 1, 100000),
        Field{"instance",
              [this, c](const YAML::Node& n, const std::string& path) {
                return Str("instance", &c->instance,
                           [](const std::string& s) {
                             return CheckClusterName(s, true);
                           })
                    .read(n, path);
              }},
        Dur<std::chrono::milliseconds>("session_timeout", &c->session_timeout,
                                       3s, 300s),
        Dur<std::chrono::milliseconds>("commit_interval", &c->commit_interval,
                                       10ms, 60s),
    };
  }

  // Cross-field rules of `cluster:`: a group, and exactly one listed sink
  // that can carry a cluster (fan-out + cluster is not defined).
  Result<void> CheckCluster(const ClusterOptions& c) {
    if (!cluster_node_.IsMap()) {
      return src_.ErrorAt(cluster_node_,
                          "cluster: must be a map with at least `group`");
    }
    if (c.group.empty()) {
      return src_.ErrorAt(cluster_node_,
                          "cluster: missing required key \"group\"");
    }
    if (cfg_.sinks.size() != 1) {
      return src_.ErrorAt(cluster_node_,
                          "cluster: needs exactly one sink in `sinks:` (" +
                              std::to_string(cfg_.sinks.size()) +
                              " listed; fan-out is not defined in cluster "
                              "mode)");
    }
    const SinkDescriptor* d = sinks_.Find(cfg_.sinks.front());
    assert(d != nullptr);
    if (!d->create_cluster) {
      return src_.ErrorAt(cluster_node_,
                          "cluster: sink " + Quote(d->type) +
                              " cannot carry a cluster (use a sink that "
                              "can, see docs/cluster.md)");
    }
    return {};
  }

  Field Keep(std::string_view key, YAML::Node* out) {
    return Field{
        key, [out](const YAML::Node& n, const std::string&) -> Result<void> {
          *out = n;
          return {};
        }};
  }

  // A string field with an optional validity check.
  Field Str(std::string_view key, std::string* out, Check check = {}) {
    return Field{key,
                 [this, out, check](const YAML::Node& n,
                                    const std::string& path) -> Result<void> {
                   auto s = yaml_fields::ReadString(src_, n, path);
                   if (!s) return s.error();
                   if (check) {
                     if (auto problem = check(*s)) {
                       return src_.ErrorAt(n, path + ": " + *problem);
                     }
                   }
                   *out = std::move(*s);
                   return {};
                 }};
  }

  // An integer field of any integral type, range-checked.
  template <class T>
  Field Int(std::string_view key, T* out, int64_t min, int64_t max) {
    return Field{
        key,
        [this, out, min, max](const YAML::Node& n,
                              const std::string& path) -> Result<void> {
          auto v = yaml_fields::ReadInt(src_, n, path, min, max);
          if (!v) return v.error();
          *out = static_cast<T>(*v);
          return {};
        }};
  }

  template <class D>
  Field Dur(std::string_view key, D* out, D min, D max) {
    return yaml_fields::DurationField(src_, key, out, min, max);
  }

  // One of a fixed set of words; `*out` gets the index into `names`.
  template <class E>
  Field Enum(std::string_view key, E* out,
             std::vector<std::pair<std::string_view, E>> names) {
    return Field{
        key,
        [this, out, names = std::move(names)](
            const YAML::Node& n, const std::string& path) -> Result<void> {
          auto s = yaml_fields::ReadString(src_, n, path);
          if (!s) return s.error();
          std::string expected;
          for (size_t i = 0; i < names.size(); ++i) {
            if (names[i].first == *s) {
              *out = names[i].second;
              return {};
            }
            if (i > 0) expected += i + 1 == names.size() ? " or " : ", ";
            expected += names[i].first;
          }
          return src_.ErrorAt(n, path + ": invalid value " + Quote(*s) +
                                     " (expected " + expected + ")");
        }};
  }

  // The loader's own sections (sink-owned keys come from the registry).
  std::vector<std::pair<std::string_view, std::vector<Field>>> Sections() {
    std::vector<std::pair<std::string_view, std::vector<Field>>> out;
    out.emplace_back("state", StateFields());
    out.emplace_back("http", HttpFields());
    out.emplace_back("metrics", MetricsFields());
    out.emplace_back("scheduler", SchedulerFields());
    out.emplace_back("pipeline", PipelineFields());
    out.emplace_back("outbox", OutboxFields());
    out.emplace_back("log", LogFields());
    return out;
  }

 public:
  // For LoaderFieldPaths(): every dotted path the tables above accept.
  std::vector<std::string> FieldPaths() {
    std::vector<std::string> out;
    for (auto& [section, fields] : Sections()) {
      for (const Field& f : fields) {
        out.push_back(std::string(section) + "." + std::string(f.key));
      }
    }
    FeedConfig feed;
    PendingAuth auth;
    YAML::Node name_node;
    for (const Field& f : FeedFields(&feed, true, &name_node, &auth)) {
      out.push_back("feeds[]." + std::string(f.key));
    }
    for (const Field& f : FeedFields(&feed, false)) {
      out.push_back("defaults." + std::string(f.key));
    }
    for (const char* key : {"sinks", "include", "opml", "filters"})
      out.push_back(key);
    ClusterOptions cluster;
    for (const Field& f : ClusterFields(&cluster)) {
      out.push_back("cluster." + std::string(f.key));
    }
    for (const SinkDescriptor& d : sinks_.descriptors()) {
      for (std::string& path : d.known_paths()) out.push_back(std::move(path));
    }
    return out;
  }

 private:
  std::vector<Field> StateFields() {
    StateConfig& s = cfg_.state;
    return {
        Str("path", &s.path, CheckNonEmpty),
        Dur<std::chrono::hours>("retention", &s.retention, 1h,
                                std::chrono::hours(24 * 365 * 100)),
    };
  }

  std::vector<Field> HttpFields() {
    HttpConfig& h = cfg_.http;
    return {
        Str("user_agent", &h.user_agent, CheckNonEmpty),
        Str("proxy", &h.proxy),
        Dur<std::chrono::milliseconds>("connect_timeout", &h.connect_timeout,
                                       1ms, 1h),
        Dur<std::chrono::milliseconds>("total_timeout", &h.total_timeout, 1ms,
                                       24h),
        Field{"max_body_bytes",
              [this](const YAML::Node& n,
                     const std::string& path) -> Result<void> {
                auto v = yaml_fields::ReadSize(src_, n, path);
                if (!v) return v.error();
                if (*v < 1024 || *v > (1ULL << 30)) {
                  return src_.ErrorAt(n,
                                      path + ": " + std::to_string(*v) +
                                          " bytes is out of range 1KiB..1GiB");
                }
                max_body_mark_ = n.Mark();
                cfg_.http.max_body_bytes = static_cast<size_t>(*v);
                return {};
              }},
        Int("max_redirects", &h.max_redirects, 0, 50),
        Int("max_host_connections", &h.max_host_connections, 1, 1000),
        Int("max_concurrent", &h.max_concurrent, 1, 100000),
        Field{"max_body_bytes_in_flight",
              [this](const YAML::Node& n,
                     const std::string& path) -> Result<void> {
                auto v = yaml_fields::ReadSize(src_, n, path);
                if (!v) return v.error();
                if (*v < 1024 || *v > (1ULL << 40)) {
                  return src_.ErrorAt(n,
                                      path + ": " + std::to_string(*v) +
                                          " bytes is out of range 1KiB..1TiB");
                }
                body_budget_mark_ = n.Mark();
                cfg_.http.max_body_bytes_in_flight = static_cast<size_t>(*v);
                return {};
              }},
        Dur<std::chrono::milliseconds>("min_host_interval",
                                       &h.min_host_interval, 0ms, 1h),
        Enum<bool>("allow_private_targets", &h.allow_private_targets,
                   {{"false", false}, {"true", true}}),
    };
  }

  std::vector<Field> MetricsFields() {
    return {Str("listen", &cfg_.metrics.listen, CheckListen)};
  }

  std::vector<Field> SchedulerFields() {
    SchedulerConfig& s = cfg_.scheduler;
    return {
        Dur<std::chrono::seconds>("min_interval", &s.min_interval, 1s,
                                  24h * 30),
        Field{"max_interval",
              [this](const YAML::Node& n,
                     const std::string& path) -> Result<void> {
                max_interval_mark_ = n.Mark();
                return Dur<std::chrono::seconds>("max_interval",
                                                 &cfg_.scheduler.max_interval,
                                                 1s, 24h * 365)
                    .read(n, path);
              }},
        Enum<bool>("adaptive", &s.adaptive, {{"true", true}, {"false", false}}),
        Int("unconditional_every", &s.unconditional_every, 0, 1'000'000),
        Int("redirect_move_hits", &s.redirect_move_hits, 1, 1000),
    };
  }

  std::vector<Field> PipelineFields() {
    PipelineConfig& p = cfg_.pipeline;
    return {
        Int("max_in_flight", &p.max_in_flight, 1, 10'000'000),
        Dur<std::chrono::seconds>("drain_timeout", &p.drain_timeout, 0s, 1h),
        Int("first_poll_backlog", &p.first_poll_backlog, 0, 1'000'000),
        Int("workers", &p.workers, 0, 256),
        Int("max_page_attempts", &p.max_page_attempts, 1, 1000),
        Dur<std::chrono::milliseconds>("parse_timeout", &p.parse_timeout, 1ms,
                                       1h),
        Int("max_polls_in_progress", &p.max_polls_in_progress, 1, 100'000),
    };
  }

  std::vector<Field> OutboxFields() {
    return {
        Field{"max_bytes",
              [this](const YAML::Node& n,
                     const std::string& path) -> Result<void> {
                auto v = yaml_fields::ReadSize(src_, n, path);
                if (!v) return v.error();
                if (*v != 0 && (*v < 1024 || *v > (1ULL << 50))) {
                  return src_.ErrorAt(
                      n, path + ": " + std::to_string(*v) +
                             " bytes is out of range (0 = automatic, or "
                             "1KiB..1PiB)");
                }
                cfg_.outbox.max_bytes = *v;
                return {};
              }},
    };
  }

  std::vector<Field> LogFields() {
    LogConfig& l = cfg_.log;
    return {
        Enum<std::string>("level", &l.level,
                          {{"trace", "trace"},
                           {"debug", "debug"},
                           {"info", "info"},
                           {"warn", "warn"},
                           {"error", "error"},
                           {"critical", "critical"},
                           {"off", "off"}}),
        Enum<std::string>("format", &l.format,
                          {{"text", "text"}, {"json", "json"}}),
    };
  }

  // Fields of a feed entry; `identity` adds name and url (not in defaults).
  // `name_node` receives the name's node for duplicate reporting.
  // `auth` receives the Authorization header built from an `auth:` block
  // (feeds only; applied after the whole entry is read).
  struct PendingAuth {
    std::string header;
    YAML::Node node;
  };
  std::vector<Field> FeedFields(FeedConfig* f, bool identity,
                                YAML::Node* name_node = nullptr,
                                PendingAuth* auth = nullptr) {
    std::vector<Field> fields;
    if (identity) {
      fields.push_back(Field{
          "name",
          [this, f, name_node](const YAML::Node& n, const std::string& path) {
            if (name_node) *name_node = n;
            return Str("name", &f->name, CheckFeedName).read(n, path);
          }});
      fields.push_back(Str("url", &f->url, CheckHttpUrl));
    }
    if (identity) {
      fields.push_back(Field{
          "interval", [this, f](const YAML::Node& n, const std::string& path) {
            auto read = Dur<std::chrono::seconds>("interval", &f->interval, 1s,
                                                  24h * 30)
                            .read(n, path);
            if (read && !n.IsNull()) f->interval_explicit = true;
            return read;
          }});
    } else {
      fields.push_back(
          Dur<std::chrono::seconds>("interval", &f->interval, 1s, 24h * 30));
    }
    fields.push_back(
        Enum<FullArticleMode>("full_article", &f->full_article,
                              {{"auto", FullArticleMode::kAuto},
                               {"always", FullArticleMode::kAlways},
                               {"never", FullArticleMode::kNever}}));
    // Per-feed keys the sinks own (e.g. a feed's own destination).
    for (const SinkDescriptor& d : sinks_.descriptors()) {
      for (const std::string& key : d.feed_keys) {
        fields.push_back(
            Field{key,
                  [this, f, &d, &key](const YAML::Node& n,
                                      const std::string& path) -> Result<void> {
                    auto v = yaml_fields::ReadString(src_, n, path);
                    if (!v) return v.error();
                    if (d.check_feed_value) {
                      if (auto problem = d.check_feed_value(key, *v)) {
                        return src_.ErrorAt(n, path + ": " + *problem);
                      }
                    }
                    f->sink_options[key] = std::move(*v);
                    return {};
                  }});
      }
    }
    fields.push_back(Str("user_agent", &f->user_agent));
    fields.push_back(Str("proxy", &f->proxy));
    fields.push_back(Field{
        "headers",
        [this, f](const YAML::Node& n,
                  const std::string& path) -> Result<void> {
          auto m = yaml_fields::ReadStringMap(src_, n, path);
          if (!m) return m.error();
          for (auto& [name, value] : *m) {
            if (auto problem = CheckHeader(name, value)) {
              return src_.ErrorAt(
                  n[name], yaml_fields::JoinPath(path, name) + ": " + *problem);
            }
          }
          f->headers = std::move(*m);
          return {};
        }});
    for (auto [key, out] : {std::pair{"remove_selectors", &f->remove_selectors},
                            std::pair{"keep_selectors", &f->keep_selectors}}) {
      fields.push_back(Field{
          key,
          [this, out = out](const YAML::Node& n,
                            const std::string& path) -> Result<void> {
            auto list = yaml_fields::ReadStringList(src_, n, path);
            if (!list) return list.error();
            for (size_t i = 0; i < list->size(); ++i) {
              if ((*list)[i].empty()) {
                return src_.ErrorAt(
                    n[i], yaml_fields::IndexPath(path, i) + ": empty selector");
              }
              // What the selector engine does not support would match
              // nothing, silently: rejected here instead.
              if (auto e = cleaner::ParseSelectorGroup((*list)[i], nullptr)) {
                return src_.ErrorAt(
                    n[i], yaml_fields::IndexPath(path, i) + ": selector " +
                              Quote((*list)[i]) + ": " + e->message +
                              " (at character " +
                              std::to_string(e->offset + 1) + ")");
              }
            }
            *out = std::move(*list);
            return {};
          }});
    }
    fields.push_back(Str("cookies", &f->cookies));
    fields.push_back(Str("page_cookies", &f->page_cookies));
    fields.push_back(Field{"filters",
                           [this, f](const YAML::Node& n,
                                     const std::string& path) -> Result<void> {
                             return ReadFilters(n, path, &f->filters);
                           }});
    // Credentials are spelled one way: `auth:` (below), which becomes an
    // Authorization header for feed fetches only.
    fields.push_back(Str("language", &f->language, [](const std::string& s) {
      return s.empty() ? std::nullopt : CheckLanguage(s);
    }));
    fields.push_back(Str("timezone", &f->timezone, CheckTimezone));
    if (identity && auth != nullptr) {
      fields.push_back(
          Field{"auth",
                [this, auth](const YAML::Node& n, const std::string& path)
                    -> Result<void> { return ReadAuth(n, path, auth); }});
    }
    return fields;
  }

  // filters: {include: [RULE...], exclude: [RULE...]}, RULE = {field:
  // any|title|text|categories|author|language, keywords: [..] | regex: ".."}.
  // Regexes are compiled with RE2 here, so a bad one is a FILE:LINE:COL
  // error of check-config, never a surprise at run time.
  Result<void> ReadFilters(const YAML::Node& n, const std::string& path,
                           FilterConfig* out) {
    FilterConfig filters;
    auto rules = [this](std::vector<FilterRule>* list) {
      return [this, list](const YAML::Node& seq,
                          const std::string& path) -> Result<void> {
        if (!seq.IsSequence()) {
          return src_.ErrorAt(seq, path + ": expected a list of rules");
        }
        for (size_t i = 0; i < seq.size(); ++i) {
          auto rule = ReadFilterRule(seq[i], yaml_fields::IndexPath(path, i));
          if (!rule) return rule.error();
          list->push_back(std::move(*rule));
        }
        return {};
      };
    };
    std::vector<Field> fields = {Field{"include", rules(&filters.include)},
                                 Field{"exclude", rules(&filters.exclude)}};
    if (auto r = yaml_fields::ReadMap(src_, n, path, fields); !r) return r;
    *out = std::move(filters);
    return {};
  }

  Result<FilterRule> ReadFilterRule(const YAML::Node& n,
                                    const std::string& path) {
    if (!n.IsMap()) {
      return src_.ErrorAt(n, path +
                                 ": expected a rule such as {field: title, "
                                 "keywords: [word]} or {regex: \"...\"}");
    }
    FilterRule rule;
    bool has_keywords = false;
    bool has_regex = false;
    std::vector<Field> fields = {
        Enum<FilterField>("field", &rule.field,
                          {{"any", FilterField::kAny},
                           {"title", FilterField::kTitle},
                           {"text", FilterField::kText},
                           {"categories", FilterField::kCategories},
                           {"author", FilterField::kAuthor},
                           {"language", FilterField::kLanguage}}),
        Field{"keywords",
              [&](const YAML::Node& v, const std::string& p) -> Result<void> {
                auto list = yaml_fields::ReadStringList(src_, v, p);
                if (!list) return list.error();
                if (list->empty()) return src_.ErrorAt(v, p + ": empty list");
                for (size_t i = 0; i < list->size(); ++i) {
                  if ((*list)[i].find_first_not_of(" \t") ==
                      std::string::npos) {
                    return src_.ErrorAt(
                        v[i], yaml_fields::IndexPath(p, i) + ": empty keyword");
                  }
                }
                rule.keywords = std::move(*list);
                has_keywords = true;
                return {};
              }},
        Field{"regex",
              [&](const YAML::Node& v, const std::string& p) -> Result<void> {
                auto re = yaml_fields::ReadString(src_, v, p);
                if (!re) return re.error();
                if (auto problem = CheckRegex(*re)) {
                  return src_.ErrorAt(v, p + ": " + *problem);
                }
                rule.regex = std::move(*re);
                has_regex = true;
                return {};
              }},
    };
    if (auto r = yaml_fields::ReadMap(src_, n, path, fields); !r)
      return r.error();
    if (has_keywords == has_regex) {
      return src_.ErrorAt(
          n, path + ": a rule needs either keywords or regex (exactly one)");
    }
    return rule;
  }

  // auth: {type: basic, username: U, password: P} | {type: bearer, token: T}
  // becomes an Authorization header, so the fetcher needs no auth code.
  Result<void> ReadAuth(const YAML::Node& n, const std::string& path,
                        PendingAuth* out) {
    std::string type, username, password, token;
    std::vector<Field> fields = {
        Enum<std::string>("type", &type,
                          {{"basic", "basic"}, {"bearer", "bearer"}}),
        Str("username", &username), Str("password", &password),
        Str("token", &token, CheckNonEmpty)};
    if (auto r = yaml_fields::ReadMap(src_, n, path, fields); !r) return r;
    if (type.empty()) {
      return src_.ErrorAt(
          n, path + ": missing required key \"type\" (basic or bearer)");
    }
    if (type == "basic") {
      if (username.empty() || !token.empty()) {
        return src_.ErrorAt(
            n, path + ": basic auth needs username and password (no token)");
      }
      if (username.find(':') != std::string::npos) {
        return src_.ErrorAt(n["username"],
                            path + ".username: may not contain ':'");
      }
      out->header = "Basic " + Base64(username + ":" + password);
    } else {
      if (token.empty() || !username.empty() || !password.empty()) {
        return src_.ErrorAt(
            n, path + ": bearer auth needs token (no username/password)");
      }
      out->header = "Bearer " + token;
    }
    if (auto problem = CheckHeader("Authorization", out->header)) {
      return src_.ErrorAt(n, path + ": " + *problem);
    }
    out->node = n;
    return {};
  }

  Result<void> ReadSinks(const YAML::Node& n, const std::string& path) {
    std::string known;
    const auto& all = sinks_.descriptors();
    for (size_t i = 0; i < all.size(); ++i) {
      if (i > 0) known += i + 1 == all.size() ? " or " : ", ";
      known += all[i].type;
    }
    if (!n.IsSequence()) {
      return src_.ErrorAt(n, path + ": expected a list such as [" +
                                 (all.empty() ? "" : all.front().type) + "]");
    }
    if (n.size() == 0) {
      std::string list;
      for (const SinkDescriptor& d : all) {
        list += (list.empty() ? "" : ", ") + d.type;
      }
      return src_.ErrorAt(
          n, path + ": at least one sink is needed (" + list + ")");
    }
    std::vector<std::string> sinks;
    for (size_t i = 0; i < n.size(); ++i) {
      std::string item_path = yaml_fields::IndexPath(path, i);
      auto type = yaml_fields::ReadString(src_, n[i], item_path);
      if (!type) return type.error();
      if (sinks_.Find(*type) == nullptr) {
        return src_.ErrorAt(n[i], item_path + ": invalid value " +
                                      Quote(*type) + " (expected " + known +
                                      ")");
      }
      if (std::find(sinks.begin(), sinks.end(), *type) != sinks.end()) {
        return src_.ErrorAt(
            n[i], item_path + ": sink " + Quote(*type) + " listed twice");
      }
      sinks.push_back(std::move(*type));
    }
    cfg_.sinks = std::move(sinks);
    return {};
  }

  Result<void> ReadFeeds(const YAML::Node& n, const FeedConfig& feed_template) {
    if (!n.IsDefined() || n.IsNull()) return {};
    if (!n.IsSequence()) {
      return src_.ErrorAt(n, "feeds: expected a list of feeds");
    }
    for (size_t i = 0; i < n.size(); ++i) {
      const YAML::Node& entry = n[i];
      std::string path = yaml_fields::IndexPath("feeds", i);
      if (!entry.IsMap()) {
        return src_.ErrorAt(entry, path + ": expected a map with name and url");
      }
      FeedConfig feed = feed_template;
      YAML::Node name_node;
      PendingAuth auth;
      if (auto r = yaml_fields::ReadMap(
              src_, entry, path, FeedFields(&feed, true, &name_node, &auth));
          !r) {
        return r.error();
      }
      if (!auth.header.empty()) {
        for (const auto& [name, value] : feed.headers) {
          if (ToLowerAscii(name) == "authorization") {
            return src_.ErrorAt(auth.node,
                                path +
                                    ".auth: conflicts with an Authorization "
                                    "header (from headers or defaults)");
          }
        }
        feed.headers.emplace_back("Authorization", auth.header);
      }
      // Empty values are already rejected by their checks; only absence is
      // left, reported at the entry itself.
      if (feed.name.empty() || feed.url.empty()) {
        return src_.ErrorAt(entry,
                            path + ": missing required key " +
                                Quote(feed.name.empty() ? "name" : "url"));
      }
      if (auto r = AddFeed(std::move(feed), src_.Where(name_node.Mark()),
                           path + ".name");
          !r) {
        return r.error();
      }
    }
    return {};
  }

  // Appends `feed` unless its name is taken; `where` locates its name.
  Result<void> AddFeed(FeedConfig feed, const std::string& where,
                       const std::string& path) {
    auto [it, inserted] = names_.emplace(feed.name, where);
    if (!inserted) {
      return Error(Errc::kConfig,
                   path + ": duplicate feed name " + Quote(feed.name) +
                       " (first defined at " + it->second + ")",
                   where);
    }
    cfg_.feeds.push_back(std::move(feed));
    return {};
  }

  // The directory relative paths in `include:`/`opml:` are resolved
  // against: the main file's own directory.
  std::filesystem::path BaseDir() const {
    return std::filesystem::path(main_name_).parent_path();
  }

  // Expands one include/opml entry: a directory gives its *.yaml/*.yml (or
  // *.opml/*.xml) files, a glob its matches (none is fine), a plain path
  // must exist. Sorted, so the feed order does not depend on readdir.
  Result<std::vector<std::string>> Expand(const YAML::Node& node,
                                          const std::string& path,
                                          const std::string& entry,
                                          std::vector<std::string> exts) {
    namespace fs = std::filesystem;
    fs::path p = entry;
    if (p.is_relative()) p = BaseDir() / p;
    std::vector<std::string> files;
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (const auto& e : fs::directory_iterator(p, ec)) {
        const std::string ext = e.path().extension().string();
        if (e.is_regular_file(ec) &&
            std::find(exts.begin(), exts.end(), ext) != exts.end()) {
          files.push_back(e.path().string());
        }
      }
      if (ec)
        return src_.ErrorAt(node, path + ": cannot list " + Quote(p.string()) +
                                      ": " + ec.message());
    } else if (entry.find_first_of("*?[") != std::string::npos) {
      glob_t g{};
      const int rc = ::glob(p.c_str(), 0, nullptr, &g);
      if (rc == 0) {
        for (size_t i = 0; i < g.gl_pathc; ++i)
          files.emplace_back(g.gl_pathv[i]);
      }
      ::globfree(&g);
      if (rc != 0 && rc != GLOB_NOMATCH) {
        return src_.ErrorAt(node,
                            path + ": cannot expand " + Quote(p.string()));
      }
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p.string());
    } else {
      return src_.ErrorAt(node, path + ": no such file " + Quote(p.string()));
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  // include: [conf.d/*.yaml, more.yaml, feeds.d/] — each file holds only a
  // `feeds:` list; the main file's `defaults:` apply to it.
  Result<void> ReadIncludes(const YAML::Node& n,
                            const FeedConfig& feed_template) {
    if (!n.IsDefined() || n.IsNull()) return {};
    auto entries = yaml_fields::ReadStringList(src_, n, "include");
    if (!entries) return entries.error();
    for (size_t i = 0; i < entries->size(); ++i) {
      auto files = Expand(n[i], yaml_fields::IndexPath("include", i),
                          (*entries)[i], {".yaml", ".yml"});
      if (!files) return files.error();
      for (const std::string& file : *files) {
        if (auto r = ReadIncludedFile(file, feed_template); !r) return r;
      }
    }
    return {};
  }

  Result<void> ReadIncludedFile(const std::string& file,
                                const FeedConfig& feed_template) {
    std::string text, problem;
    if (!ReadWholeFile(file, &text, &problem)) {
      return Error(Errc::kConfig, "cannot read included file: " + problem,
                   file);
    }
    // Field readers use src_ for locations and ${ENV}: point it at the
    // included file while it is read.
    const Source saved = src_;
    src_ = Source(
        file, [saved](const std::string& name) { return saved.GetEnv(name); });
    Result<void> result = [&]() -> Result<void> {
      try {
        YAML::Node root = YAML::Load(text);
        if (root.IsDefined() && !root.IsNull() && !root.IsMap()) {
          return src_.ErrorAt(
              root, "an included file must be a map with a feeds: list");
        }
        YAML::Node feeds;
        if (auto r =
                yaml_fields::ReadMap(src_, root, "", {Keep("feeds", &feeds)});
            !r) {
          return r;
        }
        return ReadFeeds(feeds, feed_template);
      } catch (const YAML::Exception& e) {
        return src_.ErrorAt(
            e.mark, "YAML syntax error: " +
                        (e.msg.empty() ? std::string(e.what()) : e.msg));
      }
    }();
    src_ = saved;
    return result;
  }

  // opml: [subscriptions.opml] — every <outline xmlUrl=...> becomes a feed
  // named after its title (slugified) with the defaults; errors point into
  // the OPML file.
  Result<void> ReadOpml(const YAML::Node& n, const FeedConfig& feed_template) {
    if (!n.IsDefined() || n.IsNull()) return {};
    auto entries = yaml_fields::ReadStringList(src_, n, "opml");
    if (!entries) return entries.error();
    for (size_t i = 0; i < entries->size(); ++i) {
      auto files = Expand(n[i], yaml_fields::IndexPath("opml", i),
                          (*entries)[i], {".opml", ".xml"});
      if (!files) return files.error();
      for (const std::string& file : *files) {
        if (auto r = ReadOpmlFile(file, feed_template); !r) return r;
      }
    }
    return {};
  }

  Result<void> ReadOpmlFile(const std::string& file,
                            const FeedConfig& feed_template) {
    std::string text, problem;
    if (!ReadWholeFile(file, &text, &problem)) {
      return Error(Errc::kConfig, "cannot read OPML file: " + problem, file);
    }
    pugi::xml_document doc;
    pugi::xml_parse_result parsed = doc.load_buffer(text.data(), text.size());
    if (!parsed) {
      return Error(Errc::kConfig,
                   std::string("opml: XML error: ") + parsed.description(),
                   WhereOffset(file, text, static_cast<size_t>(parsed.offset)));
    }
    pugi::xml_node body = doc.child("opml").child("body");
    if (!body) {
      return Error(Errc::kConfig,
                   "opml: not an OPML document (no <opml><body>)",
                   WhereOffset(file, text, 0));
    }
    // Element offsets are not kept by pugixml; find each outline's start in
    // the text, in document order, for its location.
    size_t search_from = 0;
    Result<void> result;
    // Outline folders nest a few levels; a deeper file is refused instead of
    // recursing without bound (a 100,000-deep OPML overflowed the stack).
    constexpr int kMaxOutlineDepth = 64;
    std::function<bool(pugi::xml_node, int)> walk = [&](pugi::xml_node parent,
                                                        int depth) {
      for (pugi::xml_node o : parent.children("outline")) {
        if (depth >= kMaxOutlineDepth) {
          const size_t at = text.find("<outline", search_from);
          result =
              Error(Errc::kConfig,
                    "opml: outlines nested deeper than " +
                        std::to_string(kMaxOutlineDepth),
                    WhereOffset(file, text, at == std::string::npos ? 0 : at));
          return false;
        }
        const size_t at = text.find("<outline", search_from);
        if (at != std::string::npos) search_from = at + 1;
        const std::string where =
            WhereOffset(file, text, at == std::string::npos ? 0 : at);
        const std::string url = o.attribute("xmlUrl").as_string();
        if (!url.empty()) {
          FeedConfig feed = feed_template;
          std::string title = o.attribute("title").as_string();
          if (title.empty()) title = o.attribute("text").as_string();
          feed.name = Slug(title);
          feed.url = url;
          if (feed.name.empty()) {
            result = Error(
                Errc::kConfig,
                "opml: outline has no title or text to name the feed", where);
            return false;
          }
          if (auto problem = CheckHttpUrl(url)) {
            result = Error(Errc::kConfig, "opml: xmlUrl: " + *problem, where);
            return false;
          }
          if (auto r = AddFeed(std::move(feed), where, "opml"); !r) {
            result = r;
            return false;
          }
        }
        if (!walk(o, depth + 1)) return false;
      }
      return true;
    };
    walk(body, 0);
    return result;
  }

  Source src_;
  const SinkRegistry& sinks_;
  std::string main_name_ = src_.name();
  // Feed name -> where it was first defined, across all files.
  std::map<std::string, std::string> names_;
  DaemonConfig cfg_;
  YAML::Mark max_interval_mark_ = YAML::Mark::null_mark();
  YAML::Node cluster_node_;  // `cluster:` as written (for error marks)
  YAML::Mark max_body_mark_ = YAML::Mark::null_mark();
  YAML::Mark body_budget_mark_ = YAML::Mark::null_mark();
};

}  // namespace

std::string_view FullArticleModeName(FullArticleMode mode) {
  switch (mode) {
    case FullArticleMode::kAuto:
      return "auto";
    case FullArticleMode::kAlways:
      return "always";
    case FullArticleMode::kNever:
      return "never";
  }
  return "auto";
}

const SinkSettings& DaemonConfig::SinkSettingsFor(std::string_view type) const {
  auto it = sink_settings.find(type);
  assert(it != sink_settings.end() && it->second != nullptr);
  return *it->second;
}

std::vector<std::string> LoaderFieldPaths(const SinkRegistry& sinks) {
  Loader loader(Source("(field tables)"), sinks);
  return loader.FieldPaths();
}

Result<DaemonConfig> LoadConfigString(std::string_view yaml,
                                      const std::string& source_name,
                                      const SinkRegistry& sinks) {
  Source src(source_name);
  // yaml-cpp reports failures by throwing; this is the edge where they are
  // converted. Every path below returns an Error instead.
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    Loader loader(src, sinks);
    auto cfg = loader.Load(root);
    if (!cfg) return cfg.error();
    cfg->source_path = source_name;
    return cfg;
  } catch (const YAML::Exception& e) {
    std::string msg = e.msg.empty() ? std::string(e.what()) : e.msg;
    return src.ErrorAt(e.mark, "YAML syntax error: " + msg);
  } catch (const std::exception& e) {
    return Error(Errc::kConfig, std::string("cannot load config: ") + e.what(),
                 source_name);
  }
}

Result<DaemonConfig> LoadConfigFile(const std::string& path,
                                    const SinkRegistry& sinks) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Error(Errc::kConfig, "cannot read config file: is a directory",
                 path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(
        Errc::kConfig,
        std::string("cannot read config file: ") + std::strerror(errno), path);
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    return Error(Errc::kConfig, "cannot read config file: read error", path);
  }
  return LoadConfigString(buf.str(), path, sinks);
}

}  // namespace newsflow
