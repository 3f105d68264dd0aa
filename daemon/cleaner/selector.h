#pragma once

// The CSS selector subset operators use for per-feed keep/remove rules:
// compound selectors `tag`, `.class` (several allowed), `#id`, `[attr]`,
// `[attr=value]` (quotes optional), `*`, joined by descendant (whitespace)
// and child (`>`) combinators, and selector groups separated by commas:
// "div.article p", "article > .body", ".ad, #share". Tag, class, id and
// attribute names compare case-insensitively. The grammar is
// selector_syntax.h's; the config loader rejects what it does not parse
// (FILE:LINE:COL), so here an unparsable selector (only reachable from code
// that bypassed the loader) just matches nothing.

#include <libxml/tree.h>

#include <string>
#include <string_view>
#include <vector>

#include "daemon/cleaner/selector_syntax.h"

namespace newsflow::cleaner {

class SelectorList {
 public:
  SelectorList() = default;
  explicit SelectorList(const std::vector<std::string>& selectors);

  bool empty() const { return selectors_.empty(); }

  // True when element `e` matches any selector of the list.
  bool Matches(const xmlNode* e) const;

  // Appends, in document order, the elements under `root` (not `root`
  // itself) that match, outermost only: the subtree of a match is not
  // searched further.
  void Collect(xmlNode* root, std::vector<xmlNode*>* out) const;

 private:
  using Compound = SelectorCompound;
  using Selector = ParsedSelector;

  static bool MatchesCompound(const xmlNode* e, const Compound& c);
  static bool MatchesFrom(const xmlNode* e, const Selector& s, size_t i);
  void CollectRec(xmlNode* n, std::vector<xmlNode*>* out, int depth) const;

  std::vector<Selector> selectors_;
};

}  // namespace newsflow::cleaner
