#include "daemon/runtime/scheduler.h"

#include <gtest/gtest.h>

namespace newsflow {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::seconds;

SchedulerConfig Bounds(seconds min, seconds max) {
  SchedulerConfig s;
  s.min_interval = min;
  s.max_interval = max;
  return s;
}

TimePoint At(int64_t unix_seconds) {
  return TimePoint(milliseconds(unix_seconds * 1000));
}

HttpResponse Response(int status, HttpHeaders headers) {
  HttpResponse r;
  r.status = status;
  r.headers = std::move(headers);
  return r;
}

TEST(NextPollDelayTest, ClampsTheIntervalToTheBounds) {
  const auto s = Bounds(60s, 3600s);
  EXPECT_EQ(NextPollDelay(10s, s, 0, 0), milliseconds(60'000));
  EXPECT_EQ(NextPollDelay(600s, s, 0, 0), milliseconds(600'000));
  EXPECT_EQ(NextPollDelay(86400s, s, 0, 0), milliseconds(3'600'000));
  // The minimum can be as low as one second (tests).
  EXPECT_EQ(NextPollDelay(1s, Bounds(1s, 10s), 0, 0), milliseconds(1000));
}

TEST(NextPollDelayTest, BackoffDoublesUpToTheMaximumAndNeverStops) {
  const auto s = Bounds(60s, 3600s);
  EXPECT_EQ(NextPollDelay(300s, s, 1, 0), milliseconds(600'000));
  EXPECT_EQ(NextPollDelay(300s, s, 2, 0), milliseconds(1'200'000));
  EXPECT_EQ(NextPollDelay(300s, s, 3, 0), milliseconds(2'400'000));
  // Capped, never infinite, whatever the count.
  EXPECT_EQ(NextPollDelay(300s, s, 4, 0), milliseconds(3'600'000));
  EXPECT_EQ(NextPollDelay(300s, s, 1000, 0), milliseconds(3'600'000));
}

TEST(NextPollDelayTest, JitterIsTenPercentEitherWay) {
  const auto s = Bounds(1s, 3600s);
  EXPECT_EQ(NextPollDelay(1000s, s, 0, 1.0), milliseconds(1'100'000));
  EXPECT_EQ(NextPollDelay(1000s, s, 0, -1.0), milliseconds(900'000));
  EXPECT_EQ(NextPollDelay(1000s, s, 0, 5.0), milliseconds(1'100'000));
}

TEST(NextPollDelayTest, HintsAreLowerBoundsCappedByTheMaximum) {
  const auto s = Bounds(1s, 7200s);
  PollPlan plan;
  plan.interval = 60s;
  plan.hints.ttl = 1800s;
  EXPECT_EQ(NextPollDelay(plan, s), milliseconds(1'800'000));
  plan.hints = {};
  plan.hints.max_age = 900s;
  EXPECT_EQ(NextPollDelay(plan, s), milliseconds(900'000));
  plan.hints = {};
  plan.hints.expires_in = 120s;
  EXPECT_EQ(NextPollDelay(plan, s), milliseconds(120'000));
  // A hint shorter than the interval does not shorten it.
  plan.interval = 3000s;
  EXPECT_EQ(NextPollDelay(plan, s), milliseconds(3'000'000));
  // A hint beyond max_interval cannot disable the feed.
  plan.hints.ttl = seconds(86400 * 365);
  EXPECT_EQ(NextPollDelay(plan, s), milliseconds(7'200'000));
}

TEST(NextPollDelayTest, JitterNeverUndercutsRetryAfter) {
  const auto s = Bounds(1s, 7200s);
  PollPlan plan;
  plan.interval = 10s;
  plan.hints.retry_after = 600s;
  plan.jitter = -1.0;
  EXPECT_EQ(NextPollDelay(plan, s), milliseconds(600'000));
  plan.jitter = 1.0;
  EXPECT_EQ(NextPollDelay(plan, s), milliseconds(660'000));
}

TEST(ParseRetryAfterTest, SecondsAndHttpDates) {
  const TimePoint now = At(1'760'000'000);
  EXPECT_EQ(ParseRetryAfter("120", now), seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), seconds(0));
  EXPECT_EQ(ParseRetryAfter("", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-5", now), std::nullopt);
  // 1760000000 = Thu, 09 Oct 2025 08:53:20 GMT.
  EXPECT_EQ(ParseRetryAfter("Thu, 09 Oct 2025 09:03:20 GMT", now),
            seconds(600));
  EXPECT_EQ(ParseRetryAfter("Thu, 09 Oct 2025 08:00:00 GMT", now), seconds(0));
}

TEST(HintsFromResponseTest, ReadsCacheControlExpiresAndRetryAfter) {
  const TimePoint now = At(1'760'000'000);
  auto h = HintsFromResponse(
      Response(200, {{"cache-control", "public, max-age=300"}}), now);
  EXPECT_EQ(h.max_age, seconds(300));
  h = HintsFromResponse(
      Response(200, {{"cache-control", "max-age=300, s-maxage=900"}}), now);
  EXPECT_EQ(h.max_age, seconds(900));
  h = HintsFromResponse(
      Response(200, {{"cache-control", "no-cache, max-age=300"}}), now);
  EXPECT_EQ(h.max_age, std::nullopt);
  h = HintsFromResponse(
      Response(200, {{"date", "Thu, 09 Oct 2025 08:00:00 GMT"},
                     {"expires", "Thu, 09 Oct 2025 09:00:00 GMT"}}),
      now);
  EXPECT_EQ(h.expires_in, seconds(3600));  // against Date, not our clock
  h = HintsFromResponse(Response(200, {{"expires", "0"}}), now);
  EXPECT_EQ(h.expires_in, std::nullopt);
  h = HintsFromResponse(Response(429, {{"retry-after", "90"}}), now);
  EXPECT_EQ(h.retry_after, seconds(90));
  h = HintsFromResponse(Response(503, {{"retry-after", "30"}}), now);
  EXPECT_EQ(h.retry_after, seconds(30));
  // Retry-After on a 200 is not a throttle.
  h = HintsFromResponse(Response(200, {{"retry-after", "30"}}), now);
  EXPECT_EQ(h.retry_after, std::nullopt);
}

TEST(AdaptiveIntervalTest, FollowsThePublishingRate) {
  const TimePoint now = At(1'760'000'000);
  std::vector<TimePoint> hourly;
  for (int i = 0; i < 10; ++i) hourly.push_back(now - std::chrono::hours(i));
  EXPECT_EQ(AdaptiveInterval(hourly, now), seconds(1800));
  std::vector<TimePoint> daily;
  for (int i = 0; i < 10; ++i)
    daily.push_back(now - std::chrono::hours(24 * i));
  EXPECT_EQ(AdaptiveInterval(daily, now), seconds(12 * 3600));
}

TEST(AdaptiveIntervalTest, SilentFeedsSlowDownAndSparseOnesKeepTheirInterval) {
  const TimePoint now = At(1'760'000'000);
  std::vector<TimePoint> quiet;
  for (int i = 0; i < 5; ++i) {
    quiet.push_back(now - std::chrono::hours(40) -
                    std::chrono::minutes(10 * i));
  }
  EXPECT_EQ(AdaptiveInterval(quiet, now), seconds(10 * 3600));  // 40h / 4
  EXPECT_EQ(AdaptiveInterval({now}, now), std::nullopt);
  EXPECT_EQ(AdaptiveInterval({}, now), std::nullopt);
  // Future dates count as now; duplicates do not make a zero gap.
  auto a = AdaptiveInterval(
      {now + std::chrono::hours(5), now, now - std::chrono::hours(2)}, now);
  EXPECT_EQ(a, seconds(3600));
}

TEST(OutageDetectorTest, ManyHostsFailingAtOnceIsAnOutage) {
  OutageDetector d(60s, 3);
  const TimePoint t = At(1'760'000'000);
  d.Record("a.example", true, t);
  d.Record("b.example", true, t);
  EXPECT_FALSE(d.InOutage(t));
  d.Record("b.example", true, t);
  EXPECT_FALSE(d.InOutage(t));  // same host twice: one broken site
  d.Record("c.example", true, t);
  EXPECT_TRUE(d.InOutage(t));
  // Any success means the network works.
  d.Record("d.example", false, t + 1s);
  EXPECT_FALSE(d.InOutage(t + 1s));
}

TEST(OutageDetectorTest, OldEventsExpire) {
  OutageDetector d(60s, 2);
  const TimePoint t = At(1'760'000'000);
  d.Record("ok.example", false, t);
  d.Record("a.example", true, t + 61s);
  d.Record("b.example", true, t + 62s);
  EXPECT_TRUE(d.InOutage(t + 62s));  // the success fell out of the window
  EXPECT_FALSE(d.InOutage(t + 200s));
}

TEST(IsNetworkFailureTest, OnlyTransportLevelFailures) {
  EXPECT_TRUE(IsNetworkFailure(Error(Errc::kDns, "x")));
  EXPECT_TRUE(IsNetworkFailure(Error(Errc::kConnect, "x")));
  EXPECT_TRUE(IsNetworkFailure(Error(Errc::kTimeout, "x")));
  EXPECT_TRUE(IsNetworkFailure(Error(Errc::kConnectionReset, "x")));
  EXPECT_FALSE(IsNetworkFailure(Error(Errc::kHttpStatus, "x", "", 503)));
  EXPECT_FALSE(IsNetworkFailure(Error(Errc::kTls, "x")));
  EXPECT_FALSE(IsNetworkFailure(Error(Errc::kNotAFeed, "x")));
}

}  // namespace
}  // namespace newsflow
