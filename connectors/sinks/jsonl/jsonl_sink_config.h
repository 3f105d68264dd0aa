#pragma once

#include <string>

namespace newsflow {

// Options of the JSON-lines sink.
struct JsonlSinkOptions {
  // File to append articles to, one JSON object per line; "-" = stdout.
  std::string path = "-";
  // fdatasync() after each article, so "delivered" survives power loss.
  // Off by default: a process crash loses nothing either way.
  bool sync_each = false;
};

}  // namespace newsflow
