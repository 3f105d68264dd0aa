#pragma once

// The CSS selector subset operators use for per-feed keep/remove rules:
// compound selectors `tag`, `.class` (several allowed), `#id`, `[attr]`,
// `[attr=value]` (quotes optional), `*`, joined by descendant (whitespace)
// and child (`>`) combinators, and selector groups separated by commas:
// "div.article p", "article > .body", ".ad, #share". Tag, class, id and
// attribute names compare case-insensitively. Anything unparsable makes
// that one selector match nothing (never an error: configs come from
// operators, pages from anyone).

#include <libxml/tree.h>

#include <string>
#include <string_view>
#include <vector>

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
  struct Compound {
    std::string tag;  // "" = any
    std::vector<std::string> classes;
    std::string id;
    std::vector<std::pair<std::string, std::string>> attrs;  // value "" = any
    std::vector<bool> attr_has_value;
    bool child_of_previous = false;  // `>` before this compound
  };
  using Selector = std::vector<Compound>;  // left to right

  static bool Parse(std::string_view text, Selector* out);
  static bool MatchesCompound(const xmlNode* e, const Compound& c);
  static bool MatchesFrom(const xmlNode* e, const Selector& s, size_t i);
  void CollectRec(xmlNode* n, std::vector<xmlNode*>* out, int depth) const;

  std::vector<Selector> selectors_;
};

}  // namespace newsflow::cleaner
