#include "daemon/core/url.h"

#include <idn2.h>
#include <libpsl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <vector>

#include "daemon/core/text_util.h"

namespace newsflow {
namespace {

namespace urls = boost::urls;

constexpr std::string_view kHex = "0123456789ABCDEF";

// SetUrlFastPathsForTesting(false) sends every input down the general path.
std::atomic<bool> fast_paths_enabled{true};
bool FastPaths() { return fast_paths_enabled.load(std::memory_order_relaxed); }

// std::string_view::find_first_of calls memchr over the set once per byte
// of `s`; URLs are short and the sets tiny, so a plain loop is several
// times faster (it showed as 30 % of a canonicalization).
template <char... kSet>
size_t FindAny(std::string_view s, size_t from = 0) {
  for (size_t i = from; i < s.size(); ++i) {
    if (((s[i] == kSet) || ...)) return i;
  }
  return std::string_view::npos;
}

bool IsAsciiAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSlash(char c) { return c == '/' || c == '\\'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The WHATWG percent-encode sets (URL Standard, "Percent-encoded bytes").
bool InC0ControlSet(unsigned char c) { return c < 0x20 || c > 0x7E; }
bool InFragmentSet(unsigned char c) {
  return InC0ControlSet(c) || c == ' ' || c == '"' || c == '<' || c == '>' ||
         c == '`';
}
bool InQuerySet(unsigned char c) {
  return InC0ControlSet(c) || c == ' ' || c == '"' || c == '#' || c == '<' ||
         c == '>';
}
bool InSpecialQuerySet(unsigned char c) { return InQuerySet(c) || c == '\''; }
bool InPathSet(unsigned char c) {
  return InQuerySet(c) || c == '?' || c == '`' || c == '{' || c == '}';
}
bool InUserinfoSet(unsigned char c) {
  return InPathSet(c) || c == '/' || c == ':' || c == ';' || c == '=' ||
         c == '@' || (c >= '[' && c <= '^') || c == '|';
}

// The set is a template argument so its test inlines into the loops.
template <bool (*in_set)(unsigned char)>
std::string PercentEncoded(std::string_view s) {
  // Most URL text needs no escaping: copy it whole up to the first byte
  // that does.
  size_t clean = 0;
  while (clean < s.size() && !in_set(static_cast<unsigned char>(s[clean]))) {
    ++clean;
  }
  if (clean == s.size()) return std::string(s);
  std::string out;
  out.reserve(s.size() + 16);
  out.append(s.substr(0, clean));
  for (char ch : s.substr(clean)) {
    const auto c = static_cast<unsigned char>(ch);
    if (in_set(c)) {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

// Decodes every valid "%XX"; a '%' not followed by two hex digits stays.
std::string PercentDecode(std::string_view s) {
  const size_t first = s.find('%');
  if (first == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size());
  out.append(s.substr(0, first));
  for (size_t i = first; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
        HexValue(s[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Boost.URL parses RFC 3986, which rejects much of what browsers accept
// (spaces, '{', '|', non-ASCII, stray '%'). Before handing text to it every
// byte but the unreserved ones and '/' is percent-encoded, '%' included, so
// Boost.URL sees only structure it resolves ('/', '.', and the delimiters we
// add) and PercentDecode gives back exactly the original text afterwards.
bool InTransportSet(unsigned char c) {
  const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                    c == '_' || c == '~' || c == '/';
  return !keep;
}
std::string TransportEncode(std::string_view s) {
  return PercentEncoded<InTransportSet>(s);
}

// WHATWG basic URL parser, first steps: strip leading and trailing C0
// controls and spaces, remove ASCII tab and newline anywhere.
std::string StripInput(std::string_view in) {
  while (!in.empty() && static_cast<unsigned char>(in.front()) <= 0x20) {
    in.remove_prefix(1);
  }
  while (!in.empty() && static_cast<unsigned char>(in.back()) <= 0x20) {
    in.remove_suffix(1);
  }
  if (FindAny<'\t', '\n', '\r'>(in) == std::string_view::npos) {
    return std::string(in);
  }
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    if (c != '\t' && c != '\n' && c != '\r') out.push_back(c);
  }
  return out;
}

// Index of the ':' that ends a scheme at the start of `s`, or npos.
size_t SchemeEnd(std::string_view s) {
  if (s.empty() || !IsAsciiAlpha(s[0])) return std::string_view::npos;
  for (size_t i = 1; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ':') return i;
    if (!IsAsciiAlpha(c) && !IsAsciiDigit(c) && c != '+' && c != '-' &&
        c != '.') {
      return std::string_view::npos;
    }
  }
  return std::string_view::npos;
}

// Default port of a special scheme, -1 for the others.
int DefaultPort(std::string_view scheme) {
  if (scheme == "http" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "wss") return 443;
  if (scheme == "ftp") return 21;
  return -1;
}
bool IsSpecial(std::string_view scheme) { return DefaultPort(scheme) >= 0; }

Error Invalid(std::string what) {
  return Error::InvalidArgument("invalid URL: " + std::move(what));
}

std::vector<std::string_view> SplitDots(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    parts.push_back(s.substr(start, dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

// WHATWG "IPv4 number parser": decimal, 0x-hex or 0-octal.
bool ParseIpv4Number(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  int radix = 10;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    radix = 16;
  } else if (s.size() >= 2 && s[0] == '0') {
    s.remove_prefix(1);
    radix = 8;
  }
  uint64_t v = 0;
  for (char c : s) {
    const int d = HexValue(c);
    if (d < 0 || d >= radix) return false;
    v = std::min<uint64_t>(v * radix + d, uint64_t{1} << 40);  // saturate
  }
  *out = v;
  return true;
}

// WHATWG "ends in a number checker".
bool EndsInNumber(std::string_view host) {
  std::vector<std::string_view> parts = SplitDots(host);
  if (parts.back().empty()) {
    if (parts.size() == 1) return false;
    parts.pop_back();
  }
  const std::string_view last = parts.back();
  if (!last.empty() && std::all_of(last.begin(), last.end(), IsAsciiDigit)) {
    return true;
  }
  uint64_t ignored;
  return last.size() >= 2 && last[0] == '0' &&
         (last[1] == 'x' || last[1] == 'X') && ParseIpv4Number(last, &ignored);
}

// WHATWG "IPv4 parser"; serializes dotted-decimal.
Result<std::string> ParseIpv4(std::string_view host) {
  std::vector<std::string_view> parts = SplitDots(host);
  if (parts.back().empty() && parts.size() > 1) parts.pop_back();
  if (parts.size() > 4) return Invalid("IPv4 address with too many parts");
  std::vector<uint64_t> numbers;
  for (std::string_view p : parts) {
    uint64_t n;
    if (!ParseIpv4Number(p, &n)) return Invalid("bad IPv4 address");
    numbers.push_back(n);
  }
  for (size_t i = 0; i + 1 < numbers.size(); ++i) {
    if (numbers[i] > 255) return Invalid("bad IPv4 address");
  }
  if (numbers.back() >= (uint64_t{1} << (8 * (5 - numbers.size())))) {
    return Invalid("bad IPv4 address");
  }
  uint64_t ipv4 = numbers.back();
  for (size_t i = 0; i + 1 < numbers.size(); ++i) {
    ipv4 += numbers[i] << (8 * (3 - i));
  }
  return std::to_string((ipv4 >> 24) & 0xFF) + "." +
         std::to_string((ipv4 >> 16) & 0xFF) + "." +
         std::to_string((ipv4 >> 8) & 0xFF) + "." + std::to_string(ipv4 & 0xFF);
}

// WHATWG IPv6 serializer: lower-case hex, the first longest run of two or
// more zero pieces compressed to "::", no embedded IPv4 form.
std::string SerializeIpv6(const urls::ipv6_address::bytes_type& b) {
  std::array<unsigned, 8> pieces{};
  for (size_t i = 0; i < 8; ++i) pieces[i] = (b[2 * i] << 8) | b[2 * i + 1];
  int best = -1;
  int best_len = 1;
  for (int i = 0; i < 8;) {
    if (pieces[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && pieces[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  std::string out = "[";
  bool after_gap = false;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      after_gap = true;
      continue;
    }
    if (i > 0 && !after_gap) out.push_back(':');
    after_gap = false;
    char buf[8];
    std::snprintf(buf, sizeof buf, "%x", pieces[i]);
    out += buf;
  }
  out.push_back(']');
  return out;
}

bool IsForbiddenDomainCodePoint(unsigned char c) {
  return c <= 0x20 || c == 0x7F || c == '#' || c == '%' || c == '/' ||
         c == ':' || c == '<' || c == '>' || c == '?' || c == '@' || c == '[' ||
         c == '\\' || c == ']' || c == '^' || c == '|';
}

// UTS #46 "ToASCII" of one label, as the URL Standard's "domain to ASCII"
// (non-transitional, CheckHyphens and STD3 rules off).
Result<std::string> ToAsciiLabel(std::string_view label) {
  const bool all_ascii = std::none_of(label.begin(), label.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x80;
  });
  const bool punycode =
      label.size() >= 4 && EqualsIgnoreCaseAscii(label.substr(0, 4), "xn--");
  if (all_ascii && !punycode) return ToLowerAscii(label);
  const std::string in(label);
  char* out = nullptr;
  int rc = idn2_to_ascii_8z(in.c_str(), &out, IDN2_NONTRANSITIONAL);
  if (rc == IDN2_DISALLOWED) {
    // libidn2 adds the IDNA2008 code point check, which rejects symbols
    // UTS #46 (and browsers) accept ("http://\u2603.net", emoji). Transitional
    // processing skips that check and differs only for the four deviation
    // characters, so use it when none is present.
    static constexpr std::string_view kDeviations[] = {
        "\xC3\x9F", "\xCF\x82", "\xE2\x80\x8C", "\xE2\x80\x8D"};
    const bool deviation = std::any_of(
        std::begin(kDeviations), std::end(kDeviations),
        [&](std::string_view d) { return in.find(d) != std::string::npos; });
    if (!deviation) rc = idn2_to_ascii_8z(in.c_str(), &out, IDN2_TRANSITIONAL);
  }
  if (rc != IDN2_OK || out == nullptr) {
    return Invalid("host is not a valid internationalized domain name");
  }
  std::string result = out;
  idn2_free(out);
  return ToLowerAscii(result);
}

// WHATWG "host parser" for special schemes: IPv6 literal, or a domain that
// is percent-decoded, mapped to ASCII (UTS #46 via libidn2), checked for
// forbidden code points and read as IPv4 when it ends in a number.
Result<std::string> ParseHost(std::string_view input) {
  if (input.empty()) return Invalid("empty host");
  if (input.front() == '[') {
    if (input.size() < 2 || input.back() != ']') {
      return Invalid("unterminated IPv6 address");
    }
    auto v6 = urls::parse_ipv6_address(input.substr(1, input.size() - 2));
    if (!v6) return Invalid("bad IPv6 address");
    return SerializeIpv6(v6->to_bytes());
  }
  if (FastPaths()) {
    // Fast path, most hosts: ASCII letters, digits, '-' and '.', no punycode
    // label, last label not starting with a digit (so never IPv4). Every
    // step below then reduces to lower-casing.
    bool plain = std::all_of(input.begin(), input.end(), [](char c) {
      return IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '-' || c == '.';
    });
    std::string_view last = input;
    if (last.ends_with('.')) last.remove_suffix(1);
    last = last.substr(last.rfind('.') + 1);  // npos + 1 == 0
    plain = plain && !last.empty() && !IsAsciiDigit(last.front());
    for (size_t at = 0; plain && at + 4 <= input.size();) {
      if (EqualsIgnoreCaseAscii(input.substr(at, 4), "xn--")) plain = false;
      const size_t dot = input.find('.', at);
      if (dot == std::string_view::npos) break;
      at = dot + 1;
    }
    if (plain) return ToLowerAscii(input);
  }
  const std::string domain = PercentDecode(input);
  if (domain.find('\0') != std::string::npos) return Invalid("NUL in host");
  std::string ascii;
  // Label by label: ASCII labels are only lower-cased (UTS #46 maps nothing
  // else in ASCII; CheckHyphens is off in the URL Standard, so "a--b" and
  // "-x" stay valid), the others go through libidn2.
  size_t start = 0;
  while (start <= domain.size()) {
    size_t end = start;
    size_t next = std::string::npos;
    for (; end < domain.size(); ++end) {
      if (domain[end] == '.') {
        next = end + 1;
        break;
      }
      // U+3002, U+FF0E, U+FF61 are mapped to '.' by UTS #46.
      const std::string_view rest = std::string_view(domain).substr(end);
      if (rest.starts_with("\xE3\x80\x82") ||
          rest.starts_with("\xEF\xBC\x8E") ||
          rest.starts_with("\xEF\xBD\xA1")) {
        next = end + 3;
        break;
      }
    }
    auto label =
        ToAsciiLabel(std::string_view(domain).substr(start, end - start));
    if (!label) return label.error();
    ascii += *label;
    if (next == std::string::npos) break;
    ascii.push_back('.');
    start = next;
  }
  if (ascii.empty()) return Invalid("empty host");
  for (char c : ascii) {
    if (IsForbiddenDomainCodePoint(static_cast<unsigned char>(c))) {
      return Invalid("forbidden character in host");
    }
  }
  if (EndsInNumber(ascii)) return ParseIpv4(ascii);
  return ascii;
}

struct Authority {
  std::string username;  // percent-encoded
  std::string password;  // percent-encoded
  std::string host;      // serialized
  int port = -1;         // -1: absent or default
};

std::string SerializeAuthority(const Authority& a) {
  std::string out;
  if (!a.username.empty() || !a.password.empty()) {
    out += a.username;
    if (!a.password.empty()) out += ":" + a.password;
    out.push_back('@');
  }
  out += a.host;
  if (a.port >= 0) out += ":" + std::to_string(a.port);
  return out;
}

// WHATWG authority, host and port states for a special scheme. `text` runs
// up to the first '/', '\', '?' or '#'.
Result<Authority> ParseAuthority(std::string_view text,
                                 std::string_view scheme) {
  Authority out;
  if (size_t at = text.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = text.substr(0, at);
    text.remove_prefix(at + 1);
    const size_t colon = userinfo.find(':');
    out.username = PercentEncoded<InUserinfoSet>(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) {
      out.password = PercentEncoded<InUserinfoSet>(userinfo.substr(colon + 1));
    }
  }
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return Invalid("unterminated IPv6 address");
    }
    host = text.substr(0, close + 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Invalid("junk after IPv6 address");
      port = rest.substr(1);
    }
  } else if (size_t colon = text.find(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) return Invalid("empty host");
  auto parsed = ParseHost(host);
  if (!parsed) return parsed.error();
  out.host = std::move(*parsed);
  if (!port.empty()) {
    if (!std::all_of(port.begin(), port.end(), IsAsciiDigit)) {
      return Invalid("port is not a number");
    }
    while (port.size() > 1 && port.front() == '0') port.remove_prefix(1);
    if (port.size() > 5 || std::stoi(std::string(port)) > 65535) {
      return Invalid("port out of range");
    }
    const int value = std::stoi(std::string(port));
    out.port = value == DefaultPort(scheme) ? -1 : value;
  }
  return out;
}

// WHATWG treats "%2e" like "." in path segments; RFC 3986 resolution (Boost)
// only knows literal dots, so those segments are rewritten first.
std::string DecodeDotSegments(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const std::string seg = ToLowerAscii(path.substr(start, slash - start));
    if (seg == "%2e") {
      out += ".";
    } else if (seg == ".%2e" || seg == "%2e." || seg == "%2e%2e") {
      out += "..";
    } else {
      out += path.substr(start, slash - start);
    }
    if (slash == std::string_view::npos) break;
    out.push_back('/');
    start = slash + 1;
  }
  return out;
}

// True when a segment of `path` is "." or ".." (also as "%2e" forms): the
// segments dot-segment removal would touch.
bool HasDotSegment(std::string_view path) {
  if (FindAny<'.', '%'>(path) == std::string_view::npos) return false;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const std::string_view seg = path.substr(start, slash - start);
    if (seg == "." || seg == ".." || EqualsIgnoreCaseAscii(seg, "%2e") ||
        EqualsIgnoreCaseAscii(seg, ".%2e") ||
        EqualsIgnoreCaseAscii(seg, "%2e.") ||
        EqualsIgnoreCaseAscii(seg, "%2e%2e")) {
      return true;
    }
    if (slash == std::string_view::npos) return false;
    start = slash + 1;
  }
}

// A reference split the WHATWG way for a special scheme; text still raw.
struct Reference {
  bool has_authority = false;
  std::string_view authority;
  std::string path;  // '\' already read as '/'
  bool has_query = false;
  std::string_view query;
  bool has_fragment = false;
  std::string_view fragment;
};

Reference SplitSpecial(std::string_view s, bool with_authority) {
  Reference r;
  if (size_t hash = s.find('#'); hash != std::string_view::npos) {
    r.has_fragment = true;
    r.fragment = s.substr(hash + 1);
    s = s.substr(0, hash);
  }
  if (size_t q = s.find('?'); q != std::string_view::npos) {
    r.has_query = true;
    r.query = s.substr(q + 1);
    s = s.substr(0, q);
  }
  if (with_authority) {
    r.has_authority = true;
    const size_t end = FindAny<'/', '\\'>(s);
    r.authority = s.substr(0, end);
    s = end == std::string_view::npos ? std::string_view() : s.substr(end);
  }
  r.path.assign(s);
  std::replace(r.path.begin(), r.path.end(), '\\', '/');
  return r;
}

// The path of a resolved URL. Boost.URL 1.81 keeps ".." segments that would
// climb above the root ("/../a", which RFC 3986 section 5.2.4 and the URL
// Standard drop) and writes "/./" where a path would start with "//"
// (needless with an authority).
std::string ResolvedPath(const urls::url& u) {
  std::string path(u.encoded_path());
  for (size_t size = 0; size != path.size();) {
    size = path.size();
    if (path.starts_with("/../") || path.starts_with("../")) {
      path.erase(0, 3);
    } else if (path.starts_with("/./") &&
               (u.has_authority() || path.size() == 3 || path[3] != '/')) {
      path.erase(0, 2);
    }
  }
  if (path == "/.." || path == "/.") path = "/";
  if (path == ".." || path == ".") path.clear();
  return path;
}

// Stand-ins for the authorities in what Boost.URL resolves. Resolution
// only asks whether a reference has an authority, never what it is, and
// Boost.URL 1.81 misreads hosts that start like an IPv4 address
// ("192.168.0.25e" becomes host 192.168.0.25 and path "e"), so it never
// sees the real ones; the caller knows which authority a result carries.
constexpr std::string_view kRefAuthority = "r.invalid";
constexpr std::string_view kBaseAuthority = "b.invalid";

// The RFC 3986 text Boost.URL resolves: `authority` (a stand-in, or empty
// for none) verbatim, the other parts transport-encoded.
std::string TransportForm(std::string_view scheme, std::string_view authority,
                          std::string_view path, bool has_query,
                          std::string_view query, bool has_fragment,
                          std::string_view fragment) {
  std::string out;
  if (!scheme.empty()) {
    out += scheme;
    out.push_back(':');
  }
  if (!authority.empty()) {
    out += "//";
    out += authority;
  }
  out += TransportEncode(path);
  if (has_query) out += "?" + TransportEncode(query);
  if (has_fragment) out += "#" + TransportEncode(fragment);
  return out;
}

}  // namespace

Result<Url> Url::Parse(std::string_view input, std::string_view base) {
  if (base.empty()) return Parse(input, nullptr);
  if (!FastPaths()) {
    Result<Url> b = Parse(base, nullptr);
    return Parse(input, b ? &*b : nullptr);
  }
  // Callers resolve many references against one base (every link of a
  // document): the last base parsed on this thread is kept.
  struct LastBase {
    std::string text;
    std::optional<Url> url;  // nullopt: `text` does not parse
  };
  thread_local LastBase last;
  thread_local bool have_last = false;
  if (!have_last || last.text != base) {
    Result<Url> b = Parse(base, nullptr);
    last.text.assign(base);
    last.url.reset();
    if (b) last.url.emplace(std::move(*b));
    have_last = true;
  }
  return Parse(input, last.url ? &*last.url : nullptr);
}

Result<Url> Url::Parse(std::string_view raw_input, const Url* base) {
  const std::string input = StripInput(raw_input);
  std::string_view s = input;
  std::string scheme;
  if (size_t colon = SchemeEnd(s); colon != std::string_view::npos) {
    scheme = ToLowerAscii(s.substr(0, colon));
    s.remove_prefix(colon + 1);
    if (!IsSpecial(scheme)) {
      // Opaque: scheme, then path, query and fragment as written (C0
      // controls and non-ASCII percent-encoded).
      Url u;
      u.scheme_ = std::move(scheme);
      if (size_t hash = s.find('#'); hash != std::string_view::npos) {
        u.has_fragment_ = true;
        u.fragment_ = PercentEncoded<InFragmentSet>(s.substr(hash + 1));
        s = s.substr(0, hash);
      }
      if (size_t q = s.find('?'); q != std::string_view::npos) {
        u.has_query_ = true;
        u.query_ = PercentEncoded<InQuerySet>(s.substr(q + 1));
        s = s.substr(0, q);
      }
      u.path_ = PercentEncoded<InC0ControlSet>(s);
      u.Serialize();
      return u;
    }
  }
  Reference ref;
  const bool relative =
      scheme.empty() || (base != nullptr && base->scheme_ == scheme);
  if (relative) {
    // "http:foo" on an http page is relative, like "foo".
    if (base == nullptr || !base->has_authority_ || !IsSpecial(base->scheme_)) {
      return Invalid("relative reference without a usable base");
    }
    scheme = base->scheme_;
    if (s.size() >= 2 && IsSlash(s[0]) && IsSlash(s[1])) {
      while (!s.empty() && IsSlash(s.front())) s.remove_prefix(1);
      ref = SplitSpecial(s, true);
    } else {
      ref = SplitSpecial(s, false);
    }
  } else {
    while (!s.empty() && IsSlash(s.front())) s.remove_prefix(1);
    ref = SplitSpecial(s, true);
  }

  Authority authority;
  if (ref.has_authority) {
    auto parsed = ParseAuthority(ref.authority, scheme);
    if (!parsed) return parsed.error();
    authority = std::move(*parsed);
  } else {
    authority.username = base->username_;
    authority.password = base->password_;
    authority.host = base->host_;
    authority.port = base->port_;
  }
  // Fast path: a path that is absolute (or, relative to a base, merges by
  // plain concatenation) and has no dot segments resolves to itself; the
  // general path below would hand it through Boost.URL unchanged.
  if (FastPaths() && !HasDotSegment(ref.path)) {
    const bool absolute_path =
        ref.has_authority || (!ref.path.empty() && ref.path.front() == '/');
    const bool merge = !absolute_path && relative && !ref.path.empty();
    // "?q" or "#f" alone: the base's path (and query, for "#f").
    const bool same_path = !absolute_path && relative && ref.path.empty();
    if (absolute_path || merge || same_path) {
      Url u;
      u.scheme_ = std::move(scheme);
      u.has_authority_ = true;
      u.username_ = std::move(authority.username);
      u.password_ = std::move(authority.password);
      u.host_ = std::move(authority.host);
      u.port_ = authority.port;
      if (same_path) {
        u.path_ = base->path_;
      } else if (merge) {
        // RFC 3986 section 5.2.3: the base path up to its last '/'. The
        // base's path is already encoded; encoding is idempotent on it.
        const size_t last_slash = base->path_.rfind('/');
        std::string merged = last_slash == std::string::npos
                                 ? std::string("/")
                                 : base->path_.substr(0, last_slash + 1);
        merged += ref.path;
        u.path_ = PercentEncoded<InPathSet>(merged);
      } else {
        u.path_ = PercentEncoded<InPathSet>(ref.path);
      }
      if (u.path_.empty() || u.path_.front() != '/') u.path_.insert(0, "/");
      u.has_query_ = ref.has_query;
      if (ref.has_query) {
        u.query_ = PercentEncoded<InSpecialQuerySet>(ref.query);
      } else if (same_path) {
        u.has_query_ = base->has_query_;
        u.query_ = base->query_;
      }
      u.has_fragment_ = ref.has_fragment;
      if (ref.has_fragment) {
        u.fragment_ = PercentEncoded<InFragmentSet>(ref.fragment);
      }
      u.Serialize();
      return u;
    }
  }
  std::string path = DecodeDotSegments(ref.path);
  if (ref.has_authority && path.empty()) path = "/";

  // Boost.URL does the RFC 3986 part: merge with the base, remove dot
  // segments.
  const std::string ref_text = TransportForm(
      relative ? "" : scheme, ref.has_authority ? kRefAuthority : "", path,
      ref.has_query, ref.query, ref.has_fragment, ref.fragment);
  std::string base_text = ref_text;
  if (relative) {
    base_text = TransportForm(scheme, kBaseAuthority, base->path_,
                              base->has_query_, base->query_, false, {});
  }
  auto base_view = urls::parse_uri(base_text);
  auto ref_view = urls::parse_uri_reference(ref_text);
  if (!base_view || !ref_view) return Invalid("unparsable after encoding");
  urls::url resolved;
  if (!urls::resolve(*base_view, *ref_view, resolved)) {
    return Invalid("reference does not resolve");
  }

  Url u;
  u.scheme_ = std::move(scheme);
  u.has_authority_ = true;
  u.username_ = std::move(authority.username);
  u.password_ = std::move(authority.password);
  u.host_ = std::move(authority.host);
  u.port_ = authority.port;
  u.path_ = PercentEncoded<InPathSet>(PercentDecode(ResolvedPath(resolved)));
  if (u.path_.empty() || u.path_.front() != '/') u.path_.insert(0, "/");
  u.has_query_ = resolved.has_query();
  u.query_ = PercentEncoded<InSpecialQuerySet>(
      PercentDecode(resolved.encoded_query()));
  u.has_fragment_ = resolved.has_fragment();
  u.fragment_ =
      PercentEncoded<InFragmentSet>(PercentDecode(resolved.encoded_fragment()));
  u.Serialize();
  return u;
}

void Url::Serialize() {
  href_.clear();
  href_.reserve(scheme_.size() + host_.size() + path_.size() + query_.size() +
                fragment_.size() + 8);
  href_ += scheme_;
  href_ += ':';
  if (has_authority_) {
    href_ += "//";
    href_ += SerializeAuthority({username_, password_, host_, port_});
  }
  href_ += path_;
  if (has_query_) {
    href_ += '?';
    href_ += query_;
  }
  if (has_fragment_) {
    href_ += '#';
    href_ += fragment_;
  }
}

std::string Url::HostKey() const {
  std::string_view h = host_;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    return std::string(h.substr(1, h.size() - 2));
  }
  if (!h.empty() && h.back() == '.') h.remove_suffix(1);
  return std::string(h);
}

bool Url::HostIsWithin(std::string_view domain) const {
  const std::string key = HostKey();
  if (key == domain) return true;
  return key.size() > domain.size() && key.ends_with(domain) &&
         key[key.size() - domain.size() - 1] == '.';
}

Url Url::WithoutTrackingParameters() const {
  if (!has_query_) return *this;
  std::string kept;
  std::string_view query = query_;
  while (true) {
    const size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    const std::string name = PercentDecode(param.substr(0, param.find('=')));
    if (!param.empty() && !IsTrackingParameter(name)) {
      if (!kept.empty()) kept.push_back('&');
      kept.append(param);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  Url u = *this;
  u.query_ = std::move(kept);
  u.has_query_ = !u.query_.empty();
  u.Serialize();
  return u;
}

Url Url::WithoutFragment() const {
  Url u = *this;
  u.fragment_.clear();
  u.has_fragment_ = false;
  u.Serialize();
  return u;
}

namespace {

// A reference in the transport form Boost.URL resolves, split as RFC 3986
// Appendix B does; its authority (as written) is kept aside.
struct AsWritten {
  std::string transport;
  std::string authority;
};

AsWritten TransportFormAsWritten(std::string_view s,
                                 std::string_view authority_token) {
  std::string_view scheme;
  if (size_t colon = SchemeEnd(s); colon != std::string_view::npos) {
    scheme = s.substr(0, colon);
    s.remove_prefix(colon + 1);
  }
  AsWritten out;
  bool has_authority = false;
  if (s.starts_with("//")) {
    s.remove_prefix(2);
    const size_t end = FindAny<'/', '?', '#'>(s);
    out.authority.assign(s.substr(0, end));
    has_authority = true;
    s = end == std::string_view::npos ? std::string_view() : s.substr(end);
  }
  std::string_view fragment, query;
  bool has_fragment = false, has_query = false;
  if (size_t hash = s.find('#'); hash != std::string_view::npos) {
    has_fragment = true;
    fragment = s.substr(hash + 1);
    s = s.substr(0, hash);
  }
  if (size_t q = s.find('?'); q != std::string_view::npos) {
    has_query = true;
    query = s.substr(q + 1);
    s = s.substr(0, q);
  }
  out.transport = TransportForm(scheme, has_authority ? authority_token : "", s,
                                has_query, query, has_fragment, fragment);
  return out;
}

std::string ResolveAsWritten(std::string_view base, std::string_view ref) {
  if (HasScheme(ref) || base.empty()) return std::string(ref);
  // A relative base (xml:base="/news/" in a document without URL) is joined
  // textually: resolve under a placeholder scheme, then drop it.
  constexpr std::string_view kPlaceholder = "nf-base:";
  const bool placeholder = !HasScheme(base);
  // A document resolves all its links against one base: the transport form
  // of the last base seen on this thread is kept.
  thread_local std::string last_base;
  thread_local AsWritten last_form;
  thread_local bool have_last = false;
  AsWritten uncached;
  const AsWritten* base_form = &last_form;
  if (!FastPaths() || !have_last || last_base != base) {
    std::string base_text(base);
    if (placeholder) base_text.insert(0, kPlaceholder);
    uncached = TransportFormAsWritten(base_text, kBaseAuthority);
    base_form = &uncached;
    if (FastPaths()) {
      last_base.assign(base);
      last_form = uncached;
      have_last = true;
    }
  }
  const AsWritten& b = *base_form;
  const AsWritten r = TransportFormAsWritten(ref, kRefAuthority);
  auto base_view = urls::parse_uri(b.transport);
  auto ref_view = urls::parse_relative_ref(r.transport);
  urls::url resolved;
  if (!base_view || !ref_view ||
      !urls::resolve(*base_view, *ref_view, resolved)) {
    return std::string(ref);
  }
  std::string out;
  if (resolved.has_scheme()) out += std::string(resolved.scheme()) + ":";
  std::string tail = ResolvedPath(resolved);
  if (resolved.has_query()) tail += "?" + std::string(resolved.encoded_query());
  if (resolved.has_fragment()) {
    tail += "#" + std::string(resolved.encoded_fragment());
  }
  if (resolved.has_authority()) {
    out += "//";
    out += resolved.encoded_authority() == kRefAuthority ? r.authority
                                                         : b.authority;
  }
  out += PercentDecode(tail);
  if (placeholder && out.starts_with(kPlaceholder)) {
    out.erase(0, kPlaceholder.size());
  }
  return out;
}

}  // namespace

std::string UrlWithoutControls(std::string_view url) {
  auto is_c0_or_space = [](char c) {
    return static_cast<unsigned char>(c) <= 0x20;
  };
  while (!url.empty() && is_c0_or_space(url.front())) url.remove_prefix(1);
  while (!url.empty() && is_c0_or_space(url.back())) url.remove_suffix(1);
  if (std::none_of(url.begin(), url.end(), [](char c) {
        const auto b = static_cast<unsigned char>(c);
        return b < 0x20 || b == 0x7f;
      })) {
    return std::string(url);
  }
  std::string out;
  out.reserve(url.size());
  for (char c : url) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '\t' || c == '\n' || c == '\r') continue;
    if (b < 0x20 || b == 0x7f) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

std::string ResolveUrl(std::string_view base, std::string_view ref,
                       ResolveStyle style) {
  if (style == ResolveStyle::kPreserve) {
    return UrlWithoutControls(ResolveAsWritten(base, ref));
  }
  Result<Url> u = Url::Parse(ref, base);
  return u ? u->href() : std::string();
}

std::string HostKeyOf(std::string_view url) {
  Result<Url> u = Url::Parse(url, nullptr);
  return u ? u->HostKey() : std::string();
}

bool HasScheme(std::string_view url) {
  return SchemeEnd(url) != std::string_view::npos;
}

std::string LowerCaseSchemeAndHost(std::string_view url) {
  std::string out(url);
  const size_t colon = SchemeEnd(url);
  if (colon == std::string_view::npos || url.substr(colon, 3) != "://") {
    return out;
  }
  size_t end = FindAny<'/', '?', '#'>(url, colon + 3);
  if (end == std::string_view::npos) end = url.size();
  if (url.substr(colon + 3, end - colon - 3).find('@') !=
      std::string_view::npos) {
    return out;
  }
  for (size_t i = 0; i < end; ++i) out[i] = ToLowerAscii(out[i]);
  return out;
}

void SetUrlFastPathsForTesting(bool enabled) {
  fast_paths_enabled.store(enabled, std::memory_order_relaxed);
}

bool IsTrackingParameter(std::string_view name) {
  // Click ids of ad networks and mail/CRM tools; "__s" is Drip's.
  static constexpr std::array<std::string_view, 19> kExact = {
      "fbclid", "gclid",   "dclid",       "gclsrc",     "msclkid",
      "mc_cid", "mc_eid",  "igshid",      "yclid",      "_hsenc",
      "_hsmi",  "mkt_tok", "oly_anon_id", "oly_enc_id", "rb_clickid",
      "wt_mc",  "vero_id", "wickedid",    "__s"};
  const std::string lower = ToLowerAscii(name);
  if (lower.rfind("utm_", 0) == 0) return true;
  return std::find(kExact.begin(), kExact.end(), lower) != kExact.end();
}

}  // namespace newsflow

// --- issue 13, content helper: "same site" ---------------------------------

namespace newsflow {

std::string RegistrableDomainOf(std::string_view url) {
  Result<Url> u = Url::Parse(url);
  if (!u || !u->IsHttp()) return "";
  std::string host = u->HostKey();
  if (host.empty()) return "";
  // IP literals have no registrable domain.
  if (host.find(':') != std::string::npos ||
      host.find_first_not_of("0123456789.") == std::string::npos) {
    return host;
  }
  // Loaded once; psl contexts are read-only and thread-safe.
  static const psl_ctx_t* const psl = [] {
    const psl_ctx_t* latest = psl_latest(nullptr);
    return latest != nullptr ? latest : psl_builtin();
  }();
  const char* domain =
      psl != nullptr ? psl_registrable_domain(psl, host.c_str()) : nullptr;
  return domain != nullptr ? std::string(domain) : host;
}

bool SameSite(std::string_view a, std::string_view b) {
  const std::string da = RegistrableDomainOf(a);
  return !da.empty() && da == RegistrableDomainOf(b);
}

}  // namespace newsflow
