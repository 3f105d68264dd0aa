#pragma once

// Scheduler policy: when a feed is polled next. Pure functions plus one
// small stateful OutageDetector; no Asio, no I/O (the FeedPoller owns the
// timers). Every delay is clamped to SchedulerConfig's bounds, so a feed is
// never disabled and never hammered.
//
// Threading: the functions are pure. OutageDetector is used from the
// io_context thread only.

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "connectors/common/http/http_client.h"
#include "daemon/core/error.h"
#include "daemon/core/time_util.h"

namespace newsflow {

// What the server and the document said about polling frequency. Each one
// is a lower bound on the next delay (never an upper bound).
struct ScheduleHints {
  std::optional<std::chrono::seconds> ttl;      // RSS <ttl> / sy:updatePeriod
  std::optional<std::chrono::seconds> max_age;  // Cache-Control max-age
  std::optional<std::chrono::seconds> expires_in;   // Expires - Date
  std::optional<std::chrono::seconds> retry_after;  // 429 / 503 Retry-After
};

// Parses Retry-After: delta seconds or an HTTP-date (relative to `now`).
// nullopt when absent or malformed; a date in the past gives 0 s.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value,
                                                    TimePoint now);

// Reads Cache-Control max-age (s-maxage preferred; no-store/no-cache
// contribute nothing), Expires (against Date, else `now`; "0" and invalid
// dates ignored) and, on 429/503 responses, Retry-After.
ScheduleHints HintsFromResponse(const HttpResponse& response, TimePoint now);

// Adaptive base interval from the publication dates of a feed's items:
// half the mean gap between the newest `kAdaptiveSamples` dated items, and
// the gap since the newest item as a floor (a feed that went quiet slows
// down). nullopt with fewer than two dated items (keep the configured
// interval). Dates in the future count as `now`.
inline constexpr size_t kAdaptiveSamples = 10;
std::optional<std::chrono::seconds> AdaptiveInterval(
    const std::vector<TimePoint>& item_dates, TimePoint now);

// Inputs of one scheduling decision.
struct PollPlan {
  std::chrono::seconds interval{900};  // configured or adaptive base interval
  int consecutive_failures = 0;        // 0 after a success
  ScheduleHints hints;
  double jitter = 0;  // uniform in [-1, 1]; ±10 % of the delay
};

// Delay before the next poll: the base interval clamped to
// [min_interval, max_interval]; doubled per consecutive failure, capped at
// max_interval (never disabled); raised to every hint (ttl, max-age,
// Expires, Retry-After) but not beyond max_interval; then ±10 % jitter,
// which never takes the delay below Retry-After or min_interval.
std::chrono::milliseconds NextPollDelay(const PollPlan& plan,
                                        const SchedulerConfig& scheduler);

// The pre-hint form (kept for callers of the original API).
std::chrono::milliseconds NextPollDelay(std::chrono::seconds interval,
                                        const SchedulerConfig& scheduler,
                                        int consecutive_failures,
                                        double jitter);

// True for failures that say "the network is unreachable from here" rather
// than "this feed is broken": DNS, connect, timeout, connection reset.
bool IsNetworkFailure(const Error& error);

// Outage detector: recognises a local network failure so that it does not
// push every feed into exponential backoff. Fetch outcomes are recorded per
// host; while, within `window`, at least `min_hosts` distinct hosts failed
// at the network level and no fetch succeeded, InOutage() is true and the
// poller neither counts a network failure against its feed nor backs off.
class OutageDetector {
 public:
  OutageDetector(std::chrono::seconds window = std::chrono::seconds(120),
                 size_t min_hosts = 3);
  OutageDetector(const OutageDetector&) = delete;
  OutageDetector& operator=(const OutageDetector&) = delete;

  // A fetch to `host` ended; `network_failure` per IsNetworkFailure. HTTP
  // errors (404, 500...) count as reachability: the network works.
  void Record(const std::string& host, bool network_failure, TimePoint now);
  bool InOutage(TimePoint now);

  // The detector shared by every poller of the process.
  static OutageDetector& Global();

 private:
  struct Event {
    TimePoint at;
    std::string host;
    bool failure;
  };
  void Expire(TimePoint now);

  const std::chrono::seconds window_;
  const size_t min_hosts_;
  std::deque<Event> events_;  // bounded: expired by time and count
};

}  // namespace newsflow
