#include "connectors/sources/feed/encoding.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <iconv.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "daemon/core/text_util.h"

namespace newsflow::feed_internal {
namespace {

bool IsUtf8Name(std::string_view e) {
  return e == "utf-8" || e == "utf8" || e == "unicode-1-1-utf-8";
}

// Maps aliases to names glibc iconv knows, and upgrades charsets to their
// common supersets the way browsers do (latin-1 → windows-1252, gb2312 →
// gb18030, euc-kr → cp949) since feeds mislabel in that direction.
std::string CanonicalCharset(std::string e) {
  if (e == "iso-8859-1" || e == "iso8859-1" || e == "latin1" ||
      e == "latin-1" || e == "us-ascii" || e == "ascii" || e == "cp1252" ||
      e == "iso_8859-1" || e == "l1" || e == "windows-1252") {
    return "windows-1252";
  }
  if (e == "gb2312" || e == "gbk" || e == "gb_2312-80" || e == "x-gbk" ||
      e == "euc-cn") {
    return "gb18030";
  }
  if (e == "euc-kr" || e == "ks_c_5601-1987" || e == "x-windows-949") {
    return "cp949";
  }
  if (e == "big5" || e == "big5-hkscs" || e == "x-x-big5") return "big5-hkscs";
  if (e == "shift_jis" || e == "sjis" || e == "x-sjis" || e == "ms_kanji") {
    return "cp932";
  }
  if (e == "utf-16le" || e == "utf-16be" || e == "utf-16" || e == "utf-32" ||
      e == "utf-32le" || e == "utf-32be" || e == "ucs-2" || e == "ucs-4") {
    return e;
  }
  return e;
}

// Code points of bytes 0x80..0xFF in a single-byte charset (U+FFFD where
// the charset has none).
using HighHalf = std::array<uint32_t, 128>;

// windows-1252 (and latin-1, which browsers read as windows-1252): the most
// common legacy charset, known without asking iconv.
const HighHalf& Windows1252() {
  static const HighHalf table = [] {
    static const uint16_t k80[32] = {
        0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
        0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};
    HighHalf t{};
    for (int b = 0x80; b < 0x100; ++b)
      t[b - 0x80] = b < 0xA0 ? k80[b - 0x80] : b;
    return t;
  }();
  return table;
}

// Converts one byte with an open iconv descriptor: its code point, 0xFFFD
// when invalid, or -1 when the byte does not stand alone (a multi-byte or
// stateful charset).
int64_t IconvOneByte(iconv_t cd, unsigned char byte) {
  iconv(cd, nullptr, nullptr, nullptr, nullptr);
  char in = static_cast<char>(byte);
  char* src = &in;
  size_t src_left = 1;
  unsigned char out[16];
  char* dst = reinterpret_cast<char*>(out);
  size_t dst_left = sizeof out;
  size_t r = iconv(cd, &src, &src_left, &dst, &dst_left);
  if (r == static_cast<size_t>(-1)) return errno == EILSEQ ? 0xFFFD : -1;
  if (sizeof out - dst_left != 4) return -1;
  return out[0] | (out[1] << 8) | (out[2] << 16) | (int64_t{out[3]} << 24);
}

// The table of an ASCII-compatible single-byte charset, built once per
// charset from iconv (koi8-r, windows-1251, iso-8859-x ...: one table
// lookup per byte instead of iconv's per-call machinery); nullptr for
// multi-byte, stateful or unknown charsets. Thread-safe.
const HighHalf* SingleByteTable(const std::string& charset) {
  if (charset == "windows-1252") return &Windows1252();
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<HighHalf>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(charset);
  if (it != cache.end()) return it->second.get();
  std::unique_ptr<HighHalf> table;
  if (cache.size() < 64) {  // bounded: charset names come from the network
    iconv_t cd = iconv_open("UTF-32LE", charset.c_str());
    if (cd != reinterpret_cast<iconv_t>(-1)) {
      table = std::make_unique<HighHalf>();
      for (int b = 0; b < 0x100 && table; ++b) {
        const int64_t cp = IconvOneByte(cd, static_cast<unsigned char>(b));
        if (b < 0x80 ? cp != b : cp < 0) {
          table.reset();
        } else if (b >= 0x80) {
          (*table)[b - 0x80] = static_cast<uint32_t>(cp);
        }
      }
      iconv_close(cd);
    }
  }
  return cache.emplace(charset, std::move(table)).first->second.get();
}

void DecodeSingleByte(std::string_view in, const HighHalf& table,
                      std::string* out) {
  out->clear();
  out->reserve(in.size() + in.size() / 2);
  size_t i = 0;
  while (i < in.size()) {
    size_t j = i;
    while (j < in.size() && static_cast<unsigned char>(in[j]) < 0x80) ++j;
    out->append(in.data() + i, j - i);
    if (j >= in.size()) break;
    const uint32_t cp = table[static_cast<unsigned char>(in[j]) - 0x80];
    AppendUtf8(cp, out);
    i = j + 1;
  }
}

// Converts with iconv; undecodable bytes become U+FFFD. Returns false when
// iconv does not know the charset.
bool Iconv(std::string_view in, const std::string& from, std::string* out) {
  if (const HighHalf* table = SingleByteTable(from)) {
    DecodeSingleByte(in, *table, out);
    return true;
  }
  iconv_t cd = iconv_open("UTF-8", from.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;
  out->clear();
  out->reserve(in.size() + in.size() / 2);
  char buf[16384];
  char* src = const_cast<char*>(in.data());
  size_t src_left = in.size();
  while (src_left > 0) {
    char* dst = buf;
    size_t dst_left = sizeof buf;
    size_t r = iconv(cd, &src, &src_left, &dst, &dst_left);
    out->append(buf, dst - buf);
    if (r == static_cast<size_t>(-1)) {
      if (errno == E2BIG) continue;
      // EILSEQ or EINVAL (truncated sequence at the end): skip one byte.
      out->append("\xEF\xBF\xBD");
      ++src;
      --src_left;
      iconv(cd, nullptr, nullptr, nullptr, nullptr);
    }
  }
  char* dst = buf;
  size_t dst_left = sizeof buf;
  iconv(cd, nullptr, nullptr, &dst, &dst_left);
  out->append(buf, dst - buf);
  iconv_close(cd);
  return true;
}

// Reads encoding="..." from an XML declaration at the start of `s` (ASCII
// compatible bytes). Returns "" when absent.
std::string DeclaredEncoding(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && i < 1024 && s[i] != '<') ++i;
  if (s.substr(i, 5) != "<?xml") return {};
  size_t end = s.find("?>", i);
  if (end == std::string_view::npos || end - i > 512) {
    end = std::min(s.size(), i + 512);
  }
  std::string_view decl = s.substr(i, end - i);
  size_t p = decl.find("encoding");
  if (p == std::string_view::npos) return {};
  p += 8;
  while (p < decl.size() &&
         (decl[p] == ' ' || decl[p] == '=' || decl[p] == '\t' ||
          decl[p] == '\n' || decl[p] == '\r')) {
    ++p;
  }
  if (p >= decl.size() || (decl[p] != '"' && decl[p] != '\'')) return {};
  char q = decl[p++];
  size_t e = decl.find(q, p);
  if (e == std::string_view::npos || e - p > 64) return {};
  return ToLowerAscii(decl.substr(p, e - p));
}

bool HasNonAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return true;
  }
  return false;
}

}  // namespace

std::string CharsetFromContentType(std::string_view ct) {
  std::string lower = ToLowerAscii(ct);
  size_t p = lower.find("charset");
  if (p == std::string::npos) return {};
  p += 7;
  while (p < lower.size() && (lower[p] == ' ' || lower[p] == '=')) ++p;
  if (p < lower.size() && (lower[p] == '"' || lower[p] == '\'')) ++p;
  size_t e = p;
  while (e < lower.size() && lower[e] != ';' && lower[e] != '"' &&
         lower[e] != '\'' && lower[e] != ' ') {
    ++e;
  }
  return lower.substr(p, e - p);
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  auto cont = [](unsigned char c) { return (c & 0xC0) == 0x80; };
  while (p < end) {
#if defined(__SSE2__)
    // Fast path over ASCII, 16 bytes at a time.
    while (end - p >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      if (_mm_movemask_epi8(v) != 0) break;
      p += 16;
    }
#endif
    // Then byte by byte until the next ASCII run (scripts written in
    // multi-byte characters stay here, with one branch per character).
    while (p < end) {
      const unsigned char c = *p;
      if (c < 0x80) {
        ++p;
        if (end - p >= 16 && *p < 0x80) break;
        continue;
      }
      if (c < 0xC2) return false;
      if (c < 0xE0) {
        if (end - p < 2 || !cont(p[1])) return false;
        p += 2;
      } else if (c < 0xF0) {
        if (end - p < 3 || !cont(p[1]) || !cont(p[2])) return false;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0)) {
          return false;  // overlong, or a surrogate
        }
        p += 3;
      } else {
        if (c > 0xF4 || end - p < 4 || !cont(p[1]) || !cont(p[2]) ||
            !cont(p[3])) {
          return false;
        }
        if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90)) {
          return false;  // overlong, or beyond U+10FFFF
        }
        p += 4;
      }
    }
  }
  return true;
}

DecodedText DecodeToUtf8(std::string_view body, std::string_view content_type,
                         std::vector<std::string>* warnings) {
  DecodedText out;
  auto b = [&](size_t i) -> unsigned char {
    return i < body.size() ? static_cast<unsigned char>(body[i]) : 0xAA;
  };
  std::string wide;  // a UTF-16/32 encoding found from BOM or byte pattern
  size_t skip = 0;
  if (b(0) == 0xEF && b(1) == 0xBB && b(2) == 0xBF) {
    skip = 3;
    out.encoding = "utf-8";
  } else if (b(0) == 0xFF && b(1) == 0xFE && b(2) == 0 && b(3) == 0) {
    wide = "utf-32le", skip = 4;
  } else if (b(0) == 0 && b(1) == 0 && b(2) == 0xFE && b(3) == 0xFF) {
    wide = "utf-32be", skip = 4;
  } else if (b(0) == 0xFF && b(1) == 0xFE) {
    wide = "utf-16le", skip = 2;
  } else if (b(0) == 0xFE && b(1) == 0xFF) {
    wide = "utf-16be", skip = 2;
  } else if (body.size() >= 4 && b(1) == 0 && b(2) == 0 && b(3) == 0 &&
             b(0) != 0) {
    wide = "utf-32le";
  } else if (body.size() >= 4 && b(0) == 0 && b(1) == 0 && b(2) == 0 &&
             b(3) != 0) {
    wide = "utf-32be";
  } else if (body.size() >= 4 && b(0) != 0 && b(1) == 0 && b(3) == 0) {
    wide = "utf-16le";
  } else if (body.size() >= 4 && b(0) == 0 && b(2) == 0 && b(1) != 0) {
    wide = "utf-16be";
  }
  if (!wide.empty()) {
    out.encoding = wide;
    out.converted = true;
    if (!Iconv(body.substr(skip), wide, &out.storage)) {
      out.storage.assign(body.substr(skip));
    }
    out.utf8 = out.storage;
    return out;
  }
  std::string_view rest = body.substr(skip);
  if (out.encoding == "utf-8") {  // UTF-8 BOM wins over everything else.
    if (IsValidUtf8(rest)) {
      out.utf8 = rest;
      return out;
    }
  }
  std::string charset = CharsetFromContentType(content_type);
  std::string declared = DeclaredEncoding(rest);
  std::string chosen = !charset.empty() ? charset : declared;
  chosen = CanonicalCharset(chosen);
  const bool valid_utf8 = IsValidUtf8(rest);
  if (chosen.empty() || IsUtf8Name(chosen) || chosen.rfind("utf-16", 0) == 0 ||
      chosen.rfind("utf-32", 0) == 0 || chosen == "ucs-2" ||
      chosen == "ucs-4") {
    // UTF-16/32 declared on ASCII-compatible bytes is a lie: read as UTF-8.
    if (valid_utf8) {
      out.encoding = "utf-8";
      out.utf8 = rest;
      return out;
    }
    if (warnings) {
      warnings->push_back("bytes are not valid UTF-8; decoded as windows-1252");
    }
    chosen = "windows-1252";
  } else if (valid_utf8 && HasNonAscii(rest)) {
    if (warnings) {
      warnings->push_back("declared " + chosen +
                          " but the bytes are valid UTF-8; read as UTF-8");
    }
    out.encoding = "utf-8";
    out.utf8 = rest;
    return out;
  } else if (!HasNonAscii(rest)) {
    out.encoding = chosen;
    out.utf8 = rest;
    return out;
  }
  out.encoding = chosen;
  out.converted = true;
  if (!Iconv(rest, chosen, &out.storage)) {
    if (warnings) {
      warnings->push_back("unknown encoding '" + chosen +
                          "'; decoded as windows-1252");
    }
    out.encoding = "windows-1252";
    if (!Iconv(rest, "windows-1252", &out.storage)) out.storage.assign(rest);
  }
  out.utf8 = out.storage;
  return out;
}

}  // namespace newsflow::feed_internal
