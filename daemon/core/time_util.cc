#include "daemon/core/time_util.h"

#include <cstdio>

namespace newsflow {

TimePoint Now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now());
}

std::string FormatRfc3339(TimePoint t) {
  using namespace std::chrono;
  const auto day_point = floor<days>(t);
  const year_month_day ymd{day_point};
  const hh_mm_ss<milliseconds> hms{t - day_point};
  char buf[40];
  const int ms = static_cast<int>(hms.subseconds().count());
  if (ms != 0) {
    std::snprintf(
        buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
        static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
        static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
        static_cast<int>(hms.minutes().count()),
        static_cast<int>(hms.seconds().count()), ms);
  } else {
    std::snprintf(
        buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ",
        static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
        static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
        static_cast<int>(hms.minutes().count()),
        static_cast<int>(hms.seconds().count()));
  }
  return buf;
}

std::optional<TimePoint> MakeUtc(int year, int month, int day, int hour,
                                 int minute, int second, int millisecond,
                                 int offset_minutes) {
  using namespace std::chrono;
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
      hour < 0 || hour > 24 || minute < 0 || minute > 59 || second < 0 ||
      second > 60 || millisecond < 0 || millisecond > 999 ||
      offset_minutes < -24 * 60 || offset_minutes > 24 * 60) {
    return std::nullopt;
  }
  const year_month_day ymd{std::chrono::year{year},
                           std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  if (hour == 24 && (minute != 0 || second != 0)) return std::nullopt;
  if (second == 60) second = 59;  // leap second: clamp, as feed readers do
  return TimePoint{sys_days{ymd}} + hours{hour} + minutes{minute} +
         seconds{second} + milliseconds{millisecond} - minutes{offset_minutes};
}

}  // namespace newsflow
