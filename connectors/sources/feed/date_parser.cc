#include "connectors/sources/feed/date_parser.h"

#include <cctype>
#include <cstring>

namespace newsflow::feed_internal {
namespace {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsAlpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}
inline char LowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool EqualsLower(std::string_view word, const char* lower) {
  size_t n = std::strlen(lower);
  if (word.size() != n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (LowerAscii(word[i]) != lower[i]) return false;
  }
  return true;
}

// Parses exactly `n` digits at s[*i]; advances *i.
bool Digits(std::string_view s, size_t* i, int n, int* out) {
  if (*i + n > s.size()) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    char c = s[*i + k];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *i += n;
  *out = v;
  return true;
}

// Month from a word in one of several languages; 0 if not a month. Matches
// on a lower-cased prefix of at least three bytes (UTF-8 kept as is).
int MonthFromWord(std::string_view w) {
  char buf[16];
  size_t n = std::min(w.size(), sizeof buf - 1);
  for (size_t i = 0; i < n; ++i) buf[i] = LowerAscii(w[i]);
  buf[n] = 0;
  std::string_view lw(buf, n);
  if (lw.size() < 3) return 0;
  struct M {
    const char* prefix;
    int month;
  };
  static const M kMonths[] = {
      {"jan", 1},
      {"ene", 1},
      {"gen", 1},
      {"jän", 1},
      {"janv", 1},
      {"feb", 2},
      {"fev", 2},
      {"fév", 2},
      {"févr", 2},
      {"mar", 3},
      {"mär", 3},
      {"maa", 3},
      {"apr", 4},
      {"abr", 4},
      {"avr", 4},
      {"may", 5},
      {"mai", 5},
      {"mag", 5},
      {"mei", 5},
      {"jun", 6},
      {"jui", 6},
      {"giu", 6},
      {"jul", 7},
      {"lug", 7},
      {"aug", 8},
      {"ago", 8},
      {"aoû", 8},
      {"aou", 8},
      {"sep", 9},
      {"set", 9},
      {"oct", 10},
      {"okt", 10},
      {"out", 10},
      {"ott", 10},
      {"nov", 11},
      {"dec", 12},
      {"dez", 12},
      {"dic", 12},
      {"déc", 12},
      // Greek and Russian, as written (capitalised or not; only ASCII is
      // lower-cased above), accented and plain.
      {"Ιαν", 1},
      {"ιαν", 1},
      {"Φεβ", 2},
      {"φεβ", 2},
      {"Μαρ", 3},
      {"Μάρ", 3},
      {"μαρ", 3},
      {"μάρ", 3},
      {"Απρ", 4},
      {"απρ", 4},
      {"Μαΐ", 5},
      {"Μάι", 5},
      {"Μαι", 5},
      {"μαΐ", 5},
      {"μάι", 5},
      {"μαι", 5},
      {"Ιουν", 6},
      {"Ιούν", 6},
      {"ιουν", 6},
      {"ιούν", 6},
      {"Ιουλ", 7},
      {"Ιούλ", 7},
      {"ιουλ", 7},
      {"ιούλ", 7},
      {"Αυγ", 8},
      {"Αύγ", 8},
      {"αυγ", 8},
      {"αύγ", 8},
      {"Σεπ", 9},
      {"σεπ", 9},
      {"Οκτ", 10},
      {"οκτ", 10},
      {"Νοε", 11},
      {"Νοέ", 11},
      {"νοε", 11},
      {"νοέ", 11},
      {"Δεκ", 12},
      {"δεκ", 12},
      {"янв", 1},
      {"Янв", 1},
      {"фев", 2},
      {"Фев", 2},
      {"мар", 3},
      {"Мар", 3},
      {"апр", 4},
      {"Апр", 4},
      {"май", 5},
      {"Май", 5},
      {"мая", 5},
      {"Мая", 5},
      {"июн", 6},
      {"Июн", 6},
      {"июл", 7},
      {"Июл", 7},
      {"авг", 8},
      {"Авг", 8},
      {"сен", 9},
      {"Сен", 9},
      {"окт", 10},
      {"Окт", 10},
      {"ноя", 11},
      {"Ноя", 11},
      {"дек", 12},
      {"Дек", 12},
  };
  // French "juillet" vs "juin": both start "jui"; disambiguate.
  if (lw.rfind("juil", 0) == 0) return 7;
  if (lw.rfind("juin", 0) == 0) return 6;
  if (lw.rfind("mars", 0) == 0) return 3;
  int best = 0;
  size_t best_len = 0;
  for (const M& m : kMonths) {
    size_t pl = std::strlen(m.prefix);
    if (lw.size() >= pl && lw.compare(0, pl, m.prefix) == 0 && pl > best_len) {
      best = m.month;
      best_len = pl;
    }
  }
  return best;
}

// Named time zones → offset minutes. Returns false if unknown.
bool ZoneFromWord(std::string_view w, int* offset) {
  struct Z {
    const char* name;
    int minutes;
  };
  static const Z kZones[] = {
      {"gmt", 0},     {"ut", 0},      {"utc", 0},    {"z", 0},
      {"est", -300},  {"edt", -240},  {"cst", -360}, {"cdt", -300},
      {"mst", -420},  {"mdt", -360},  {"pst", -480}, {"pdt", -420},
      {"akst", -540}, {"akdt", -480}, {"hst", -600}, {"ast", -240},
      {"adt", -180},  {"nst", -210},  {"ndt", -150}, {"bst", 60},
      {"ist", 330},   {"cet", 60},    {"cest", 120}, {"met", 60},
      {"mest", 120},  {"eet", 120},   {"eest", 180}, {"wet", 0},
      {"west", 60},   {"msk", 180},   {"jst", 540},  {"kst", 540},
      {"hkt", 480},   {"sgt", 480},   {"aest", 600}, {"aedt", 660},
      {"acst", 570},  {"acdt", 630},  {"awst", 480}, {"nzst", 720},
      {"nzdt", 780},  {"brt", -180},  {"art", -180}, {"a", -60},
      {"m", -720},    {"n", 60},      {"y", 720},
  };
  for (const Z& z : kZones) {
    if (EqualsLower(w, z.name)) {
      *offset = z.minutes;
      return true;
    }
  }
  return false;
}

// "+hhmm", "+hh:mm", "+hh" at s[*i] (sign included). Advances *i.
bool NumericZone(std::string_view s, size_t* i, int* offset) {
  size_t k = *i;
  if (k >= s.size() || (s[k] != '+' && s[k] != '-')) return false;
  int sign = s[k] == '-' ? -1 : 1;
  ++k;
  int h = 0, m = 0;
  if (!Digits(s, &k, 2, &h)) {
    // "+h" single digit (seen in the wild).
    if (!Digits(s, &k, 1, &h)) return false;
  }
  if (k < s.size() && s[k] == ':') ++k;
  if (k + 2 <= s.size() && IsDigit(s[k]) && IsDigit(s[k + 1])) {
    Digits(s, &k, 2, &m);
  }
  if (h > 23 || m > 59) return false;
  *offset = sign * (h * 60 + m);
  *i = k;
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= ' ') {
    s.remove_prefix(1);
  }
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ') {
    s.remove_suffix(1);
  }
  return s;
}

// Time "hh:mm[:ss[.fff]]" at s[*i].
bool ParseTime(std::string_view s, size_t* i, int* h, int* m, int* sec,
               int* ms) {
  size_t k = *i;
  if (!Digits(s, &k, 2, h)) {
    if (!Digits(s, &k, 1, h)) return false;
  }
  if (k >= s.size() || s[k] != ':') return false;
  ++k;
  if (!Digits(s, &k, 2, m)) return false;
  *sec = 0;
  *ms = 0;
  if (k < s.size() && s[k] == ':') {
    ++k;
    if (!Digits(s, &k, 2, sec)) return false;
    if (k < s.size() && (s[k] == '.' || s[k] == ',')) {
      ++k;
      int scale = 100;
      while (k < s.size() && IsDigit(s[k])) {
        *ms += (s[k] - '0') * scale;
        scale /= 10;
        ++k;
      }
    }
  }
  *i = k;
  return true;
}

// ISO 8601 / W3C-DTF / RFC 3339 (also "YYYY-MM-DD hh:mm:ss", basic
// "YYYYMMDDThhmmss").
std::optional<TimePoint> ParseIso(std::string_view s, const TimeZone* zone) {
  size_t i = 0;
  int y, mo = 1, d = 1, h = 0, mi = 0, sec = 0, ms = 0, off = 0;
  bool have_time = false, have_zone = false;
  if (!Digits(s, &i, 4, &y)) return std::nullopt;
  bool basic = false;
  if (i < s.size() && s[i] == '-') {
    ++i;
    if (!Digits(s, &i, 2, &mo)) return std::nullopt;
    if (i < s.size() && s[i] == '-') {
      ++i;
      if (!Digits(s, &i, 2, &d)) return std::nullopt;
    }
  } else if (i < s.size() && IsDigit(s[i])) {
    basic = true;
    if (!Digits(s, &i, 2, &mo) || !Digits(s, &i, 2, &d)) return std::nullopt;
  }
  if (i < s.size() && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
    ++i;
    while (i < s.size() && s[i] == ' ') ++i;
    if (basic && i + 4 <= s.size() && IsDigit(s[i + 2])) {
      // hhmm[ss]
      if (!Digits(s, &i, 2, &h) || !Digits(s, &i, 2, &mi)) {
        return std::nullopt;
      }
      Digits(s, &i, 2, &sec);
      have_time = true;
    } else if (i < s.size() && IsDigit(s[i])) {
      if (!ParseTime(s, &i, &h, &mi, &sec, &ms)) return std::nullopt;
      have_time = true;
    }
    while (i < s.size() && s[i] == ' ') ++i;
    if (i < s.size()) {
      have_zone = true;
      if (s[i] == 'Z' || s[i] == 'z') {
        ++i;
      } else if (!NumericZone(s, &i, &off)) {
        size_t k = i;
        while (k < s.size() && IsAlpha(s[k])) ++k;
        if (!ZoneFromWord(s.substr(i, k - i), &off)) return std::nullopt;
        i = k;
      }
    }
  }
  // A bare date ("2003-12-01") is a day, not an instant: it stays midnight
  // UTC rather than moving to the previous day east of UTC.
  if (have_time && !have_zone && zone != nullptr) {
    off = zone->OffsetMinutesForLocal(y, mo, d, h, mi, sec);
  }
  return MakeUtc(y, mo, d, h, mi, sec, ms, off);
}

// RFC 822 and relatives, token by token so the order may vary.
std::optional<TimePoint> ParseRfc822(std::string_view s, const TimeZone* zone) {
  int day = -1, month = 0, year = -1, h = 0, mi = 0, sec = 0, ms = 0, off = 0;
  bool have_time = false, have_zone = false;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == ',' || c == '\t' || c == '.' || c == '/' ||
        c == '\n' || c == '\r' || c == '(' || c == ')') {
      ++i;
      continue;
    }
    if ((c == '+' || c == '-') && have_time && !have_zone) {
      if (NumericZone(s, &i, &off)) {
        have_zone = true;
        continue;
      }
      ++i;
      continue;
    }
    if (c == '-') {  // "12-Oct-2025"
      ++i;
      continue;
    }
    if (IsDigit(c)) {
      size_t k = i;
      while (k < s.size() && IsDigit(s[k])) ++k;
      if (!have_time && k < s.size() && s[k] == ':') {
        if (!ParseTime(s, &i, &h, &mi, &sec, &ms)) return std::nullopt;
        have_time = true;
        continue;
      }
      int v = 0;
      size_t len = k - i;
      if (len > 4) return std::nullopt;
      for (size_t p = i; p < k; ++p) v = v * 10 + (s[p] - '0');
      if (len == 4) {
        if (year >= 0) return std::nullopt;
        year = v;
      } else if (day < 0 && len <= 2 && v >= 1 && v <= 31) {
        day = v;
      } else if (year < 0 && len <= 2) {
        year = v < 50 ? 2000 + v : 1900 + v;
      } else if (month == 0 && day >= 0 && v >= 1 && v <= 12 && len <= 2) {
        month = v;
      } else {
        return std::nullopt;
      }
      i = k;
      continue;
    }
    if (IsAlpha(static_cast<unsigned char>(c))) {
      size_t k = i;
      while (k < s.size() && IsAlpha(static_cast<unsigned char>(s[k]))) ++k;
      std::string_view w = s.substr(i, k - i);
      size_t after = k;
      if (after < s.size() && s[after] == '.') ++after;
      const bool day_name = after < s.size() && s[after] == ',';
      int m = 0, z = 0;
      if (day_name) {
        // "Mar," is Tuesday in Spanish, not March.
      } else if (month == 0 && (m = MonthFromWord(w)) != 0) {
        month = m;
      } else if (have_time && !have_zone && ZoneFromWord(w, &z)) {
        off = z;
        have_zone = true;
      } else if (EqualsLower(w, "am") || EqualsLower(w, "pm")) {
        if (EqualsLower(w, "pm") && h < 12) h += 12;
        if (EqualsLower(w, "am") && h == 12) h = 0;
      }
      // Other words: day names in any language, "at", etc.
      i = k;
      continue;
    }
    ++i;  // any other punctuation
  }
  if (day < 0 || month == 0 || year < 0) return std::nullopt;
  if (have_time && !have_zone && zone != nullptr) {
    off = zone->OffsetMinutesForLocal(year, month, day, h, mi, sec);
  }
  return MakeUtc(year, month, day, h, mi, sec, ms, off);
}

}  // namespace

std::optional<TimePoint> ParseFeedDate(std::string_view text,
                                       const TimeZone* zone) {
  std::string_view s = Trim(text);
  if (s.size() < 4 || s.size() > 128) return std::nullopt;
  if (IsDigit(s[0]) && IsDigit(s[1]) && IsDigit(s[2]) && IsDigit(s[3]) &&
      (s.size() == 4 || s[4] == '-' || IsDigit(s[4]))) {
    if (auto t = ParseIso(s, zone)) return t;
  }
  return ParseRfc822(s, zone);
}

}  // namespace newsflow::feed_internal
