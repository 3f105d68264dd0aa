#pragma once

// URL helpers for the cleaner: scheme checks, RFC 3986 reference resolution
// and removal of tracking query parameters. Pure functions, no allocation
// beyond the returned strings.

#include <string>
#include <string_view>

namespace newsflow::cleaner {

// Lower-cased scheme of `url` ("http", "javascript", ...) after dropping the
// leading whitespace/control characters and embedded tabs/newlines browsers
// ignore. Empty when `url` has no scheme (a relative reference).
std::string UrlScheme(std::string_view url);

// Resolves `ref` against the absolute `base` (RFC 3986 section 5.2). When
// `base` is empty or not absolute, returns `ref` trimmed.
std::string ResolveUrl(std::string_view base, std::string_view ref);

// Removes tracking parameters (utm_*, fbclid, gclid, mc_cid, ...) from the
// query string of `url`; drops the '?' when nothing is left.
std::string StripTrackingParams(std::string_view url);

// Resolve + strip + scheme check. Returns empty when the URL is unsafe
// (javascript:, data:, vbscript:, any scheme other than http/https and,
// when `allow_mailto`, mailto).
std::string SafeUrl(std::string_view base, std::string_view ref,
                    bool allow_mailto);

// Host of an absolute URL, lower-cased, without port or userinfo.
std::string UrlHost(std::string_view url);

}  // namespace newsflow::cleaner
