#include "daemon/cleaner/sanitizer.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "daemon/cleaner/dom.h"
#include "daemon/core/url.h"

namespace newsflow::cleaner {
namespace {

template <size_t N>
bool In(std::string_view s, const std::array<std::string_view, N>& list) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

constexpr std::array<std::string_view, 37> kDropped = {
    "script", "style",  "noscript", "template", "svg",      "math",
    "keygen", "input",  "button",   "select",   "textarea", "option",
    "object", "embed",  "applet",   "frame",    "frameset", "head",
    "title",  "meta",   "link",     "base",     "canvas",   "audio",
    "video",  "source", "track",    "map",      "area",     "dialog",
    "param",  "iframe", "label",    "fieldset", "datalist", "output",
    "portal"};

// Kept as is (with their allowed attributes).
constexpr std::array<std::string_view, 52> kKept = {
    "p",          "br",     "hr",      "h1",         "h2",      "h3",
    "h4",         "h5",     "h6",      "blockquote", "pre",     "code",
    "em",         "strong", "b",       "i",          "u",       "s",
    "sub",        "sup",    "small",   "mark",       "q",       "cite",
    "abbr",       "dfn",    "time",    "ul",         "ol",      "li",
    "dl",         "dt",     "dd",      "a",          "img",     "figure",
    "figcaption", "table",  "thead",   "tbody",      "tfoot",   "tr",
    "th",         "td",     "caption", "div",        "section", "article",
    "del",        "ins",    "kbd",     "var"};

constexpr std::array<std::string_view, 41> kBlocks = {
    "p",      "div",   "section",  "article",    "main",       "header",
    "footer", "aside", "nav",      "h1",         "h2",         "h3",
    "h4",     "h5",    "h6",       "blockquote", "pre",        "ul",
    "ol",     "dl",    "table",    "figure",     "figcaption", "address",
    "hr",     "form",  "fieldset", "details",    "summary",    "center",
    "tr",     "li",    "dt",       "dd",         "br",         "caption",
    "body",   "html",  "thead",    "tbody",      "tfoot"};

// Stands in for the page when a reference arrives without a usable base:
// what resolves to this host had neither a scheme nor a host of its own.
constexpr std::string_view kPlaceholderBase = "https://newsflow.invalid/";
constexpr std::string_view kPlaceholderHost = "newsflow.invalid";

// Parses `ref` against `base`, or against the placeholder when `base` is
// not an absolute http(s) URL.
Result<Url> ParseReference(std::string_view base, std::string_view ref) {
  Result<Url> b = Url::Parse(base, nullptr);
  if (!b || !b->IsHttp()) b = Url::Parse(kPlaceholderBase, nullptr);
  return Url::Parse(ref, &*b);
}

// Sandbox for the allow-listed video players: scripts and their own origin
// (the players need both), fullscreen and popups to the video site; no
// top-level navigation, forms or downloads.
constexpr std::string_view kIframeSandbox =
    "allow-scripts allow-same-origin allow-presentation allow-popups";

bool AllDigits(std::string_view s) {
  if (s.empty() || s.size() > 6) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

int SizeValue(std::string_view s) {
  // "1", "1px", "0".
  int v = 0;
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  size_t start = i;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) &&
         i - start < 6)
    v = v * 10 + (s[i++] - '0');
  return i == start ? -1 : v;
}

}  // namespace

bool IsBlockElement(std::string_view name) { return In(name, kBlocks); }

std::string SafeUrl(std::string_view base, std::string_view ref,
                    bool allow_mailto) {
  Result<Url> u = ParseReference(base, ref);
  if (!u) return {};
  if (u->scheme() == "mailto") return allow_mailto ? u->href() : std::string();
  if (!u->IsHttp()) return {};
  if (u->HostKey() == kPlaceholderHost) {
    // Relative with no page to resolve against: keep it relative, as the
    // browser showing the article will resolve it.
    std::string kept;
    for (char c : ref) {
      if (c != '\t' && c != '\n' && c != '\r') kept.push_back(c);
    }
    auto is_space = [](char c) {
      return static_cast<unsigned char>(c) <= 0x20;
    };
    while (!kept.empty() && is_space(kept.back())) kept.pop_back();
    const auto first = std::find_if_not(kept.begin(), kept.end(), is_space);
    kept.erase(kept.begin(), first);
    if (kept.size() >= 2 && (kept[0] == '/' || kept[0] == '\\') &&
        (kept[1] == '/' || kept[1] == '\\')) {
      return {};  // "//newsflow.invalid/...": the placeholder itself
    }
    return HasScheme(kept) ? std::string() : kept;
  }
  return u->WithoutTrackingParameters().href();
}

bool IsAllowedIframeSource(std::string_view base, std::string_view src) {
  static constexpr std::array<std::string_view, 5> kHosts = {
      "youtube.com", "youtube-nocookie.com", "player.vimeo.com",
      "dailymotion.com", "dai.ly"};
  Result<Url> u = ParseReference(base, src);
  if (!u || !u->IsHttp()) return false;
  return std::any_of(kHosts.begin(), kHosts.end(),
                     [&](std::string_view h) { return u->HostIsWithin(h); });
}

std::string_view ImageSource(const xmlNode* img) {
  std::string_view src = Attr(img, "src");
  Result<Url> parsed = Url::Parse(src);
  bool placeholder = src.empty() || (parsed && parsed->scheme() == "data") ||
                     ContainsLower(src, "blank.gif") ||
                     ContainsLower(src, "placeholder") ||
                     ContainsLower(src, "spacer.gif");
  if (placeholder) {
    for (std::string_view a :
         {"data-src", "data-lazy-src", "data-original", "data-url"}) {
      std::string_view v = Attr(img, a);
      if (!v.empty()) return v;
    }
  }
  return src;
}

bool IsTrackingPixel(const xmlNode* img) {
  int w = SizeValue(Attr(img, "width"));
  int h = SizeValue(Attr(img, "height"));
  if (w >= 0 && h >= 0 && w <= 1 && h <= 1) return true;
  if ((w == 1 && h < 0) || (h == 1 && w < 0)) return true;
  std::string_view src = Attr(img, "src");
  static constexpr std::array<std::string_view, 12> kTrackers = {
      "/~r/",
      "/~ff/",
      "feedsportal.com",
      "feeds.feedburner.com/~",
      "pixel.wp.com",
      "stats.wordpress.com",
      "doubleclick.net",
      "pheedo.com",
      "feedblitz.com/_",
      "/tracking/pixel",
      "pixel.gif",
      "/1x1."};
  for (std::string_view t : kTrackers)
    if (ContainsLower(src, t)) return true;
  return false;
}

bool IsDroppedElement(const xmlNode* e) {
  std::string_view name = Name(e);
  if (name == "iframe") return !IsAllowedIframeSource("", Attr(e, "src"));
  return In(name, kDropped);
}

void TextBuilder::Flush() {
  if (!out_.empty()) {
    if (pending_break_ == 2)
      out_.append("\n\n");
    else if (pending_break_ == 1)
      out_.push_back('\n');
    else if (pending_space_)
      out_.push_back(' ');
  }
  pending_break_ = 0;
  pending_space_ = false;
}

void TextBuilder::AddPreformatted(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n') continue;
      c = '\n';
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\f') {
      // Held back until more text follows: trailing whitespace of a <pre>
      // gives way to the block break after it.
      pre_space_.push_back(c == '\f' ? ' ' : c);
      continue;
    }
    if (!pre_space_.empty() || pending_break_ || pending_space_) {
      if (pending_break_ || pending_space_) {
        Flush();
        // After a block break only the indentation of the first line stays.
        size_t nl = pre_space_.rfind('\n');
        if (nl != std::string::npos) pre_space_.erase(0, nl + 1);
      }
      if (out_.empty()) {
        size_t nl = pre_space_.rfind('\n');
        if (nl != std::string::npos) pre_space_.erase(0, nl + 1);
      }
      out_.append(pre_space_);
      pre_space_.clear();
    }
    out_.push_back(c);
  }
}

void TextBuilder::AddText(std::string_view text, bool preformatted) {
  if (preformatted) {
    AddPreformatted(text);
    return;
  }
  pre_space_.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
    // U+00A0 NO-BREAK SPACE collapses like a space.
    if (c == 0xC2 && i + 1 < text.size() &&
        static_cast<unsigned char>(text[i + 1]) == 0xA0) {
      ++i;
      space = true;
    }
    if (space) {
      pending_space_ = true;
      continue;
    }
    Flush();
    // The run of characters up to the next space (or U+00A0) in one append.
    size_t end = i + 1;
    while (end < text.size()) {
      const unsigned char d = static_cast<unsigned char>(text[end]);
      if (d == ' ' || d == '\t' || d == '\n' || d == '\r' || d == '\f' ||
          d == 0xC2)
        break;
      ++end;
    }
    out_.append(text.data() + i, end - i);
    i = end - 1;
  }
}

void Sanitizer::Render(const xmlNode* node) { RenderNode(node, 0); }

void Sanitizer::RenderChildren(const xmlNode* node) {
  for (const xmlNode* c = node ? node->children : nullptr; c; c = c->next)
    RenderNode(c, 1);
}

CleanedContent Sanitizer::Finish() {
  CleanedContent out;
  size_t b = html_.find_first_not_of(" \n");
  size_t e = html_.find_last_not_of(" \n");
  if (b != std::string::npos) out.html = html_.substr(b, e - b + 1);
  out.text = text_.Take();
  return out;
}

void Sanitizer::AppendEscaped(std::string_view s, bool attribute) {
  size_t run = 0;  // start of the pending run of characters kept as they are
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c != '&' && c != '<' && c != '>' && c != '\0' &&
        !(attribute && (c == '"' || c == '\''))) {
      continue;
    }
    html_.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '&':
        html_.append("&amp;");
        break;
      case '<':
        html_.append("&lt;");
        break;
      case '>':
        html_.append("&gt;");
        break;
      case '"':  // only in attributes (see above)
        html_.append("&quot;");
        break;
      case '\'':
        html_.append("&#39;");
        break;
      default:  // '\0': dropped
        break;
    }
  }
  html_.append(s.data() + run, s.size() - run);
}

void Sanitizer::AppendAttr(std::string_view name, std::string_view value) {
  html_.push_back(' ');
  html_.append(name);
  html_.append("=\"");
  AppendEscaped(value, true);
  html_.push_back('"');
}

void Sanitizer::EmitText(std::string_view text) {
  text_.AddText(text, pre_depth_ > 0);
  if (pre_depth_ > 0) {
    AppendEscaped(text, false);
    return;
  }
  // Collapse whitespace runs in the HTML as well.
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      html_space_pending_ = true;
      continue;
    }
    if (html_space_pending_) html_.push_back(' ');
    html_space_pending_ = false;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t' &&
           text[j] != '\n' && text[j] != '\r' && text[j] != '\f')
      ++j;
    AppendEscaped(text.substr(i, j - i), false);
    i = j - 1;
  }
}

void Sanitizer::RenderNode(const xmlNode* n, int depth) {
  if (!n || depth > kMaxDepth) return;
  if (IsText(n)) {
    EmitText(TextContent(n));
    return;
  }
  if (IsElement(n)) RenderElement(n, depth);
}

void Sanitizer::RenderElement(const xmlNode* e, int depth) {
  std::string_view name = Name(e);
  if (IsDroppedElement(e)) return;
  if (name == "iframe") {
    if (!IsAllowedIframeSource(base_url_, Attr(e, "src"))) return;
    std::string src = SafeUrl(base_url_, Attr(e, "src"), false);
    if (src.empty()) return;
    html_.append("<iframe");
    AppendAttr("src", src);
    AppendAttr("sandbox", kIframeSandbox);
    if (AllDigits(Attr(e, "width"))) AppendAttr("width", Attr(e, "width"));
    if (AllDigits(Attr(e, "height"))) AppendAttr("height", Attr(e, "height"));
    html_.append(" allowfullscreen></iframe>");
    return;
  }
  bool block = IsBlockElement(name);
  bool kept = In(name, kKept);
  std::string_view out_name = name;
  if (!kept && (name == "main" || name == "header" || name == "footer" ||
                name == "aside" || name == "nav" || name == "center" ||
                name == "address" || name == "details" || name == "summary")) {
    kept = true;
    out_name = "div";
  }
  if (name == "br") {
    html_.append("<br>");
    text_.Break(1);
    return;
  }
  if (name == "hr") {
    html_.append("<hr>");
    text_.Break(2);
    return;
  }
  if (name == "img") {
    if (IsTrackingPixel(e)) return;
    std::string src = SafeUrl(base_url_, ImageSource(e), false);
    if (src.empty()) return;
    html_.append("<img");
    AppendAttr("src", src);
    for (std::string_view a : {"alt", "title"}) {
      bool present = false;
      std::string_view v = Attr(e, a, &present);
      if (present) AppendAttr(a, v);
    }
    for (std::string_view a : {"width", "height"})
      if (AllDigits(Attr(e, a))) AppendAttr(a, Attr(e, a));
    html_.push_back('>');
    return;
  }
  int text_break = 0;
  if (block) text_break = 2;
  if (name == "li" || name == "dt" || name == "dd" || name == "tr" ||
      name == "br")
    text_break = 1;
  if (text_break) text_.Break(text_break);
  if (name == "td" || name == "th") text_.Space();
  if (kept) {
    if (html_space_pending_ && !block) html_.push_back(' ');
    html_.push_back('<');
    html_.append(out_name);
    if (name == "a") {
      std::string href = SafeUrl(base_url_, Attr(e, "href"), true);
      if (!href.empty()) AppendAttr("href", href);
      bool present = false;
      std::string_view t = Attr(e, "title", &present);
      if (present) AppendAttr("title", t);
    } else if (name == "td" || name == "th") {
      for (std::string_view a : {"colspan", "rowspan"})
        if (AllDigits(Attr(e, a))) AppendAttr(a, Attr(e, a));
    } else if (name == "ol") {
      if (AllDigits(Attr(e, "start"))) AppendAttr("start", Attr(e, "start"));
    } else if (name == "time") {
      bool present = false;
      std::string_view v = Attr(e, "datetime", &present);
      if (present) AppendAttr("datetime", v);
    } else if (name == "abbr") {
      bool present = false;
      std::string_view v = Attr(e, "title", &present);
      if (present) AppendAttr("title", v);
    } else if (name == "blockquote" || name == "q") {
      std::string cite = SafeUrl(base_url_, Attr(e, "cite"), false);
      if (!cite.empty()) AppendAttr("cite", cite);
    }
    html_.push_back('>');
    html_space_pending_ = false;
  }
  if (name == "pre") ++pre_depth_;
  for (const xmlNode* c = e->children; c; c = c->next) RenderNode(c, depth + 1);
  if (name == "pre") --pre_depth_;
  if (kept) {
    html_.append("</");
    html_.append(out_name);
    html_.push_back('>');
    if (block) {
      html_.push_back('\n');
      html_space_pending_ = false;
    }
  }
  if (text_break) text_.Break(text_break);
  if (name == "td" || name == "th") text_.Space();
}

}  // namespace newsflow::cleaner
