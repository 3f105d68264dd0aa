#include "daemon/runtime/scheduler.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "daemon/core/text_util.h"
#include "daemon/core/time_util.h"

namespace newsflow {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::optional<int64_t> ParseUnsigned(std::string_view s) {
  s = Trim(s);
  if (s.starts_with('"') && s.ends_with('"') && s.size() >= 2) {
    s = s.substr(1, s.size() - 2);
  }
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0)
    return std::nullopt;
  return v;
}

// Ten years: anything larger is nonsense and would overflow arithmetic.
constexpr int64_t kMaxHintSeconds = 10LL * 365 * 24 * 3600;

seconds Capped(int64_t s) { return seconds(std::min(s, kMaxHintSeconds)); }

}  // namespace

std::optional<seconds> ParseRetryAfter(std::string_view value, TimePoint now) {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (auto delta = ParseUnsigned(value)) return Capped(*delta);
  auto when = ParseHttpDate(value);
  if (!when) return std::nullopt;
  return std::max(seconds(0), duration_cast<seconds>(*when - now));
}

ScheduleHints HintsFromResponse(const HttpResponse& response, TimePoint now) {
  ScheduleHints hints;
  const std::string cache_control =
      ToLowerAscii(response.Header("cache-control"));
  if (!cache_control.empty() &&
      cache_control.find("no-store") == std::string::npos &&
      cache_control.find("no-cache") == std::string::npos) {
    std::optional<int64_t> max_age, s_maxage;
    std::string_view rest = cache_control;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view part = Trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
      if (part.starts_with("max-age=")) max_age = ParseUnsigned(part.substr(8));
      if (part.starts_with("s-maxage="))
        s_maxage = ParseUnsigned(part.substr(9));
    }
    if (s_maxage) {
      hints.max_age = Capped(*s_maxage);
    } else if (max_age) {
      hints.max_age = Capped(*max_age);
    }
  }
  const std::string& expires = response.Header("expires");
  if (!expires.empty() && expires != "0" && !hints.max_age) {
    // RFC 9111: max-age wins over Expires. Measure against the server's
    // Date so a skewed local clock does not matter.
    auto when = ParseHttpDate(expires);
    auto date = ParseHttpDate(response.Header("date"));
    if (when) {
      auto delta = duration_cast<seconds>(*when - (date ? *date : now));
      if (delta > seconds(0)) hints.expires_in = Capped(delta.count());
    }
  }
  if (response.status == 429 || response.status == 503) {
    hints.retry_after = ParseRetryAfter(response.Header("retry-after"), now);
  }
  return hints;
}

std::optional<seconds> AdaptiveInterval(
    const std::vector<TimePoint>& item_dates, TimePoint now) {
  std::vector<TimePoint> dates;
  dates.reserve(item_dates.size());
  for (TimePoint t : item_dates) dates.push_back(std::min(t, now));
  std::sort(dates.begin(), dates.end(), std::greater<>());
  dates.erase(std::unique(dates.begin(), dates.end()), dates.end());
  if (dates.size() < 2) return std::nullopt;
  const size_t n = std::min(dates.size(), kAdaptiveSamples);
  // Mean gap = span of the newest n items / (n - 1). Polling twice per
  // expected gap keeps the delay to a new story at about half a gap.
  const auto span = dates[0] - dates[n - 1];
  auto estimate =
      duration_cast<seconds>(span / static_cast<int64_t>(n - 1) / 2);
  // A feed that has been silent for longer than its usual rhythm slows down
  // gradually (a quarter of the silence), rather than polling at full rate.
  const auto silence = duration_cast<seconds>(now - dates[0]);
  estimate = std::max(estimate, silence / 4);
  return std::max(estimate, seconds(1));
}

std::chrono::milliseconds NextPollDelay(const PollPlan& plan,
                                        const SchedulerConfig& scheduler) {
  const auto min_ms = duration_cast<milliseconds>(scheduler.min_interval);
  const auto max_ms =
      std::max(min_ms, duration_cast<milliseconds>(scheduler.max_interval));
  auto base =
      std::clamp(duration_cast<milliseconds>(plan.interval), min_ms, max_ms);
  // Exponential backoff, never giving up: the delay stops growing at
  // max_interval but the feed keeps being polled.
  for (int i = 0; i < plan.consecutive_failures && base < max_ms; ++i)
    base *= 2;
  base = std::min(base, max_ms);
  milliseconds floor = min_ms;
  for (const auto& hint : {plan.hints.ttl, plan.hints.max_age,
                           plan.hints.expires_in, plan.hints.retry_after}) {
    if (hint)
      floor =
          std::max(floor, std::min(duration_cast<milliseconds>(*hint), max_ms));
  }
  base = std::max(base, floor);
  const double factor = 1.0 + 0.1 * std::clamp(plan.jitter, -1.0, 1.0);
  auto jittered = milliseconds(
      static_cast<int64_t>(static_cast<double>(base.count()) * factor));
  // Jitter spreads feeds out; it must not undercut a server's Retry-After.
  if (plan.hints.retry_after) jittered = std::max(jittered, floor);
  return std::max(jittered, min_ms);
}

std::chrono::milliseconds NextPollDelay(seconds interval,
                                        const SchedulerConfig& scheduler,
                                        int consecutive_failures,
                                        double jitter) {
  PollPlan plan;
  plan.interval = interval;
  plan.consecutive_failures = consecutive_failures;
  plan.jitter = jitter;
  return NextPollDelay(plan, scheduler);
}

bool IsNetworkFailure(const Error& error) {
  switch (error.code()) {
    case Errc::kDns:
    case Errc::kConnect:
    case Errc::kTimeout:
    case Errc::kConnectionReset:
      return true;
    default:
      return false;
  }
}

OutageDetector::OutageDetector(seconds window, size_t min_hosts)
    : window_(window), min_hosts_(std::max<size_t>(1, min_hosts)) {}

OutageDetector& OutageDetector::Global() {
  static OutageDetector detector;
  return detector;
}

void OutageDetector::Expire(TimePoint now) {
  while (!events_.empty() &&
         (events_.front().at + window_ < now || events_.size() > 4096)) {
    events_.pop_front();
  }
}

void OutageDetector::Record(const std::string& host, bool network_failure,
                            TimePoint now) {
  events_.push_back({now, host, network_failure});
  Expire(now);
}

bool OutageDetector::InOutage(TimePoint now) {
  Expire(now);
  std::set<std::string_view> failed_hosts;
  for (const Event& e : events_) {
    if (!e.failure) return false;  // something got through: network is up
    failed_hosts.insert(e.host);
  }
  return failed_hosts.size() >= min_hosts_;
}

}  // namespace newsflow
