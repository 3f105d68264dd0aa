#pragma once

// Wall-clock time as used in articles: UTC, millisecond precision.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace newsflow {

using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

// Returns the current UTC time, truncated to milliseconds.
TimePoint Now();

// RFC 3339 UTC: "2025-10-12T01:40:00Z", or with ".123" when the time has a
// millisecond part.
std::string FormatRfc3339(TimePoint t);

// Builds a TimePoint from civil UTC fields. Returns nullopt when a field is
// out of range (month 13, second 61, ...). `offset_minutes` is the zone offset
// of the given local time (e.g. -300 for EST); it is subtracted.
std::optional<TimePoint> MakeUtc(int year, int month, int day, int hour,
                                 int minute, int second, int millisecond = 0,
                                 int offset_minutes = 0);

// An HTTP-date (RFC 9110 section 5.6.7) as servers send it in Date,
// Expires, Last-Modified and Retry-After: IMF-fixdate ("Sun, 06 Nov 1994
// 08:49:37 GMT"), the obsolete RFC 850 form ("Sunday, 06-Nov-94 08:49:37
// GMT") and asctime ("Sun Nov  6 08:49:37 1994"). Leniently also "UTC",
// "UT", "Z" or a numeric offset ("+0000") instead of GMT, and no day name.
// nullopt for anything else (e.g. "0", "-1", "soon"). Feed dates, which come
// in many more shapes, are the feed parser's business.
std::optional<TimePoint> ParseHttpDate(std::string_view text);

}  // namespace newsflow
