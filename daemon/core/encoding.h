#pragma once

// Character-encoding detection and conversion to UTF-8: the one module for
// feed documents (XML, JSON) and article pages (HTML). Everything after it
// (pugixml, libxml2, the cleaner) sees valid UTF-8 only.
//
// Labels are resolved with the WHATWG Encoding Standard's label table
// (https://encoding.spec.whatwg.org/#names-and-labels): case-insensitive,
// surrounding whitespace ignored, so "ISO-8859-1", "latin1" and "US-ASCII"
// all mean windows-1252, "gb2312" means GBK (decoded as gb18030),
// "Shift_JIS" means windows-31j and "EUC-KR" means windows-949, as browsers
// read them. A few non-WHATWG names seen in feeds are accepted too (cp932,
// cp949, euc-cn, latin-1, utf-32/ucs-4 for XML). Multi-byte encodings are
// converted by ICU (ucnv); single-byte ones by a 128-entry table built once
// from glibc iconv's code page (unassigned bytes are errors there, as in the
// WHATWG indexes), else from ICU. Undecodable bytes become U+FFFD, one per
// bad sequence, and decoding continues after them (never truncation). The five
// bytes windows-1252 leaves undefined (0x81 0x8D 0x8F 0x90 0x9D) become U+FFFD,
// not the C1 controls of the WHATWG index.
//
// Order of precedence:
//   1. a byte-order mark (UTF-8/16, and UTF-32 for XML);
//   2. XML only: UTF-16/32 without BOM, from the zero-byte pattern of "<";
//   3. the charset parameter of the HTTP Content-Type;
//   4. the document's own declaration: XML `<?xml ... encoding="..."?>`;
//      HTML `<meta charset>` or `<meta http-equiv="Content-Type"
//      content="...; charset=...">` in the first 4 KiB (WHATWG prescan,
//      UTF-16 there read as UTF-8);
//   5. UTF-8.
// Then UTF-8 validity decides between the declared charset and UTF-8:
// bytes declared as a legacy charset but valid UTF-8 with non-ASCII
// sequences are UTF-8 (servers that send "charset=iso-8859-1" on UTF-8
// pages); bytes declared (or defaulted to) UTF-8 but invalid are decoded as
// UTF-8 with U+FFFD when they hold more valid multi-byte sequences than
// invalid bytes (a UTF-8 page with a stray byte), else as windows-1252
// (undeclared latin-1 pages and feeds). Both add a warning.

#include <string>
#include <string_view>
#include <vector>

namespace newsflow {

enum class DocumentKind {
  kXml,   // feeds: BOM, zero pattern, HTTP charset, XML declaration
  kHtml,  // pages: BOM, HTTP charset, <meta> prescan
};

struct DecodedText {
  // The document as UTF-8, without BOM: a view of the input when no
  // conversion was needed (no copy), else of `storage`.
  // REQUIRES: the input outlives `utf8`; DecodedText is not copied.
  std::string_view utf8;
  std::string storage;     // converted bytes when `converted`
  std::string encoding;    // the encoding used, WHATWG name lower-cased
                           // ("utf-8", "windows-1252", "shift_jis", ...)
  bool converted = false;  // true when `utf8` is not the input bytes
  DecodedText() = default;
  DecodedText(const DecodedText&) = delete;
  DecodedText& operator=(const DecodedText&) = delete;
};

// Returns the charset parameter of a Content-Type value, lower-cased and
// unquoted, or "" when absent.
std::string CharsetFromContentType(std::string_view content_type);

// The WHATWG encoding name (lower case) for a label, "" when the label is
// unknown. "replacement" for the labels WHATWG maps to the replacement
// encoding (iso-2022-kr, hz-gb-2312, ...).
std::string_view EncodingForLabel(std::string_view label);

// The charset label of the first <meta charset> / http-equiv Content-Type
// in the first 4 KiB of `html` (lower-cased), or "".
std::string SniffMetaCharset(std::string_view html);

// True when `s` is entirely valid UTF-8 (no overlongs, no surrogates).
bool IsValidUtf8(std::string_view s);

// `s` with every invalid UTF-8 sequence replaced by U+FFFD (a copy only
// when needed: returns false and leaves `out` alone when `s` is valid).
bool RepairUtf8(std::string_view s, std::string* out);

// Decodes `body` to UTF-8 as described above. Never fails: unknown or
// unsupported encodings fall back to UTF-8/windows-1252 with a warning.
// `warnings` may be null.
void DecodeToUtf8(std::string_view body, std::string_view content_type,
                  DocumentKind kind, DecodedText* out,
                  std::vector<std::string>* warnings);

}  // namespace newsflow
