#pragma once

// Allow-list serializer: writes sanitized HTML and the plain-text rendering
// of libxml2 subtrees in one walk. Never uses libxml2's serializer; every
// text and attribute value is escaped here.

#include <libxml/tree.h>

#include <string>
#include <string_view>

#include "daemon/cleaner/html_cleaner.h"

namespace newsflow::cleaner {

// Accumulates plain text: whitespace collapsed, paragraph breaks as a blank
// line, line breaks as "\n", nothing leading or trailing. Preformatted text
// (<pre>) keeps its spaces, tabs and newlines (only its trailing whitespace
// gives way to the following break).
class TextBuilder {
 public:
  void AddText(std::string_view text, bool preformatted = false);
  // 1 = line break, 2 = paragraph break. Breaks coalesce.
  void Break(int level) {
    if (level > pending_break_) pending_break_ = level;
    pre_space_.clear();
  }
  // Inline separator (table cells).
  void Space() { pending_space_ = true; }
  std::string Take() { return std::move(out_); }
  const std::string& str() const { return out_; }

 private:
  void Flush();
  void AddPreformatted(std::string_view text);

  std::string out_;
  std::string pre_space_;  // whitespace held back inside <pre>
  int pending_break_ = 0;
  bool pending_space_ = false;
};

class Sanitizer {
 public:
  explicit Sanitizer(std::string base_url) : base_url_(std::move(base_url)) {}
  Sanitizer(const Sanitizer&) = delete;
  Sanitizer& operator=(const Sanitizer&) = delete;

  // Renders `node` (and its subtree) into the outputs.
  void Render(const xmlNode* node);
  // Renders only the children of `node`.
  void RenderChildren(const xmlNode* node);

  CleanedContent Finish();

 private:
  void RenderNode(const xmlNode* node, int depth);
  void RenderElement(const xmlNode* e, int depth);
  void EmitText(std::string_view text);
  void AppendEscaped(std::string_view s, bool attribute);
  void AppendAttr(std::string_view name, std::string_view value);

  std::string base_url_;
  std::string html_;
  TextBuilder text_;
  int pre_depth_ = 0;
  bool html_space_pending_ = false;
};

// True when an <img> is a tracking pixel (1x1, or a known feed-tracker path).
bool IsTrackingPixel(const xmlNode* img);

// The image URL of an <img>, following common lazy-loading attributes.
std::string_view ImageSource(const xmlNode* img);

// True when `element` must be dropped with its content by the sanitizer
// (script, style, form controls, non-video iframes, ...).
bool IsDroppedElement(const xmlNode* element);

// True for elements that break text into blocks.
bool IsBlockElement(std::string_view name);

}  // namespace newsflow::cleaner
