#include "connectors/sources/feed/xml_repair.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "daemon/core/text_util.h"

namespace newsflow::feed_internal {
namespace {

struct Entity {
  const char* name;
  uint32_t cp;
};
constexpr Entity kEntities[] = {
#include "connectors/sources/feed/html_entities.inc"
};

inline bool IsNameStart(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c == ':' || c >= 0x80;
}
inline bool IsNameChar(unsigned char c) {
  return IsNameStart(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}
inline bool IsBadControl(unsigned char c) {
  return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}
// Bytes the text loop must look at: '&', '<', 0xC2 (lead of U+0080..U+00BF)
// and C0 controls other than tab/LF/CR.
inline bool IsTextSpecial(unsigned char c) {
  return c == '&' || c == '<' || c == 0xC2 || IsBadControl(c);
}

// Index of the first byte at or after `i` for which IsTextSpecial (or
// IsBadControl alone, when `controls_only`) holds; `n` when none. SSE2 picks
// candidates 16 bytes at a time.
size_t ScanSpecial(const char* s, size_t i, size_t n, bool controls_only) {
#if defined(__SSE2__)
  const __m128i amp = _mm_set1_epi8('&');
  const __m128i lt = _mm_set1_epi8('<');
  const __m128i c2 = _mm_set1_epi8(static_cast<char>(0xC2));
  const __m128i max_control = _mm_set1_epi8(0x1F);
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i cr = _mm_set1_epi8('\r');
  while (i + 16 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    // Bytes < 0x20 other than tab, LF, CR.
    __m128i hit = _mm_andnot_si128(
        _mm_or_si128(
            _mm_cmpeq_epi8(v, tab),
            _mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr))),
        _mm_cmpeq_epi8(_mm_min_epu8(v, max_control), v));
    if (!controls_only) {
      hit = _mm_or_si128(
          hit, _mm_or_si128(
                   _mm_cmpeq_epi8(v, amp),
                   _mm_or_si128(_mm_cmpeq_epi8(v, lt), _mm_cmpeq_epi8(v, c2))));
    }
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    while (mask != 0) {
      const size_t k = i + static_cast<size_t>(__builtin_ctz(mask));
      const auto c = static_cast<unsigned char>(s[k]);
      if (controls_only ? IsBadControl(c) : IsTextSpecial(c)) return k;
      mask &= mask - 1;
    }
    i += 16;
  }
#endif
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (controls_only ? IsBadControl(c) : IsTextSpecial(c)) return i;
  }
  return n;
}

inline bool IsXmlChar(uint32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

uint32_t Cp1252(uint32_t c1) {
  static const uint16_t k1252[32] = {
      0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
      0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
      0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
      0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};
  return k1252[c1 - 0x80];
}

// Bytes inside a tag that need no decision: not a quote, '<', '>', '&' or
// a control character.
constexpr auto kTagPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] =
        c >= 0x20 && c != '"' && c != '\'' && c != '<' && c != '>' && c != '&';
  }
  t['\t'] = t['\n'] = t['\r'] = true;
  return t;
}();

class Repairer {
 public:
  Repairer(std::string_view in, std::string* out, RepairStats* stats,
           const RepairOptions& options)
      : in_(in), out_(out), stats_(stats), options_(options) {}

  void Run() {
    size_t i = SkipProlog();
    const size_t n = in_.size();
    while (i < n) {
      if (!raw_close_.empty()) {
        i = RawText(i);
        continue;
      }
      // Copy the run of ordinary text characters in one go.
      size_t j = ScanSpecial(in_.data(), i, n, /*controls_only=*/false);
      out_->append(in_.data() + i, j - i);
      i = j;
      if (i >= n) break;
      unsigned char c = in_[i];
      if (c == '&') {
        i = Ampersand(i);
      } else if (c == '<') {
        i = Markup(i);
      } else if (c == 0xC2) {
        i = C1(i);
      } else {
        ++stats_->control_chars;
        ++i;
      }
    }
  }

 private:
  // 0xC2 at i. U+0080..U+009F are C1 controls nobody means; they are
  // windows-1252 punctuation decoded as latin-1 upstream (demoronize).
  size_t C1(size_t i) {
    const unsigned char d = i + 1 < in_.size() ? in_[i + 1] : 0;
    if (d >= 0x80 && d <= 0x9F) {
      AppendUtf8(Cp1252(d), out_);
      return i + 2;
    }
    out_->push_back('\xC2');
    return i + 1;
  }

  // Skips junk before the first markup and a leading XML declaration.
  size_t SkipProlog() {
    size_t i = 0;
    const size_t n = in_.size();
    while (i < n) {
      size_t lt = in_.find('<', i);
      if (lt == std::string_view::npos) return n;
      unsigned char next = lt + 1 < n ? in_[lt + 1] : 0;
      if (next == '?' || next == '!' || IsNameStart(next)) {
        i = lt;
        break;
      }
      i = lt + 1;
    }
    for (size_t k = 0; k < i; ++k) {
      unsigned char c = in_[k];
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
        stats_->leading_junk = true;
        break;
      }
    }
    if (in_.compare(i, 5, "<?xml") == 0 && i + 5 < n &&
        (in_[i + 5] == ' ' || in_[i + 5] == '\t' || in_[i + 5] == '\r' ||
         in_[i + 5] == '\n' || in_[i + 5] == '?')) {
      size_t end = in_.find("?>", i);
      if (end != std::string_view::npos) i = end + 2;
    }
    return i;
  }

  // `&` at i: keeps valid references, decodes HTML names, escapes the rest.
  size_t Ampersand(size_t i) {
    const size_t n = in_.size();
    // Escaped HTML is full of these: copy them without a name lookup.
    if (i + 3 < n && in_[i + 3] == ';' && in_[i + 2] == 't' &&
        (in_[i + 1] == 'l' || in_[i + 1] == 'g')) {
      out_->append(in_.data() + i, 4);
      return i + 4;
    }
    if (in_.compare(i, 5, "&amp;") == 0 || in_.compare(i, 6, "&quot;") == 0) {
      const size_t len = in_[i + 1] == 'a' ? 5 : 6;
      out_->append(in_.data() + i, len);
      return i + len;
    }
    size_t j = i + 1;
    if (j < n && in_[j] == '#') {
      ++j;
      bool hex = j < n && (in_[j] == 'x' || in_[j] == 'X');
      if (hex) ++j;
      size_t start = j;
      uint32_t cp = 0;
      while (j < n && j - start < 8) {
        unsigned char c = in_[j];
        int d;
        if (c >= '0' && c <= '9') {
          d = c - '0';
        } else if (hex && c >= 'a' && c <= 'f') {
          d = c - 'a' + 10;
        } else if (hex && c >= 'A' && c <= 'F') {
          d = c - 'A' + 10;
        } else {
          break;
        }
        cp = cp * (hex ? 16 : 10) + d;
        ++j;
      }
      if (j > start && j < n && in_[j] == ';') {
        if (IsXmlChar(cp)) {
          out_->append(in_.data() + i, j + 1 - i);
        } else if (cp >= 0x80 && cp <= 0x9F) {
          // Windows-1252 code points written as references (demoronize).
          AppendUtf8(Cp1252(cp), out_);
        } else {
          ++stats_->control_chars;
        }
        return j + 1;
      }
    } else {
      size_t start = j;
      while (j < n && j - start < 32 && IsNameChar(in_[j])) ++j;
      if (j > start && j < n && in_[j] == ';') {
        std::string_view name = in_.substr(start, j - start);
        if (name == "amp" || name == "lt" || name == "gt" || name == "quot" ||
            name == "apos") {
          out_->append(in_.data() + i, j + 1 - i);
          return j + 1;
        }
        if (uint32_t cp = LookupHtmlEntity(name)) {
          ++stats_->html_entities;
          // Characters that are markup must stay escaped.
          if (cp == '<' || cp == '&' || cp == '>') {
            out_->append(cp == '<' ? "&lt;" : cp == '&' ? "&amp;" : "&gt;");
          } else {
            AppendUtf8(cp, out_);
          }
          return j + 1;
        }
      }
    }
    ++stats_->bare_ampersands;
    out_->append("&amp;");
    return i + 1;
  }

  // Copies [i, end) without control characters.
  void CopyClean(size_t i, size_t end) {
    while (i < end) {
      const size_t k = ScanSpecial(in_.data(), i, end, /*controls_only=*/true);
      out_->append(in_.data() + i, k - i);
      if (k >= end) break;
      ++stats_->control_chars;
      i = k + 1;
    }
  }

  // Copies through `terminator` (or to the end).
  size_t CopyThrough(size_t i, std::string_view terminator) {
    size_t end = in_.find(terminator, i);
    end = end == std::string_view::npos ? in_.size() : end + terminator.size();
    CopyClean(i, end);
    return end;
  }

  size_t Markup(size_t i) {
    const size_t n = in_.size();
    unsigned char next = i + 1 < n ? in_[i + 1] : 0;
    if (next == '!') {
      if (in_.compare(i, 4, "<!--") == 0) return CopyThrough(i, "-->");
      if (in_.compare(i, 9, "<![CDATA[") == 0) return CopyThrough(i, "]]>");
      if (in_.compare(i, 9, "<!DOCTYPE") == 0) {
        size_t k = i + 9;
        int depth = 0;
        while (k < n) {
          char c = in_[k];
          if (c == '[') ++depth;
          if (c == ']') --depth;
          if (c == '>' && depth <= 0) break;
          ++k;
        }
        k = std::min(k + 1, n);
        CopyClean(i, k);
        return k;
      }
      ++stats_->bare_lt;
      out_->append("&lt;");
      return i + 1;
    }
    if (next == '?') {
      size_t end = in_.find("?>", i);
      // A second XML declaration (concatenated documents) would be fatal.
      if (end == std::string_view::npos) return n;
      if (in_.compare(i, 5, "<?xml") == 0 &&
          (in_[i + 5] == ' ' || in_[i + 5] == '?')) {
        return end + 2;
      }
      CopyClean(i, end + 2);
      return end + 2;
    }
    if (next == '/' || IsNameStart(next)) return Tag(i);
    ++stats_->bare_lt;
    out_->append("&lt;");
    return i + 1;
  }

  // A start or end tag: attribute values get the same '&' / '<' repairs.
  size_t Tag(size_t i) {
    const size_t n = in_.size();
    if (options_.text_elements_as_text && in_[i + 1] != '/') {
      size_t e = i + 1;
      while (e < n && IsNameChar(in_[e])) ++e;
      const std::string_view name = in_.substr(i + 1, e - i - 1);
      if (IsRssTextElement(name)) {
        const size_t end = TagBody(i);
        // Not for an empty-element tag ("<title/>").
        if (end >= 2 && in_[end - 1] == '>' && in_[end - 2] != '/') {
          raw_close_ = "</";
          raw_close_.append(name);
        }
        return end;
      }
    }
    return TagBody(i);
  }

  static bool IsRssTextElement(std::string_view name) {
    return name == "title" || name == "description" || name == "summary" ||
           name == "author" || name == "category" || name == "comments" ||
           name == "link" || name == "guid" || name == "pubDate";
  }

  // Text up to `raw_close_` (or the end): references repaired as usual,
  // CDATA kept, every other '<' escaped.
  size_t RawText(size_t i) {
    const size_t n = in_.size();
    size_t end = in_.find(raw_close_, i);
    if (end == std::string_view::npos) end = n;
    while (i < end) {
      size_t j = ScanSpecial(in_.data(), i, end, /*controls_only=*/false);
      out_->append(in_.data() + i, j - i);
      i = j;
      if (i >= end) break;
      const unsigned char c = in_[i];
      if (c == '&') {
        i = Ampersand(i);
      } else if (c == '<') {
        if (in_.compare(i, 9, "<![CDATA[") == 0) {
          i = CopyThrough(i, "]]>");
        } else {
          ++stats_->escaped_markup;
          out_->append("&lt;");
          ++i;
        }
      } else if (c == 0xC2) {
        i = C1(i);
      } else {
        ++stats_->control_chars;
        ++i;
      }
    }
    raw_close_.clear();
    return std::max(i, end);
  }

  size_t TagBody(size_t i) {
    const size_t n = in_.size();
    out_->push_back('<');
    size_t k = i + 1;
    char quote = 0;
    while (k < n) {
      // Copy the run of bytes that need no decision in one go.
      size_t run = k;
      while (run < n && kTagPlain[static_cast<unsigned char>(in_[run])]) ++run;
      out_->append(in_.data() + k, run - k);
      k = run;
      if (k >= n) break;
      unsigned char c = in_[k];
      if (quote) {
        if (c == quote) {
          quote = 0;
        } else if (c == '&') {
          k = Ampersand(k);
          continue;
        } else if (c == '<') {
          out_->append("&lt;");
          ++k;
          continue;
        }
      } else if (c == '"' || c == '\'') {
        quote = static_cast<char>(c);
      } else if (c == '>') {
        out_->push_back('>');
        return k + 1;
      } else if (c == '<') {
        // Unterminated tag: close it here and let the '<' start anew.
        out_->push_back('>');
        return k;
      }
      if (IsBadControl(c)) {
        ++stats_->control_chars;
      } else {
        out_->push_back(static_cast<char>(c));
      }
      ++k;
    }
    return n;
  }

  std::string_view in_;
  std::string* out_;
  RepairStats* stats_;
  const RepairOptions& options_;
  std::string raw_close_;  // "</name" while inside a text element
};

}  // namespace

uint32_t LookupHtmlEntity(std::string_view name) {
  auto it = std::lower_bound(
      std::begin(kEntities), std::end(kEntities), name,
      [](const Entity& e, std::string_view n) { return e.name < n; });
  if (it != std::end(kEntities) && name == it->name) return it->cp;
  return 0;
}

void NormalizeCharRefs(std::string* html) {
  size_t amp = html->find("&#");
  if (amp == std::string::npos) return;
  std::string out;
  size_t copied = 0;
  for (; amp != std::string::npos; amp = html->find("&#", amp + 2)) {
    const size_t p = amp + 2;
    if (p < html->size() && (*html)[p] == 'X') {
      out.append(*html, copied, p - copied);
      out.push_back('x');
      copied = p + 1;
      continue;
    }
    // Decimal 128..159 followed by ';'.
    size_t q = p;
    uint32_t v = 0;
    while (q < html->size() && q - p < 4 && (*html)[q] >= '0' &&
           (*html)[q] <= '9') {
      v = v * 10 + ((*html)[q] - '0');
      ++q;
    }
    if (q == p || q >= html->size() || (*html)[q] != ';' || v < 128 ||
        v > 159) {
      continue;
    }
    const uint32_t cp = Cp1252(v);
    if (cp == 0xFFFD) continue;
    char ref[16];
    std::snprintf(ref, sizeof ref, "&#x%x;", cp);
    out.append(*html, copied, amp - copied);
    out.append(ref);
    copied = q + 1;
  }
  if (copied == 0) return;
  out.append(*html, copied, std::string::npos);
  html->swap(out);
}

void RepairXml(std::string_view in, std::string* out, RepairStats* stats,
               const RepairOptions& options) {
  out->clear();
  out->reserve(in.size() + 64);
  Repairer(in, out, stats, options).Run();
}

}  // namespace newsflow::feed_internal
