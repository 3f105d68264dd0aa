#pragma once

// Metrics: counters, gauges and histograms with labels, rendered in the
// Prometheus text exposition format (served on /metrics by the daemon).
// Metric names are defined where they are emitted, prefixed "newsflow_"
// and documented in docs/operator-guide.md.
//
// Thread-safety: Get*() may be called from any thread (a mutex guards the
// registry); the returned references stay valid for the registry's life
// and their updates are lock-free atomics. Hot paths should look a metric
// up once and keep the reference.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace newsflow {

// Label set, e.g. {{"feed", "bbc-world"}, {"outcome", "not_modified"}}.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double d);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative histogram with fixed upper bounds (seconds, bytes, ...).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Count of observations <= bounds()[i]; the last entry is +Inf.
  std::vector<uint64_t> CumulativeCounts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // The process-wide registry the daemon serves.
  static MetricsRegistry& Global();

  // Returns the series `name{labels}`, creating it on first use. `help` is
  // taken from the first call for a name. REQUIRES: one name is always
  // used with the same kind.
  Counter& GetCounter(const std::string& name, const std::string& help,
                      const MetricLabels& labels = {});
  Gauge& GetGauge(const std::string& name, const std::string& help,
                  const MetricLabels& labels = {});
  Histogram& GetHistogram(const std::string& name, const std::string& help,
                          const std::vector<double>& bounds,
                          const MetricLabels& labels = {});

  // Drops every series of `name` whose labels contain `label` (e.g. a feed
  // removed by a reload). References to them must no longer be used.
  void RemoveSeries(const std::pair<std::string, std::string>& label);

  // Prometheus text format 0.0.4, families sorted by name.
  std::string RenderPrometheus() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Family {
    Kind kind;
    std::string help;
    std::map<MetricLabels, std::unique_ptr<Counter>> counters;
    std::map<MetricLabels, std::unique_ptr<Gauge>> gauges;
    std::map<MetricLabels, std::unique_ptr<Histogram>> histograms;
  };
  Family& FamilyFor(const std::string& name, const std::string& help,
                    Kind kind);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

}  // namespace newsflow
