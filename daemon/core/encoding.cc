#include "daemon/core/encoding.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <iconv.h>
#include <unicode/ucnv.h>
#include <unicode/ucnv_cb.h>
#include <unicode/ustring.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "daemon/core/text_util.h"

namespace newsflow {
namespace {

struct LabelEntry {
  std::string_view label;
  std::string_view encoding;
};

// The WHATWG Encoding Standard's label table (2024), then a few names
// seen in feeds that it does not list (marked).
constexpr LabelEntry kLabels[] = {
    {"unicode-1-1-utf-8", "utf-8"},
    {"unicode11utf8", "utf-8"},
    {"unicode20utf8", "utf-8"},
    {"utf-8", "utf-8"},
    {"utf8", "utf-8"},
    {"x-unicode20utf8", "utf-8"},
    {"866", "ibm866"},
    {"cp866", "ibm866"},
    {"csibm866", "ibm866"},
    {"ibm866", "ibm866"},
    {"csisolatin2", "iso-8859-2"},
    {"iso-8859-2", "iso-8859-2"},
    {"iso-ir-101", "iso-8859-2"},
    {"iso8859-2", "iso-8859-2"},
    {"iso88592", "iso-8859-2"},
    {"iso_8859-2", "iso-8859-2"},
    {"iso_8859-2:1987", "iso-8859-2"},
    {"l2", "iso-8859-2"},
    {"latin2", "iso-8859-2"},
    {"csisolatin3", "iso-8859-3"},
    {"iso-8859-3", "iso-8859-3"},
    {"iso-ir-109", "iso-8859-3"},
    {"iso8859-3", "iso-8859-3"},
    {"iso88593", "iso-8859-3"},
    {"iso_8859-3", "iso-8859-3"},
    {"iso_8859-3:1988", "iso-8859-3"},
    {"l3", "iso-8859-3"},
    {"latin3", "iso-8859-3"},
    {"csisolatin4", "iso-8859-4"},
    {"iso-8859-4", "iso-8859-4"},
    {"iso-ir-110", "iso-8859-4"},
    {"iso8859-4", "iso-8859-4"},
    {"iso88594", "iso-8859-4"},
    {"iso_8859-4", "iso-8859-4"},
    {"iso_8859-4:1988", "iso-8859-4"},
    {"l4", "iso-8859-4"},
    {"latin4", "iso-8859-4"},
    {"csisolatincyrillic", "iso-8859-5"},
    {"cyrillic", "iso-8859-5"},
    {"iso-8859-5", "iso-8859-5"},
    {"iso-ir-144", "iso-8859-5"},
    {"iso8859-5", "iso-8859-5"},
    {"iso88595", "iso-8859-5"},
    {"iso_8859-5", "iso-8859-5"},
    {"iso_8859-5:1988", "iso-8859-5"},
    {"arabic", "iso-8859-6"},
    {"asmo-708", "iso-8859-6"},
    {"csiso88596e", "iso-8859-6"},
    {"csiso88596i", "iso-8859-6"},
    {"csisolatinarabic", "iso-8859-6"},
    {"ecma-114", "iso-8859-6"},
    {"iso-8859-6", "iso-8859-6"},
    {"iso-8859-6-e", "iso-8859-6"},
    {"iso-8859-6-i", "iso-8859-6"},
    {"iso-ir-127", "iso-8859-6"},
    {"iso8859-6", "iso-8859-6"},
    {"iso88596", "iso-8859-6"},
    {"iso_8859-6", "iso-8859-6"},
    {"iso_8859-6:1987", "iso-8859-6"},
    {"csisolatingreek", "iso-8859-7"},
    {"ecma-118", "iso-8859-7"},
    {"elot_928", "iso-8859-7"},
    {"greek", "iso-8859-7"},
    {"greek8", "iso-8859-7"},
    {"iso-8859-7", "iso-8859-7"},
    {"iso-ir-126", "iso-8859-7"},
    {"iso8859-7", "iso-8859-7"},
    {"iso88597", "iso-8859-7"},
    {"iso_8859-7", "iso-8859-7"},
    {"iso_8859-7:1987", "iso-8859-7"},
    {"sun_eu_greek", "iso-8859-7"},
    {"csiso88598e", "iso-8859-8"},
    {"csisolatinhebrew", "iso-8859-8"},
    {"hebrew", "iso-8859-8"},
    {"iso-8859-8", "iso-8859-8"},
    {"iso-8859-8-e", "iso-8859-8"},
    {"iso-ir-138", "iso-8859-8"},
    {"iso8859-8", "iso-8859-8"},
    {"iso88598", "iso-8859-8"},
    {"iso_8859-8", "iso-8859-8"},
    {"iso_8859-8:1988", "iso-8859-8"},
    {"visual", "iso-8859-8"},
    {"csiso88598i", "iso-8859-8-i"},
    {"iso-8859-8-i", "iso-8859-8-i"},
    {"logical", "iso-8859-8-i"},
    {"csisolatin6", "iso-8859-10"},
    {"iso-8859-10", "iso-8859-10"},
    {"iso-ir-157", "iso-8859-10"},
    {"iso8859-10", "iso-8859-10"},
    {"iso885910", "iso-8859-10"},
    {"l6", "iso-8859-10"},
    {"latin6", "iso-8859-10"},
    {"iso-8859-13", "iso-8859-13"},
    {"iso8859-13", "iso-8859-13"},
    {"iso885913", "iso-8859-13"},
    {"iso-8859-14", "iso-8859-14"},
    {"iso8859-14", "iso-8859-14"},
    {"iso885914", "iso-8859-14"},
    {"csisolatin9", "iso-8859-15"},
    {"iso-8859-15", "iso-8859-15"},
    {"iso8859-15", "iso-8859-15"},
    {"iso885915", "iso-8859-15"},
    {"iso_8859-15", "iso-8859-15"},
    {"l9", "iso-8859-15"},
    {"iso-8859-16", "iso-8859-16"},
    {"cskoi8r", "koi8-r"},
    {"koi", "koi8-r"},
    {"koi8", "koi8-r"},
    {"koi8-r", "koi8-r"},
    {"koi8_r", "koi8-r"},
    {"koi8-ru", "koi8-u"},
    {"koi8-u", "koi8-u"},
    {"csmacintosh", "macintosh"},
    {"mac", "macintosh"},
    {"macintosh", "macintosh"},
    {"x-mac-roman", "macintosh"},
    {"dos-874", "windows-874"},
    {"iso-8859-11", "windows-874"},
    {"iso8859-11", "windows-874"},
    {"iso885911", "windows-874"},
    {"tis-620", "windows-874"},
    {"windows-874", "windows-874"},
    {"cp1250", "windows-1250"},
    {"windows-1250", "windows-1250"},
    {"x-cp1250", "windows-1250"},
    {"cp1251", "windows-1251"},
    {"windows-1251", "windows-1251"},
    {"x-cp1251", "windows-1251"},
    {"ansi_x3.4-1968", "windows-1252"},
    {"ascii", "windows-1252"},
    {"cp1252", "windows-1252"},
    {"cp819", "windows-1252"},
    {"csisolatin1", "windows-1252"},
    {"ibm819", "windows-1252"},
    {"iso-8859-1", "windows-1252"},
    {"iso-ir-100", "windows-1252"},
    {"iso8859-1", "windows-1252"},
    {"iso88591", "windows-1252"},
    {"iso_8859-1", "windows-1252"},
    {"iso_8859-1:1987", "windows-1252"},
    {"l1", "windows-1252"},
    {"latin1", "windows-1252"},
    {"us-ascii", "windows-1252"},
    {"windows-1252", "windows-1252"},
    {"x-cp1252", "windows-1252"},
    {"cp1253", "windows-1253"},
    {"windows-1253", "windows-1253"},
    {"x-cp1253", "windows-1253"},
    {"cp1254", "windows-1254"},
    {"csisolatin5", "windows-1254"},
    {"iso-8859-9", "windows-1254"},
    {"iso-ir-148", "windows-1254"},
    {"iso8859-9", "windows-1254"},
    {"iso88599", "windows-1254"},
    {"iso_8859-9", "windows-1254"},
    {"iso_8859-9:1989", "windows-1254"},
    {"l5", "windows-1254"},
    {"latin5", "windows-1254"},
    {"windows-1254", "windows-1254"},
    {"x-cp1254", "windows-1254"},
    {"cp1255", "windows-1255"},
    {"windows-1255", "windows-1255"},
    {"x-cp1255", "windows-1255"},
    {"cp1256", "windows-1256"},
    {"windows-1256", "windows-1256"},
    {"x-cp1256", "windows-1256"},
    {"cp1257", "windows-1257"},
    {"windows-1257", "windows-1257"},
    {"x-cp1257", "windows-1257"},
    {"cp1258", "windows-1258"},
    {"windows-1258", "windows-1258"},
    {"x-cp1258", "windows-1258"},
    {"x-mac-cyrillic", "x-mac-cyrillic"},
    {"x-mac-ukrainian", "x-mac-cyrillic"},
    {"chinese", "gbk"},
    {"csgb2312", "gbk"},
    {"csiso58gb231280", "gbk"},
    {"gb2312", "gbk"},
    {"gb_2312", "gbk"},
    {"gb_2312-80", "gbk"},
    {"gbk", "gbk"},
    {"iso-ir-58", "gbk"},
    {"x-gbk", "gbk"},
    {"gb18030", "gb18030"},
    {"big5", "big5"},
    {"big5-hkscs", "big5"},
    {"cn-big5", "big5"},
    {"csbig5", "big5"},
    {"x-x-big5", "big5"},
    {"cseucpkdfmtjapanese", "euc-jp"},
    {"euc-jp", "euc-jp"},
    {"x-euc-jp", "euc-jp"},
    {"csiso2022jp", "iso-2022-jp"},
    {"iso-2022-jp", "iso-2022-jp"},
    {"csshiftjis", "shift_jis"},
    {"ms932", "shift_jis"},
    {"ms_kanji", "shift_jis"},
    {"shift-jis", "shift_jis"},
    {"shift_jis", "shift_jis"},
    {"sjis", "shift_jis"},
    {"windows-31j", "shift_jis"},
    {"x-sjis", "shift_jis"},
    {"cseuckr", "euc-kr"},
    {"csksc56011987", "euc-kr"},
    {"euc-kr", "euc-kr"},
    {"iso-ir-149", "euc-kr"},
    {"korean", "euc-kr"},
    {"ks_c_5601-1987", "euc-kr"},
    {"ks_c_5601-1989", "euc-kr"},
    {"ksc5601", "euc-kr"},
    {"ksc_5601", "euc-kr"},
    {"windows-949", "euc-kr"},
    {"csiso2022kr", "replacement"},
    {"hz-gb-2312", "replacement"},
    {"iso-2022-cn", "replacement"},
    {"iso-2022-cn-ext", "replacement"},
    {"iso-2022-kr", "replacement"},
    {"replacement", "replacement"},
    {"unicodefffe", "utf-16be"},
    {"utf-16be", "utf-16be"},
    {"csunicode", "utf-16le"},
    {"iso-10646-ucs-2", "utf-16le"},
    {"ucs-2", "utf-16le"},
    {"unicode", "utf-16le"},
    {"unicodefeff", "utf-16le"},
    {"utf-16", "utf-16le"},
    {"utf-16le", "utf-16le"},
    {"x-user-defined", "x-user-defined"},
    // Not in the WHATWG table; seen in feeds.
    {"latin-1", "windows-1252"},
    {"cp932", "shift_jis"},
    {"cp949", "euc-kr"},
    {"x-windows-949", "euc-kr"},
    {"euc-cn", "gbk"},
    {"utf-32", "utf-32le"},
    {"utf-32le", "utf-32le"},
    {"utf-32be", "utf-32be"},
    {"ucs-4", "utf-32le"},
};

// The decoders of the WHATWG encodings not decoded here (utf-8,
// windows-1252, x-user-defined and replacement are): ICU's converter name,
// and for single-byte encodings glibc iconv's name. glibc's Windows and ISO
// tables follow the published code pages (an unassigned byte is an error, as
// in the WHATWG indexes), where ICU's IBM tables map some of them
// (windows-1253 0xAA → U+00AA); and glibc has ISO-8859-16, which Debian's ICU
// data lacks. WHATWG decodes GBK with the gb18030 decoder.
struct DecoderNames {
  std::string_view whatwg;
  const char* icu;
  const char* iconv;  // single-byte only, else nullptr
};
constexpr DecoderNames kDecoders[] = {
    {"ibm866", "ibm-866", "IBM866"},
    {"iso-8859-2", "ISO-8859-2", "ISO-8859-2"},
    {"iso-8859-3", "ISO-8859-3", "ISO-8859-3"},
    {"iso-8859-4", "ISO-8859-4", "ISO-8859-4"},
    {"iso-8859-5", "ISO-8859-5", "ISO-8859-5"},
    {"iso-8859-6", "ISO-8859-6", "ISO-8859-6"},
    {"iso-8859-7", "ISO-8859-7", "ISO-8859-7"},
    {"iso-8859-8", "ISO-8859-8", "ISO-8859-8"},
    {"iso-8859-8-i", "ISO-8859-8", "ISO-8859-8"},
    {"iso-8859-10", "ISO-8859-10", "ISO-8859-10"},
    {"iso-8859-13", "ISO-8859-13", "ISO-8859-13"},
    {"iso-8859-14", "ISO-8859-14", "ISO-8859-14"},
    {"iso-8859-15", "ISO-8859-15", "ISO-8859-15"},
    {"iso-8859-16", "ISO-8859-16", "ISO-8859-16"},  // not in Debian's ICU data
    {"koi8-r", "KOI8-R", "KOI8-R"},
    {"koi8-u", "KOI8-U", "KOI8-U"},
    {"macintosh", "macintosh", "MACINTOSH"},
    {"windows-874", "windows-874", "CP874"},
    {"windows-1250", "windows-1250", "CP1250"},
    {"windows-1251", "windows-1251", "CP1251"},
    {"windows-1253", "windows-1253", "CP1253"},
    {"windows-1254", "windows-1254", "CP1254"},
    {"windows-1255", "windows-1255", "CP1255"},
    {"windows-1256", "windows-1256", "CP1256"},
    {"windows-1257", "windows-1257", "CP1257"},
    {"windows-1258", "windows-1258", "CP1258"},
    {"x-mac-cyrillic", "x-mac-cyrillic", "MAC-CYRILLIC"},
    {"gbk", "gb18030", nullptr},
    {"gb18030", "gb18030", nullptr},
    {"big5", "Big5-HKSCS", nullptr},
    {"euc-jp", "EUC-JP", nullptr},
    {"iso-2022-jp", "ISO-2022-JP", nullptr},
    {"shift_jis", "windows-31j", nullptr},
    {"euc-kr", "windows-949", nullptr},
    {"utf-16be", "UTF-16BE", nullptr},
    {"utf-16le", "UTF-16LE", nullptr},
    {"utf-32be", "UTF-32BE", nullptr},
    {"utf-32le", "UTF-32LE", nullptr},
};

const DecoderNames* FindDecoder(std::string_view encoding) {
  for (const DecoderNames& d : kDecoders) {
    if (d.whatwg == encoding) return &d;
  }
  return nullptr;
}

// ICU's converter for a WHATWG encoding name; "" for the encodings decoded
// here.
const char* IcuName(std::string_view encoding) {
  const DecoderNames* d = FindDecoder(encoding);
  return d == nullptr ? "" : d->icu;
}

// Code points of bytes 0x80..0xFF in a single-byte encoding.
using HighHalf = std::array<uint32_t, 128>;

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

const HighHalf& XUserDefined() {
  static const HighHalf table = [] {
    HighHalf t{};
    for (int b = 0x80; b < 0x100; ++b) t[b - 0x80] = 0xF780 + b - 0x80;
    return t;
  }();
  return table;
}

// to-Unicode callback: every unassigned or illegal sequence becomes one
// U+FFFD (ICU's own substitute callback gives U+001A for some SBCS).
// `context` counts the replacements (an int64_t, or null).
void ToUReplacement(const void* context, UConverterToUnicodeArgs* args,
                    const char*, int32_t, UConverterCallbackReason reason,
                    UErrorCode* err) {
  if (reason > UCNV_IRREGULAR) return;  // reset / close / clone
  if (context != nullptr) ++*static_cast<int64_t*>(const_cast<void*>(context));
  static const UChar kReplacement = 0xFFFD;
  *err = U_ZERO_ERROR;
  ucnv_cbToUWriteUChars(args, &kReplacement, 1, 0, err);
}

struct ConverterCloser {
  void operator()(UConverter* c) const { ucnv_close(c); }
};
using ConverterPtr = std::unique_ptr<UConverter, ConverterCloser>;

ConverterPtr OpenConverter(const char* name, int64_t* replaced = nullptr) {
  UErrorCode err = U_ZERO_ERROR;
  ConverterPtr c(ucnv_open(name, &err));
  if (U_FAILURE(err) || !c) return nullptr;
  err = U_ZERO_ERROR;
  ucnv_setToUCallBack(c.get(), ToUReplacement, replaced, nullptr, nullptr,
                      &err);
  return U_FAILURE(err) ? nullptr : std::move(c);
}

// glibc iconv's name for a single-byte WHATWG encoding, or nullptr.
const char* IconvSingleByteName(std::string_view encoding) {
  const DecoderNames* d = FindDecoder(encoding);
  return d == nullptr ? nullptr : d->iconv;
}

// One byte through an open iconv descriptor: its code point, 0xFFFD when
// the byte is unassigned, or -1 when it does not stand alone (a stateful or
// combining table, e.g. glibc's CP1258).
int64_t IconvOneByte(iconv_t cd, unsigned char byte) {
  iconv(cd, nullptr, nullptr, nullptr, nullptr);
  char in = static_cast<char>(byte);
  char* src = &in;
  size_t src_left = 1;
  unsigned char out[16];
  char* dst = reinterpret_cast<char*>(out);
  size_t dst_left = sizeof out;
  const size_t r = iconv(cd, &src, &src_left, &dst, &dst_left);
  if (r == static_cast<size_t>(-1)) return errno == EILSEQ ? 0xFFFD : -1;
  if (sizeof out - dst_left != 4) return -1;
  return out[0] | (out[1] << 8) | (out[2] << 16) | (int64_t{out[3]} << 24);
}

std::unique_ptr<HighHalf> TableFromIconv(const char* name) {
  if (name == nullptr) return nullptr;
  iconv_t cd = iconv_open("UTF-32LE", name);
  if (cd == reinterpret_cast<iconv_t>(-1)) return nullptr;
  auto table = std::make_unique<HighHalf>();
  for (int b = 0; b < 0x100 && table; ++b) {
    const int64_t cp = IconvOneByte(cd, static_cast<unsigned char>(b));
    if (b < 0x80 ? cp != b : cp < 0) {
      table.reset();
    } else if (b >= 0x80) {
      (*table)[b - 0x80] = static_cast<uint32_t>(cp);
    }
  }
  iconv_close(cd);
  return table;
}

std::unique_ptr<HighHalf> TableFromIcu(const char* name) {
  ConverterPtr conv = OpenConverter(name);
  if (!conv || ucnv_getMaxCharSize(conv.get()) != 1) return nullptr;
  auto table = std::make_unique<HighHalf>();
  for (int b = 0; b < 0x100 && table; ++b) {
    const char in = static_cast<char>(b);
    UChar out[4];
    UErrorCode err = U_ZERO_ERROR;
    ucnv_reset(conv.get());
    const int32_t n = ucnv_toUChars(conv.get(), out, 4, &in, 1, &err);
    if (U_FAILURE(err) || n != 1 || U16_IS_SURROGATE(out[0]) ||
        (b < 0x80 && out[0] != b)) {
      table.reset();
    } else if (b >= 0x80) {
      (*table)[b - 0x80] = out[0];
    }
  }
  return table;
}

// The table of an ASCII-compatible single-byte encoding, built once per
// encoding (glibc's table, else ICU's; one lookup per byte instead of a
// converter's per-call machinery); nullptr for multi-byte or unknown
// encodings. Thread-safe.
const HighHalf* SingleByteTable(std::string_view encoding) {
  if (encoding == "windows-1252") return &Windows1252();
  if (encoding == "x-user-defined") return &XUserDefined();
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<HighHalf>, std::less<>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(encoding);
  if (it != cache.end()) return it->second.get();
  std::unique_ptr<HighHalf> table =
      TableFromIconv(IconvSingleByteName(encoding));
  if (!table) table = TableFromIcu(IcuName(encoding));
  return cache.emplace(std::string(encoding), std::move(table))
      .first->second.get();
}

void DecodeSingleByte(std::string_view in, const HighHalf& table,
                      std::string* out, int64_t* replaced) {
  out->clear();
  out->reserve(in.size() + in.size() / 2);
  size_t i = 0;
  while (i < in.size()) {
    size_t j = i;
    while (j < in.size() && static_cast<unsigned char>(in[j]) < 0x80) ++j;
    out->append(in.data() + i, j - i);
    if (j >= in.size()) break;
    const uint32_t cp = table[static_cast<unsigned char>(in[j]) - 0x80];
    if (cp == 0xFFFD) ++*replaced;
    AppendUtf8(cp, out);
    i = j + 1;
  }
}

// Converts with ICU (or a byte table); undecodable sequences become U+FFFD,
// counted in `replaced`. Returns false when the encoding has no converter.
bool Convert(std::string_view in, std::string_view encoding, std::string* out,
             int64_t* replaced) {
  if (encoding == "replacement") {  // WHATWG: the whole input is one error
    out->assign(in.empty() ? "" : "\xEF\xBF\xBD");
    *replaced += in.empty() ? 0 : 1;
    return true;
  }
  if (const HighHalf* table = SingleByteTable(encoding)) {
    DecodeSingleByte(in, *table, out, replaced);
    return true;
  }
  ConverterPtr conv = OpenConverter(IcuName(encoding), replaced);
  if (!conv) return false;
  // Every input byte yields at most two UTF-16 units.
  std::u16string units(in.size() * 2 + 16, u'\0');
  UChar* target = units.data();
  const char* source = in.data();
  UErrorCode err = U_ZERO_ERROR;
  ucnv_toUnicode(conv.get(), &target, units.data() + units.size(), &source,
                 in.data() + in.size(), nullptr, /*flush=*/true, &err);
  if (U_FAILURE(err)) return false;
  const int32_t n_units = static_cast<int32_t>(target - units.data());
  out->assign(static_cast<size_t>(n_units) * 3 + 1, '\0');
  int32_t n_bytes = 0;
  err = U_ZERO_ERROR;
  u_strToUTF8WithSub(out->data(), static_cast<int32_t>(out->size()), &n_bytes,
                     units.data(), n_units, 0xFFFD, nullptr, &err);
  if (U_FAILURE(err)) return false;
  out->resize(static_cast<size_t>(n_bytes));
  return true;
}

// Length of the valid UTF-8 sequence at s[i] (1..4), or 0 when invalid.
size_t Utf8SequenceAt(std::string_view s, size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  const size_t left = s.size() - i;
  auto cont = [](unsigned char c) { return (c & 0xC0) == 0x80; };
  const unsigned char c = p[0];
  if (c < 0x80) return 1;
  if (c < 0xC2) return 0;
  if (c < 0xE0) return left >= 2 && cont(p[1]) ? 2 : 0;
  if (c < 0xF0) {
    if (left < 3 || !cont(p[1]) || !cont(p[2])) return 0;
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0)) return 0;
    return 3;
  }
  if (c > 0xF4 || left < 4 || !cont(p[1]) || !cont(p[2]) || !cont(p[3]))
    return 0;
  if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90)) return 0;
  return 4;
}

// True when `s` (not valid UTF-8) still reads better as UTF-8 than as a
// legacy charset: more valid multi-byte sequences than invalid bytes (a
// UTF-8 page with a few stray bytes, not a latin-1 one where a letter pair
// happens to form a sequence).
bool MostlyUtf8(std::string_view s) {
  int64_t valid = 0;
  int64_t invalid = 0;
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = Utf8SequenceAt(s, i);
    if (n == 0) {
      ++invalid;
      ++i;
    } else {
      ++valid;
      i += n;
    }
  }
  return valid > invalid;
}

// Reads encoding="..." from an XML declaration at the start of `s` (ASCII
// compatible bytes). Returns "" when absent.
std::string DeclaredXmlEncoding(std::string_view s) {
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

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

// The charset in a Content-Type-like value ("text/html; charset=x").
std::string CharsetParameter(std::string_view value) {
  std::string lower = ToLowerAscii(value);
  size_t p = lower.find("charset");
  if (p == std::string::npos) return {};
  p += 7;
  while (p < lower.size() && IsSpace(lower[p])) ++p;
  if (p >= lower.size() || lower[p] != '=') return {};
  ++p;
  while (p < lower.size() && IsSpace(lower[p])) ++p;
  if (p < lower.size() && (lower[p] == '"' || lower[p] == '\'')) ++p;
  size_t e = p;
  while (e < lower.size() && lower[e] != ';' && lower[e] != '"' &&
         lower[e] != '\'' && !IsSpace(lower[e])) {
    ++e;
  }
  return lower.substr(p, e - p);
}

}  // namespace

std::string CharsetFromContentType(std::string_view ct) {
  return CharsetParameter(ct);
}

std::string_view EncodingForLabel(std::string_view label) {
  while (!label.empty() && IsSpace(label.front())) label.remove_prefix(1);
  while (!label.empty() && IsSpace(label.back())) label.remove_suffix(1);
  if (label.empty() || label.size() > 64) return {};
  const std::string lower = ToLowerAscii(label);
  for (const LabelEntry& e : kLabels) {
    if (e.label == lower) return e.encoding;
  }
  return {};
}

std::string SniffMetaCharset(std::string_view html) {
  const std::string_view head =
      html.substr(0, std::min<size_t>(html.size(), 4096));
  size_t i = 0;
  while ((i = head.find('<', i)) != std::string_view::npos) {
    if (head.substr(i, 4) == "<!--") {
      const size_t end = head.find("-->", i + 4);
      if (end == std::string_view::npos) return {};
      i = end + 3;
      continue;
    }
    const size_t close = head.find('>', i);
    if (close == std::string_view::npos) return {};
    const std::string tag = ToLowerAscii(head.substr(i, close - i));
    i = close + 1;
    if (tag.rfind("<meta", 0) != 0 || tag.size() < 6 ||
        !(IsSpace(tag[5]) || tag[5] == '/')) {
      continue;
    }
    // Attributes name=value (quoted or not).
    std::string charset, http_equiv, content;
    size_t p = 5;
    while (p < tag.size()) {
      while (p < tag.size() && (IsSpace(tag[p]) || tag[p] == '/')) ++p;
      size_t ns = p;
      while (p < tag.size() && !IsSpace(tag[p]) && tag[p] != '=' &&
             tag[p] != '/')
        ++p;
      std::string name = tag.substr(ns, p - ns);
      while (p < tag.size() && IsSpace(tag[p])) ++p;
      std::string value;
      if (p < tag.size() && tag[p] == '=') {
        ++p;
        while (p < tag.size() && IsSpace(tag[p])) ++p;
        if (p < tag.size() && (tag[p] == '"' || tag[p] == '\'')) {
          const char q = tag[p++];
          size_t e = tag.find(q, p);
          if (e == std::string::npos) e = tag.size();
          value = tag.substr(p, e - p);
          p = e + 1;
        } else {
          size_t vs = p;
          while (p < tag.size() && !IsSpace(tag[p])) ++p;
          value = tag.substr(vs, p - vs);
        }
      }
      if (name.empty()) break;
      if (name == "charset" && charset.empty()) charset = value;
      if (name == "http-equiv") http_equiv = value;
      if (name == "content") content = value;
    }
    if (!charset.empty()) return charset;
    if (http_equiv == "content-type") {
      std::string from_content = CharsetParameter(content);
      if (!from_content.empty()) return from_content;
    }
  }
  return {};
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

bool RepairUtf8(std::string_view s, std::string* out) {
  if (IsValidUtf8(s)) return false;
  out->clear();
  out->reserve(s.size() + 16);
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = Utf8SequenceAt(s, i);
    if (n == 0) {
      out->append("\xEF\xBF\xBD");
      ++i;
    } else {
      out->append(s.substr(i, n));
      i += n;
    }
  }
  return true;
}

void DecodeToUtf8(std::string_view body, std::string_view content_type,
                  DocumentKind kind, DecodedText* out,
                  std::vector<std::string>* warnings) {
  out->utf8 = {};
  out->storage.clear();
  out->encoding.clear();
  out->converted = false;
  auto warn = [&](std::string w) {
    if (warnings) warnings->push_back(std::move(w));
  };
  auto b = [&](size_t i) -> unsigned char {
    return i < body.size() ? static_cast<unsigned char>(body[i]) : 0xAA;
  };
  const bool xml = kind == DocumentKind::kXml;
  int64_t replaced = 0;
  auto report_replaced = [&] {
    if (replaced > 0) {
      warn(std::to_string(replaced) + " byte sequence(s) not valid in " +
           out->encoding + " replaced by U+FFFD");
    }
  };
  std::string wide;  // a UTF-16/32 encoding found from BOM or byte pattern
  size_t skip = 0;
  bool utf8_bom = false;
  if (b(0) == 0xEF && b(1) == 0xBB && b(2) == 0xBF) {
    skip = 3;
    utf8_bom = true;
  } else if (xml && b(0) == 0xFF && b(1) == 0xFE && b(2) == 0 && b(3) == 0) {
    wide = "utf-32le", skip = 4;
  } else if (xml && b(0) == 0 && b(1) == 0 && b(2) == 0xFE && b(3) == 0xFF) {
    wide = "utf-32be", skip = 4;
  } else if (b(0) == 0xFF && b(1) == 0xFE) {
    wide = "utf-16le", skip = 2;
  } else if (b(0) == 0xFE && b(1) == 0xFF) {
    wide = "utf-16be", skip = 2;
  } else if (xml && body.size() >= 4 && b(1) == 0 && b(2) == 0 && b(3) == 0 &&
             b(0) != 0) {
    wide = "utf-32le";
  } else if (xml && body.size() >= 4 && b(0) == 0 && b(1) == 0 && b(2) == 0 &&
             b(3) != 0) {
    wide = "utf-32be";
  } else if (xml && body.size() >= 4 && b(0) != 0 && b(1) == 0 && b(3) == 0) {
    wide = "utf-16le";
  } else if (xml && body.size() >= 4 && b(0) == 0 && b(2) == 0 && b(1) != 0) {
    wide = "utf-16be";
  }
  if (!wide.empty()) {
    out->encoding = wide;
    out->converted = true;
    if (!Convert(body.substr(skip), wide, &out->storage, &replaced)) {
      RepairUtf8(body.substr(skip), &out->storage);
    }
    out->utf8 = out->storage;
    report_replaced();
    return;
  }
  const std::string_view rest = body.substr(skip);
  const bool valid_utf8 = IsValidUtf8(rest);
  if (utf8_bom && valid_utf8) {  // UTF-8 BOM wins over everything else.
    out->encoding = "utf-8";
    out->utf8 = rest;
    return;
  }
  // The label: HTTP charset, else the document's declaration.
  std::string label = CharsetFromContentType(content_type);
  const char* label_from = "HTTP Content-Type";
  std::string_view chosen = EncodingForLabel(label);
  if (chosen.empty()) {
    if (!label.empty())
      warn("unknown charset '" + label + "' in the HTTP Content-Type");
    label = xml ? DeclaredXmlEncoding(rest) : SniffMetaCharset(rest);
    label_from = xml ? "XML declaration" : "<meta>";
    chosen = EncodingForLabel(label);
    if (chosen.empty() && !label.empty())
      warn("unknown charset '" + label + "' in the " + label_from);
    // A document cannot declare a UTF-16/32 encoding in ASCII bytes: the
    // declaration is wrong (WHATWG: UTF-8 then).
    if (chosen.rfind("utf-16", 0) == 0 || chosen.rfind("utf-32", 0) == 0)
      chosen = "utf-8";
  }
  if (utf8_bom) chosen = "utf-8";
  // Declared UTF-16/32 on bytes without a BOM or zero pattern: ASCII
  // compatible bytes, read as UTF-8.
  if (chosen.rfind("utf-16", 0) == 0 || chosen.rfind("utf-32", 0) == 0)
    chosen = "utf-8";
  if (chosen.empty() || chosen == "utf-8") {
    if (valid_utf8) {
      out->encoding = "utf-8";
      out->utf8 = rest;
      return;
    }
    if (MostlyUtf8(rest)) {
      warn(
          "bytes are not valid UTF-8 throughout; the invalid ones replaced "
          "by U+FFFD");
      out->encoding = "utf-8";
      out->converted = true;
      RepairUtf8(rest, &out->storage);
      out->utf8 = out->storage;
      return;
    }
    warn("bytes are not valid UTF-8; decoded as windows-1252");
    chosen = "windows-1252";
  } else if (!HasNonAscii(rest) && chosen != "iso-2022-jp" &&
             chosen != "replacement") {
    // ASCII-compatible encoding, ASCII bytes: nothing to convert
    // (ISO-2022-JP is 7-bit with escapes, the replacement encoding is
    // never passed through).
    out->encoding = std::string(chosen);
    out->utf8 = rest;
    return;
  } else if (valid_utf8 && HasNonAscii(rest) && chosen != "iso-2022-jp" &&
             chosen != "replacement") {
    warn("declared " + label + " (" + label_from +
         ") but the bytes are valid UTF-8; read as UTF-8");
    out->encoding = "utf-8";
    out->utf8 = rest;
    return;
  }
  out->encoding = std::string(chosen);
  out->converted = true;
  if (!Convert(rest, chosen, &out->storage, &replaced)) {
    warn("no decoder for encoding '" + std::string(chosen) +
         "'; decoded as windows-1252");
    out->encoding = "windows-1252";
    replaced = 0;
    Convert(rest, "windows-1252", &out->storage, &replaced);
  }
  out->utf8 = out->storage;
  report_replaced();
}

}  // namespace newsflow
