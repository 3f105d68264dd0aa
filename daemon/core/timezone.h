#pragma once

// A time zone used to interpret feed dates that carry no zone of their own.
// Immutable after Load, so one instance may be shared (e.g. through a
// shared_ptr<const TimeZone>) by any number of threads. Copying copies the
// transition table (a few KB for an IANA zone; nothing for UTC/fixed zones).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/error.h"

namespace newsflow {

class TimeZone {
 public:
  // UTC.
  TimeZone() = default;

  // Accepts "" / "UTC" / "Z" (UTC), fixed offsets "+05:30" / "-0800" / "+05"
  // and IANA names ("Europe/Berlin") read from the TZif file under
  // /usr/share/zoneinfo (v2+ 64-bit section when present, else v1). Names
  // with ".." or a leading '/' are rejected. No process-global state (no TZ
  // variable, no localtime). Errors: Errc::kConfig naming the zone.
  static Result<TimeZone> Load(std::string_view name);

  // Same, reading IANA names below `zoneinfo_dir` (for tests).
  static Result<TimeZone> LoadFrom(std::string_view name,
                                   const std::string& zoneinfo_dir);

  // UTC offset in minutes in effect at the UTC instant `unix_seconds`.
  int OffsetMinutesAtUtc(int64_t unix_seconds) const;

  // UTC offset in minutes in effect for the given local civil time. Two
  // steps: treat the local time as UTC, take the offset there, subtract it to
  // guess the instant, and return the offset at that guess. In a DST gap
  // (local time that never existed) or an overlap (local time that happened
  // twice) the result is one of the two adjacent offsets, deterministically
  // (for zones east of UTC: the pre-gap offset, the later/standard offset in
  // an overlap). Either is within the DST delta of the truth, which is all a
  // zone-less feed timestamp can promise. Beyond the last transition in the
  // file (2037 for "fat" tzdata) the last offset stays in effect.
  int OffsetMinutesForLocal(int year, int month, int day, int hour, int minute,
                            int second) const;

  // The name given to Load ("" for the default UTC zone).
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  int fixed_offset_seconds_ = 0;      // used when there are no transitions
  std::vector<int64_t> transitions_;  // UTC seconds, ascending
  std::vector<int32_t> offsets_;      // utoff after transitions_[i]
  int32_t initial_offset_ = 0;        // before the first transition
};

}  // namespace newsflow
