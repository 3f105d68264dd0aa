// Article-body extraction quality over the benchmark's dev split, scored with
// the benchmark's own metric. Fails below kF1Floor.

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/cleaner/html_cleaner.h"
#include "tests/daemon/cleaner/extraction_metric.h"
#include "tests/testing/corpus.h"

namespace newsflow {
namespace {

// Raised as the extractor improves; never lowered to make a change pass.
constexpr double kF1Floor = 0.983;

TEST(ExtractionMetricTest, WorkedExampleFromReadme) {
  testing::PageScore s = testing::ScorePage(
      "the cat sat on the mat Leave a Reply", "the cat sat on the mat");
  EXPECT_DOUBLE_EQ(s.precision, 0.5);
  EXPECT_DOUBLE_EQ(s.recall, 1.0);
  EXPECT_EQ(testing::WordTokens("don't 3.14 caf\xC3\xA9 x\xCC\x81y"),
            (std::vector<std::string>{"don", "t", "3", "14", "caf\xC3\xA9", "x",
                                      "y"}));
  // U+00BD VULGAR FRACTION ONE HALF is No (a \w); U+2019 is not.
  EXPECT_TRUE(testing::IsWordCodePoint(0xBD));
  EXPECT_FALSE(testing::IsWordCodePoint(0x2019));
  testing::PageScore empty = testing::ScorePage("", "some gold text here ok");
  EXPECT_FALSE(empty.has_prediction);
  testing::CorpusScore c = testing::Aggregate({s, empty});
  EXPECT_DOUBLE_EQ(c.precision, 0.5);  // the empty page leaves P's mean
  EXPECT_DOUBLE_EQ(c.recall, 0.5);
}

TEST(ExtractionEvalTest, DevSplitF1) {
  NF_REQUIRE_CORPUS("extraction/dev");
  const std::vector<testing::ExtractionPage> gold =
      testing::LoadExtractionPages("extraction/dev");
  ASSERT_EQ(gold.size(), 90u);

  struct Row {
    std::string id;
    testing::PageScore score;
  };
  std::vector<Row> rows;
  std::vector<testing::PageScore> scores;
  double seconds = 0;
  size_t bytes = 0;
  const char* dump = std::getenv("NEWSFLOW_EXTRACT_DUMP");
  for (const testing::ExtractionPage& entry : gold) {
    const std::string& id = entry.id;
    const std::string& html = entry.html;
    ASSERT_FALSE(html.empty()) << id;
    bytes += html.size();
    CleanOptions options;
    options.base_url = entry.url;
    auto t0 = std::chrono::steady_clock::now();
    ExtractedPage page = ExtractPage(html, options);
    seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    const std::string& body = entry.article_body;
    testing::PageScore s = testing::ScorePage(page.content.text, body);
    rows.push_back({id, s});
    scores.push_back(s);
    if (dump) {
      std::ofstream(std::string(dump) + "/" + id + ".pred.txt")
          << page.content.text;
      std::ofstream(std::string(dump) + "/" + id + ".gold.txt") << body;
    }
  }
  testing::CorpusScore c = testing::Aggregate(scores);
  std::printf("extraction dev: pages=%d P=%.4f R=%.4f F1=%.4f accuracy=%.4f\n",
              c.pages, c.precision, c.recall, c.f1, c.accuracy);
  std::printf("speed: %.1f pages/s, %.1f MB/s\n", rows.size() / seconds,
              bytes / seconds / 1e6);
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    auto f = [](const testing::PageScore& s) {
      return s.precision + s.recall > 0
                 ? 2 * s.precision * s.recall / (s.precision + s.recall)
                 : 0.0;
    };
    return f(a.score) < f(b.score);
  });
  std::printf("10 worst pages (id P R):\n");
  for (size_t i = 0; i < rows.size() && i < 10; ++i)
    std::printf("  %s %.3f %.3f\n", rows[i].id.substr(0, 16).c_str(),
                rows[i].score.precision, rows[i].score.recall);
  EXPECT_GE(c.f1, kF1Floor);
}

}  // namespace
}  // namespace newsflow
