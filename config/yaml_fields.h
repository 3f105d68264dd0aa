#pragma once

// Field-table helpers for reading YAML into config structs. Internal to the
// config component and to the sink descriptors' parse functions
// (connectors/sinks/*/…_descriptor.cc, config/sink_registry.h), which read
// the keys their sink owns with the same rules: it exposes yaml-cpp types.
//
// Every reader returns Result<...>; errors are Errc::kConfig with `where` =
// "SOURCE:LINE:COL" (1-based) of the offending node and a message that starts
// with the YAML path ("feeds[2].interval: ..."). None of these functions
// throws: yaml-cpp calls that may throw are wrapped.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/core/error.h"

namespace newsflow::yaml_fields {

// The document being read: its name (file path) for error locations and how
// ${VAR} references are resolved. Cheap to copy; not thread-safe only in the
// sense that `getenv` is consulted at read time.
class Source {
 public:
  // Looks up an environment variable; nullopt when unset.
  using EnvLookup =
      std::function<std::optional<std::string>(const std::string&)>;

  // `env` defaults to getenv().
  explicit Source(std::string name, EnvLookup env = {});

  const std::string& name() const { return name_; }

  // "NAME:LINE:COL" with 1-based line and column (yaml-cpp marks are
  // 0-based); just "NAME" for a null mark.
  std::string Where(const YAML::Mark& mark) const;

  // Error(kConfig, message, Where(node.Mark())).
  Error ErrorAt(const YAML::Node& node, std::string message) const;
  Error ErrorAt(const YAML::Mark& mark, std::string message) const;

  std::optional<std::string> GetEnv(const std::string& name) const;

 private:
  std::string name_;
  EnvLookup env_;
};

// One key of a YAML mapping and how to read its value. `read` gets the value
// node (never null: null values mean "unset" and are skipped) and the YAML
// path of the value ("http.proxy").
struct Field {
  std::string_view key;
  std::function<Result<void>(const YAML::Node& value, const std::string& path)>
      read;
};

// Reads every entry of `map` with the field of the same key, in document
// order. Errors: `map` not a mapping; a non-scalar or unknown key (with a
// "did you mean" hint when a known key is within edit distance 2); a key
// given twice. An absent `map` (undefined or null node) reads nothing.
// `path` is the path of `map` itself ("" for the document root).
Result<void> ReadMap(const Source& src, const YAML::Node& map,
                     const std::string& path, const std::vector<Field>& fields);

// "a" + "b" -> "a.b"; "" + "b" -> "b".
std::string JoinPath(const std::string& path, std::string_view key);
// "feeds" + 2 -> "feeds[2]".
std::string IndexPath(const std::string& path, size_t index);

// --- Scalar readers. All of them apply ${VAR} substitution first. ---

// Any scalar as text (numbers and booleans as written).
Result<std::string> ReadString(const Source& src, const YAML::Node& node,
                               const std::string& path);
// Durations: "90s", "15m", "1h30m", "500ms", "1d", or an integer = seconds.
Result<std::chrono::milliseconds> ReadDuration(const Source& src,
                                               const YAML::Node& node,
                                               const std::string& path);
// Sizes: "16MiB", "512KiB", "1GiB", "10MB", "100B" or an integer = bytes.
Result<uint64_t> ReadSize(const Source& src, const YAML::Node& node,
                          const std::string& path);
// A decimal integer in [min, max].
Result<int64_t> ReadInt(const Source& src, const YAML::Node& node,
                        const std::string& path, int64_t min, int64_t max);
// A sequence of strings (a lone scalar is NOT accepted, to catch typos).
Result<std::vector<std::string>> ReadStringList(const Source& src,
                                                const YAML::Node& node,
                                                const std::string& path);
// A mapping of scalar keys to scalar values, in document order; duplicate
// keys are errors. Keys are not substituted, values are.
Result<std::vector<std::pair<std::string, std::string>>> ReadStringMap(
    const Source& src, const YAML::Node& node, const std::string& path);

// Reads a duration into `*out` of type D, which must be a whole number of
// D's periods and lie in [min, max].
template <class D>
Field DurationField(const Source& src, std::string_view key, D* out, D min,
                    D max);
Field StringField(const Source& src, std::string_view key, std::string* out);
// Same, with `check` (the problem, or nullopt) reported at the value.
Field StringField(
    const Source& src, std::string_view key, std::string* out,
    std::function<std::optional<std::string>(const std::string&)> check);

// What a sink descriptor's parse function reads (config/sink_registry.h):
// the document and the values of the top-level keys the sink owns.
struct SinkYaml {
  const Source& src;
  // Key -> its value; a null node (read as "unset") when the key is absent.
  std::map<std::string, YAML::Node, std::less<>> nodes;

  // The value of `key`; a null node when absent or not owned.
  YAML::Node Get(std::string_view key) const;
};

// --- Pure helpers (exposed for tests). ---

// Parses a duration as ReadDuration does; nullopt on bad syntax or overflow.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);
// Parses a size as ReadSize does; nullopt on bad syntax or overflow.
std::optional<uint64_t> ParseSize(std::string_view text);
// Replaces ${VAR} and ${VAR:-default}; "$${" is a literal "${".
// ${credential:NAME} (and ${credential:NAME:-default}) is the systemd
// credential NAME: the file $CREDENTIALS_DIRECTORY/NAME (LoadCredential=),
// one trailing newline removed. On failure returns the message
// ("environment variable \"X\" is not set ...", "credential \"X\": ...").
Result<std::string> SubstituteEnv(std::string_view text, const Source& src);
// Levenshtein distance.
size_t EditDistance(std::string_view a, std::string_view b);
// Renders a duration the way the docs write it ("1h30m", "500ms", "0s").
std::string FormatDuration(std::chrono::milliseconds d);

// --- Template definitions. ---

template <class D>
Field DurationField(const Source& src, std::string_view key, D* out, D min,
                    D max) {
  return Field{
      key,
      [&src, out, min, max](const YAML::Node& node,
                            const std::string& path) -> Result<void> {
        auto ms = ReadDuration(src, node, path);
        if (!ms) return ms.error();
        auto converted = std::chrono::duration_cast<D>(*ms);
        if (std::chrono::duration_cast<std::chrono::milliseconds>(converted) !=
            *ms) {
          return src.ErrorAt(
              node,
              path + ": " + FormatDuration(*ms) + " is not a whole number of " +
                  FormatDuration(
                      std::chrono::duration_cast<std::chrono::milliseconds>(
                          D(1))));
        }
        if (converted < min || converted > max) {
          return src.ErrorAt(
              node,
              path + ": " + FormatDuration(*ms) + " is out of range " +
                  FormatDuration(
                      std::chrono::duration_cast<std::chrono::milliseconds>(
                          min)) +
                  ".." +
                  FormatDuration(
                      std::chrono::duration_cast<std::chrono::milliseconds>(
                          max)));
        }
        *out = converted;
        return {};
      }};
}

}  // namespace newsflow::yaml_fields
