#pragma once

// Thin helpers over libxml2's HTML tree: parsing with the project's flags,
// zero-copy attribute access and lower-case name tests. Private to the
// cleaner.

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include <memory>
#include <string>
#include <string_view>

#include "daemon/core/text_util.h"

namespace newsflow::cleaner {

struct XmlDocDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using DocPtr = std::unique_ptr<xmlDoc, XmlDocDeleter>;

// libxml2's one-time global init (xmlInitParser), at most once per process.
void InitLibxml();

// Logs what decoding a page to UTF-8 warned about (bytes replaced, a wrong
// declaration) like libxml2's diagnostics: through the innermost
// ScopedHtmlDiagnostics of this thread, rate-limited.
void LogDecodingDiagnostic(std::string line);

// Parses `html` with htmlReadMemory (RECOVER|NONET|NOERROR|NOWARNING|COMPACT).
// `html` is UTF-8 (pages are decoded first, daemon/core/encoding.h); libxml2
// is told so and ignores <meta charset>; invalid sequences are replaced by
// U+FFFD before libxml2 sees them. Returns null only for empty input or when
// libxml2 cannot build any tree. With `all_attributes` false (the default) the
// input first goes through StripRawTextBodies with attribute stripping; true
// keeps every attribute (operator selectors may name any of them).
DocPtr ParseHtml(std::string_view html, bool all_attributes = false);

// Copy of `html` without the bodies of <script> (except JSON-LD), <style>
// and <svg> (nesting counted) elements: their tags stay, the text up to the
// matching "</script" /
// "</style" (case-insensitive, as libxml2's parser ends them) goes. Start
// tags lose the attributes nothing downstream reads (on*, srcset, sizes,
// data-* but the lazy-image sources data-src/data-lazy-src/data-original/
// data-url, aria-* but aria-hidden). Comments are copied whole. Linear in
// the input.
// `strip_attributes` false keeps every attribute.
std::string StripRawTextBodies(std::string_view html,
                               bool strip_attributes = true);

// <body>, else the root element, else null.
xmlNode* FindBody(xmlDoc* doc);

inline bool IsElement(const xmlNode* n) {
  return n != nullptr && n->type == XML_ELEMENT_NODE;
}
inline bool IsText(const xmlNode* n) {
  return n != nullptr &&
         (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE);
}
// Element name (libxml2's HTML parser lower-cases known tags).
inline std::string_view Name(const xmlNode* n) {
  return n && n->name ? std::string_view(reinterpret_cast<const char*>(n->name))
                      : std::string_view();
}
inline std::string_view TextContent(const xmlNode* n) {
  return n && n->content
             ? std::string_view(reinterpret_cast<const char*>(n->content))
             : std::string_view();
}

// Value of attribute `name` (case-insensitive), without copying when the
// value is a single text node (the usual case). `present` tells an empty
// value from a missing attribute.
std::string_view Attr(const xmlNode* n, std::string_view name,
                      bool* present = nullptr);

// ASCII lower-case copy.
inline std::string ToLower(std::string_view s) { return ToLowerAscii(s); }
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return EqualsIgnoreCaseAscii(a, b);
}
// Case-insensitive substring test; `needle` must be lower-case.
bool ContainsLower(std::string_view hay, std::string_view needle);

// All descendant text of `n` (text and CDATA nodes), concatenated.
void AppendAllText(const xmlNode* n, std::string* out, int depth = 0);

// Maximum tree depth the cleaner's recursive walks descend; deeper content
// is ignored so hostile nesting cannot exhaust the stack.
inline constexpr int kMaxDepth = 400;

}  // namespace newsflow::cleaner
