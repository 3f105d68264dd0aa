#include "tests/daemon/cleaner/extraction_metric.h"

#include <algorithm>
#include <map>

namespace newsflow::testing {
namespace {

struct Range {
  char32_t first, last;
};
constexpr Range kWordRanges[] = {
#include "tests/daemon/cleaner/unicode_word_table.inc"
};

// Decodes one UTF-8 sequence at s[*i]; returns U+FFFD-like sentinel
// 0xFFFFFFFF for invalid bytes (a separator).
char32_t Decode(std::string_view s, size_t* i) {
  unsigned char c = static_cast<unsigned char>(s[*i]);
  int len = c < 0x80         ? 1
            : (c >> 5) == 6  ? 2
            : (c >> 4) == 14 ? 3
            : (c >> 3) == 30 ? 4
                             : 0;
  if (len == 0 || *i + len > s.size()) {
    ++*i;
    return 0xFFFFFFFF;
  }
  char32_t cp = len == 1   ? c
                : len == 2 ? (c & 0x1F)
                : len == 3 ? (c & 0x0F)
                           : (c & 0x07);
  for (int k = 1; k < len; ++k) {
    unsigned char d = static_cast<unsigned char>(s[*i + k]);
    if ((d & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFFFFFF;
    }
    cp = (cp << 6) | (d & 0x3F);
  }
  *i += len;
  return cp;
}

using Shingles = std::map<std::vector<std::string>, int>;

Shingles Shingle(const std::vector<std::string>& t) {
  Shingles out;
  if (t.empty()) return out;
  if (t.size() < 4) {
    ++out[t];
    return out;
  }
  for (size_t i = 0; i + 4 <= t.size(); ++i)
    ++out[std::vector<std::string>(t.begin() + i, t.begin() + i + 4)];
  return out;
}

}  // namespace

bool IsWordCodePoint(char32_t cp) {
  if (cp < 0x80)
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
           (cp >= '0' && cp <= '9') || cp == '_';
  const Range* end = kWordRanges + std::size(kWordRanges);
  const Range* it =
      std::upper_bound(kWordRanges, end, cp,
                       [](char32_t v, const Range& r) { return v < r.first; });
  if (it == kWordRanges) return false;
  --it;
  return cp >= it->first && cp <= it->last;
}

std::vector<std::string> WordTokens(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    char32_t cp = Decode(text, &i);
    if (cp != 0xFFFFFFFF && IsWordCodePoint(cp)) {
      cur.append(text.substr(start, i - start));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

PageScore ScorePage(std::string_view predicted, std::string_view gold) {
  PageScore s;
  std::vector<std::string> pt = WordTokens(predicted);
  std::vector<std::string> gt = WordTokens(gold);
  s.exact = pt == gt;
  Shingles ps = Shingle(pt), gs = Shingle(gt);
  double tp = 0, fp = 0, fn = 0;
  for (const auto& [k, p] : ps) {
    auto it = gs.find(k);
    int g = it == gs.end() ? 0 : it->second;
    tp += std::min(g, p);
    fp += std::max(0, p - g);
  }
  for (const auto& [k, g] : gs) {
    auto it = ps.find(k);
    int p = it == ps.end() ? 0 : it->second;
    fn += std::max(0, g - p);
  }
  double total = tp + fp + fn;
  if (total > 0) {
    tp /= total;
    fp /= total;
    fn /= total;
  }
  s.tp = tp;
  s.fp = fp;
  s.fn = fn;
  s.has_prediction = tp + fp > 0;
  s.has_gold = tp + fn > 0;
  if (fp == 0 && fn == 0) {
    s.precision = s.recall = 1;
  } else {
    s.precision = tp + fp > 0 ? tp / (tp + fp) : 0;
    s.recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  }
  return s;
}

CorpusScore Aggregate(const std::vector<PageScore>& pages) {
  CorpusScore c;
  c.pages = static_cast<int>(pages.size());
  double p = 0, r = 0;
  int np = 0, nr = 0, exact = 0;
  for (const PageScore& s : pages) {
    // README step 4: FP = FN = 0 gives 1/1; otherwise pages without
    // prediction shingles leave the precision mean, without gold shingles
    // the recall mean.
    bool perfect = s.fp == 0 && s.fn == 0;
    if (perfect || s.has_prediction) {
      p += s.precision;
      ++np;
    }
    if (perfect || s.has_gold) {
      r += s.recall;
      ++nr;
    }
    if (s.exact) ++exact;
  }
  c.precision = np ? p / np : 0;
  c.recall = nr ? r / nr : 0;
  c.f1 = c.precision + c.recall > 0
             ? 2 * c.precision * c.recall / (c.precision + c.recall)
             : 0;
  c.accuracy = pages.empty() ? 0 : double(exact) / pages.size();
  return c;
}

}  // namespace newsflow::testing
