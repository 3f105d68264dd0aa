#include "daemon/core/metrics.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace newsflow {
namespace {

void AtomicAdd(std::atomic<double>& a, double d) {
  double old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, old + d, std::memory_order_relaxed)) {
  }
}

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  return out;
}

std::string RenderLabels(
    const MetricLabels& labels,
    const std::pair<std::string, std::string>* extra = nullptr) {
  if (labels.empty() && extra == nullptr) return "";
  std::string out = "{";
  bool first = true;
  auto add = [&](const std::string& k, const std::string& v) {
    if (!first) out.push_back(',');
    first = false;
    out += k + "=\"" + EscapeLabelValue(v) + "\"";
  };
  for (const auto& [k, v] : labels) add(k, v);
  if (extra != nullptr) add(extra->first, extra->second);
  out.push_back('}');
  return out;
}

std::string FormatNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Shortest form that reads back as the same double ("0.1", not
  // "0.10000000000000001").
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  if (std::strtod(buf, nullptr) != v)
    std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

void Gauge::Add(double d) { AtomicAdd(value_, d); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  const size_t i = static_cast<size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, v);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

MetricsRegistry& MetricsRegistry::Global() {
  static MetricsRegistry* registry = new MetricsRegistry;  // never destroyed
  return *registry;
}

MetricsRegistry::Family& MetricsRegistry::FamilyFor(const std::string& name,
                                                    const std::string& help,
                                                    Kind kind) {
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.kind = kind;
    it->second.help = help;
  }
  assert(it->second.kind == kind && "metric name reused with another kind");
  return it->second;
}

Counter& MetricsRegistry::GetCounter(const std::string& name,
                                     const std::string& help,
                                     const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = FamilyFor(name, help, Kind::kCounter).counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& MetricsRegistry::GetGauge(const std::string& name,
                                 const std::string& help,
                                 const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = FamilyFor(name, help, Kind::kGauge).gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& MetricsRegistry::GetHistogram(const std::string& name,
                                         const std::string& help,
                                         const std::vector<double>& bounds,
                                         const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = FamilyFor(name, help, Kind::kHistogram).histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(bounds);
  return *slot;
}

void MetricsRegistry::RemoveSeries(
    const std::pair<std::string, std::string>& label) {
  std::lock_guard lock(mutex_);
  auto has = [&](const MetricLabels& ls) {
    return std::find(ls.begin(), ls.end(), label) != ls.end();
  };
  for (auto& [name, family] : families_) {
    std::erase_if(family.counters,
                  [&](const auto& kv) { return has(kv.first); });
    std::erase_if(family.gauges, [&](const auto& kv) { return has(kv.first); });
    std::erase_if(family.histograms,
                  [&](const auto& kv) { return has(kv.first); });
  }
}

std::string MetricsRegistry::RenderPrometheus() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, f] : families_) {
    const char* type = f.kind == Kind::kCounter ? "counter"
                       : f.kind == Kind::kGauge ? "gauge"
                                                : "histogram";
    out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + " " + type + "\n";
    for (const auto& [labels, c] : f.counters) {
      out +=
          name + RenderLabels(labels) + " " + std::to_string(c->value()) + "\n";
    }
    for (const auto& [labels, g] : f.gauges) {
      out +=
          name + RenderLabels(labels) + " " + FormatNumber(g->value()) + "\n";
    }
    for (const auto& [labels, h] : f.histograms) {
      const auto counts = h->CumulativeCounts();
      for (size_t i = 0; i < counts.size(); ++i) {
        const std::pair<std::string, std::string> le{
            "le",
            i < h->bounds().size() ? FormatNumber(h->bounds()[i]) : "+Inf"};
        out += name + "_bucket" + RenderLabels(labels, &le) + " " +
               std::to_string(counts[i]) + "\n";
      }
      out += name + "_sum" + RenderLabels(labels) + " " +
             FormatNumber(h->sum()) + "\n";
      out += name + "_count" + RenderLabels(labels) + " " +
             std::to_string(h->count()) + "\n";
    }
  }
  return out;
}

}  // namespace newsflow
