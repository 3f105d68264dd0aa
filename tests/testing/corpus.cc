#include "tests/testing/corpus.h"

#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

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

namespace {
std::string ReadGzip(const std::string& path) {
  std::string out;
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return out;
  char buf[65536];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, n);
  gzclose(f);
  return out;
}
}  // namespace

std::vector<ExtractionPage> LoadExtractionPages(const std::string& sub) {
  return LoadExtractionPagesFrom(CorpusPath(sub));
}

std::vector<ExtractionPage> LoadExtractionPagesFrom(const std::string& dir) {
  std::ifstream in(dir + "/ground-truth.json");
  if (!in) return {};
  const nlohmann::json gold = nlohmann::json::parse(in, nullptr, false);
  if (!gold.is_object()) return {};
  std::vector<ExtractionPage> pages;
  for (const auto& [id, entry] : gold.items()) {
    pages.push_back({id, entry.value("url", ""), entry.value("articleBody", ""),
                     ReadGzip(dir + "/html/" + id + ".html.gz")});
  }
  return pages;
}

}  // namespace newsflow::testing
