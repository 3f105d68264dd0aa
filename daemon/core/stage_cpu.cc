#include "daemon/core/stage_cpu.h"

#include <time.h>

#include <array>

#include "daemon/core/metrics.h"

namespace newsflow {
namespace {

constexpr const char* kNames[kCpuStageCount] = {"parse", "clean", "extract",
                                                "serialize", "state"};

// The counters, looked up once: the registry's lookup takes a mutex.
Counter& StageCounter(CpuStage stage) {
  static const std::array<Counter*, kCpuStageCount> counters = [] {
    std::array<Counter*, kCpuStageCount> c{};
    for (int i = 0; i < kCpuStageCount; ++i) {
      c[i] = &MetricsRegistry::Global().GetCounter(
          "newsflow_stage_cpu_microseconds_total",
          "CPU time spent in each pipeline stage (thread CPU clock).",
          {{"stage", kNames[i]}});
    }
    return c;
  }();
  return *counters[static_cast<int>(stage)];
}

}  // namespace

const char* CpuStageName(CpuStage stage) {
  return kNames[static_cast<int>(stage)];
}

void DeclareStageCpuSeries() { (void)StageCounter(CpuStage::kParse); }

int64_t ThreadCpuNanos() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

ScopedStageCpu::~ScopedStageCpu() {
  const int64_t spent_ns = ThreadCpuNanos() - start_ns_;
  // Rounded, so that many short scopes do not lose half a microsecond each.
  if (spent_ns > 0)
    StageCounter(stage_).Inc(static_cast<uint64_t>((spent_ns + 500) / 1000));
}

}  // namespace newsflow
