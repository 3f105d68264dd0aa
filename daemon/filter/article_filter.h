#pragma once

// ArticleFilter: the include/exclude rules of `filters:` (global and per
// feed, config/config.h FilterConfig) compiled once — RE2 for every rule,
// keywords included — and checked against built articles. RE2 matches in
// linear time without recursion, so hostile text cannot make a rule slow.
//
// Semantics (daemon/filter/README.md): an article passes when it passes
// the global filters and the feed's; a set passes when no exclude rule
// matches and, if it has include rules, at least one matches. Keywords
// match case-insensitively (Unicode case folding) as whole words; a
// keyword that starts/ends with a CJK, kana or Thai character needs no
// word boundary on that side (those scripts have no spaces).
//
// Immutable after Compile; Check is const and thread-safe (run it on the
// worker pool: it scans the whole content_text).

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/core/article.h"
#include "daemon/core/error.h"

namespace re2 {
class RE2;
}

namespace newsflow {

struct FilterVerdict {
  bool pass = true;
  // Which rule decided a rejection: "global.exclude[0]", "feed.exclude[2]",
  // or "global.include" / "feed.include" (no include rule matched). "" when
  // the article passes.
  std::string rule;
};

class ArticleFilter {
 public:
  // Compiles both sets. Errors (Errc::kConfig) only for a regex the config
  // loader would have refused.
  static Result<std::shared_ptr<const ArticleFilter>> Compile(
      const FilterConfig& global, const FilterConfig& feed);

  ~ArticleFilter();
  ArticleFilter(const ArticleFilter&) = delete;
  ArticleFilter& operator=(const ArticleFilter&) = delete;

  FilterVerdict Check(const Article& article) const;
  bool empty() const { return sets_.empty(); }

 private:
  struct Rule {
    FilterField field = FilterField::kAny;
    std::unique_ptr<re2::RE2> re;  // keywords or regex
    bool language_keywords = false;
    std::vector<std::string> languages;  // lower-case, for kLanguage keywords
  };
  struct RuleSet {
    std::string name;  // "global" | "feed"
    std::vector<Rule> include;
    std::vector<Rule> exclude;
  };

  ArticleFilter() = default;
  static Result<void> CompileSet(const std::string& name,
                                 const FilterConfig& config, RuleSet* out);
  static bool Matches(const Rule& rule, const Article& article);

  std::vector<RuleSet> sets_;  // only non-empty ones
};

// The RE2 pattern a keyword list compiles to (exposed for tests).
std::string KeywordPattern(const std::vector<std::string>& keywords);

}  // namespace newsflow
