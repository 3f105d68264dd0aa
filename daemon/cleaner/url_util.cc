#include "daemon/cleaner/url_util.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "daemon/core/url.h"

namespace newsflow::cleaner {
namespace {

bool IsSchemeChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' ||
         c == '.';
}

char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Browsers strip leading/trailing C0 controls and spaces and remove tabs and
// newlines anywhere, so "java\tscript:" is a javascript: URL. Do the same
// before looking at the scheme.
std::string Normalize(std::string_view url) {
  std::string out;
  out.reserve(url.size());
  for (char c : url) {
    if (c == '\t' || c == '\n' || c == '\r') continue;
    out.push_back(c);
  }
  size_t b = 0;
  while (b < out.size() && static_cast<unsigned char>(out[b]) <= 0x20) ++b;
  size_t e = out.size();
  while (e > b && static_cast<unsigned char>(out[e - 1]) <= 0x20) --e;
  return out.substr(b, e - b);
}

struct Parts {
  std::string_view scheme;  // without ':'
  bool has_authority = false;
  std::string_view authority;
  std::string_view path;
  bool has_query = false;
  std::string_view query;
  bool has_fragment = false;
  std::string_view fragment;
};

Parts Split(std::string_view u) {
  Parts p;
  size_t i = 0;
  while (i < u.size() && IsSchemeChar(u[i])) ++i;
  if (i > 0 && i < u.size() && u[i] == ':' &&
      std::isalpha(static_cast<unsigned char>(u[0]))) {
    p.scheme = u.substr(0, i);
    u.remove_prefix(i + 1);
  }
  if (size_t h = u.find('#'); h != std::string_view::npos) {
    p.has_fragment = true;
    p.fragment = u.substr(h + 1);
    u = u.substr(0, h);
  }
  if (size_t q = u.find('?'); q != std::string_view::npos) {
    p.has_query = true;
    p.query = u.substr(q + 1);
    u = u.substr(0, q);
  }
  if (u.size() >= 2 && u[0] == '/' && u[1] == '/') {
    p.has_authority = true;
    u.remove_prefix(2);
    size_t s = u.find('/');
    p.authority = u.substr(0, s);
    u = s == std::string_view::npos ? std::string_view() : u.substr(s);
  }
  p.path = u;
  return p;
}

std::string RemoveDotSegments(std::string_view path) {
  std::string out;
  std::vector<std::string_view> segs;
  bool absolute = !path.empty() && path[0] == '/';
  size_t i = absolute ? 1 : 0;
  bool trailing_slash = false;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    trailing_slash = false;
    if (seg == ".") {
      trailing_slash = true;
    } else if (seg == "..") {
      if (!segs.empty()) segs.pop_back();
      trailing_slash = true;
    } else {
      segs.push_back(seg);
    }
    i = j + 1;
  }
  if (absolute) out.push_back('/');
  for (size_t k = 0; k < segs.size(); ++k) {
    if (k) out.push_back('/');
    out.append(segs[k]);
  }
  if (trailing_slash && (out.empty() || out.back() != '/')) out.push_back('/');
  return out;
}

std::string Join(std::string_view scheme, bool has_auth, std::string_view auth,
                 std::string_view path, bool has_query, std::string_view query,
                 bool has_frag, std::string_view frag) {
  std::string out;
  out.reserve(scheme.size() + auth.size() + path.size() + query.size() +
              frag.size() + 8);
  if (!scheme.empty()) {
    for (char c : scheme) out.push_back(Lower(c));
    out.push_back(':');
  }
  if (has_auth) {
    out.append("//");
    for (char c : auth) out.push_back(Lower(c));
  }
  out.append(path);
  if (has_query) {
    out.push_back('?');
    out.append(query);
  }
  if (has_frag) {
    out.push_back('#');
    out.append(frag);
  }
  return out;
}

}  // namespace

std::string UrlScheme(std::string_view url) {
  std::string n = Normalize(url);
  Parts p = Split(n);
  std::string s;
  for (char c : p.scheme) s.push_back(Lower(c));
  return s;
}

std::string ResolveUrl(std::string_view base_in, std::string_view ref_in) {
  std::string ref = Normalize(ref_in);
  std::string base = Normalize(base_in);
  Parts r = Split(ref);
  if (!r.scheme.empty()) {
    return Join(r.scheme, r.has_authority, r.authority,
                RemoveDotSegments(r.path), r.has_query, r.query, r.has_fragment,
                r.fragment);
  }
  Parts b = Split(base);
  if (b.scheme.empty()) return ref;
  if (r.has_authority) {
    return Join(b.scheme, true, r.authority, RemoveDotSegments(r.path),
                r.has_query, r.query, r.has_fragment, r.fragment);
  }
  if (r.path.empty()) {
    bool q = r.has_query || b.has_query;
    return Join(b.scheme, b.has_authority, b.authority, b.path, q,
                r.has_query ? r.query : b.query, r.has_fragment, r.fragment);
  }
  std::string merged;
  if (r.path[0] == '/') {
    merged = RemoveDotSegments(r.path);
  } else {
    if (b.has_authority && b.path.empty()) {
      merged = "/";
    } else {
      size_t slash = b.path.rfind('/');
      if (slash != std::string_view::npos)
        merged.assign(b.path.substr(0, slash + 1));
    }
    merged.append(r.path);
    merged = RemoveDotSegments(merged);
  }
  return Join(b.scheme, b.has_authority, b.authority, merged, r.has_query,
              r.query, r.has_fragment, r.fragment);
}

std::string StripTrackingParams(std::string_view url) {
  size_t q = url.find('?');
  if (q == std::string_view::npos) return std::string(url);
  size_t h = url.find('#', q);
  std::string_view query = url.substr(
      q + 1, h == std::string_view::npos ? std::string_view::npos : h - q - 1);
  std::string kept;
  size_t i = 0;
  while (i <= query.size()) {
    size_t j = query.find('&', i);
    if (j == std::string_view::npos) j = query.size();
    std::string_view pair = query.substr(i, j - i);
    std::string_view key = pair.substr(0, pair.find('='));
    if (!pair.empty() && !IsTrackingParameter(key)) {
      if (!kept.empty()) kept.push_back('&');
      kept.append(pair);
    }
    i = j + 1;
  }
  std::string out(url.substr(0, q));
  if (!kept.empty()) {
    out.push_back('?');
    out.append(kept);
  }
  if (h != std::string_view::npos) out.append(url.substr(h));
  return out;
}

std::string SafeUrl(std::string_view base, std::string_view ref,
                    bool allow_mailto) {
  std::string resolved = ResolveUrl(base, ref);
  std::string scheme = UrlScheme(resolved);
  if (scheme.empty()) {
    // Still relative (no usable base). Harmless as long as it cannot be read
    // as a scheme by a browser; a ':' before any '/' would be.
    size_t colon = resolved.find(':');
    size_t slash = resolved.find_first_of("/?#");
    if (colon != std::string::npos &&
        (slash == std::string::npos || colon < slash))
      return {};
    return StripTrackingParams(resolved);
  }
  if (scheme == "http" || scheme == "https")
    return StripTrackingParams(resolved);
  if (allow_mailto && scheme == "mailto") return resolved;
  return {};
}

std::string UrlHost(std::string_view url) {
  std::string n = Normalize(url);
  Parts p = Split(n);
  if (!p.has_authority) return {};
  std::string_view a = p.authority;
  if (size_t at = a.rfind('@'); at != std::string_view::npos)
    a.remove_prefix(at + 1);
  if (!a.empty() && a[0] == '[') {
    size_t e = a.find(']');
    a = a.substr(0, e == std::string_view::npos ? a.size() : e + 1);
  } else if (size_t c = a.find(':'); c != std::string_view::npos) {
    a = a.substr(0, c);
  }
  std::string out;
  for (char c : a) out.push_back(Lower(c));
  return out;
}

}  // namespace newsflow::cleaner
