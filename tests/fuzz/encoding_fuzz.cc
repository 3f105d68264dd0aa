// libFuzzer target: the one encoding module (daemon/core/encoding.h) and
// word counting (daemon/core/words.h) on any bytes. The first byte picks
// the document kind and a Content-Type charset (single-byte tables, ICU's
// multi-byte and stateful converters, the replacement encoding, unknown
// labels); the output must always be valid UTF-8, and the ASCII fast path
// of CountWords must agree with ICU.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemon/core/encoding.h"
#include "daemon/core/words.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kContentTypes[] = {
      "",
      "text/html; charset=utf-8",
      "text/html; charset=iso-8859-1",
      "text/html; charset=koi8-r",
      "text/html; charset=shift_jis",
      "text/html; charset=gb18030",
      "text/html; charset=euc-kr",
      "text/html; charset=iso-2022-jp",
      "text/html; charset=big5",
      "text/html; charset=iso-2022-kr",
      "text/html; charset=utf-16le",
      "text/html; charset=x-user-defined",
      "text/html; charset=bogus",
      "text/xml; charset=windows-1256"};
  if (size == 0) return 0;
  const size_t n = sizeof kContentTypes / sizeof *kContentTypes;
  const auto kind = (data[0] & 0x80) ? newsflow::DocumentKind::kXml
                                     : newsflow::DocumentKind::kHtml;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  newsflow::DecodedText decoded;
  newsflow::DecodeToUtf8(body, kContentTypes[(data[0] & 0x7F) % n], kind,
                         &decoded, nullptr);
  if (!newsflow::IsValidUtf8(decoded.utf8)) std::abort();
  if (newsflow::CountWords(body) != newsflow::CountWordsIcu(body)) std::abort();
  (void)newsflow::CountWords(decoded.utf8);
  return 0;
}
