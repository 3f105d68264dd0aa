#include "daemon/core/metrics.h"

#include <gtest/gtest.h>

namespace newsflow {
namespace {

TEST(MetricsTest, RendersCountersGaugesAndHistogramsInPrometheusFormat) {
  MetricsRegistry r;
  r.GetCounter("newsflow_fetches_total", "Feed fetches.",
               {{"feed", "a"}, {"outcome", "ok"}})
      .Inc(3);
  r.GetCounter("newsflow_fetches_total", "ignored",
               {{"feed", "b\"x"}, {"outcome", "ok"}})
      .Inc();
  r.GetGauge("newsflow_in_flight", "Articles awaiting acks.").Set(7);
  auto& h = r.GetHistogram("newsflow_delivery_seconds", "Delivery latency.",
                           {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5);
  const std::string text = r.RenderPrometheus();
  EXPECT_NE(
      text.find("# HELP newsflow_fetches_total Feed fetches.\n"
                "# TYPE newsflow_fetches_total counter\n"
                "newsflow_fetches_total{feed=\"a\",outcome=\"ok\"} 3\n"
                "newsflow_fetches_total{feed=\"b\\\"x\",outcome=\"ok\"} 1\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("newsflow_in_flight 7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("newsflow_delivery_seconds_bucket{le=\"0.1\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("newsflow_delivery_seconds_bucket{le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("newsflow_delivery_seconds_count 3\n"),
            std::string::npos);
}

TEST(MetricsTest, SameSeriesReturnsSameObjectAndRemoveSeriesDropsIt) {
  MetricsRegistry r;
  Counter& a = r.GetCounter("c_total", "h", {{"feed", "x"}});
  Counter& b = r.GetCounter("c_total", "h", {{"feed", "x"}});
  EXPECT_EQ(&a, &b);
  a.Inc();
  r.RemoveSeries({"feed", "x"});
  EXPECT_EQ(r.RenderPrometheus().find("c_total{"), std::string::npos);
}

}  // namespace
}  // namespace newsflow
