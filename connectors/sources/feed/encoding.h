#pragma once

// Character-encoding detection and conversion to UTF-8 for feed documents.
// Order of precedence (RFC 7303 + what readers do in the wild):
//   1. a byte-order mark (UTF-8/16/32);
//   2. UTF-16/32 without BOM, recognised from the zero-byte pattern of "<";
//   3. the charset parameter of the HTTP Content-Type;
//   4. the encoding of the XML declaration;
//   5. UTF-8.
// Bytes declared as a legacy charset but valid UTF-8 with non-ASCII
// sequences are taken as UTF-8; bytes declared (or defaulted to) UTF-8 but
// invalid are decoded as windows-1252. Both add a warning.

#include <string>
#include <string_view>
#include <vector>

namespace newsflow::feed_internal {

struct DecodedText {
  // The document as UTF-8, without BOM: a view of the input when no
  // conversion was needed (no copy), else of `storage`.
  // REQUIRES: the input outlives `utf8`; DecodedText is not copied.
  std::string_view utf8;
  std::string storage;     // converted bytes when `converted`
  std::string encoding;    // the encoding used, lower case ("utf-8", ...)
  bool converted = false;  // true when `utf8` is not the input bytes
};

// Returns the charset parameter of a Content-Type value, lower-cased and
// unquoted, or "" when absent.
std::string CharsetFromContentType(std::string_view content_type);

// True when `s` is entirely valid UTF-8 (no overlongs, no surrogates).
bool IsValidUtf8(std::string_view s);

// Decodes `body` to UTF-8 as described above. Never fails: unknown or
// unsupported encodings fall back to UTF-8/windows-1252 with a warning.
DecodedText DecodeToUtf8(std::string_view body, std::string_view content_type,
                         std::vector<std::string>* warnings);

}  // namespace newsflow::feed_internal
