#include "daemon/core/time_util.h"

#include <array>
#include <cstdio>

#include "daemon/core/text_util.h"

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

namespace {

// A tiny cursor over an HTTP-date.
class DateReader {
 public:
  explicit DateReader(std::string_view text) : s_(text) {}

  bool AtEnd() {
    SkipSpaces();
    return s_.empty();
  }
  void SkipSpaces() {
    while (!s_.empty() && (s_.front() == ' ' || s_.front() == '\t'))
      s_.remove_prefix(1);
  }
  bool Consume(char c) {
    if (s_.empty() || s_.front() != c) return false;
    s_.remove_prefix(1);
    return true;
  }
  std::string_view Word() {
    SkipSpaces();
    size_t n = 0;
    while (n < s_.size() &&
           ((s_[n] >= 'a' && s_[n] <= 'z') || (s_[n] >= 'A' && s_[n] <= 'Z')))
      ++n;
    std::string_view w = s_.substr(0, n);
    s_.remove_prefix(n);
    return w;
  }
  // 1..`max_digits` digits; -1 when none.
  int Number(size_t max_digits, size_t* digits = nullptr) {
    SkipSpaces();
    size_t n = 0;
    int value = 0;
    while (n < s_.size() && n < max_digits && s_[n] >= '0' && s_[n] <= '9') {
      value = value * 10 + (s_[n] - '0');
      ++n;
    }
    if (digits != nullptr) *digits = n;
    if (n == 0) return -1;
    s_.remove_prefix(n);
    return value;
  }
  std::string_view Rest() {
    SkipSpaces();
    return s_;
  }

 private:
  std::string_view s_;
};

int MonthNumber(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "jan", "feb", "mar", "apr", "may", "jun",
      "jul", "aug", "sep", "oct", "nov", "dec"};
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (EqualsIgnoreCaseAscii(name, kMonths[i])) return static_cast<int>(i) + 1;
  }
  return 0;
}

bool IsDayName(std::string_view name) {
  static constexpr std::array<std::string_view, 7> kDays = {
      "mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  if (name.size() < 3) return false;
  for (std::string_view d : kDays) {
    if (EqualsIgnoreCaseAscii(name.substr(0, 3), d)) return true;
  }
  return false;
}

// "HH:MM:SS".
bool ReadTime(DateReader& r, int* h, int* m, int* sec) {
  *h = r.Number(2);
  if (*h < 0 || !r.Consume(':')) return false;
  *m = r.Number(2);
  if (*m < 0 || !r.Consume(':')) return false;
  *sec = r.Number(2);
  return *sec >= 0;
}

// GMT/UTC/UT/Z or +hhmm/-hhmm; sets the offset in minutes.
bool ReadZone(std::string_view zone, int* offset) {
  *offset = 0;
  if (EqualsIgnoreCaseAscii(zone, "GMT") ||
      EqualsIgnoreCaseAscii(zone, "UTC") || EqualsIgnoreCaseAscii(zone, "UT") ||
      EqualsIgnoreCaseAscii(zone, "Z")) {
    return true;
  }
  if (zone.size() != 5 || (zone[0] != '+' && zone[0] != '-')) return false;
  for (size_t i = 1; i < 5; ++i) {
    if (zone[i] < '0' || zone[i] > '9') return false;
  }
  const int minutes = ((zone[1] - '0') * 10 + (zone[2] - '0')) * 60 +
                      (zone[3] - '0') * 10 + (zone[4] - '0');
  *offset = zone[0] == '-' ? -minutes : minutes;
  return true;
}

}  // namespace

std::optional<TimePoint> ParseHttpDate(std::string_view text) {
  DateReader r(text);
  std::string_view word = r.Word();
  if (!word.empty()) {
    if (!IsDayName(word)) return std::nullopt;
    r.SkipSpaces();
    (void)r.Consume(',');
    word = r.Word();
  }
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!word.empty()) {
    // asctime: "Nov  6 08:49:37 1994"
    month = MonthNumber(word);
    day = r.Number(2);
    if (month == 0 || day < 0 || !ReadTime(r, &hour, &minute, &second))
      return std::nullopt;
    year = r.Number(4);
    if (year < 0 || !r.AtEnd()) return std::nullopt;
    return MakeUtc(year, month, day, hour, minute, second);
  }
  // IMF-fixdate "06 Nov 1994 08:49:37 GMT" or RFC 850 "06-Nov-94 ...".
  day = r.Number(2);
  if (day < 0) return std::nullopt;
  const bool dashed = r.Consume('-');
  month = MonthNumber(r.Word());
  if (month == 0 || (dashed && !r.Consume('-'))) return std::nullopt;
  size_t digits = 0;
  year = r.Number(4, &digits);
  if (year < 0 || (digits != 2 && digits != 4)) return std::nullopt;
  if (digits == 2) year += year < 70 ? 2000 : 1900;  // RFC 9110: 50 years
  if (!ReadTime(r, &hour, &minute, &second)) return std::nullopt;
  int offset = 0;
  if (!ReadZone(r.Rest(), &offset)) return std::nullopt;
  return MakeUtc(year, month, day, hour, minute, second, 0, offset);
}

}  // namespace newsflow
