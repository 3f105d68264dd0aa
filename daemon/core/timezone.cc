#include "daemon/core/timezone.h"

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

#include <chrono>

namespace newsflow {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "+05:30", "-0800", "+05" -> seconds east of UTC.
bool ParseFixedOffset(std::string_view s, int* seconds) {
  if (s.size() < 3 || (s[0] != '+' && s[0] != '-')) return false;
  const int sign = s[0] == '-' ? -1 : 1;
  std::string_view d = s.substr(1);
  std::string digits;
  if (d.size() == 5 && d[2] == ':') {
    digits = std::string(d.substr(0, 2)) + std::string(d.substr(3));
  } else if (d.size() == 4 || d.size() == 2) {
    digits = std::string(d);
  } else {
    return false;
  }
  for (char c : digits) {
    if (!IsDigit(c)) return false;
  }
  const int h = (digits[0] - '0') * 10 + (digits[1] - '0');
  const int m =
      digits.size() == 4 ? (digits[2] - '0') * 10 + (digits[3] - '0') : 0;
  if (h > 14 || m > 59) return false;
  *seconds = sign * (h * 3600 + m * 60);
  return true;
}

std::shared_ptr<const cctz::time_zone> Utc() {
  static const auto utc =
      std::make_shared<const cctz::time_zone>(cctz::utc_time_zone());
  return utc;
}

}  // namespace

TimeZone::TimeZone() : zone_(Utc()) {}
TimeZone::~TimeZone() = default;
TimeZone::TimeZone(const TimeZone&) = default;
TimeZone& TimeZone::operator=(const TimeZone&) = default;

Result<TimeZone> TimeZone::Load(std::string_view name) {
  TimeZone tz;
  tz.name_ = std::string(name);
  if (name.empty() || name == "UTC" || name == "Z") return tz;
  if (name[0] == '+' || name[0] == '-') {
    int seconds = 0;
    if (!ParseFixedOffset(name, &seconds)) {
      return Error::Config("invalid fixed UTC offset '" + tz.name_ + "'",
                           "timezone");
    }
    tz.zone_ = std::make_shared<const cctz::time_zone>(
        cctz::fixed_time_zone(std::chrono::seconds(seconds)));
    return tz;
  }
  // ':' would reach cctz's "libc:" names (the process's localtime).
  if (name[0] == '/' || name.find("..") != std::string_view::npos ||
      name.find(':') != std::string_view::npos || name.size() > 128) {
    return Error::Config("invalid time zone name '" + tz.name_ + "'",
                         "timezone");
  }
  cctz::time_zone zone;
  if (!cctz::load_time_zone(tz.name_, &zone)) {
    return Error::Config("unknown time zone '" + tz.name_ +
                             "' (no readable TZif file of that name under "
                             "/usr/share/zoneinfo; is tzdata installed?)",
                         "timezone");
  }
  tz.zone_ = std::make_shared<const cctz::time_zone>(zone);
  return tz;
}

int TimeZone::OffsetMinutesAtUtc(int64_t unix_seconds) const {
  const auto at = std::chrono::time_point_cast<cctz::seconds>(
                      std::chrono::system_clock::from_time_t(0)) +
                  cctz::seconds(unix_seconds);
  return zone_->lookup(at).offset / 60;
}

int TimeZone::OffsetMinutesForLocal(int year, int month, int day, int hour,
                                    int minute, int second) const {
  const cctz::civil_second local(year, month, day, hour, minute, second);
  const cctz::time_zone::civil_lookup cl = zone_->lookup(local);
  // `pre` is the local time read with the offset in effect before any
  // transition at it; the offset is the distance between the two.
  const int64_t local_as_utc = local - cctz::civil_second(1970, 1, 1, 0, 0, 0);
  const int64_t pre =
      std::chrono::duration_cast<cctz::seconds>(cl.pre.time_since_epoch())
          .count();
  return static_cast<int>((local_as_utc - pre) / 60);
}

}  // namespace newsflow
