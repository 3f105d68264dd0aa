#pragma once

// RFC 3986 reference resolution, enough for feed links: scheme-relative,
// absolute-path, relative-path and query/fragment-only references, with
// dot-segment removal.

#include <string>
#include <string_view>

namespace newsflow::feed_internal {

// True when `url` starts with a scheme ("http:", "mailto:", ...).
bool HasScheme(std::string_view url);

// Resolves `ref` against `base`. When `base` is empty or has no scheme and
// `ref` is relative, returns `ref` unchanged (or joined as far as possible).
std::string ResolveUrl(std::string_view base, std::string_view ref);

// Lower-cases the scheme and host of an absolute URL in place (both are
// case-insensitive; feed-rs and browsers normalise them). URLs with
// userinfo or without "://" are left alone.
void LowerSchemeAndHost(std::string* url);

}  // namespace newsflow::feed_internal
