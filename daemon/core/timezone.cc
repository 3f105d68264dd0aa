#include "daemon/core/timezone.h"

#include <algorithm>
#include <chrono>
#include <fstream>

#include "daemon/core/time_util.h"

namespace newsflow {
namespace {

constexpr size_t kMaxTzifBytes = 256 * 1024;  // real files are < 4 KB

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

int64_t ReadBe(const std::string& b, size_t pos, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) {
    v = (v << 8) | static_cast<unsigned char>(b[pos + i]);
  }
  if (width == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

struct TzifCounts {
  size_t isut, isstd, leap, time, type, chars;
};

bool ReadHeader(const std::string& b, size_t pos, char* version,
                TzifCounts* c) {
  if (pos + 44 > b.size() || b.compare(pos, 4, "TZif") != 0) return false;
  *version = b[pos + 4];
  size_t* fields[] = {&c->isut, &c->isstd, &c->leap,
                      &c->time, &c->type,  &c->chars};
  for (size_t i = 0; i < 6; ++i) {
    *fields[i] = static_cast<uint32_t>(ReadBe(b, pos + 20 + 4 * i, 4));
  }
  return c->type >= 1 && c->type <= 256 && c->time <= 100000 &&
         c->chars <= 100000 && c->leap <= 100000;
}

size_t BlockSize(const TzifCounts& c, size_t time_width) {
  return c.time * time_width + c.time + c.type * 6 + c.chars +
         c.leap * (time_width + 4) + c.isstd + c.isut;
}

}  // namespace

Result<TimeZone> TimeZone::Load(std::string_view name) {
  return LoadFrom(name, "/usr/share/zoneinfo");
}

Result<TimeZone> TimeZone::LoadFrom(std::string_view name,
                                    const std::string& zoneinfo_dir) {
  TimeZone tz;
  tz.name_ = std::string(name);
  if (name.empty() || name == "UTC" || name == "Z") return tz;
  if (name[0] == '+' || name[0] == '-') {
    if (!ParseFixedOffset(name, &tz.fixed_offset_seconds_)) {
      return Error::Config("invalid fixed UTC offset '" + tz.name_ + "'",
                           "timezone");
    }
    tz.initial_offset_ = tz.fixed_offset_seconds_;
    return tz;
  }
  if (name[0] == '/' || name.find("..") != std::string_view::npos ||
      name.size() > 128) {
    return Error::Config("invalid time zone name '" + tz.name_ + "'",
                         "timezone");
  }
  const std::string path = zoneinfo_dir + "/" + tz.name_;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error::Config("unknown time zone '" + tz.name_ + "' (no " + path +
                             "; is tzdata installed?)",
                         "timezone");
  }
  std::string b;
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    b.append(buf, static_cast<size_t>(in.gcount()));
    if (b.size() > kMaxTzifBytes) {
      return Error::Config("time zone file too large: " + path, "timezone");
    }
  }
  auto bad = [&] {
    return Error::Config("time zone '" + tz.name_ + "': malformed TZif file",
                         "timezone");
  };
  char version = 0;
  TzifCounts c{};
  if (!ReadHeader(b, 0, &version, &c)) return bad();
  size_t pos = 44;
  size_t width = 4;
  if (version >= '2') {
    // Skip the v1 block; the v2+ block after it has 64-bit times.
    pos += BlockSize(c, 4);
    if (!ReadHeader(b, pos, &version, &c)) return bad();
    pos += 44;
    width = 8;
  }
  if (pos + BlockSize(c, width) > b.size()) return bad();
  const size_t times_at = pos;
  const size_t idx_at = times_at + c.time * width;
  const size_t types_at = idx_at + c.time;
  std::vector<int32_t> type_offsets(c.type);
  for (size_t i = 0; i < c.type; ++i) {
    type_offsets[i] = static_cast<int32_t>(ReadBe(b, types_at + 6 * i, 4));
  }
  tz.transitions_.reserve(c.time);
  tz.offsets_.reserve(c.time);
  for (size_t i = 0; i < c.time; ++i) {
    const int64_t at = ReadBe(b, times_at + i * width, width);
    const size_t type = static_cast<unsigned char>(b[idx_at + i]);
    if (type >= c.type) return bad();
    if (!tz.transitions_.empty() && at <= tz.transitions_.back()) return bad();
    tz.transitions_.push_back(at);
    tz.offsets_.push_back(type_offsets[type]);
  }
  // RFC 8536: local time before the first transition uses type 0.
  tz.initial_offset_ = type_offsets[0];
  tz.fixed_offset_seconds_ = type_offsets[0];
  return tz;
}

int TimeZone::OffsetMinutesAtUtc(int64_t unix_seconds) const {
  if (transitions_.empty()) return fixed_offset_seconds_ / 60;
  auto it =
      std::upper_bound(transitions_.begin(), transitions_.end(), unix_seconds);
  if (it == transitions_.begin()) return initial_offset_ / 60;
  return offsets_[static_cast<size_t>(it - transitions_.begin()) - 1] / 60;
}

int TimeZone::OffsetMinutesForLocal(int year, int month, int day, int hour,
                                    int minute, int second) const {
  if (transitions_.empty()) return fixed_offset_seconds_ / 60;
  auto local = MakeUtc(year, month, day, hour, minute, second);
  if (!local) return OffsetMinutesAtUtc(0);
  const int64_t local_as_utc = std::chrono::duration_cast<std::chrono::seconds>(
                                   local->time_since_epoch())
                                   .count();
  const int first = OffsetMinutesAtUtc(local_as_utc);
  return OffsetMinutesAtUtc(local_as_utc - int64_t{first} * 60);
}

}  // namespace newsflow
