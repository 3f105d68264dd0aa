#pragma once

// A small streaming JSON writer for the hot output paths (article JSON,
// `parse` output). Produces compact, valid UTF-8 JSON: strings are escaped
// per RFC 8259 and invalid UTF-8 bytes are replaced with U+FFFD, so the
// output is always parseable whatever the input bytes were.
//
// Not thread-safe; one writer per document. Misuse (a value where a key is
// expected) is a bug and asserts.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace newsflow {

class JsonWriter {
 public:
  JsonWriter() = default;
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // A string, or null when `value` is empty.
  JsonWriter& StringOrNull(std::string_view value);
  JsonWriter& StringArray(const std::vector<std::string>& values);

  // Shorthands for Key(k).X(v).
  JsonWriter& Field(std::string_view key, std::string_view value) {
    return Key(key).String(value);
  }
  JsonWriter& Field(std::string_view key, const char* value) {
    return Key(key).String(value);
  }
  JsonWriter& Field(std::string_view key, int64_t value) {
    return Key(key).Int(value);
  }

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();

  std::string out_;
  // One entry per open container: true while it has no element yet.
  std::vector<bool> first_;
  bool after_key_ = false;
};

// Appends `s` to `out` as a quoted, escaped JSON string.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace newsflow
