#pragma once

// The article-extraction benchmark's metric (scrapinghub's evaluate.py, as
// restated in corpus/extraction/README.md): Python-\w tokens, 4-gram
// shingle multisets, per-page normalised TP/FP/FN, macro P/R, F1 from the
// means. Reused by the cleaner's evaluation test and by benchmarks.

#include <string>
#include <string_view>
#include <vector>

namespace newsflow::testing {

// Maximal runs of Python-\w code points of UTF-8 `text` (invalid bytes
// separate tokens).
std::vector<std::string> WordTokens(std::string_view text);

// True when code point `cp` is Python's \w (isalnum() or '_').
bool IsWordCodePoint(char32_t cp);

struct PageScore {
  // Normalised counts (sum to 1 unless all zero).
  double tp = 0, fp = 0, fn = 0;
  bool has_prediction = false;  // prediction has shingles
  bool has_gold = false;        // gold has shingles
  double precision = 0, recall = 0;
  bool exact = false;  // token sequences equal
};

PageScore ScorePage(std::string_view predicted, std::string_view gold);

struct CorpusScore {
  double precision = 0, recall = 0, f1 = 0, accuracy = 0;
  int pages = 0;
};

CorpusScore Aggregate(const std::vector<PageScore>& pages);

}  // namespace newsflow::testing
