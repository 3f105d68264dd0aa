#include "daemon/core/words.h"

#include <unicode/brkiter.h>
#include <unicode/ubrk.h>
#include <unicode/unistr.h>
#include <unicode/utext.h>

#include <memory>

namespace newsflow {
namespace {

// ICU's word rules count '@' as a letter (e-mail addresses stay whole).
bool IsAlpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '@';
}
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(unsigned char c) { return IsAlpha(c) || IsDigit(c); }

// The ASCII subset of UAX #29 as ICU implements it: letters (with '@')
// and digits join
// (WB9/10); '.' and '\'' join two letters (WB6/7: MidNumLet, Single_Quote;
// ICU leaves ':' out of MidLetter); '.', ',', ';' and '\'' join two digits
// (WB11/12). Every such run is one word; everything else is WORD_NONE.
// REQUIRES: `s` is ASCII without '_' (ExtendNumLet, left to ICU).
int CountAsciiWords(std::string_view s) {
  int words = 0;
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    if (!IsAlnum(static_cast<unsigned char>(s[i]))) {
      ++i;
      continue;
    }
    ++words;
    for (;;) {
      while (i < n && IsAlnum(static_cast<unsigned char>(s[i]))) ++i;
      if (i + 1 >= n) break;
      const auto p = static_cast<unsigned char>(s[i - 1]);
      const auto j = static_cast<unsigned char>(s[i]);
      const auto q = static_cast<unsigned char>(s[i + 1]);
      const bool letters = IsAlpha(p) && IsAlpha(q) && (j == '.' || j == '\'');
      const bool digits = IsDigit(p) && IsDigit(q) &&
                          (j == '.' || j == ',' || j == ';' || j == '\'');
      if (!letters && !digits) break;
      i += 2;
    }
  }
  return words;
}

// The whitespace of UAX #29's WSegSpace/CR/LF/Newline classes in ASCII.
bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

bool IsPlainAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80 || c == '_') return false;
  }
  return true;
}

icu::BreakIterator* ThreadBreakIterator() {
  thread_local std::unique_ptr<icu::BreakIterator> it = [] {
    UErrorCode err = U_ZERO_ERROR;
    std::unique_ptr<icu::BreakIterator> b(
        icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), err));
    if (U_FAILURE(err)) b.reset();
    return b;
  }();
  return it.get();
}

}  // namespace

int CountWordsIcu(std::string_view utf8) {
  if (utf8.empty()) return 0;
  icu::BreakIterator* it = ThreadBreakIterator();
  if (it == nullptr) return CountAsciiWords(utf8);  // ICU data missing
  UErrorCode err = U_ZERO_ERROR;
  UText* text = utext_openUTF8(nullptr, utf8.data(),
                               static_cast<int64_t>(utf8.size()), &err);
  if (U_FAILURE(err)) return 0;
  it->setText(text, err);
  int words = 0;
  if (U_SUCCESS(err)) {
    it->first();
    while (it->next() != icu::BreakIterator::DONE) {
      if (it->getRuleStatus() != UBRK_WORD_NONE) ++words;
    }
  }
  // The iterator keeps a shallow clone of `text`; point it away before the
  // UText (and the caller's bytes) go.
  static const icu::UnicodeString kEmpty;
  it->setText(kEmpty);
  utext_close(text);
  return words;
}

int CountWords(std::string_view utf8) {
  if (IsPlainAscii(utf8)) return CountAsciiWords(utf8);
  // No ICU word segment contains ASCII whitespace, and no rule looks across
  // it (WB3d only joins spaces to spaces; WB4 attaches marks after a space
  // to the space): the count is the sum over the spans between whitespace.
  // Whitespace-separated chunks that are plain ASCII go to the scanner;
  // each maximal run of the other chunks (with the whitespace inside it)
  // goes to ICU in one call.
  int words = 0;
  const size_t n = utf8.size();
  size_t icu_begin = std::string_view::npos;  // start of the pending ICU span
  size_t icu_end = 0;
  size_t i = 0;
  while (i < n) {
    size_t chunk_begin = i;
    while (chunk_begin < n && IsAsciiSpace(utf8[chunk_begin])) ++chunk_begin;
    if (chunk_begin >= n) break;
    size_t chunk_end = chunk_begin;
    bool plain = true;
    while (chunk_end < n && !IsAsciiSpace(utf8[chunk_end])) {
      const char c = utf8[chunk_end];
      if (static_cast<unsigned char>(c) >= 0x80 || c == '_') plain = false;
      ++chunk_end;
    }
    if (plain) {
      if (icu_begin != std::string_view::npos) {
        words += CountWordsIcu(utf8.substr(icu_begin, icu_end - icu_begin));
        icu_begin = std::string_view::npos;
      }
      words +=
          CountAsciiWords(utf8.substr(chunk_begin, chunk_end - chunk_begin));
    } else {
      if (icu_begin == std::string_view::npos) icu_begin = chunk_begin;
      icu_end = chunk_end;
    }
    i = chunk_end;
  }
  if (icu_begin != std::string_view::npos)
    words += CountWordsIcu(utf8.substr(icu_begin, icu_end - icu_begin));
  return words;
}

}  // namespace newsflow
