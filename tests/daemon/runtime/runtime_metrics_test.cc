#include "daemon/runtime/runtime_metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <regex>

#include "daemon/core/metrics.h"

namespace newsflow {
namespace {

// The value of the unlabelled sample `name` in `text`, or -1.
double Sample(const std::string& text, const std::string& name) {
  std::smatch m;
  const std::regex line("(^|\n)" + name + " ([-0-9.e+]+)\n");
  if (!std::regex_search(text, m, line)) return -1;
  return std::stod(m[2]);
}

TEST(RuntimeMetricsTest, SeriesExistAtZeroBeforeAnyEvent) {
  DeclareDaemonSeries("1.2.3");
  DeclareFeedSeries("alpha");
  const std::string text = MetricsRegistry::Global().RenderPrometheus();
  for (const char* series : {
           "newsflow_build_info{version=\"1.2.3\"} 1\n",
           "newsflow_config_reloads_total{result=\"ok\"} 0\n",
           "newsflow_config_reloads_total{result=\"rejected\"} 0\n",
           "newsflow_articles_in_flight 0\n",
           "newsflow_fetch_duration_seconds_count{outcome=\"new\"} 0\n",
           "newsflow_articles_published_total{feed=\"alpha\",event=\"created\"}"
           " "
           "0\n",
           "newsflow_articles_failed_total{feed=\"alpha\",outcome=\"retry\"} "
           "0\n",
           "newsflow_feed_consecutive_failures{feed=\"alpha\"} 0\n",
       }) {
    EXPECT_NE(text.find(series), std::string::npos) << series << "\n" << text;
  }
}

TEST(RuntimeMetricsTest, FetchDurationIsAHistogramPerOutcome) {
  FetchDurationHistogram("http_5xx").Observe(0.2);
  const std::string text = MetricsRegistry::Global().RenderPrometheus();
  EXPECT_NE(text.find("# TYPE newsflow_fetch_duration_seconds histogram"),
            std::string::npos);
  EXPECT_NE(
      text.find("newsflow_fetch_duration_seconds_bucket{outcome=\"http_5xx\","
                "le=\"0.25\"} 1"),
      std::string::npos)
      << text;
}

TEST(RuntimeMetricsTest, ProcessMetricsDescribeThisProcess) {
  const std::string text = RenderProcessMetrics();
  const double now = std::chrono::duration<double>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  const double start = Sample(text, "process_start_time_seconds");
  EXPECT_GT(start, now - 3600) << text;  // the test started recently
  EXPECT_LE(start, now + 1) << text;
  EXPECT_GT(Sample(text, "process_resident_memory_bytes"), 1e5) << text;
  EXPECT_GT(Sample(text, "process_virtual_memory_bytes"), 1e5) << text;
  EXPECT_GE(Sample(text, "process_cpu_seconds_total"), 0) << text;
  EXPECT_GE(Sample(text, "process_open_fds"), 3) << text;  // stdio
  EXPECT_GT(Sample(text, "process_max_fds"), 0) << text;
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter"),
            std::string::npos);
}

}  // namespace
}  // namespace newsflow
