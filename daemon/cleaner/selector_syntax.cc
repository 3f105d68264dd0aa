#include "daemon/cleaner/selector_syntax.h"

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

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view Trim(std::string_view v) {
  while (!v.empty() && IsSpace(v.front())) v.remove_prefix(1);
  while (!v.empty() && IsSpace(v.back())) v.remove_suffix(1);
  return v;
}

// The token starting at t[i] for a message: up to the next space or
// combinator, at most 24 bytes.
std::string Token(std::string_view t, size_t i) {
  size_t j = i + 1;
  int depth = 0;
  while (j < t.size() && j - i < 24) {
    const char c = t[j];
    if (c == '(') ++depth;
    if (c == ')' && depth-- <= 0) break;
    if (depth == 0 &&
        (IsSpace(c) || c == ',' || c == '>' || c == '+' || c == '~' ||
         c == '.' || c == '#' || c == '[' || c == ']'))
      break;
    ++j;
  }
  if (j < t.size() && t[j] == ')') ++j;
  return std::string(t.substr(i, j - i));
}

using Error = std::optional<SelectorSyntaxError>;

Error Fail(size_t offset, std::string message) {
  return SelectorSyntaxError{offset, std::move(message)};
}

// An error for the character at t[i] that the grammar does not take.
Error Unsupported(std::string_view t, size_t i) {
  const char c = t[i];
  if (c == ':') {
    const bool element = i + 1 < t.size() && t[i + 1] == ':';
    return Fail(i, std::string(element ? "pseudo-element" : "pseudo-class") +
                       " '" + Token(t, i) +
                       "' is not supported (supported: tag, .class, #id, "
                       "[attr], [attr=value], descendant and '>' combinators)");
  }
  if (c == '+' || c == '~') {
    return Fail(i, std::string("sibling combinator '") + c +
                       "' is not supported (only descendant and '>')");
  }
  if (c == '|') return Fail(i, "namespace prefixes ('|') are not supported");
  if (c == '\\') return Fail(i, "CSS escapes ('\\') are not supported");
  if (c == ']') return Fail(i, "']' without '['");
  return Fail(i, std::string("unexpected character '") + c + "'");
}

// One attribute selector: t[i] is '['. Sets *end past the ']'.
Error ParseAttribute(std::string_view t, size_t i, SelectorCompound* c,
                     size_t* end) {
  const size_t open = i;
  size_t j = i + 1;
  while (j < t.size() && IsSpace(t[j])) ++j;
  const size_t name_start = j;
  while (j < t.size() && IsNameChar(t[j])) ++j;
  if (j + 1 < t.size() && t[j] == '|' && t[j + 1] != '=')
    return Fail(j, "namespace prefixes ('|') are not supported");
  if (j == name_start) return Fail(open, "attribute selector without a name");
  SelectorCompound::Attribute a;
  a.name = Lower(t.substr(name_start, j - name_start));
  while (j < t.size() && IsSpace(t[j])) ++j;
  if (j >= t.size()) return Fail(open, "unclosed '['");
  if (t[j] == ']') {
    c->attrs.push_back(std::move(a));
    *end = j + 1;
    return std::nullopt;
  }
  if (t[j] != '=') {
    if (j + 1 < t.size() && t[j + 1] == '=' &&
        std::string_view("^$*~|").find(t[j]) != std::string_view::npos) {
      return Fail(j, std::string("attribute operator '") + t[j] +
                         "=' is not supported (only [attr] and "
                         "[attr=value])");
    }
    return Fail(j, std::string("unexpected character '") + t[j] +
                       "' in an attribute selector");
  }
  ++j;
  while (j < t.size() && IsSpace(t[j])) ++j;
  if (j < t.size() && (t[j] == '"' || t[j] == '\'')) {
    const char q = t[j];
    const size_t close = t.find(q, j + 1);
    if (close == std::string_view::npos) return Fail(j, "unclosed quote");
    a.value = std::string(t.substr(j + 1, close - j - 1));
    j = close + 1;
  } else {
    const size_t start = j;
    while (j < t.size() && t[j] != ']' && !IsSpace(t[j])) {
      if (t[j] == '\\') return Fail(j, "CSS escapes ('\\') are not supported");
      if (t[j] == '"' || t[j] == '\'' || t[j] == '[')
        return Fail(j, std::string("unexpected character '") + t[j] +
                           "' in an attribute value (quote the value)");
      ++j;
    }
    a.value = std::string(t.substr(start, j - start));
    if (a.value.empty())
      return Fail(open, "attribute selector '=' without a value");
  }
  while (j < t.size() && IsSpace(t[j])) ++j;
  if (j >= t.size()) return Fail(open, "unclosed '['");
  if (t[j] != ']') {
    return Fail(j, "attribute selector flags ('" + Token(t, j) +
                       "') are not supported");
  }
  a.has_value = true;
  c->attrs.push_back(std::move(a));
  *end = j + 1;
  return std::nullopt;
}

// One selector (no commas), `t` being the whole group and [begin, end) the
// selector's part; offsets in errors are into `t`.
Error ParseOne(std::string_view t, size_t begin, size_t end,
               ParsedSelector* out) {
  size_t i = begin;
  bool child = false;
  size_t child_at = 0;
  while (true) {
    while (i < end && IsSpace(t[i])) ++i;
    if (i >= end) break;
    if (t[i] == '>') {
      if (out->empty() || child)
        return Fail(i, "'>' without a selector before it");
      child = true;
      child_at = i;
      ++i;
      continue;
    }
    SelectorCompound c;
    c.child_of_previous = child && !out->empty();
    child = false;
    bool any = false;
    if (t[i] == '*') {
      ++i;
      any = true;
    } else if (IsNameChar(t[i])) {
      size_t j = i;
      while (j < end && IsNameChar(t[j])) ++j;
      c.tag = Lower(t.substr(i, j - i));
      i = j;
      any = true;
    }
    while (i < end && !IsSpace(t[i]) && t[i] != '>') {
      const char k = t[i];
      if (k == '.' || k == '#') {
        size_t j = i + 1;
        while (j < end && IsNameChar(t[j])) ++j;
        if (j == i + 1) {
          return Fail(i, std::string("'") + k + "' without a" +
                             (k == '.' ? " class name" : "n id"));
        }
        if (k == '.')
          c.classes.emplace_back(t.substr(i + 1, j - i - 1));
        else
          c.id = std::string(t.substr(i + 1, j - i - 1));
        i = j;
      } else if (k == '[') {
        size_t after = i;
        if (Error e = ParseAttribute(t.substr(0, end), i, &c, &after)) return e;
        i = after;
      } else {
        return Unsupported(t, i);
      }
      any = true;
    }
    if (!any) return Unsupported(t, i);
    out->push_back(std::move(c));
  }
  if (child) return Fail(child_at, "'>' without a selector after it");
  if (out->empty()) return Fail(begin, "empty selector");
  return std::nullopt;
}

}  // namespace

std::optional<SelectorSyntaxError> ParseSelectorGroup(
    std::string_view text, std::vector<ParsedSelector>* out) {
  Error first;
  size_t start = 0;
  char quote = 0;
  int brackets = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    const char c = i < text.size() ? text[i] : ',';
    if (quote) {
      if (c == quote) quote = 0;
      if (i < text.size()) continue;
    }
    if (i < text.size()) {
      if (c == '"' || c == '\'') {
        quote = c;
        continue;
      }
      if (c == '[') ++brackets;
      if (c == ']' && brackets > 0) --brackets;
      if (c != ',' || brackets > 0) continue;
    }
    ParsedSelector s;
    Error e;
    if (Trim(text.substr(start, i - start)).empty()) {
      e = Fail(start, text.size() == 0 ? "empty selector"
                                       : "empty selector in a ',' group");
    } else {
      e = ParseOne(text, start, i, &s);
    }
    if (e) {
      if (!first) first = std::move(e);
    } else if (out) {
      out->push_back(std::move(s));
    }
    start = i + 1;
  }
  return first;
}

}  // namespace newsflow::cleaner
