// libFuzzer target: the YAML config loader (LoadConfigString: yaml-cpp, then
// validation with file:line:col errors, ${ENV} substitution, durations,
// sizes, feed lists). Must never crash, hang or read out of bounds; every
// rejection must be an Errc::kConfig value, never an escaped exception.
// The source name points into a directory that does not exist, so relative
// `include:` / `opml:` paths find nothing.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.h"
#include "connectors/builtin.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view yaml(reinterpret_cast<const char*>(data), size);
  auto r = newsflow::LoadConfigString(
      yaml, "/nonexistent-newsflow-fuzz/newsflow.yaml",
      newsflow::BuiltinSinks());
  if (!r) {
    std::string message = r.error().ToString();
    if (message.empty()) std::abort();
  }
  return 0;
}
