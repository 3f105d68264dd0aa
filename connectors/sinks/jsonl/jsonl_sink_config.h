#pragma once

#include <string>

namespace newsflow {

// Options of the JSON-lines sink.
struct JsonlSinkOptions {
  // File to append articles to, one JSON object per line; "-" = stdout.
  std::string path = "-";

  bool operator==(const JsonlSinkOptions&) const = default;
};

}  // namespace newsflow
