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

// The URL to emit for `ref`, an href/src on a page at `base` (may be empty):
// what a browser would load (daemon/core/url.h), without tracking
// parameters. Empty when it is unsafe or unusable: unparsable, or a scheme
// other than http/https (and mailto when `allow_mailto`). Without a usable
// base a relative reference is returned as written (tabs/newlines removed)
// if a browser would read neither a scheme nor a host into it; a
// protocol-relative one ("//host/x") becomes https.
std::string SafeUrl(std::string_view base, std::string_view ref,
                    bool allow_mailto);

// True when an <iframe src> (resolved against `base`) points into one of the
// allow-listed video hosts (youtube.com, youtube-nocookie.com,
// player.vimeo.com, dailymotion.com, dai.ly), comparing the host a browser
// would connect to.
bool IsAllowedIframeSource(std::string_view base, std::string_view src);

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
