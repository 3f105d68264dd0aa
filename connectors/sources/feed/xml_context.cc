#include "connectors/sources/feed/xml_context.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "daemon/core/text_util.h"
#include "daemon/core/url.h"

namespace newsflow::feed_internal {
namespace {

Ns NsFromPrefix(std::string_view p) {
  if (p == "dc") return Ns::kDc;
  if (p == "dcterms") return Ns::kDcTerms;
  if (p == "content") return Ns::kContent;
  if (p == "media") return Ns::kMedia;
  if (p == "itunes") return Ns::kItunes;
  if (p == "feedburner") return Ns::kFeedburner;
  if (p == "atom" || p == "atom10") return Ns::kAtom10;
  if (p == "rdf") return Ns::kRdf;
  if (p == "xhtml") return Ns::kXhtml;
  if (p == "sy") return Ns::kSyndication;
  return Ns::kOther;
}

struct StringWriter : pugi::xml_writer {
  std::string* out;
  void write(const void* data, size_t size) override {
    out->append(static_cast<const char*>(data), size);
  }
};

}  // namespace

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= ' ') {
    s.remove_prefix(1);
  }
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ') {
    s.remove_suffix(1);
  }
  return s;
}

std::string Trim(std::string_view s) { return std::string(TrimView(s)); }

Ns NsFromUri(std::string_view uri) {
  uri = TrimView(uri);
  while (!uri.empty() && (uri.back() == '/' || uri.back() == '#')) {
    uri.remove_suffix(1);
  }
  struct Known {
    const char* uri;
    Ns ns;
  };
  static const Known kKnown[] = {
      {"http://www.w3.org/2005/Atom", Ns::kAtom10},
      {"http://purl.org/atom/ns", Ns::kAtom03},
      {"http://purl.org/dc/elements/1.1", Ns::kDc},
      {"http://purl.org/dc/terms", Ns::kDcTerms},
      {"http://purl.org/rss/1.0/modules/content", Ns::kContent},
      {"http://search.yahoo.com/mrss", Ns::kMedia},
      {"http://www.itunes.com/dtds/podcast-1.0.dtd", Ns::kItunes},
      {"http://www.itunes.com/dtds/podcast-1.0.dtd", Ns::kItunes},
      {"http://rssnamespace.org/feedburner/ext/1.0", Ns::kFeedburner},
      {"http://www.w3.org/1999/02/22-rdf-syntax-ns", Ns::kRdf},
      {"http://www.w3.org/1999/xhtml", Ns::kXhtml},
      {"http://purl.org/rss/1.0", Ns::kRss1},
      {"http://my.netscape.com/rdf/simple/0.9", Ns::kRss090},
      {"http://channel.netscape.com/rdf/simple/0.9", Ns::kRss090},
      {"http://purl.org/rss/1.0/modules/syndication", Ns::kSyndication},
      {"http://backend.userland.com/rss2", Ns::kCore},
      {"http://backend.userland.com/rss", Ns::kCore},
      {"http://blogs.law.harvard.edu/tech/rss", Ns::kCore},
      {"https://cyber.harvard.edu/rss/rss.html", Ns::kCore},
      {"http://purl.org/net/rss1.1", Ns::kRss1},
  };
  for (const Known& k : kKnown) {
    if (EqualsIgnoreCaseAscii(uri, k.uri)) return k.ns;
  }
  // "https://" variants of the well-known namespaces.
  if (uri.substr(0, 8) == "https://") {
    std::string http = "http://" + std::string(uri.substr(8));
    for (const Known& k : kKnown) {
      if (EqualsIgnoreCaseAscii(http, k.uri)) return k.ns;
    }
  }
  return Ns::kOther;
}

XmlContext::XmlContext(const FeedParseOptions& options, pugi::xml_node root)
    : options_(options) {
  // Declarations are nearly always on the root or channel; walking the tree
  // once is still cheap next to parsing and catches the rest.
  pugi::xml_node node = root;
  while (node) {
    for (pugi::xml_attribute a : node.attributes()) {
      const char* name = a.name();
      if (std::strcmp(name, "xml:base") == 0) has_xml_base_ = true;
      if (node != root && std::strcmp(name, "xmlns") == 0) {
        inner_default_ns_ = true;
      }
      if (std::strncmp(name, "xmlns:", 6) == 0) {
        std::string_view prefix(name + 6);
        bool seen = false;
        for (auto& p : prefixes_) seen = seen || p.first == prefix;
        if (!seen) prefixes_.emplace_back(prefix, NsFromUri(a.value()));
      }
    }
    pugi::xml_node child = node.first_child();
    while (child && child.type() != pugi::node_element) {
      child = child.next_sibling();
    }
    if (child) {
      node = child;
      continue;
    }
    while (node && node != root) {
      pugi::xml_node sib = node.next_sibling();
      while (sib && sib.type() != pugi::node_element) sib = sib.next_sibling();
      if (sib) {
        node = sib;
        break;
      }
      node = node.parent();
    }
    if (node == root) break;
  }
  root_default_ns_ = DefaultNsAt(root);
}

// The namespace an unprefixed element inherits: the nearest xmlns="" above
// (unknown and RSS namespaces count as the dialect's own).
Ns XmlContext::DefaultNsAt(pugi::xml_node node) {
  for (pugi::xml_node n = node; n; n = n.parent()) {
    if (n.type() != pugi::node_element) break;
    if (!n.first_attribute()) continue;
    pugi::xml_attribute a = n.attribute("xmlns");
    if (a) {
      Ns ns = NsFromUri(a.value());
      return ns == Ns::kOther || ns == Ns::kRss1 || ns == Ns::kRss090
                 ? Ns::kCore
                 : ns;
    }
  }
  return Ns::kCore;
}

std::string_view XmlContext::Local(pugi::xml_node node) {
  std::string_view name(node.name());
  size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

Ns XmlContext::NsOf(pugi::xml_node node) const {
  std::string_view name(node.name());
  size_t colon = name.find(':');
  if (colon != std::string_view::npos) {
    std::string_view prefix = name.substr(0, colon);
    if (prefix == "xml") return Ns::kOther;
    for (const auto& p : prefixes_) {
      if (p.first == prefix) {
        return p.second == Ns::kOther ? NsFromPrefix(prefix) : p.second;
      }
    }
    return NsFromPrefix(prefix);
  }
  // Called for every element: without inner default declarations (nearly
  // all feeds) the answer is the root's.
  return inner_default_ns_ ? DefaultNsAt(node) : root_default_ns_;
}

std::string XmlContext::Text(pugi::xml_node node) {
  pugi::xml_node first = node.first_child();
  if (!first) return {};
  if (!first.next_sibling() &&
      (first.type() == pugi::node_pcdata || first.type() == pugi::node_cdata)) {
    return Trim(first.value());
  }
  std::string out;
  for (pugi::xml_node c = first; c; c = c.next_sibling()) {
    switch (c.type()) {
      case pugi::node_pcdata:
      case pugi::node_cdata:
        out.append(c.value());
        break;
      case pugi::node_element: {
        StringWriter w;
        w.out = &out;
        c.print(w, "", pugi::format_raw | pugi::format_no_declaration);
        break;
      }
      default:
        break;
    }
  }
  // Trim in place: `out` may be a whole article.
  size_t end = out.size();
  while (end > 0 && static_cast<unsigned char>(out[end - 1]) <= ' ') --end;
  out.resize(end);
  size_t begin = 0;
  while (begin < end && static_cast<unsigned char>(out[begin]) <= ' ') ++begin;
  out.erase(0, begin);
  return out;
}

namespace {

constexpr std::string_view kSvgUri = "http://www.w3.org/2000/svg";
constexpr std::string_view kMathMlUri = "http://www.w3.org/1998/Math/MathML";
constexpr std::string_view kXlinkUri = "http://www.w3.org/1999/xlink";

// The namespace URI `prefix` ("" = default) has at `node`, from the xmlns
// declarations on it and its ancestors; "" when undeclared.
std::string_view NamespaceAt(pugi::xml_node node, std::string_view prefix) {
  const std::string attr =
      prefix.empty() ? std::string("xmlns") : "xmlns:" + std::string(prefix);
  for (pugi::xml_node n = node; n && n.type() == pugi::node_element;
       n = n.parent()) {
    if (pugi::xml_attribute a = n.attribute(attr.c_str())) return a.value();
  }
  return {};
}

// SVG or MathML URI when `element` is in one of them, else "".
std::string_view ForeignNamespace(pugi::xml_node element) {
  const std::string_view name = element.name();
  const size_t colon = name.find(':');
  // Cheap filter first: XHTML content is mostly unprefixed p/a/img.
  if (colon == std::string_view::npos && name != "svg" && name != "math") {
    return {};
  }
  const std::string_view uri = NamespaceAt(
      element, colon == std::string_view::npos ? std::string_view()
                                               : name.substr(0, colon));
  if (uri == kSvgUri) return kSvgUri;
  if (uri == kMathMlUri) return kMathMlUri;
  return {};
}

// Writes the inline SVG/MathML subtree at `root` (namespace `uri`) the way
// HTML embeds it (HTML has no namespace prefixes: "<svg:svg>" is an unknown
// HTML element there): element names of that namespace without prefix, the
// namespace declared once on `root`, xmlns:xlink on each element using an
// xlink attribute, attributes in name order and explicit end tags. This is
// also feedparser's serialization of such content.
void RewriteForeign(pugi::xml_node root, std::string_view uri) {
  for (pugi::xml_node n = root; n;) {
    if (n.type() == pugi::node_element) {
      const std::string_view name = n.name();
      const size_t colon = name.find(':');
      if (colon != std::string_view::npos &&
          NamespaceAt(n, name.substr(0, colon)) == uri) {
        n.set_name(std::string(name.substr(colon + 1)).c_str());
      }
      std::vector<std::pair<std::string, std::string>> attrs;
      bool uses_xlink = false;
      for (pugi::xml_attribute a : n.attributes()) {
        const std::string_view an = a.name();
        const std::string_view av = a.value();
        // Declarations of the foreign namespace itself are replaced by the
        // one on `root`.
        if ((an == "xmlns" || an.starts_with("xmlns:")) && av == uri) continue;
        if (an == "xmlns:xlink") continue;  // re-added below where used
        uses_xlink = uses_xlink || an.starts_with("xlink:");
        attrs.emplace_back(an, av);
      }
      if (n == root) attrs.emplace_back("xmlns", uri);
      if (uses_xlink) attrs.emplace_back("xmlns:xlink", kXlinkUri);
      std::sort(attrs.begin(), attrs.end());
      while (n.first_attribute()) n.remove_attribute(n.first_attribute());
      for (const auto& [an, av] : attrs) {
        n.append_attribute(an.c_str()).set_value(av.c_str());
      }
      if (!n.first_child()) n.append_child(pugi::node_pcdata);
    }
    if (n.first_child()) {
      n = n.first_child();
      continue;
    }
    while (n != root && !n.next_sibling()) n = n.parent();
    if (n == root) break;
    n = n.next_sibling();
  }
}

}  // namespace

std::string XmlContext::InnerXml(pugi::xml_node node) {
  // The XHTML default namespace is implied in feed content; drop its
  // declarations so the markup reads as plain HTML. Inline SVG/MathML is
  // rewritten as HTML embeds it (RewriteForeign).
  for (pugi::xml_node n = node.first_child(); n && n != node;) {
    if (n.type() == pugi::node_element) {
      if (const std::string_view foreign = ForeignNamespace(n);
          !foreign.empty()) {
        RewriteForeign(n, foreign);
        // Its subtree is done: continue after it.
        while (n != node && !n.next_sibling()) n = n.parent();
        if (n != node) n = n.next_sibling();
        continue;
      }
      pugi::xml_attribute a = n.attribute("xmlns");
      if (a && NsFromUri(a.value()) == Ns::kXhtml) n.remove_attribute(a);
    }
    if (n.first_child()) {
      n = n.first_child();
      continue;
    }
    while (n != node && !n.next_sibling()) n = n.parent();
    if (n != node) n = n.next_sibling();
  }
  std::string out;
  StringWriter w;
  w.out = &out;
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
      // Re-escape: inner XML is markup.
      pugi::xml_document tmp;
      tmp.append_child(pugi::node_pcdata).set_value(c.value());
      tmp.first_child().print(w, "", pugi::format_raw);
    } else {
      c.print(w, "", pugi::format_raw | pugi::format_no_declaration);
    }
  }
  return Trim(out);
}

std::string XmlContext::Attr(pugi::xml_node node, const char* name) {
  return Trim(node.attribute(name).value());
}

std::string XmlContext::ResolveAt(pugi::xml_node node,
                                  std::string_view url) const {
  url = TrimView(url);
  if (url.empty() || HasScheme(url)) return UrlWithoutControls(url);
  return ResolveUrl(BaseAt(node), url, ResolveStyle::kPreserve);
}

std::string XmlContext::BaseAt(pugi::xml_node node) const {
  if (!has_xml_base_) return options_.document_url;
  // Collect xml:base from the root down to `node`.
  std::vector<const char*> bases;
  for (pugi::xml_node n = node; n && n.type() == pugi::node_element;
       n = n.parent()) {
    if (!n.first_attribute()) continue;
    pugi::xml_attribute a = n.attribute("xml:base");
    if (a) bases.push_back(a.value());
  }
  std::string base = options_.document_url;
  for (auto it = bases.rbegin(); it != bases.rend(); ++it) {
    base = ApplyBase(base, *it);
  }
  return base;
}

std::string ApplyBase(const std::string& base, std::string_view ref) {
  std::string moved = ResolveUrl(base, TrimView(ref), ResolveStyle::kPreserve);
  if (!HasScheme(moved)) return moved;  // no document URL: joined as text
  // An absolute base is what a browser would make of it (a backslash is a
  // slash in http(s), controls are dropped), so links resolved against it
  // name the host a browser would load.
  auto url = Url::Parse(moved);
  if (!url || !url->IsHttp()) return base;
  return url->href();
}

namespace {

bool IsUrlAttribute(std::string_view name) {
  static const char* const kNames[] = {"href",   "src",        "cite",
                                       "poster", "background", "longdesc",
                                       "action", "usemap",     "xlink:href"};
  for (const char* n : kNames) {
    if (name.size() == std::strlen(n)) {
      bool eq = true;
      for (size_t i = 0; i < name.size() && eq; ++i) {
        char c = name[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        eq = c == n[i];
      }
      if (eq) return true;
    }
  }
  return false;
}

// Cheap pre-check for ResolveHtml, a superset of what it rewrites: is there
// an '=' right after a URL attribute name (any case, as a suffix) whose value
// is non-empty and has no scheme? memchr jumps from '=' to '=', so HTML with
// absolute URLs only (most feeds) is not walked tag by tag.
bool MayHaveRelativeUrl(std::string_view html) {
  static constexpr std::string_view kNames[] = {
      "href",   "src",    "cite",     "poster",
      "action", "usemap", "longdesc", "background"};
  auto lower = [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  };
  size_t eq = 0;
  while ((eq = html.find('=', eq)) != std::string_view::npos) {
    const size_t pos = eq++;
    if (pos < 3) continue;
    // Most '=' follow class, alt, style, width...: reject on the last two
    // letters before comparing names.
    const char b1 = lower(html[pos - 1]);
    const char b2 = lower(html[pos - 2]);
    if (!((b2 == 'e' && b1 == 'f') || (b2 == 'r' && b1 == 'c') ||
          (b2 == 't' && b1 == 'e') || (b2 == 'e' && b1 == 'r') ||
          (b2 == 'o' && b1 == 'n') || (b2 == 'a' && b1 == 'p') ||
          (b2 == 's' && b1 == 'c') || (b2 == 'n' && b1 == 'd'))) {
      continue;
    }
    bool url_attribute = false;
    for (std::string_view name : kNames) {
      const size_t len = name.size();
      if (pos < len) continue;
      bool match = true;
      for (size_t k = 0; k < len && match; ++k) {
        match = lower(html[pos - len + k]) == name[k];
      }
      if (match) {
        url_attribute = true;
        break;
      }
    }
    if (!url_attribute) continue;
    size_t v = pos + 1;
    char quote = 0;
    if (v < html.size() && (html[v] == '"' || html[v] == '\'')) {
      quote = html[v++];
    }
    while (v < html.size() && (html[v] == ' ' || html[v] == '\t' ||
                               html[v] == '\n' || html[v] == '\r')) {
      ++v;
    }
    size_t e = v;
    while (e < html.size() && html[e] != '"' && html[e] != '\'' &&
           html[e] != ' ' && html[e] != '>' && html[e] != '\t' &&
           html[e] != '\n' && html[e] != '\r') {
      ++e;
    }
    const std::string_view value = html.substr(v, e - v);
    if (!value.empty() && !HasScheme(value)) return true;
    // href="'x'": the other quote starts the value; let the full scan see.
    if (value.empty() && e < html.size() &&
        (html[e] == '"' || html[e] == '\'') && html[e] != quote) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string XmlContext::ResolveHtml(pugi::xml_node node,
                                    std::string html) const {
  if (options_.document_url.empty() && !has_xml_base_) return html;
  if (!MayHaveRelativeUrl(html)) return html;
  // Scan without writing and splice only the relative values.
  std::string base;
  bool have_base = false;
  std::string out;
  size_t copied = 0;  // html[0, copied) is in `out` (once anything changed)
  size_t i = 0;
  const size_t n = html.size();
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  };
  while (i < n) {
    size_t lt = html.find('<', i);
    if (lt == std::string::npos) break;
    i = lt + 1;
    if (i < n && (html[i] == '/' || html[i] == '!' || html[i] == '?')) {
      continue;
    }
    // Inside a start tag: skip the name, then walk the attributes.
    while (i < n && html[i] != '>' && !is_space(html[i]) && html[i] != '/') {
      ++i;
    }
    while (i < n && html[i] != '>' && html[i] != '<') {
      char c = html[i];
      if (is_space(c) || c == '/') {
        ++i;
        continue;
      }
      size_t name_start = i;
      while (i < n && html[i] != '=' && html[i] != '>' && html[i] != ' ' &&
             html[i] != '\t' && html[i] != '\n' && html[i] != '/') {
        ++i;
      }
      std::string_view name(html.data() + name_start, i - name_start);
      if (i >= n || html[i] != '=') continue;
      ++i;
      char quote = 0;
      if (i < n && (html[i] == '"' || html[i] == '\'')) quote = html[i++];
      size_t v = i;
      while (i < n &&
             (quote ? html[i] != quote : (html[i] != ' ' && html[i] != '>'))) {
        ++i;
      }
      std::string_view value(html.data() + v, i - v);
      std::string_view trimmed = TrimView(value);
      if (IsUrlAttribute(name) && !trimmed.empty() && !HasScheme(trimmed)) {
        if (!have_base) {
          base = BaseAt(node);
          have_base = true;
        }
        if (!HasScheme(base)) return html;
        if (copied == 0) out.reserve(n + 64);
        out.append(html, copied, v - copied);
        if (!quote) out.push_back('"');
        out.append(ResolveUrl(base, trimmed));
        if (!quote) out.push_back('"');
        copied = i;
      }
      if (quote && i < n) ++i;
    }
  }
  if (copied == 0) return html;
  out.append(html, copied, n - copied);
  return out;
}

Person ParsePerson(std::string_view text) {
  Person p;
  std::string_view t = TrimView(text);
  size_t open = t.find('(');
  size_t close = t.rfind(')');
  if (open != std::string_view::npos && close != std::string_view::npos &&
      close > open && t.substr(0, open).find('@') != std::string_view::npos) {
    p.email = Trim(t.substr(0, open));
    p.name = Trim(t.substr(open + 1, close - open - 1));
    return p;
  }
  // "Name (a@b.c)"
  if (open != std::string_view::npos && close != std::string_view::npos &&
      close > open &&
      t.substr(open, close - open).find('@') != std::string_view::npos) {
    p.name = Trim(t.substr(0, open));
    p.email = Trim(t.substr(open + 1, close - open - 1));
    if (!p.name.empty()) return p;
    p = Person();
  }
  size_t lt = t.find('<');
  size_t gt = t.rfind('>');
  if (lt != std::string_view::npos && gt != std::string_view::npos && gt > lt &&
      t.substr(lt, gt - lt).find('@') != std::string_view::npos) {
    p.name = Trim(t.substr(0, lt));
    p.email = Trim(t.substr(lt + 1, gt - lt - 1));
    return p;
  }
  if (t.find('@') != std::string_view::npos &&
      t.find(' ') == std::string_view::npos) {
    p.email = std::string(t);
    if (p.email.rfind("mailto:", 0) == 0) p.email.erase(0, 7);
    return p;
  }
  p.name = std::string(t);
  return p;
}

std::string DecodeBase64(std::string_view in) {
  static const auto kTable = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    const char* a =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(a[i])] = i;
    return t;
  }();
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    if (c == '=' || c <= ' ') continue;
    int v = kTable[c];
    if (v < 0) return {};
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

}  // namespace newsflow::feed_internal
