// story_bench: StoryIndex::Assign CPU per article as the story state grows
// (issue 16). N distinct ~3 KB stories (the bench/pipeline site's prose)
// are assigned into a fresh file store; the store's pending story writes
// are committed every 20 articles, as the Publisher's per-turn outbox
// transaction does. Prints the calling thread's CPU per Assign for each
// window of articles, then the band index's size. Timings are printed,
// never asserted.
//
//   story_bench [--articles N] [--window W] [--dir DIR]

#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "bench/common/prose.h"
#include "daemon/state/state_store.h"
#include "daemon/story/fingerprint.h"
#include "daemon/story/story_index.h"

namespace {

using newsflow::bench::Prose;

double ThreadCpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace newsflow;
  int articles = 160000;
  int window = 10000;
  std::string dir = std::filesystem::temp_directory_path().string();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--articles") == 0) {
      articles = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--window") == 0) {
      window = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--dir") == 0) {
      dir = argv[i + 1];
    } else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (articles <= 0 || window <= 0) return 2;
  const std::string path =
      dir + "/story_bench_" + std::to_string(::getpid()) + ".db";
  int failures = 0;
  {
    auto store = StateStore::Open(path);
    if (!store) {
      std::fprintf(stderr, "%s\n", store.error().ToString().c_str());
      return 1;
    }
    StoryIndex index(store->get());
    double cpu = 0;
    for (int i = 0; i < articles; ++i) {
      std::string text;
      for (int p = 0; p < 6; ++p) {
        const unsigned seed = static_cast<unsigned>(i);
        text += Prose(420 + (seed * 37 + p * 101) % 260, seed * 7 + p) + "\n";
      }
      const StoryFingerprint fp = FingerprintText(text);  // the pool's work
      const std::string id = "urn:bench:" + std::to_string(i);
      const double t0 = ThreadCpuSeconds();
      auto story = index.Assign(
          id, "http://127.0." + std::to_string(i / 20 % 250) + ".1/p/" + id, fp,
          Now());
      if (i % 20 == 19) (void)(*store)->FlushStories();
      cpu += ThreadCpuSeconds() - t0;
      if (!story || *story != id) ++failures;
      if ((i + 1) % window == 0) {
        std::printf("stored %8d  Assign %6.1f us/article (thread CPU)\n", i + 1,
                    1e6 * cpu / window);
        std::fflush(stdout);
        cpu = 0;
      }
    }
    const StoryIndexStats stats = index.stats();
    std::printf(
        "band index: %llu entries, %.1f MB; candidates read %llu; "
        "unexpected stories %d\n",
        static_cast<unsigned long long>(stats.band_entries),
        static_cast<double>(stats.band_bytes) / (1 << 20),
        static_cast<unsigned long long>(stats.candidates_read), failures);
  }
  for (const char* suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(path + suffix);
  return failures == 0 ? 0 : 1;
}
