#include "daemon/filter/article_filter.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>

namespace newsflow {
namespace {

// First/last code point of UTF-8 `s` (0 when empty).
uint32_t CodePointAt(std::string_view s, bool last) {
  if (s.empty()) return 0;
  size_t i = 0;
  if (last) {
    i = s.size() - 1;
    while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  }
  const auto c = static_cast<unsigned char>(s[i]);
  const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  if (len == 1 || i + len > s.size()) return c;
  uint32_t v = c & (0xFF >> (len + 1));
  for (size_t k = 1; k < len; ++k) v = (v << 6) | (s[i + k] & 0x3F);
  return v;
}

// Scripts without spaces between words: no boundary there.
bool NeedsBoundary(uint32_t cp) {
  const bool unspaced =
      (cp >= 0x0E00 && cp <= 0x0EFF) || (cp >= 0x1000 && cp <= 0x109F) ||
      (cp >= 0x1780 && cp <= 0x17FF) || (cp >= 0x3040 && cp <= 0x30FF) ||
      (cp >= 0x3400 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
      (cp >= 0x20000 && cp <= 0x2FFFF);
  // A keyword edge that is punctuation ("c++") needs none either.
  const bool word =
      cp >= 0x80 || std::isalnum(static_cast<int>(cp)) || cp == '_';
  return word && !unspaced;
}

std::string Trimmed(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  const size_t e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(c));
  return s;
}

bool LanguageMatches(const std::string& tag, const std::string& keyword) {
  const std::string t = Lower(tag);
  return t == keyword || (t.size() > keyword.size() &&
                          t.compare(0, keyword.size(), keyword) == 0 &&
                          t[keyword.size()] == '-');
}

}  // namespace

std::string KeywordPattern(const std::vector<std::string>& keywords) {
  constexpr char kNotWord[] = "[^\\pL\\pN_]";
  std::string pattern = "(?i)(?:";
  bool first = true;
  for (const std::string& raw : keywords) {
    const std::string kw = Trimmed(raw);
    if (kw.empty()) continue;
    if (!first) pattern += "|";
    first = false;
    pattern += "(?:";
    if (NeedsBoundary(CodePointAt(kw, false)))
      pattern += std::string("(?:^|") + kNotWord + ")";
    pattern += RE2::QuoteMeta(kw);
    if (NeedsBoundary(CodePointAt(kw, true)))
      pattern += std::string("(?:$|") + kNotWord + ")";
    pattern += ")";
  }
  return pattern + ")";
}

ArticleFilter::~ArticleFilter() = default;

Result<std::shared_ptr<const ArticleFilter>> ArticleFilter::Compile(
    const FilterConfig& global, const FilterConfig& feed) {
  std::shared_ptr<ArticleFilter> filter(new ArticleFilter());
  for (const auto& [name, config] :
       {std::pair<std::string, const FilterConfig*>{"global", &global},
        {"feed", &feed}}) {
    if (config->empty()) continue;
    RuleSet set;
    if (auto r = CompileSet(name, *config, &set); !r) return r.error();
    filter->sets_.push_back(std::move(set));
  }
  return std::shared_ptr<const ArticleFilter>(std::move(filter));
}

Result<void> ArticleFilter::CompileSet(const std::string& name,
                                       const FilterConfig& config,
                                       RuleSet* out) {
  out->name = name;
  for (auto [rules, list] : {std::pair{&config.include, &out->include},
                             std::pair{&config.exclude, &out->exclude}}) {
    for (const FilterRule& r : *rules) {
      Rule rule;
      rule.field = r.field;
      if (r.field == FilterField::kLanguage && !r.keywords.empty()) {
        rule.language_keywords = true;
        for (const std::string& k : r.keywords) {
          std::string tag = Lower(Trimmed(k));
          std::replace(tag.begin(), tag.end(), '_', '-');
          rule.languages.push_back(std::move(tag));
        }
      } else {
        const std::string pattern =
            r.keywords.empty() ? r.regex : KeywordPattern(r.keywords);
        RE2::Options options;
        options.set_log_errors(false);
        rule.re = std::make_unique<RE2>(pattern, options);
        if (!rule.re->ok()) {
          return Error(Errc::kConfig,
                       "invalid filter regex: " + rule.re->error(),
                       name + " filters");
        }
      }
      list->push_back(std::move(rule));
    }
  }
  return {};
}

bool ArticleFilter::Matches(const Rule& rule, const Article& a) {
  if (rule.language_keywords) {
    return std::any_of(
        rule.languages.begin(), rule.languages.end(),
        [&](const std::string& k) { return LanguageMatches(a.language, k); });
  }
  auto match = [&](const std::string& s) {
    return !s.empty() && RE2::PartialMatch(s, *rule.re);
  };
  auto any_of = [&](const std::vector<std::string>& v) {
    return std::any_of(v.begin(), v.end(), match);
  };
  switch (rule.field) {
    case FilterField::kTitle:
      return match(a.title);
    case FilterField::kText:
      return match(a.content_text) || match(a.summary);
    case FilterField::kCategories:
      return any_of(a.categories);
    case FilterField::kAuthor:
      return any_of(a.authors);
    case FilterField::kLanguage:
      return match(a.language);
    case FilterField::kAny:
      return match(a.title) || match(a.summary) || match(a.content_text) ||
             any_of(a.categories) || any_of(a.authors);
  }
  return false;
}

FilterVerdict ArticleFilter::Check(const Article& article) const {
  for (const RuleSet& set : sets_) {
    for (size_t i = 0; i < set.exclude.size(); ++i) {
      if (Matches(set.exclude[i], article)) {
        return {false, set.name + ".exclude[" + std::to_string(i) + "]"};
      }
    }
    if (set.include.empty()) continue;
    const bool included =
        std::any_of(set.include.begin(), set.include.end(),
                    [&](const Rule& r) { return Matches(r, article); });
    if (!included) return {false, set.name + ".include"};
  }
  return {};
}

}  // namespace newsflow
