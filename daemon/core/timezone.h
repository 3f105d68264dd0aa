#pragma once

// A time zone used to interpret feed dates that carry no zone of their own.
// Immutable after Load, so one instance may be shared (e.g. through a
// shared_ptr<const TimeZone>) by any number of threads. Copying copies the
// transition table (a few KB for an IANA zone; nothing for UTC/fixed zones).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/core/error.h"

namespace cctz {
class time_zone;
}

namespace newsflow {

// Backed by Google cctz (Debian libcctz-dev), which reads the system's TZif
// files including the POSIX TZ footer rule, so offsets stay right after the
// last listed transition (2037 with "fat" tzdata, much earlier with slim
// tzdata).
class TimeZone {
 public:
  // UTC.
  TimeZone();
  ~TimeZone();
  TimeZone(const TimeZone&);
  TimeZone& operator=(const TimeZone&);

  // Accepts "" / "UTC" / "Z" (UTC), fixed offsets "+05:30" / "-0800" / "+05"
  // and IANA names ("Europe/Berlin") read by cctz from /usr/share/zoneinfo
  // (or $TZDIR). Names with "..", ':' or a leading '/' are rejected. No
  // process-global state is changed (no TZ variable, no localtime).
  // Errors: Errc::kConfig naming the zone.
  static Result<TimeZone> Load(std::string_view name);

  // UTC offset in minutes in effect at the UTC instant `unix_seconds`.
  int OffsetMinutesAtUtc(int64_t unix_seconds) const;

  // UTC offset in minutes in effect for the given local civil time. In a
  // DST gap (local time that never existed) it is the offset before the
  // transition; in an overlap (local time that happened twice) the offset
  // of the first occurrence (cctz's `pre`). Either is within the DST delta
  // of the truth, which is all a zone-less feed timestamp can promise.
  int OffsetMinutesForLocal(int year, int month, int day, int hour, int minute,
                            int second) const;

  // The name given to Load ("" for the default UTC zone).
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  // Shared and immutable: cctz::time_zone is a cheap handle, but keeping
  // it behind a pointer keeps <cctz/time_zone.h> out of this header.
  std::shared_ptr<const cctz::time_zone> zone_;
};

}  // namespace newsflow
