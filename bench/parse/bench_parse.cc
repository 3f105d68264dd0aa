// bench_parse: newsflow's feed parser over corpus/realfeeds.
//
// Parses every file `rounds` times per repeat, `repeats` times, and prints
// one JSON line {"tool","bytes","items","ok","feeds","failed","mbps",
// "items_per_s","parse_only_mbps"} with the median repeat. "Including
// normalization": every item also gets what the daemon computes per item before
// any cleaning (feed_poller.cc): CanonicalizeUrl, ArticleId and ItemHash.
//
// Usage: bench_parse [realfeeds dir] [rounds] [repeats]

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "connectors/sources/feed/feed_parser.h"
#include "daemon/normalizer/normalizer.h"

namespace newsflow {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The same plausibility rule the peers' drivers apply: parsed, has a title,
// the item count matches index.json's rough count (which may count one
// extra <items>), and every non-empty item has a title and a link.
bool Plausible(const Result<ParsedFeed>& r, int rough) {
  if (!r || r->title.empty()) return false;
  const int got = static_cast<int>(r->items.size());
  if (got < rough - 1 || got > rough) return false;
  for (const FeedItem& it : r->items) {
    if (it.title.empty() && it.link.empty() && it.summary.empty()) continue;
    if (it.title.empty() || it.link.empty()) return false;
  }
  return true;
}

// Process CPU time: the machine is shared, and CPU time is what "one core"
// means; wall time would charge us for other processes' slices.
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

// Per-item work of the daemon's poll loop before cleaning. Returns a byte of
// the results so that the compiler cannot drop the work.
unsigned NormalizeItems(const ParsedFeed& feed) {
  unsigned sink = 0;
  for (const FeedItem& item : feed.items) {
    const std::string& url =
        !item.source_link.empty() ? item.source_link : item.link;
    const std::string id = ArticleId("bench", item.guid, CanonicalizeUrl(url));
    const std::string hash = ItemHash(item);
    sink +=
        static_cast<unsigned char>(id[0]) + static_cast<unsigned char>(hash[0]);
  }
  return sink;
}

int Main(int argc, char** argv) {
  const std::string dir =
      argc > 1 ? argv[1] : std::string(NEWSFLOW_CORPUS_DIR) + "/realfeeds";
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  const int repeats = argc > 3 ? std::max(1, std::atoi(argv[3])) : 5;

  auto index = nlohmann::json::parse(ReadFile(dir + "/index.json"), nullptr,
                                     /*allow_exceptions=*/false);
  if (!index.is_array()) {
    std::fprintf(stderr, "bench_parse: no index.json in %s\n", dir.c_str());
    return 2;
  }
  std::vector<std::string> bodies;
  std::vector<int> rough;
  std::vector<std::string> files;
  // The daemon always passes the feed's URL (relative links resolve against
  // it); the URL is fictitious, as in realfeeds_test.
  std::vector<FeedParseOptions> options;
  size_t bytes = 0;
  for (const auto& entry : index) {
    files.push_back(entry["file"].get<std::string>());
    bodies.push_back(ReadFile(dir + "/" + files.back()));
    rough.push_back(entry["items"].get<int>());
    FeedParseOptions o;
    o.document_url = "https://feeds.example/" + files.back();
    options.push_back(std::move(o));
    bytes += bodies.back().size();
  }

  int ok = 0;
  nlohmann::json failed = nlohmann::json::array();
  for (size_t i = 0; i < bodies.size(); ++i) {
    if (Plausible(ParseFeed(bodies[i], options[i]), rough[i])) {
      ++ok;
    } else {
      failed.push_back(files[i]);
    }
  }

  // One timed run: median seconds over `repeats`, with or without the
  // per-item normalization.
  size_t items = 0;
  unsigned sink = 0;
  auto timed = [&](bool normalize) {
    std::vector<double> secs;
    for (int rep = 0; rep < repeats; ++rep) {
      items = 0;
      const double start = CpuSeconds();
      for (int k = 0; k < rounds; ++k) {
        for (size_t i = 0; i < bodies.size(); ++i) {
          Result<ParsedFeed> r = ParseFeed(bodies[i], options[i]);
          if (!r) continue;
          items += r->items.size();
          if (normalize) sink += NormalizeItems(*r);
        }
      }
      secs.push_back(CpuSeconds() - start);
    }
    std::sort(secs.begin(), secs.end());
    return secs[secs.size() / 2];
  };
  const double parse_only = timed(false);
  const double median = timed(true);
  // Word counting (an article's word_count and the teaser test) over every
  // item's body as the feed carries it, timed on its own.
  std::vector<std::string> texts;
  size_t text_bytes = 0;
  for (size_t i = 0; i < bodies.size(); ++i) {
    Result<ParsedFeed> r = ParseFeed(bodies[i], options[i]);
    if (!r) continue;
    for (const FeedItem& item : r->items) {
      texts.push_back(!item.content.empty() ? item.content : item.summary);
      text_bytes += texts.back().size();
    }
  }
  std::vector<double> word_secs;
  long long words = 0;
  for (int rep = 0; rep < repeats; ++rep) {
    words = 0;
    const double start = CpuSeconds();
    for (int k = 0; k < rounds; ++k) {
      for (const std::string& t : texts) words += CountWords(t);
    }
    word_secs.push_back(CpuSeconds() - start);
  }
  std::sort(word_secs.begin(), word_secs.end());
  const double words_median = word_secs[word_secs.size() / 2];
  nlohmann::json out = {
      {"tool", "newsflow"},
      {"bytes", bytes},
      {"items", items / rounds},
      {"ok", ok},
      {"feeds", bodies.size()},
      {"failed", failed},
      {"mbps", static_cast<double>(bytes) * rounds / median / 1e6},
      {"items_per_s", static_cast<double>(items) / median},
      {"parse_only_mbps",
       static_cast<double>(bytes) * rounds / parse_only / 1e6},
      {"sink", sink & 1},
      {"words", words / rounds},
      {"words_mbps",
       static_cast<double>(text_bytes) * rounds / words_median / 1e6},
  };
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace newsflow

int main(int argc, char** argv) { return newsflow::Main(argc, argv); }
