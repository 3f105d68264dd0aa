#include "daemon/cleaner/selector.h"

#include "daemon/cleaner/dom.h"

namespace newsflow::cleaner {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

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
  for (const std::string& group : selectors) {
    size_t start = 0;
    // Commas inside [attr="a,b"] are rare in operator configs; a quoted
    // comma is still honoured.
    char quote = 0;
    for (size_t i = 0; i <= group.size(); ++i) {
      char c = i < group.size() ? group[i] : ',';
      if (quote) {
        if (c == quote) quote = 0;
        continue;
      }
      if (c == '"' || c == '\'') {
        quote = c;
        continue;
      }
      if (c != ',') continue;
      Selector s;
      if (Parse(std::string_view(group).substr(start, i - start), &s))
        selectors_.push_back(std::move(s));
      start = i + 1;
    }
  }
}

bool SelectorList::Parse(std::string_view t, Selector* out) {
  size_t i = 0;
  bool child = false;
  while (true) {
    while (i < t.size() && IsSpace(t[i])) ++i;
    if (i >= t.size()) break;
    if (t[i] == '>') {
      if (out->empty() || child) return false;
      child = true;
      ++i;
      continue;
    }
    Compound c;
    c.child_of_previous = child && !out->empty();
    child = false;
    bool any = false;
    if (t[i] == '*') {
      ++i;
      any = true;
    } else if (IsNameChar(t[i])) {
      size_t j = i;
      while (j < t.size() && IsNameChar(t[j])) ++j;
      c.tag = ToLower(t.substr(i, j - i));
      i = j;
      any = true;
    }
    while (i < t.size() && !IsSpace(t[i]) && t[i] != '>') {
      char k = t[i];
      if (k == '.' || k == '#') {
        size_t j = ++i;
        while (j < t.size() && IsNameChar(t[j])) ++j;
        if (j == i) return false;
        if (k == '.')
          c.classes.emplace_back(t.substr(i, j - i));
        else
          c.id = std::string(t.substr(i, j - i));
        i = j;
      } else if (k == '[') {
        size_t close = t.find(']', i);
        if (close == std::string_view::npos) return false;
        std::string_view body = t.substr(i + 1, close - i - 1);
        size_t eq = body.find('=');
        std::string_view name = body.substr(0, eq);
        while (!name.empty() && IsSpace(name.back())) name.remove_suffix(1);
        while (!name.empty() && IsSpace(name.front())) name.remove_prefix(1);
        if (name.empty()) return false;
        std::string value;
        if (eq != std::string_view::npos) {
          std::string_view v = body.substr(eq + 1);
          while (!v.empty() && IsSpace(v.front())) v.remove_prefix(1);
          while (!v.empty() && IsSpace(v.back())) v.remove_suffix(1);
          if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') &&
              v.back() == v.front())
            v = v.substr(1, v.size() - 2);
          value = std::string(v);
        }
        c.attrs.emplace_back(std::string(name), value);
        c.attr_has_value.push_back(eq != std::string_view::npos);
        i = close + 1;
      } else {
        return false;  // unsupported syntax (pseudo-classes, ~, + ...)
      }
      any = true;
    }
    if (!any) return false;
    out->push_back(std::move(c));
  }
  return !out->empty() && !child;
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
  for (size_t i = 0; i < c.attrs.size(); ++i) {
    bool present = false;
    std::string_view v = Attr(e, c.attrs[i].first, &present);
    if (!present) return false;
    if (c.attr_has_value[i] && v != c.attrs[i].second) return false;
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
