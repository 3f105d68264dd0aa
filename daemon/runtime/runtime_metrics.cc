#include "daemon/runtime/runtime_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <vector>

#include "daemon/core/metrics.h"

namespace newsflow {
namespace {

// Outcomes declared at start; others appear with their first fetch.
constexpr const char* kCommonOutcomes[] = {"new", "not_modified",
                                           "unchanged_body"};

std::string Family(const char* name, const char* type, const char* help,
                   double value) {
  char number[64];
  std::snprintf(number, sizeof number, "%.17g", value);
  return std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " +
         type + "\n" + name + " " + number + "\n";
}

}  // namespace

Histogram& FetchDurationHistogram(const std::string& outcome) {
  return MetricsRegistry::Global().GetHistogram(
      "newsflow_fetch_duration_seconds",
      "Feed fetch latency (request to response or failure) by outcome.",
      {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
      {{"outcome", outcome}});
}

void DeclareDaemonSeries(std::string_view version) {
  auto& r = MetricsRegistry::Global();
  r.GetGauge("newsflow_build_info", "The running newsflowd's version.",
             {{"version", std::string(version)}})
      .Set(1);
  for (const char* result : {"ok", "rejected"}) {
    r.GetCounter("newsflow_config_reloads_total",
                 "SIGHUP reloads by result (ok, rejected).",
                 {{"result", result}});
  }
  r.GetGauge("newsflow_articles_in_flight",
             "Articles handed to sinks and not yet acked.");
  for (const char* outcome : kCommonOutcomes) FetchDurationHistogram(outcome);
}

void DeclareFeedSeries(const std::string& feed) {
  auto& r = MetricsRegistry::Global();
  for (const char* event : {"created", "updated"}) {
    r.GetCounter("newsflow_articles_published_total",
                 "Articles delivered (acked by the sink).",
                 {{"feed", feed}, {"event", event}});
  }
  for (const char* outcome : {"retry", "drop"}) {
    r.GetCounter("newsflow_articles_failed_total",
                 "Deliveries that failed (retry: offered again next poll; "
                 "drop: never accepted).",
                 {{"feed", feed}, {"outcome", outcome}});
  }
  r.GetCounter("newsflow_articles_dead_lettered_total",
               "Articles the sink rejected for good and sent to its "
               "dead-letter destination.",
               {{"feed", feed}});
  for (const char* outcome : kCommonOutcomes) {
    r.GetCounter("newsflow_feed_fetches_total", "Feed fetches by outcome.",
                 {{"feed", feed}, {"outcome", outcome}});
  }
  r.GetGauge("newsflow_feed_consecutive_failures",
             "Failed polls of the feed since its last success.",
             {{"feed", feed}});
  r.GetCounter("newsflow_feed_moves_total",
               "Confirmed permanent redirects of feed URLs.", {{"feed", feed}});
}

std::string RenderProcessMetrics() {
  std::string out;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  // /proc/self/stat: "pid (comm) state ..." — fields after the last ')'.
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)),
                   std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  std::vector<std::string> f;  // f[0] is field 3 (state)
  if (paren != std::string::npos) {
    std::istringstream rest(stat.substr(paren + 1));
    for (std::string w; rest >> w;) f.push_back(w);
  }
  // Boot time from the clocks: /proc/stat (btime) is hidden under the
  // unit's ProcSubset=pid.
  timespec real{}, boot{};
  ::clock_gettime(CLOCK_REALTIME, &real);
  ::clock_gettime(CLOCK_BOOTTIME, &boot);
  const double boot_time =
      static_cast<double>(real.tv_sec - boot.tv_sec) +
      static_cast<double>(real.tv_nsec - boot.tv_nsec) / 1e9;
  if (f.size() > 21 && ticks > 0) {
    const double utime = std::stod(f[11]), stime = std::stod(f[12]);
    out += Family("process_cpu_seconds_total", "counter",
                  "User and system CPU time spent in seconds.",
                  (utime + stime) / ticks);
    out += Family("process_virtual_memory_bytes", "gauge",
                  "Virtual memory size in bytes.", std::stod(f[20]));
    out += Family("process_resident_memory_bytes", "gauge",
                  "Resident memory size in bytes.", std::stod(f[21]) * page);
    out += Family("process_start_time_seconds", "gauge",
                  "Start time of the process since unix epoch in seconds.",
                  boot_time + std::stod(f[19]) / ticks);
  }
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    int fds = 0;
    while (const dirent* e = ::readdir(dir)) {
      if (e->d_name[0] != '.') ++fds;
    }
    ::closedir(dir);
    out +=
        Family("process_open_fds", "gauge", "Number of open file descriptors.",
               fds - 1);  // minus the one opendir holds
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    out += Family("process_max_fds", "gauge",
                  "Maximum number of open file descriptors.",
                  static_cast<double>(limit.rlim_cur));
  }
  return out;
}

}  // namespace newsflow
