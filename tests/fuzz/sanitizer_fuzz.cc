// libFuzzer target: the allow-list serializer (cleaner::Sanitizer) on any
// libxml2 HTML tree, with every attribute kept by the parser (so the
// sanitizer alone must drop event handlers). Beyond "no crash": the output
// is the sanitizer's own serialization ('<' and '>' always escaped in text
// and attribute values), so every tag in it can be checked; a dropped
// element, an on* attribute, a javascript:/vbscript:/data: URL or an iframe
// from anywhere but the sanitizer's video hosts aborts (printing the tag).

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "daemon/cleaner/dom.h"
#include "daemon/cleaner/sanitizer.h"

namespace {

// Elements the sanitizer must never emit (a subset of its kDropped).
constexpr std::string_view kForbidden[] = {
    "script", "style", "iframe", "object",   "embed",   "applet",
    "frame",  "form",  "input",  "base",     "meta",    "link",
    "svg",    "math",  "button", "textarea", "template"};

// Reports which emitted tag broke which rule, then aborts (a libFuzzer crash).
[[noreturn]] void Fail(const char* rule, std::string_view tag) {
  std::fprintf(stderr, "sanitizer_fuzz: %s in <%.*s>\n", rule,
               static_cast<int>(tag.size()), tag.data());
  std::abort();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool UnsafeUrl(std::string_view value) {
  std::string v;
  for (char c : value) {
    if (static_cast<unsigned char>(c) > ' ') v.push_back(c);
  }
  v = Lower(v);
  return v.rfind("javascript:", 0) == 0 || v.rfind("vbscript:", 0) == 0 ||
         v.rfind("data:", 0) == 0;
}

// The host of an absolute http(s) URL, lower-cased, without a final dot,
// or "".
std::string Host(std::string_view url) {
  std::string u = Lower(url);
  size_t p = u.find("://");
  if (p == std::string::npos) return "";
  std::string scheme = u.substr(0, p);
  if (scheme != "http" && scheme != "https") return "";
  u = u.substr(p + 3);
  std::string host = u.substr(0, u.find_first_of("/?#:"));
  // "www.youtube.com." is the same host (a fully qualified name; the URL
  // model treats it so).
  if (!host.empty() && host.back() == '.') host.pop_back();
  return host;
}

// The sanitizer keeps <iframe> for these video hosts only.
bool IsVideoHost(const std::string& host) {
  for (std::string_view h : {"youtube.com", "youtube-nocookie.com",
                             "player.vimeo.com", "dailymotion.com", "dai.ly"}) {
    if (host == h) return true;
    if (host.size() > h.size() && host.ends_with(h) &&
        host[host.size() - h.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)); }

// An attribute value as a browser reads it: the sanitizer escapes '&', '<',
// '>', '"' and '\'' in attribute values and nothing else, so decoding these
// five gives back the value exactly (a '#' of "&#39;" is not the URL's
// fragment).
std::string DecodeAttr(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    bool decoded = false;
    for (auto [entity, c] : {std::pair<std::string_view, char>{"&amp;", '&'},
                             {"&lt;", '<'},
                             {"&gt;", '>'},
                             {"&quot;", '"'},
                             {"&#39;", '\''}}) {
      if (v.substr(i, entity.size()) == entity) {
        out.push_back(c);
        i += entity.size() - 1;
        decoded = true;
        break;
      }
    }
    if (!decoded) out.push_back(v[i]);
  }
  return out;
}

void CheckTag(std::string_view tag) {
  size_t i = 0;
  if (i < tag.size() && tag[i] == '/') ++i;
  size_t name_end = i;
  while (name_end < tag.size() && !IsSpace(tag[name_end]) &&
         tag[name_end] != '/') {
    ++name_end;
  }
  const std::string name = Lower(tag.substr(i, name_end - i));
  const bool closing = i > 0;
  for (std::string_view f : kForbidden) {
    if (name == f && name != "iframe") Fail("dropped element emitted", tag);
  }
  // Attributes: name="value" (quoted, '"' escaped) or a bare name.
  std::string src;
  size_t pos = name_end;
  while (pos < tag.size()) {
    while (pos < tag.size() && (IsSpace(tag[pos]) || tag[pos] == '/')) ++pos;
    if (pos >= tag.size()) break;
    size_t attr_end = pos;
    while (attr_end < tag.size() && !IsSpace(tag[attr_end]) &&
           tag[attr_end] != '=') {
      ++attr_end;
    }
    const std::string attr = Lower(tag.substr(pos, attr_end - pos));
    if (attr.rfind("on", 0) == 0) Fail("event handler attribute", tag);
    if (attr_end >= tag.size() || tag[attr_end] != '=') {
      pos = attr_end;
      continue;
    }
    if (attr_end + 1 >= tag.size() || tag[attr_end + 1] != '"') {
      Fail("unquoted attribute", tag);
    }
    size_t close = tag.find('"', attr_end + 2);
    if (close == std::string_view::npos) Fail("unterminated attribute", tag);
    const std::string value =
        DecodeAttr(tag.substr(attr_end + 2, close - attr_end - 2));
    if ((attr == "href" || attr == "src" || attr == "cite" ||
         attr == "poster") &&
        UnsafeUrl(value)) {
      Fail("script or data URL", tag);
    }
    if (attr == "src") src = value;
    pos = close + 1;
  }
  if (name == "iframe" && !closing && !IsVideoHost(Host(src))) {
    Fail("iframe not from a video host", tag);
  }
}

void CheckSanitized(const std::string& html) {
  for (size_t lt = html.find('<'); lt != std::string::npos;
       lt = html.find('<', lt + 1)) {
    size_t gt = html.find('>', lt);
    if (gt == std::string::npos) {  // '<' in text must be escaped
      Fail("unterminated tag", std::string_view(html).substr(lt));
    }
    CheckTag(std::string_view(html).substr(lt + 1, gt - lt - 1));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view html(reinterpret_cast<const char*>(data), size);
  newsflow::cleaner::DocPtr doc =
      newsflow::cleaner::ParseHtml(html, /*all_attributes=*/true);
  if (!doc) return 0;
  newsflow::cleaner::Sanitizer sanitizer("https://fuzz.example/a/b.html");
  sanitizer.Render(newsflow::cleaner::FindBody(doc.get()));
  newsflow::CleanedContent out = sanitizer.Finish();
  CheckSanitized(out.html);
  return 0;
}
