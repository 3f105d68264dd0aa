#pragma once

// Main-content extraction over a libxml2 tree (Readability-style scoring
// with boilerpipe-style terminating blocks). Mutates the tree it is given.

#include <libxml/tree.h>

#include <string>
#include <vector>

namespace newsflow::cleaner {

struct ExtractFlags {
  // Drop elements whose class/id/role name navigation, sidebars, ...
  bool strip_unlikely = true;
  // Use class/id weights when scoring.
  bool weight_classes = true;
  // Remove link-heavy / form-like blocks inside the chosen content.
  bool clean_conditionally = true;
};

// Removes what is never content (scripts, forms, nav, hidden elements, and,
// with flags.strip_unlikely, unlikely candidates) under `root`.
void PreClean(xmlNode* root, const ExtractFlags& flags);

// Removes boilerplate inside already-chosen content (fragments and the
// extracted body): share/related/comment boxes, "read more" links, feed
// trailers, and everything from the first terminating block on.
// `title` (may be empty) removes headings that repeat the page title.
void CleanContent(const std::vector<xmlNode*>& parts, const std::string& title,
                  const ExtractFlags& flags, bool is_fragment);

// Picks the main content under `body` (already PreClean'ed): the best
// candidate plus qualifying siblings, in document order.
std::vector<xmlNode*> FindMainContent(xmlNode* body, const ExtractFlags& flags);

}  // namespace newsflow::cleaner
