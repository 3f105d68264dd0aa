#pragma once

// The external corpora (feeds, realfeeds, extraction, seed) live outside the
// repository, in $NEWSFLOW_CORPUS_DIR (default ../shared/corpus beside the
// checkout, fixed at configure time). A test that needs one starts with
//
//   NF_REQUIRE_CORPUS("realfeeds");
//
// which, when the folder is absent, reports the test skipped with the reason
// (ctest counts it as skipped, not passed), or fails it under CI=true, where
// a missing corpus means a broken CI setup rather than a bare clone.
// Thread-compatible: reads the environment only.

#include <string>
#include <vector>

namespace newsflow::testing {

// $NEWSFLOW_CORPUS_DIR when set and non-empty, else the configured default.
std::string CorpusDir();

// CorpusDir() + "/" + sub.
std::string CorpusPath(const std::string& sub);

// Empty when CorpusPath(sub) is a directory; otherwise why the test cannot
// run, naming the path and the variable to set.
std::string CorpusMissingReason(const std::string& sub);

// True under CI=true: a missing corpus is then a failure, not a skip.
bool CorpusRequired();

// One page of an extraction split (e.g. "extraction/dev"): its id, the URL
// it was fetched from, the gold article text and the page's HTML.
struct ExtractionPage {
  std::string id;
  std::string url;
  std::string article_body;
  std::string html;  // empty when html/<id>.html.gz could not be read
};

// The pages of CorpusPath(sub), in ground-truth.json's key order; empty when
// its ground-truth.json is missing or unreadable.
std::vector<ExtractionPage> LoadExtractionPages(const std::string& sub);

// The same from the split directory `dir` itself (bench/extract's --corpus).
std::vector<ExtractionPage> LoadExtractionPagesFrom(const std::string& dir);

}  // namespace newsflow::testing

// Use at the top of a TEST body or a fixture's SetUp (it may return).
// Needs <gtest/gtest.h>.
#define NF_REQUIRE_CORPUS(sub)                                        \
  do {                                                                \
    const std::string nf_corpus_reason_ =                             \
        ::newsflow::testing::CorpusMissingReason(sub);                \
    if (!nf_corpus_reason_.empty()) {                                 \
      if (::newsflow::testing::CorpusRequired()) {                    \
        GTEST_FAIL() << nf_corpus_reason_                             \
                     << " (CI=true: the corpora are required in CI)"; \
      }                                                               \
      GTEST_SKIP() << nf_corpus_reason_;                              \
    }                                                                 \
  } while (false)
