// bench_pipeline_floor: the physical limit of our parser choice. For the
// same pages the site serves, one thread, best of --rounds passes: the time
// newsflow's ExtractPage takes per page beside the time libxml2's
// htmlReadMemory alone takes (the flags the cleaner's DOM uses, utf-8),
// i.e. how much of extraction is the parse itself.
//
//   bench_pipeline_floor PAGES_DIR [--rounds N]
// Prints one JSON line: pages, extract_ms_per_page, libxml2_ms_per_page.

#include <libxml/HTMLparser.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/cleaner/html_cleaner.h"

namespace {

using Clock = std::chrono::steady_clock;

template <class F>
double BestMsPerPage(const std::vector<std::string>& pages, int rounds, F f) {
  double best = 1e18;
  for (int r = 0; r < rounds; ++r) {
    const auto t0 = Clock::now();
    for (const std::string& p : pages) f(p);
    const double ms =
        std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    best = std::min(best, ms / static_cast<double>(pages.size()));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: bench_pipeline_floor PAGES_DIR [--rounds N]\n");
    return 2;
  }
  const int rounds = argc >= 4 && std::strcmp(argv[2], "--rounds") == 0
                         ? std::atoi(argv[3])
                         : 3;
  std::vector<std::string> pages;
  for (const auto& e : std::filesystem::directory_iterator(argv[1])) {
    if (e.path().extension() != ".html") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    pages.push_back(s.str());
  }
  if (pages.empty()) return 1;
  newsflow::InitHtmlCleaner();
  size_t sink = 0;
  const double extract =
      BestMsPerPage(pages, rounds, [&](const std::string& p) {
        sink += newsflow::ExtractPage(p, {}).content.text.size();
      });
  const int flags = HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                    HTML_PARSE_NOWARNING | HTML_PARSE_COMPACT;
  const double parse = BestMsPerPage(pages, rounds, [&](const std::string& p) {
    htmlDocPtr doc = htmlReadMemory(p.data(), static_cast<int>(p.size()),
                                    nullptr, "utf-8", flags);
    sink += doc != nullptr;
    xmlFreeDoc(doc);
  });
  std::printf(
      "{\"pages\":%zu,\"extract_ms_per_page\":%.3f,\"libxml2_ms_per_page\":%."
      "3f,\"check\":%zu}\n",
      pages.size(), extract, parse, sink > 0 ? size_t{1} : size_t{0});
  return 0;
}
