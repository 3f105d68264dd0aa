#include "tests/testing/corpus.h"

#include <cstdlib>
#include <filesystem>

namespace newsflow::testing {

std::string CorpusDir() {
  const char* env = std::getenv("NEWSFLOW_CORPUS_DIR");
  if (env != nullptr && *env != '\0') return env;
  return NEWSFLOW_CORPUS_DIR;
}

std::string CorpusPath(const std::string& sub) {
  return CorpusDir() + "/" + sub;
}

std::string CorpusMissingReason(const std::string& sub) {
  const std::string path = CorpusPath(sub);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return "";
  return "corpus " + sub + " not found at " + path +
         " (set NEWSFLOW_CORPUS_DIR to the shared corpus directory)";
}

bool CorpusRequired() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

}  // namespace newsflow::testing
