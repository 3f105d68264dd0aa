#include "daemon/cleaner/selector.h"

#include "daemon/cleaner/dom.h"

namespace newsflow::cleaner {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

bool HasClassToken(std::string_view classes, std::string_view token) {
  size_t i = 0;
  while (i < classes.size()) {
    while (i < classes.size() && IsSpace(classes[i])) ++i;
    size_t j = i;
    while (j < classes.size() && !IsSpace(classes[j])) ++j;
    if (j > i && EqualsIgnoreCase(classes.substr(i, j - i), token)) return true;
    i = j;
  }
  return false;
}

}  // namespace

SelectorList::SelectorList(const std::vector<std::string>& selectors) {
  for (const std::string& group : selectors)
    (void)ParseSelectorGroup(group, &selectors_);
}

bool SelectorList::MatchesCompound(const xmlNode* e, const Compound& c) {
  if (!IsElement(e)) return false;
  if (!c.tag.empty() && Name(e) != c.tag) return false;
  if (!c.id.empty() && !EqualsIgnoreCase(Attr(e, "id"), c.id)) return false;
  if (!c.classes.empty()) {
    std::string_view cls = Attr(e, "class");
    for (const std::string& k : c.classes)
      if (!HasClassToken(cls, k)) return false;
  }
  for (const SelectorCompound::Attribute& a : c.attrs) {
    bool present = false;
    std::string_view v = Attr(e, a.name, &present);
    if (!present) return false;
    if (a.has_value && v != a.value) return false;
  }
  return true;
}

// Does `e` match s[0..i] with s[i] matched by `e` itself? A descendant
// combinator takes the nearest ancestor matching s[i-1] (greedy, no
// backtracking: linear in depth times selector length; exact for pure
// descendant chains, may miss rare "a b > c" shapes).
bool SelectorList::MatchesFrom(const xmlNode* e, const Selector& s, size_t i) {
  while (true) {
    if (!MatchesCompound(e, s[i])) return false;
    if (i == 0) return true;
    const xmlNode* a = e->parent;
    if (!s[i].child_of_previous) {
      int guard = 0;
      while (IsElement(a) && !MatchesCompound(a, s[i - 1]) &&
             ++guard <= kMaxDepth)
        a = a->parent;
    }
    if (!IsElement(a)) return false;
    e = a;
    --i;
  }
}

bool SelectorList::Matches(const xmlNode* e) const {
  for (const Selector& s : selectors_)
    if (MatchesFrom(e, s, s.size() - 1)) return true;
  return false;
}

void SelectorList::Collect(xmlNode* root, std::vector<xmlNode*>* out) const {
  if (root && !selectors_.empty()) CollectRec(root, out, 0);
}

void SelectorList::CollectRec(xmlNode* n, std::vector<xmlNode*>* out,
                              int depth) const {
  if (depth > kMaxDepth) return;
  for (xmlNode* c = n->children; c; c = c->next) {
    if (!IsElement(c)) continue;
    if (Matches(c)) {
      out->push_back(c);
      continue;
    }
    CollectRec(c, out, depth + 1);
  }
}

}  // namespace newsflow::cleaner
