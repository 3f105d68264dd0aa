#pragma once

// Metric series the daemon declares up front, so that every series exists
// (at zero) from the first scrape instead of appearing with its first
// event, and the process_* metrics Prometheus client libraries export.
// All functions use MetricsRegistry::Global(); thread-safe like it.

#include <string>
#include <string_view>

namespace newsflow {

class Histogram;

// Feed fetch latency (request start to response or failure), per fetch
// outcome (FetchOutcomeName: new, not_modified, http_5xx, ...).
Histogram& FetchDurationHistogram(const std::string& outcome);

// newsflow_build_info{version}, the reload counters, the article counters'
// global families, newsflow_articles_in_flight and the latency histograms
// of the common outcomes, all at zero. Called once at start.
void DeclareDaemonSeries(std::string_view version);

// The per-feed series (published/failed/fetch counters, consecutive
// failures, moves) at zero; called when a feed's poller starts.
void DeclareFeedSeries(const std::string& feed);

// process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds and
// process_start_time_seconds of this process, read from /proc/self, in
// Prometheus text format (rendered at scrape time, outside the registry).
// Families whose source cannot be read are left out.
std::string RenderProcessMetrics();

}  // namespace newsflow
