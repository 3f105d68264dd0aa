#include "daemon/filter/article_filter.h"

#include <gtest/gtest.h>

#include "config/config.h"
#include "connectors/builtin.h"

namespace newsflow {
namespace {

Article Story() {
  Article a;
  a.title = "Election results: the Greens win in Hamburg";
  a.summary = "A short summary.";
  a.content_text =
      "The count ended on Monday night.\n\nTurnout was the highest since "
      "1990. Sponsored content follows.";
  a.categories = {"Politics", "Germany"};
  a.authors = {"Jane Doe"};
  a.language = "en-GB";
  return a;
}

std::shared_ptr<const ArticleFilter> Compile(const FilterConfig& global,
                                             const FilterConfig& feed = {}) {
  auto f = ArticleFilter::Compile(global, feed);
  EXPECT_TRUE(f) << f.error().ToString();
  return f ? *f : nullptr;
}

FilterRule Keywords(FilterField field, std::vector<std::string> words) {
  FilterRule r;
  r.field = field;
  r.keywords = std::move(words);
  return r;
}
FilterRule Regex(FilterField field, std::string re) {
  FilterRule r;
  r.field = field;
  r.regex = std::move(re);
  return r;
}

TEST(ArticleFilterTest, NoRulesPassEverything) {
  auto f = Compile({});
  EXPECT_TRUE(f->empty());
  EXPECT_TRUE(f->Check(Story()).pass);
}

TEST(ArticleFilterTest, KeywordsAreCaseInsensitiveWholeWordsPerField) {
  FilterConfig c;
  c.exclude = {Keywords(FilterField::kTitle, {"GREENS"})};
  EXPECT_FALSE(Compile(c)->Check(Story()).pass);
  c.exclude = {Keywords(FilterField::kTitle, {"green"})};  // not a word
  EXPECT_TRUE(Compile(c)->Check(Story()).pass);
  c.exclude = {Keywords(FilterField::kTitle, {"sponsored"})};  // text only
  EXPECT_TRUE(Compile(c)->Check(Story()).pass);
  c.exclude = {Keywords(FilterField::kText, {"sponsored content"})};
  const FilterVerdict v = Compile(c)->Check(Story());
  EXPECT_FALSE(v.pass);
  EXPECT_EQ(v.rule, "global.exclude[0]");
  c.exclude = {Keywords(FilterField::kCategories, {"germany"})};
  EXPECT_FALSE(Compile(c)->Check(Story()).pass);
  c.exclude = {Keywords(FilterField::kAuthor, {"jane doe"})};
  EXPECT_FALSE(Compile(c)->Check(Story()).pass);
  c.exclude = {Keywords(FilterField::kAny, {"hamburg"})};
  EXPECT_FALSE(Compile(c)->Check(Story()).pass);
  // Special characters are literal.
  c.exclude = {Keywords(FilterField::kAny, {"1990."})};
  EXPECT_FALSE(Compile(c)->Check(Story()).pass);
  c.exclude = {Keywords(FilterField::kAny, {"19.0"})};
  EXPECT_TRUE(Compile(c)->Check(Story()).pass);
}

TEST(ArticleFilterTest, KeywordsInScriptsWithoutSpacesAndUnicodeCase) {
  Article a;
  a.title = "東京で新しい図書館が開館";
  a.content_text = "ΑΘΗΝΑ: νέο μουσείο";
  FilterConfig c;
  c.include = {Keywords(FilterField::kTitle, {"図書館"})};
  EXPECT_TRUE(Compile(c)->Check(a).pass);
  c.include = {Keywords(FilterField::kText, {"αθηνα"})};  // case-folded
  EXPECT_TRUE(Compile(c)->Check(a).pass);
  c.include = {Keywords(FilterField::kTitle, {"大阪"})};
  const FilterVerdict v = Compile(c)->Check(a);
  EXPECT_FALSE(v.pass);
  EXPECT_EQ(v.rule, "global.include");
}

TEST(ArticleFilterTest, RegexesAndLanguages) {
  FilterConfig c;
  c.include = {Regex(FilterField::kTitle, "(?i)^election\\b")};
  EXPECT_TRUE(Compile(c)->Check(Story()).pass);
  c.include = {Regex(FilterField::kTitle, "^Results")};
  EXPECT_FALSE(Compile(c)->Check(Story()).pass);
  // Language keywords: "en" matches "en-GB"; "e" does not.
  c.include = {Keywords(FilterField::kLanguage, {"de", "EN"})};
  EXPECT_TRUE(Compile(c)->Check(Story()).pass);
  c.include = {Keywords(FilterField::kLanguage, {"e"})};
  EXPECT_FALSE(Compile(c)->Check(Story()).pass);
  c.include = {Regex(FilterField::kLanguage, "^en-")};
  EXPECT_TRUE(Compile(c)->Check(Story()).pass);
  Article no_language = Story();
  no_language.language.clear();
  c.include = {Keywords(FilterField::kLanguage, {"en"})};
  EXPECT_FALSE(Compile(c)->Check(no_language).pass);
}

TEST(ArticleFilterTest, IncludeAnyExcludeWinsGlobalAndFeedBothApply) {
  FilterConfig global;
  global.include = {Keywords(FilterField::kTitle, {"nothing"}),
                    Keywords(FilterField::kCategories, {"politics"})};
  EXPECT_TRUE(Compile(global)->Check(Story()).pass);  // one include is enough
  global.exclude = {Keywords(FilterField::kAuthor, {"jane doe"})};
  EXPECT_EQ(Compile(global)->Check(Story()).rule, "global.exclude[0]");
  global.exclude.clear();
  FilterConfig feed;
  feed.exclude = {Keywords(FilterField::kAny, {"x"}),
                  Regex(FilterField::kText, "Turnout")};
  const FilterVerdict v = Compile(global, feed)->Check(Story());
  EXPECT_FALSE(v.pass);
  EXPECT_EQ(v.rule, "feed.exclude[1]");
}

// RE2 is linear: a pattern that backtracks exponentially in std::regex /
// PCRE finishes at once on hostile text.
TEST(ArticleFilterTest, HostileTextIsLinear) {
  FilterConfig c;
  c.exclude = {Regex(FilterField::kText, "(a+)+$")};
  Article a;
  a.content_text = std::string(100000, 'a') + "!";
  EXPECT_TRUE(Compile(c)->Check(a).pass);
}

// The config side: shape, and FILE:LINE:COL for what RE2 refuses.
TEST(FilterConfigTest, LoadsGlobalAndPerFeedRules) {
  auto cfg = LoadConfigString(
      "filters:\n"
      "  exclude:\n"
      "    - {field: title, keywords: [sponsored, advertorial]}\n"
      "feeds:\n"
      "  - name: a\n"
      "    url: http://a.example/feed\n"
      "    filters:\n"
      "      include:\n"
      "        - field: language\n"
      "          keywords: [de]\n"
      "        - regex: \"(?i)hamburg\"\n",
      "t.yaml", BuiltinSinks());
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  ASSERT_EQ(cfg->filters.exclude.size(), 1u);
  EXPECT_EQ(cfg->filters.exclude[0].field, FilterField::kTitle);
  EXPECT_EQ(cfg->filters.exclude[0].keywords,
            (std::vector<std::string>{"sponsored", "advertorial"}));
  ASSERT_EQ(cfg->feeds.size(), 1u);
  ASSERT_EQ(cfg->feeds[0].filters.include.size(), 2u);
  EXPECT_EQ(cfg->feeds[0].filters.include[1].field, FilterField::kAny);
  EXPECT_EQ(cfg->feeds[0].filters.include[1].regex, "(?i)hamburg");
}

std::string ErrorOf(std::string_view yaml) {
  auto cfg = LoadConfigString(yaml, "t.yaml", BuiltinSinks());
  return cfg ? "OK" : cfg.error().ToString();
}

TEST(FilterConfigTest, ErrorsPointAtTheValue) {
  EXPECT_EQ(ErrorOf("filters:\n  exclude:\n    - regex: \"(unclosed\"\n"),
            "t.yaml:3:14: filters.exclude[0].regex: invalid regular "
            "expression (RE2): missing ): (unclosed");
  // Backreferences are not RE2 (they are what makes regexes exponential).
  EXPECT_NE(ErrorOf("filters:\n  include:\n    - regex: \"(a)\\\\1\"\n")
                .find("t.yaml:3:14: filters.include[0].regex: invalid"),
            std::string::npos);
  EXPECT_EQ(ErrorOf("filters:\n  include:\n    - {field: body, keywords: "
                    "[x]}\n"),
            "t.yaml:3:15: filters.include[0].field: invalid value \"body\" "
            "(expected any, title, text, categories, author or language)");
  EXPECT_EQ(ErrorOf("filters:\n  include:\n    - {field: title}\n"),
            "t.yaml:3:7: filters.include[0]: a rule needs either keywords or "
            "regex (exactly one)");
  EXPECT_EQ(ErrorOf("filters:\n  include:\n    - {keywords: [a], regex: a}\n"),
            "t.yaml:3:7: filters.include[0]: a rule needs either keywords or "
            "regex (exactly one)");
  EXPECT_EQ(ErrorOf("filters:\n  include: {field: title}\n"),
            "t.yaml:2:12: filters.include: expected a list of rules");
  EXPECT_EQ(ErrorOf("filters:\n  includes: []\n"),
            "t.yaml:2:3: unknown key \"includes\" in filters (did you "
            "mean \"include\"?)");
  EXPECT_EQ(ErrorOf("feeds:\n  - name: a\n    url: http://a.example/\n"
                    "    filters: {exclude: [{regex: \"[z-a]\"}]}\n"),
            "t.yaml:4:33: feeds[0].filters.exclude[0].regex: invalid regular "
            "expression (RE2): invalid character class range: z-a");
}

}  // namespace
}  // namespace newsflow
