#pragma once

// Per-stage CPU accounting: the calling thread's CPU time
// (CLOCK_THREAD_CPUTIME_ID) spent inside a scope, added to the counter
// newsflow_stage_cpu_microseconds_total{stage=...}. The counters tell where
// the daemon's CPU goes (bench/pipeline prints the split); fetching and the
// event loop are what the io thread spends outside the scoped stages, and
// delivering is the sink's own threads.
//
//   { ScopedStageCpu cpu(CpuStage::kParse); ParseFeed(...); }
//
// Cost: two clock_gettime calls per scope (well under a microsecond each);
// scopes wrap whole jobs (a feed parse, a page extraction, one article's
// serialization, one state-store call), never inner loops.
// Threading: any thread; a scope must begin and end on the same thread and
// scopes must not nest (nested time would be counted twice).

#include <cstdint>

namespace newsflow {

enum class CpuStage { kParse, kClean, kExtract, kSerialize, kState };
inline constexpr int kCpuStageCount = 5;

// "parse", "clean", "extract", "serialize", "state".
const char* CpuStageName(CpuStage stage);

// Declares every stage's series at zero (so they exist from the first
// scrape).
void DeclareStageCpuSeries();

// The calling thread's CPU time so far, in nanoseconds.
int64_t ThreadCpuNanos();

class ScopedStageCpu {
 public:
  explicit ScopedStageCpu(CpuStage stage)
      : stage_(stage), start_ns_(ThreadCpuNanos()) {}
  ~ScopedStageCpu();
  ScopedStageCpu(const ScopedStageCpu&) = delete;
  ScopedStageCpu& operator=(const ScopedStageCpu&) = delete;

 private:
  const CpuStage stage_;
  const int64_t start_ns_;
};

}  // namespace newsflow
