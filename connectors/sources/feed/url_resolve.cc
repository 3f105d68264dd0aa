#include "connectors/sources/feed/url_resolve.h"

#include <cctype>

namespace newsflow::feed_internal {
namespace {

struct Parts {
  std::string_view scheme, authority, path, query, fragment;
  bool has_authority = false, has_query = false, has_fragment = false;
};

Parts Split(std::string_view s) {
  Parts p;
  if (HasScheme(s)) {
    size_t c = s.find(':');
    p.scheme = s.substr(0, c);
    s.remove_prefix(c + 1);
  }
  if (s.substr(0, 2) == "//") {
    s.remove_prefix(2);
    size_t e = s.find_first_of("/?#");
    p.authority = s.substr(0, e);
    p.has_authority = true;
    s = e == std::string_view::npos ? std::string_view() : s.substr(e);
  }
  size_t h = s.find('#');
  if (h != std::string_view::npos) {
    p.fragment = s.substr(h + 1);
    p.has_fragment = true;
    s = s.substr(0, h);
  }
  size_t q = s.find('?');
  if (q != std::string_view::npos) {
    p.query = s.substr(q + 1);
    p.has_query = true;
    s = s.substr(0, q);
  }
  p.path = s;
  return p;
}

std::string RemoveDotSegments(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  while (!in.empty()) {
    if (in.substr(0, 3) == "../") {
      in.remove_prefix(3);
    } else if (in.substr(0, 2) == "./") {
      in.remove_prefix(2);
    } else if (in.substr(0, 3) == "/./") {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.substr(0, 4) == "/../" || in == "/..") {
      in = in.size() == 3 ? std::string_view("/") : in.substr(3);
      size_t slash = out.rfind('/');
      out.resize(slash == std::string::npos ? 0 : slash);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      size_t start = in[0] == '/' ? 1 : 0;
      size_t next = in.find('/', start);
      if (next == std::string_view::npos) next = in.size();
      out.append(in.substr(0, next));
      in.remove_prefix(next);
    }
  }
  return out;
}

}  // namespace

bool HasScheme(std::string_view url) {
  if (url.empty()) return false;
  char c0 = url[0];
  if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z'))) return false;
  for (size_t i = 1; i < url.size() && i < 32; ++i) {
    char c = url[i];
    if (c == ':') return true;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')) {
      return false;
    }
  }
  return false;
}

std::string ResolveUrl(std::string_view base, std::string_view ref) {
  if (HasScheme(ref)) return std::string(ref);
  if (base.empty()) return std::string(ref);
  Parts b = Split(base);
  Parts r = Split(ref);
  std::string out;
  out.reserve(base.size() + ref.size());
  auto emit_scheme = [&] {
    if (!b.scheme.empty()) {
      out.append(b.scheme);
      out.push_back(':');
    }
  };
  emit_scheme();
  std::string path;
  std::string_view query;
  bool has_query = false;
  if (r.has_authority) {
    out.append("//");
    out.append(r.authority);
    path = RemoveDotSegments(r.path);
    query = r.query;
    has_query = r.has_query;
  } else {
    if (b.has_authority) {
      out.append("//");
      out.append(b.authority);
    }
    if (r.path.empty()) {
      path = std::string(b.path);
      if (r.has_query) {
        query = r.query;
        has_query = true;
      } else {
        query = b.query;
        has_query = b.has_query;
      }
    } else {
      if (r.path[0] == '/') {
        path = RemoveDotSegments(r.path);
      } else {
        std::string merged;
        if (b.has_authority && b.path.empty()) {
          merged = "/";
        } else {
          size_t slash = b.path.rfind('/');
          if (slash != std::string_view::npos) {
            merged = std::string(b.path.substr(0, slash + 1));
          }
        }
        merged.append(r.path);
        path = RemoveDotSegments(merged);
      }
      query = r.query;
      has_query = r.has_query;
    }
  }
  out.append(path);
  if (has_query) {
    out.push_back('?');
    out.append(query);
  }
  if (r.has_fragment) {
    out.push_back('#');
    out.append(r.fragment);
  }
  return out;
}

void LowerSchemeAndHost(std::string* url) {
  const size_t sep = url->find("://");
  if (sep == std::string::npos || sep == 0) return;
  size_t end = url->find_first_of("/?#", sep + 3);
  if (end == std::string::npos) end = url->size();
  for (size_t i = 0; i < sep; ++i) {
    const char c = (*url)[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' &&
        c != '.') {
      return;  // not a scheme
    }
  }
  if (url->find('@', sep + 3) < end) return;
  for (size_t i = 0; i < end; ++i) {
    char& c = (*url)[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

}  // namespace newsflow::feed_internal
