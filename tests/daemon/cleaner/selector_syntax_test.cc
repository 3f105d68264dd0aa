#include "daemon/cleaner/selector_syntax.h"

#include <gtest/gtest.h>

#include <string>

namespace newsflow::cleaner {
namespace {

// The message of the first error, "" when the group is supported.
std::string Problem(std::string_view text, size_t* offset = nullptr) {
  auto e = ParseSelectorGroup(text, nullptr);
  if (!e) return "";
  if (offset) *offset = e->offset;
  return e->message;
}

TEST(SelectorSyntaxTest, SupportedSubsetParses) {
  for (const char* ok :
       {"div", "*", ".ad", "div.article p", "article > .body", ".ad, #share",
        "a.b.c#d", "[data-ad]", "[data-role=share]", "[rel = \"nofollow\"]",
        "div[class='a b'] > p", "  nav  ", "section>div", "h1,h2 , h3"}) {
    EXPECT_EQ(Problem(ok), "") << ok;
  }
  std::vector<ParsedSelector> out;
  EXPECT_FALSE(ParseSelectorGroup("DIV.Story > P, [Data-X=Y]", &out));
  ASSERT_EQ(out.size(), 2u);
  ASSERT_EQ(out[0].size(), 2u);
  EXPECT_EQ(out[0][0].tag, "div");
  EXPECT_EQ(out[0][0].classes, std::vector<std::string>{"Story"});
  EXPECT_TRUE(out[0][1].child_of_previous);
  EXPECT_EQ(out[1][0].attrs[0].name, "data-x");
  EXPECT_EQ(out[1][0].attrs[0].value, "Y");
}

// One case per class of unsupported construct: the message names it and
// the offset points at it.
TEST(SelectorSyntaxTest, UnsupportedConstructsAreNamed) {
  struct Case {
    const char* text;
    const char* message_part;
    size_t offset;
  };
  const Case kCases[] = {
      {"a:hover", "pseudo-class ':hover' is not supported", 1},
      {"p:not(.x)", "pseudo-class ':not(.x)' is not supported", 1},
      {"li:nth-child(2)", "pseudo-class ':nth-child(2)'", 2},
      {"p::before", "pseudo-element '::before' is not supported", 1},
      {"h2 + p", "sibling combinator '+' is not supported", 3},
      {"h2 ~ p", "sibling combinator '~' is not supported", 3},
      {"a[href^=http]", "attribute operator '^=' is not supported", 6},
      {"a[href$='.pdf']", "attribute operator '$=' is not supported", 6},
      {"a[href*=ads]", "attribute operator '*=' is not supported", 6},
      {"div[class~=ad]", "attribute operator '~=' is not supported", 9},
      {"div[lang|=en]", "attribute operator '|=' is not supported", 8},
      {"a[href=x i]", "attribute selector flags ('i') are not supported", 9},
      {"svg|a", "namespace prefixes ('|') are not supported", 3},
      {"#a\\:b", "CSS escapes ('\\') are not supported", 2},
      {"div[data-x", "unclosed '['", 3},
      {"[=x]", "attribute selector without a name", 0},
      {".", "'.' without a class name", 0},
      {"div #", "'#' without an id", 4},
      {"a, , b", "empty selector in a ',' group", 2},
      {"a,", "empty selector in a ',' group", 2},
      {"> p", "'>' without a selector before it", 0},
      {"div >", "'>' without a selector after it", 4},
      {"div > > p", "'>' without a selector before it", 6},
      {"div!", "unexpected character '!'", 3},
      {"a[title=\"x]", "unclosed quote", 8},
  };
  for (const Case& c : kCases) {
    size_t offset = 999;
    const std::string p = Problem(c.text, &offset);
    EXPECT_NE(p.find(c.message_part), std::string::npos)
        << c.text << " -> " << p;
    EXPECT_EQ(offset, c.offset) << c.text << " -> " << p;
  }
}

TEST(SelectorSyntaxTest, GroupKeepsTheSupportedSelectors) {
  std::vector<ParsedSelector> out;
  auto e = ParseSelectorGroup(".ad, a:hover, #share", &out);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->offset, 6u);
  EXPECT_EQ(out.size(), 2u);
}

}  // namespace
}  // namespace newsflow::cleaner
