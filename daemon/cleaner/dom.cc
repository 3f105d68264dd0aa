#include "daemon/cleaner/dom.h"

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <chrono>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <vector>

#include "daemon/cleaner/html_cleaner.h"
#include "daemon/core/encoding.h"
#include "daemon/core/logging.h"

namespace newsflow::cleaner {
namespace {

bool IsAsciiAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Case-insensitive find of lower-case `needle` in `hay` from `from`.
size_t FindLower(std::string_view hay, std::string_view needle, size_t from) {
  while (from + needle.size() <= hay.size()) {
    size_t lt = hay.find('<', from);
    if (lt == std::string_view::npos || lt + needle.size() > hay.size())
      return std::string_view::npos;
    if (EqualsIgnoreCase(hay.substr(lt, needle.size()), needle)) return lt;
    from = lt + 1;
  }
  return std::string_view::npos;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// Attributes no part of the cleaner reads and the sanitizer never emits:
// event handlers, srcset/sizes, data-* (except the lazy-image sources the
// sanitizer follows) and aria-* (except aria-hidden). Long JSON blobs and
// image lists live here, and the parser copies attribute values one
// character at a time.
bool IsUnusedAttribute(std::string_view a) {
  if (a.size() > 2 && StartsWithIgnoreCase(a, "on")) return true;
  if (EqualsIgnoreCase(a, "srcset") || EqualsIgnoreCase(a, "sizes"))
    return true;
  if (StartsWithIgnoreCase(a, "data-"))
    return !(EqualsIgnoreCase(a, "data-src") ||
             EqualsIgnoreCase(a, "data-lazy-src") ||
             EqualsIgnoreCase(a, "data-original") ||
             EqualsIgnoreCase(a, "data-url"));
  if (StartsWithIgnoreCase(a, "aria-"))
    return !EqualsIgnoreCase(a, "aria-hidden");
  return false;
}

}  // namespace

namespace {

thread_local ScopedHtmlDiagnostics* t_diagnostics = nullptr;

// Process-wide rate limit for the log lines below.
std::mutex g_diag_mutex;
std::chrono::steady_clock::time_point g_diag_window;
int g_diag_in_window = 0;
uint64_t g_diag_suppressed = 0;
constexpr int kDiagLinesPerMinute = 20;

void LogDiagnostic(std::string line, bool from_decoder = false) {
  while (!line.empty() && (line.back() == '\n' || line.back() == ' '))
    line.pop_back();
  if (line.empty()) return;
  uint64_t suppressed = 0;
  {
    std::lock_guard lock(g_diag_mutex);
    const auto now = std::chrono::steady_clock::now();
    if (now - g_diag_window >= std::chrono::minutes(1)) {
      g_diag_window = now;
      g_diag_in_window = 0;
    }
    if (++g_diag_in_window > kDiagLinesPerMinute) {
      ++g_diag_suppressed;
      return;
    }
    suppressed = g_diag_suppressed;
    g_diag_suppressed = 0;
  }
  const ScopedHtmlDiagnostics* target = t_diagnostics;
  auto log = GetLogger(target ? target->logger_name() : "cleaner");
  if (from_decoder) {
    log->warn("Page decoding diagnostic. detail=\"{}\" url={} suppressed={}",
              line, target ? target->subject() : "-", suppressed);
  } else {
    log->warn("HTML parser diagnostic. libxml2=\"{}\" url={} suppressed={}",
              line, target ? target->subject() : "-", suppressed);
  }
}

// Lines reported while ParseHtml runs on this thread: one log line per
// document (the first message and how many more), not one per byte.
thread_local bool t_in_parse = false;
thread_local std::vector<std::string> t_lines;

// libxml2 calls this once per message (with or without a trailing
// newline).
void OnGenericError(void* /*ctx*/, const char* format, ...) {
  char buffer[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  std::string line = buffer;
  while (!line.empty() && (line.back() == '\n' || line.back() == ' '))
    line.pop_back();
  if (line.empty()) return;
  if (!t_in_parse) {
    LogDiagnostic(std::move(line));
  } else if (t_lines.size() < 64) {
    t_lines.push_back(std::move(line));
  }
}

// libxml2's generic error handler is per thread: install ours on each
// thread that parses, once. (No structured handler: installing one would
// bring back the per-document parser errors NOERROR silences.)
void InstallHandlers() {
  thread_local bool installed = false;
  if (installed) return;
  installed = true;
  xmlSetGenericErrorFunc(nullptr, &OnGenericError);
}

// Marks a parse on this thread and logs what libxml2 reported during it.
class ParseDiagnostics {
 public:
  ParseDiagnostics() {
    t_in_parse = true;
    t_lines.clear();
  }
  ~ParseDiagnostics() {
    t_in_parse = false;
    if (t_lines.empty()) return;
    std::string first = std::move(t_lines.front());
    while (!first.empty() && (first.back() == '\n' || first.back() == ' '))
      first.pop_back();
    if (t_lines.size() > 1) {
      first += " (+" + std::to_string(t_lines.size() - 1) + " more)";
    }
    t_lines.clear();
    LogDiagnostic(std::move(first));
  }
  ParseDiagnostics(const ParseDiagnostics&) = delete;
  ParseDiagnostics& operator=(const ParseDiagnostics&) = delete;
};

}  // namespace

void LogDecodingDiagnostic(std::string line) {
  LogDiagnostic(std::move(line), /*from_decoder=*/true);
}

void InitLibxml() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
  InstallHandlers();
}

std::string StripRawTextBodies(std::string_view html, bool strip_attributes) {
  std::string out;
  out.reserve(html.size());
  size_t i = 0;
  const size_t n = html.size();
  while (i < n) {
    size_t lt = html.find('<', i);
    if (lt == std::string_view::npos || lt + 1 >= n) break;
    if (html.compare(lt, 4, "<!--") == 0) {
      // Comments are copied whole: a "<script" inside one is not a tag.
      size_t end = html.find("-->", lt + 4);
      size_t stop = end == std::string_view::npos ? n : end + 3;
      out.append(html.substr(i, stop - i));
      i = stop;
      continue;
    }
    if (!IsAsciiAlpha(html[lt + 1])) {
      out.append(html.substr(i, lt + 1 - i));
      i = lt + 1;
      continue;
    }
    // A start tag: name, then attributes up to '>' (quotes only count in
    // value position, as in the HTML tokenizer).
    size_t j = lt + 1;
    while (j < n && (std::isalnum(static_cast<unsigned char>(html[j])) ||
                     html[j] == '-' || html[j] == ':'))
      ++j;
    std::string_view name = html.substr(lt + 1, j - lt - 1);
    bool script = EqualsIgnoreCase(name, "script");
    bool style = EqualsIgnoreCase(name, "style");
    bool svg = EqualsIgnoreCase(name, "svg");
    out.append(html.substr(i, j - i));
    size_t copied = j;  // first byte of the tag not yet copied
    while (j < n && html[j] != '>') {
      if (IsSpace(html[j]) || html[j] == '/') {
        ++j;
        continue;
      }
      size_t a = j;
      while (j < n && !IsSpace(html[j]) && html[j] != '=' && html[j] != '>' &&
             html[j] != '/')
        ++j;
      if (j == a) ++j;  // a stray '=' is a one-character name
      std::string_view attr = html.substr(a, j - a);
      size_t k = j;
      while (k < n && IsSpace(html[k])) ++k;
      if (k < n && html[k] == '=') {
        ++k;
        while (k < n && IsSpace(html[k])) ++k;
        if (k < n && (html[k] == '"' || html[k] == '\'')) {
          size_t q = html.find(html[k], k + 1);
          k = q == std::string_view::npos ? n : q + 1;
        } else {
          while (k < n && !IsSpace(html[k]) && html[k] != '>') ++k;
        }
        j = k;
      }
      if (strip_attributes && IsUnusedAttribute(attr)) {
        out.append(html.substr(copied, a - copied));
        copied = j;
      }
    }
    size_t tag_end = j < n ? j + 1 : n;
    out.append(html.substr(copied, tag_end - copied));
    i = tag_end;
    if (svg) {
      // Inline SVG (icons, path data) is dropped with its content by every
      // caller; skip to its matching end tag, nested <svg> counted.
      if (tag_end >= 2 && html[tag_end - 2] == '/') continue;
      int open = 1;
      size_t k = i;
      size_t o = FindLower(html, "<svg", k);  // next nested start, cached
      while (open > 0) {
        size_t c = FindLower(html, "</svg", k);
        if (o != std::string_view::npos && o < k)
          o = FindLower(html, "<svg", k);
        if (c == std::string_view::npos) {
          k = std::string_view::npos;
          break;
        }
        if (o != std::string_view::npos && o < c) {
          ++open;
          k = o + 4;
        } else {
          --open;
          k = c + 5;
        }
      }
      // Unterminated: keep it (the parser decides).
      if (k != std::string_view::npos) i = k - 5;
      continue;
    }
    if (!script && !style) continue;
    size_t close = FindLower(html, script ? "</script" : "</style", i);
    if (close == std::string_view::npos) close = n;
    // JSON-LD carries the page metadata: keep it.
    std::string_view tag = html.substr(lt, tag_end - lt);
    if (script && ContainsLower(tag, "ld+json"))
      out.append(html.substr(i, close - i));
    i = close;
  }
  if (i < n) out.append(html.substr(i));
  return out;
}

bool ContainsLower(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  if (hay.size() < needle.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    size_t k = 0;
    for (; k < needle.size(); ++k) {
      char c = hay[i + k];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != needle[k]) break;
    }
    if (k == needle.size()) return true;
  }
  return false;
}

DocPtr ParseHtml(std::string_view html, bool all_attributes) {
  InitLibxml();
  if (html.empty()) return nullptr;
  int size = html.size() > static_cast<size_t>(INT_MAX)
                 ? INT_MAX
                 : static_cast<int>(html.size());
  const int flags = HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                    HTML_PARSE_NOWARNING | HTML_PARSE_COMPACT;
  // Callers hand over UTF-8 (pages went through DecodeToUtf8, feed
  // fragments through the feed's decoding); bytes that still are not valid
  // UTF-8 become U+FFFD here, so libxml2 never meets an encoding error.
  std::string repaired;
  if (RepairUtf8(html, &repaired)) html = repaired;
  // Script and style bodies are more than half the bytes of a typical news
  // page and are dropped anyway; the parser skips them when they are gone.
  std::string stripped = StripRawTextBodies(html, !all_attributes);
  html = stripped;
  size = html.size() > static_cast<size_t>(INT_MAX)
             ? INT_MAX
             : static_cast<int>(html.size());
  ParseDiagnostics diagnostics;
  // An explicit encoding makes libxml2 ignore <meta charset> in the text
  // (it was honoured when the page was decoded).
  xmlDoc* doc = htmlReadMemory(html.data(), size, nullptr, "UTF-8", flags);
  return DocPtr(doc);
}

xmlNode* FindBody(xmlDoc* doc) {
  if (!doc) return nullptr;
  xmlNode* root = xmlDocGetRootElement(doc);
  if (!root) return nullptr;
  for (xmlNode* c = root->children; c; c = c->next)
    if (IsElement(c) && Name(c) == "body") return c;
  return root;
}

std::string_view Attr(const xmlNode* n, std::string_view name, bool* present) {
  if (present) *present = false;
  if (!IsElement(n)) return {};
  for (xmlAttr* a = n->properties; a; a = a->next) {
    if (!a->name ||
        !EqualsIgnoreCase(reinterpret_cast<const char*>(a->name), name))
      continue;
    if (present) *present = true;
    xmlNode* v = a->children;
    if (v && v->next == nullptr && v->content)
      return reinterpret_cast<const char*>(v->content);
    return {};
  }
  return {};
}

void AppendAllText(const xmlNode* n, std::string* out, int depth) {
  if (!n || depth > kMaxDepth) return;
  if (IsText(n)) {
    out->append(TextContent(n));
    return;
  }
  if (!IsElement(n)) return;
  for (const xmlNode* c = n->children; c; c = c->next)
    AppendAllText(c, out, depth + 1);
}

}  // namespace newsflow::cleaner

namespace newsflow {

ScopedHtmlDiagnostics::ScopedHtmlDiagnostics(std::string logger_name,
                                             std::string subject)
    : logger_name_(std::move(logger_name)),
      subject_(std::move(subject)),
      outer_(cleaner::t_diagnostics) {
  cleaner::t_diagnostics = this;
}

ScopedHtmlDiagnostics::~ScopedHtmlDiagnostics() {
  cleaner::t_diagnostics = outer_;
}

}  // namespace newsflow
