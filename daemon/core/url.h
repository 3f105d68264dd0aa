#pragma once

// The one URL model of newsflow. Every component that looks inside a URL
// (feed links and xml:base, the cleaner and sanitizer, canonical URLs, the
// HTTP client's host keys, the outage detector, log redaction) goes through
// this file; nothing else splits URLs by hand.
//
// Url::Parse follows the WHATWG URL Standard as browsers apply it to http and
// https ("special" schemes): leading/trailing C0 controls and spaces trimmed,
// tabs and newlines removed anywhere, '\' read as '/', userinfo split at the
// last '@', hosts percent-decoded, mapped and punycoded (UTS #46 via
// libidn2), IPv4 number forms ("0x7f.1") and IPv6 normalised, default ports
// dropped, dot segments (also "%2e") removed, components percent-encoded
// with the standard's encode sets. Reference resolution and dot-segment
// removal are Boost.URL's (RFC 3986 section 5.2); the WHATWG-specific rules
// are a thin layer around it (docs/decisions.md, "One URL model").
//
// Other schemes (mailto:, javascript:, data:, ...) are parsed only far enough
// to report their scheme; relative references against them fail.
//
// All functions are pure and thread-safe.

#include <string>
#include <string_view>

#include "daemon/core/error.h"

namespace newsflow {

// How ResolveUrl treats a reference.
enum class ResolveStyle {
  // What a browser would load for <a href=ref> on the page `base` (Url::Parse).
  kBrowser,
  // RFC 3986 resolution that keeps the text as written (no case changes, no
  // percent-encoding, absolute references returned unchanged): the raw output
  // feed readers (gofeed, feedparser) give for feed links and xml:base.
  kPreserve,
};

// A parsed absolute URL. A value type; copying copies the strings.
class Url {
 public:
  // Parses `input` as a browser parses an href found on a page at `base`
  // (nullptr or an empty `base` string: no base). Fails (Errc::
  // kInvalidArgument) where a browser's URL parser fails: bad host, bad port,
  // relative reference without a usable base, ...
  static Result<Url> Parse(std::string_view input, const Url* base = nullptr);
  static Result<Url> Parse(std::string_view input, std::string_view base);

  // The serialized URL ("href"), e.g. "https://example.com/a?b#c".
  const std::string& href() const { return href_; }
  // Lower-case scheme without ':' ("https", "mailto").
  const std::string& scheme() const { return scheme_; }
  // True for http and https.
  bool IsHttp() const { return scheme_ == "http" || scheme_ == "https"; }
  // Percent-encoded as in href; empty when absent.
  const std::string& username() const { return username_; }
  const std::string& password() const { return password_; }
  // The host a browser connects to: lower-case ASCII (punycode for IDNs),
  // dotted-decimal IPv4, bracketed IPv6 ("[::1]"); a trailing dot is kept as
  // browsers keep it. Empty for schemes without a host.
  const std::string& host() const { return host_; }
  // The port, or -1 when absent or the scheme's default.
  int port() const { return port_; }
  // Percent-encoded path ("/" at least for http/https).
  const std::string& path() const { return path_; }
  // Query and fragment without their '?'/'#'; has_*() tells "" from absent.
  const std::string& query() const { return query_; }
  bool has_query() const { return has_query_; }
  const std::string& fragment() const { return fragment_; }
  bool has_fragment() const { return has_fragment_; }

  // The host as a key for comparisons, allow-lists, politeness and outage
  // detection: host() without a trailing dot and without IPv6 brackets
  // ("example.com." and "EXAMPLE.com" both give "example.com").
  std::string HostKey() const;
  // True when HostKey() is `domain` or a subdomain of it (`domain` is a
  // lower-case ASCII name without trailing dot).
  bool HostIsWithin(std::string_view domain) const;

  // This URL with query parameters that only track the reader removed (see
  // IsTrackingParameter); the '?' goes when no parameter is left.
  Url WithoutTrackingParameters() const;
  // This URL without its fragment.
  Url WithoutFragment() const;

 private:
  Url() = default;
  void Serialize();

  std::string href_;
  std::string scheme_;
  std::string username_;
  std::string password_;
  std::string host_;
  int port_ = -1;
  bool has_authority_ = false;
  std::string path_;
  std::string query_;
  bool has_query_ = false;
  std::string fragment_;
  bool has_fragment_ = false;
};

// Resolves `ref` against `base` in the given style. kBrowser returns
// Url::Parse(ref, base)->href(), or "" when that fails. kPreserve never
// fails: it returns `ref` (through UrlWithoutControls) when it has a scheme or
// `base` is empty,
// and otherwise joins them per RFC 3986 as far as `base` allows (a relative
// `base` is joined textually).
std::string ResolveUrl(std::string_view base, std::string_view ref,
                       ResolveStyle style = ResolveStyle::kBrowser);

// `url` with what a browser's URL parser drops or escapes before anything
// else: leading/trailing C0 controls and spaces trimmed, tabs and newlines
// removed anywhere, other C0 controls and DEL percent-encoded. kPreserve
// results pass through it, so no link taken from a feed carries a raw
// control character into a log line or a published field.
std::string UrlWithoutControls(std::string_view url);

// Url::Parse(url)->HostKey(), or "" when `url` does not parse.
std::string HostKeyOf(std::string_view url);

// True when `url` starts with a scheme ("http:", "mailto:", ...), read as
// written (no trimming).
bool HasScheme(std::string_view url);

// For kPreserve outputs: lower-cases the scheme and host of an absolute
// "scheme://host..." URL (both are case-insensitive), leaving every other
// byte as written. URLs with userinfo or without "//" are returned as is.
std::string LowerCaseSchemeAndHost(std::string_view url);

// Testing hook: with false, Url::Parse and ResolveUrl take their general
// path (Boost.URL resolution, no memoized base) for every input, so a test
// can check that the fast paths give identical results. Process-wide; set
// it only while no other thread parses URLs.
void SetUrlFastPathsForTesting(bool enabled);

// True for query parameter names that only track the reader (utm_*,
// fbclid, gclid, mc_cid, ...); compared case-insensitively.
bool IsTrackingParameter(std::string_view name);

}  // namespace newsflow

namespace newsflow {

// --- issue 13, content helper: "same site" ---------------------------------
// The registrable domain of `url`'s host ("news.bbc.co.uk" ->
// "bbc.co.uk") by the Public Suffix List (libpsl: the system's
// /usr/share/publicsuffix list when present, else libpsl's built-in copy);
// the host itself for IP addresses and hosts that are a public suffix or
// have no dot (localhost); "" when `url` does not parse.
std::string RegistrableDomainOf(std::string_view url);

// True when `a` and `b` are http(s) URLs of one site: the same host, or
// hosts under the same registrable domain. Scheme and port do not matter
// (as for cookies, RFC 6265).
bool SameSite(std::string_view a, std::string_view b);

}  // namespace newsflow
