#pragma once

// The grammar of the operator selector subset (see selector.h), without
// libxml2: the cleaner's SelectorList matches what this parses, and the
// config loader rejects what it does not (check-config names FILE:LINE:COL
// of the list element), so a selector can never silently match nothing.
//
// Supported: compound selectors `tag`, `*`, `.class` (several), `#id`,
// `[attr]`, `[attr=value]` (value quoted or not), joined by descendant
// (whitespace) and child (`>`) combinators; groups separated by commas.
// Everything else of CSS is an error naming the construct: pseudo-classes
// and pseudo-elements (`:not()`, `::before`), sibling combinators (`+`,
// `~`), attribute operators other than `=` (`^=`, `$=`, `*=`, `~=`, `|=`),
// attribute flags (`[a=b i]`), namespaces (`svg|a`), escapes (`\`), empty
// selectors in a group, dangling combinators.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace newsflow::cleaner {

struct SelectorCompound {
  struct Attribute {
    std::string name;   // lower-case
    std::string value;  // compared exactly; "" with has_value = false: any
    bool has_value = false;
  };
  std::string tag;  // lower-case; "" = any
  std::vector<std::string> classes;
  std::string id;
  std::vector<Attribute> attrs;
  bool child_of_previous = false;  // `>` before this compound
};
using ParsedSelector = std::vector<SelectorCompound>;  // left to right

struct SelectorSyntaxError {
  size_t offset = 0;    // byte offset in the text given
  std::string message;  // e.g. "pseudo-class ':hover' is not supported"
};

// Parses a comma-separated group: appends each selector that parses to
// `out` (may be null) and returns the first error, or nullopt when every
// selector of the group is supported.
std::optional<SelectorSyntaxError> ParseSelectorGroup(
    std::string_view text, std::vector<ParsedSelector>* out);

}  // namespace newsflow::cleaner
