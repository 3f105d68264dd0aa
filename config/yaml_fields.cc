#include "config/yaml_fields.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <set>

namespace newsflow::yaml_fields {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

std::string TypeName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Null:
      return "nothing (null)";
    case YAML::NodeType::Undefined:
      return "nothing";
  }
  return "?";
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  out.append(s);
  out += '"';
  return out;
}

// Parses an unsigned decimal number that is the whole of `s`.
std::optional<uint64_t> ParseUnsigned(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool IsEnvNameChar(char c, bool first) {
  return c == '_' || std::isalpha(static_cast<unsigned char>(c)) ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

// Reads a scalar node's text after ${VAR} substitution.
Result<std::string> ScalarText(const Source& src, const YAML::Node& node,
                               const std::string& path, std::string_view what) {
  if (!node.IsScalar()) {
    return src.ErrorAt(node, path + ": expected " + std::string(what) +
                                 ", got " + TypeName(node));
  }
  auto text = SubstituteEnv(node.Scalar(), src);
  if (!text) return src.ErrorAt(node, path + ": " + text.error().message());
  return text;
}

}  // namespace

Source::Source(std::string name, EnvLookup env)
    : name_(std::move(name)), env_(std::move(env)) {}

std::string Source::Where(const YAML::Mark& mark) const {
  if (mark.is_null() || mark.line < 0) return name_;
  return name_ + ":" + std::to_string(mark.line + 1) + ":" +
         std::to_string(mark.column + 1);
}

Error Source::ErrorAt(const YAML::Mark& mark, std::string message) const {
  return Error(Errc::kConfig, std::move(message), Where(mark));
}

Error Source::ErrorAt(const YAML::Node& node, std::string message) const {
  YAML::Mark mark = YAML::Mark::null_mark();
  if (node.IsDefined()) mark = node.Mark();
  return ErrorAt(mark, std::move(message));
}

std::optional<std::string> Source::GetEnv(const std::string& name) const {
  if (env_) return env_(name);
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::string JoinPath(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return path + "." + std::string(key);
}

std::string IndexPath(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

Result<void> ReadMap(const Source& src, const YAML::Node& map,
                     const std::string& path,
                     const std::vector<Field>& fields) {
  if (!map.IsDefined() || map.IsNull()) return {};
  const std::string where_text = path.empty() ? "at top level" : "in " + path;
  if (!map.IsMap()) {
    return src.ErrorAt(map, (path.empty() ? std::string("document") : path) +
                                ": expected a map, got " + TypeName(map));
  }
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    // Copies: it-> yields a temporary proxy, references into it dangle.
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    if (!key.IsScalar()) {
      return src.ErrorAt(key, "keys must be plain strings " + where_text);
    }
    const std::string& name = key.Scalar();
    const Field* field = nullptr;
    for (const Field& f : fields) {
      if (f.key == name) field = &f;
    }
    if (field == nullptr) {
      std::string msg = "unknown key " + Quote(name) + " " + where_text;
      size_t best = 3;
      std::string_view suggestion;
      for (const Field& f : fields) {
        size_t d = EditDistance(name, f.key);
        if (d < best) {
          best = d;
          suggestion = f.key;
        }
      }
      if (!suggestion.empty()) {
        msg += " (did you mean " + Quote(suggestion) + "?)";
      }
      return src.ErrorAt(key, std::move(msg));
    }
    if (!seen.insert(name).second) {
      return src.ErrorAt(key,
                         "duplicate key " + Quote(name) + " " + where_text);
    }
    if (value.IsNull()) continue;  // "key:" with no value = use the default
    auto r = field->read(value, JoinPath(path, name));
    if (!r) return r.error();
  }
  return {};
}

Result<std::string> ReadString(const Source& src, const YAML::Node& node,
                               const std::string& path) {
  return ScalarText(src, node, path, "a string");
}

Result<std::chrono::milliseconds> ReadDuration(const Source& src,
                                               const YAML::Node& node,
                                               const std::string& path) {
  auto text = ScalarText(src, node, path, "a duration");
  if (!text) return text.error();
  auto d = ParseDuration(*text);
  if (!d) {
    return src.ErrorAt(node, path + ": invalid duration " + Quote(*text) +
                                 " (use e.g. 90s, 15m, 1h)");
  }
  return *d;
}

Result<uint64_t> ReadSize(const Source& src, const YAML::Node& node,
                          const std::string& path) {
  auto text = ScalarText(src, node, path, "a size");
  if (!text) return text.error();
  auto v = ParseSize(*text);
  if (!v) {
    return src.ErrorAt(node, path + ": invalid size " + Quote(*text) +
                                 " (use e.g. 512KiB, 16MiB or bytes)");
  }
  return *v;
}

Result<int64_t> ReadInt(const Source& src, const YAML::Node& node,
                        const std::string& path, int64_t min, int64_t max) {
  auto text = ScalarText(src, node, path, "an integer");
  if (!text) return text.error();
  std::string_view s = Trim(*text);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
    return src.ErrorAt(node, path + ": invalid integer " + Quote(*text));
  }
  if (v < min || v > max) {
    return src.ErrorAt(node, path + ": " + std::to_string(v) +
                                 " is out of range " + std::to_string(min) +
                                 ".." + std::to_string(max));
  }
  return v;
}

Result<std::vector<std::string>> ReadStringList(const Source& src,
                                                const YAML::Node& node,
                                                const std::string& path) {
  if (!node.IsSequence()) {
    return src.ErrorAt(node, path + ": expected a list, got " + TypeName(node));
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < node.size(); ++i) {
    auto s = ReadString(src, node[i], IndexPath(path, i));
    if (!s) return s.error();
    out.push_back(std::move(*s));
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> ReadStringMap(
    const Source& src, const YAML::Node& node, const std::string& path) {
  if (!node.IsMap()) {
    return src.ErrorAt(node, path + ": expected a map, got " + TypeName(node));
  }
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;  // copy: it-> is a temporary proxy
    const YAML::Node value_node = it->second;
    if (!key.IsScalar()) {
      return src.ErrorAt(key, path + ": keys must be plain strings");
    }
    if (!seen.insert(key.Scalar()).second) {
      return src.ErrorAt(
          key, "duplicate key " + Quote(key.Scalar()) + " in " + path);
    }
    std::string value_path = JoinPath(path, key.Scalar());
    std::string value;
    if (!value_node.IsNull()) {
      auto v = ReadString(src, value_node, value_path);
      if (!v) return v.error();
      value = std::move(*v);
    }
    out.emplace_back(key.Scalar(), std::move(value));
  }
  return out;
}

Field StringField(const Source& src, std::string_view key, std::string* out) {
  return Field{key,
               [&src, out](const YAML::Node& node,
                           const std::string& path) -> Result<void> {
                 auto s = ReadString(src, node, path);
                 if (!s) return s.error();
                 *out = std::move(*s);
                 return {};
               }};
}

Field StringField(
    const Source& src, std::string_view key, std::string* out,
    std::function<std::optional<std::string>(const std::string&)> check) {
  return Field{
      key,
      [&src, out, check = std::move(check)](
          const YAML::Node& node, const std::string& path) -> Result<void> {
        auto s = ReadString(src, node, path);
        if (!s) return s.error();
        if (check) {
          if (auto problem = check(*s)) {
            return src.ErrorAt(node, path + ": " + *problem);
          }
        }
        *out = std::move(*s);
        return {};
      }};
}

YAML::Node SinkYaml::Get(std::string_view key) const {
  auto it = nodes.find(key);
  if (it == nodes.end()) return YAML::Node();
  return it->second;
}

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  std::string_view s = Trim(text);
  if (s.empty()) return std::nullopt;
  // A bare integer means seconds.
  if (auto plain = ParseUnsigned(s)) {
    if (*plain > 1'000'000'000'000ULL) return std::nullopt;
    return std::chrono::milliseconds(*plain * 1000);
  }
  // Cap at ~300 years so later conversions never overflow.
  constexpr uint64_t kMaxMs = 10'000'000'000'000ULL;
  uint64_t total_ms = 0;
  while (!s.empty()) {
    size_t digits = 0;
    while (digits < s.size() &&
           std::isdigit(static_cast<unsigned char>(s[digits])))
      ++digits;
    if (digits == 0 || digits > 15) return std::nullopt;
    uint64_t n = *ParseUnsigned(s.substr(0, digits));
    s.remove_prefix(digits);
    uint64_t unit_ms = 0;
    if (s.starts_with("ms")) {
      unit_ms = 1;
      s.remove_prefix(2);
    } else if (!s.empty() && s[0] == 's') {
      unit_ms = 1000;
      s.remove_prefix(1);
    } else if (!s.empty() && s[0] == 'm') {
      unit_ms = 60'000;
      s.remove_prefix(1);
    } else if (!s.empty() && s[0] == 'h') {
      unit_ms = 3'600'000;
      s.remove_prefix(1);
    } else if (!s.empty() && s[0] == 'd') {
      unit_ms = 86'400'000;
      s.remove_prefix(1);
    } else {
      return std::nullopt;
    }
    if (n > kMaxMs / unit_ms) return std::nullopt;
    total_ms += n * unit_ms;
    if (total_ms > kMaxMs) return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total_ms));
}

std::optional<uint64_t> ParseSize(std::string_view text) {
  std::string_view s = Trim(text);
  size_t digits = 0;
  while (digits < s.size() &&
         std::isdigit(static_cast<unsigned char>(s[digits])))
    ++digits;
  if (digits == 0) return std::nullopt;
  auto n = ParseUnsigned(s.substr(0, digits));
  if (!n) return std::nullopt;
  std::string unit(Trim(s.substr(digits)));
  std::transform(unit.begin(), unit.end(), unit.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  uint64_t mult = 0;
  if (unit.empty() || unit == "b")
    mult = 1;
  else if (unit == "kib")
    mult = 1ULL << 10;
  else if (unit == "mib")
    mult = 1ULL << 20;
  else if (unit == "gib")
    mult = 1ULL << 30;
  else if (unit == "kb")
    mult = 1000;
  else if (unit == "mb")
    mult = 1000 * 1000;
  else if (unit == "gb")
    mult = 1000 * 1000 * 1000;
  else
    return std::nullopt;
  if (*n > UINT64_MAX / mult) return std::nullopt;
  return *n * mult;
}

namespace {

bool IsCredentialNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// The systemd credential NAME ($CREDENTIALS_DIRECTORY/NAME, from
// LoadCredential=/SetCredential=), one trailing newline removed.
Result<std::string> ReadCredential(const std::string& name, const Source& src) {
  const std::optional<std::string> dir = src.GetEnv("CREDENTIALS_DIRECTORY");
  if (!dir || dir->empty()) {
    return Error::Config("credential " + Quote(name) +
                         ": $CREDENTIALS_DIRECTORY is not set (give the unit "
                         "LoadCredential=" +
                         name + ":/path/to/secret)");
  }
  const std::string path = *dir + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error::Config("credential " + Quote(name) + ": cannot read " + path +
                         " (not in the unit's LoadCredential=?)");
  }
  std::string value((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  if (!value.empty() && value.back() == '\n') value.pop_back();
  return value;
}

}  // namespace

Result<std::string> SubstituteEnv(std::string_view text, const Source& src) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out += text[i++];
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return Error::Config("unterminated ${ in " + Quote(text));
    }
    std::string_view body = text.substr(i + 2, close - i - 2);
    constexpr std::string_view kCredential = "credential:";
    const bool credential = body.starts_with(kCredential);
    if (credential) body.remove_prefix(kCredential.size());
    std::string_view name = body;
    std::optional<std::string_view> fallback;
    if (size_t sep = body.find(":-"); sep != std::string_view::npos) {
      name = body.substr(0, sep);
      fallback = body.substr(sep + 2);
    }
    bool valid = !name.empty();
    for (size_t k = 0; k < name.size() && valid; ++k) {
      valid = credential ? IsCredentialNameChar(name[k])
                         : IsEnvNameChar(name[k], k == 0);
    }
    if (credential) {
      if (!valid || name == "." || name == "..") {
        return Error::Config("invalid credential reference " +
                             Quote(text.substr(i, close - i + 1)) +
                             " (use ${credential:NAME}, NAME of "
                             "[A-Za-z0-9._-])");
      }
      auto value = ReadCredential(std::string(name), src);
      if (!value && fallback) value = std::string(*fallback);
      if (!value) return value.error();
      out += *value;
      i = close + 1;
      continue;
    }
    if (!valid) {
      return Error::Config("invalid environment reference " +
                           Quote(text.substr(i, close - i + 1)) +
                           " (use ${NAME} or ${NAME:-default})");
    }
    std::optional<std::string> value = src.GetEnv(std::string(name));
    if (fallback && (!value || value->empty())) value = std::string(*fallback);
    if (!value) {
      return Error::Config("environment variable " + Quote(name) +
                           " is not set (use ${" + std::string(name) +
                           ":-default} for a default)");
    }
    out += *value;
    i = close + 1;
  }
  return out;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  const std::pair<int64_t, const char*> units[] = {{86'400'000, "d"},
                                                   {3'600'000, "h"},
                                                   {60'000, "m"},
                                                   {1000, "s"},
                                                   {1, "ms"}};
  for (const auto& [size, suffix] : units) {
    if (ms >= size) {
      out += std::to_string(ms / size) + suffix;
      ms %= size;
    }
  }
  return out;
}

}  // namespace newsflow::yaml_fields
