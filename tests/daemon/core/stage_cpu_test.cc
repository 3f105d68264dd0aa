// Per-stage CPU counters (daemon/core/stage_cpu.h): declared at zero, and a
// scope adds the thread CPU time spent inside it to its own stage only.

#include "daemon/core/stage_cpu.h"

#include <gtest/gtest.h>

#include <string>

#include "daemon/core/metrics.h"

namespace newsflow {
namespace {

uint64_t StageMicros(const char* stage) {
  return MetricsRegistry::Global()
      .GetCounter("newsflow_stage_cpu_microseconds_total", "",
                  {{"stage", stage}})
      .value();
}

TEST(StageCpuTest, EveryStageIsDeclared) {
  DeclareStageCpuSeries();
  const std::string text = MetricsRegistry::Global().RenderPrometheus();
  for (const char* stage :
       {"parse", "clean", "extract", "serialize", "state"}) {
    EXPECT_NE(text.find(std::string("newsflow_stage_cpu_microseconds_total{"
                                    "stage=\"") +
                        stage + "\"}"),
              std::string::npos)
        << stage;
  }
}

TEST(StageCpuTest, AScopeCountsItsThreadCpuToItsStage) {
  const uint64_t parse0 = StageMicros("parse");
  const uint64_t state0 = StageMicros("state");
  const int64_t cpu0 = ThreadCpuNanos();
  {
    ScopedStageCpu cpu(CpuStage::kParse);
    // Burn ~20 ms of CPU (not sleep: sleeping costs no CPU).
    volatile uint64_t x = 0;
    while (ThreadCpuNanos() - cpu0 < 20'000'000) x = x + 1;
  }
  const uint64_t spent = StageMicros("parse") - parse0;
  EXPECT_GE(spent, 19'000u);
  EXPECT_LT(spent, 1'000'000u);
  EXPECT_EQ(StageMicros("state"), state0);
  EXPECT_STREQ(CpuStageName(CpuStage::kSerialize), "serialize");
}

}  // namespace
}  // namespace newsflow
