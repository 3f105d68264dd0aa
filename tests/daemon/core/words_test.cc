#include "daemon/core/words.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace newsflow {
namespace {

TEST(CountWordsTest, Latin) {
  EXPECT_EQ(CountWords("Trade through the Torkham crossing."), 5);
  EXPECT_EQ(CountWords("don't stop"), 2);
  EXPECT_EQ(CountWords(""), 0);
  EXPECT_EQ(CountWords("  ... -- !!  "), 0);
  EXPECT_EQ(CountWords("U.S. forces spent $3.14 billion, or 1,000 each."), 8);
  EXPECT_EQ(CountWords("Grüße aus Köln, sagte Müller."), 5);
}

TEST(CountWordsTest, EveryScript) {
  // Dictionary-based segmentation: words, not characters or runs.
  EXPECT_EQ(CountWords("日本"), 1);
  EXPECT_EQ(CountWords("東京で会議が開かれた。"),
            CountWordsIcu("東京で会議が開かれた。"));
  EXPECT_GE(CountWords("東京で会議が開かれた。"), 5);
  EXPECT_GE(CountWords("北京今天天气晴朗，新闻报道说。"), 5);
  EXPECT_GE(CountWords("สวัสดีครับ วันนี้อากาศดีมาก"), 4);
  EXPECT_EQ(CountWords("한국어 기사입니다. 서울에서 회의가 열렸다."), 5);
  EXPECT_EQ(CountWords("مرحبا بالعالم، أخبار اليوم."), 4);
  EXPECT_EQ(CountWords("Привет, мир! Новости из Москвы."), 5);
  EXPECT_EQ(CountWords("Καλημέρα κόσμε, ειδήσεις σήμερα."), 4);
}

TEST(CountWordsTest, LongJapaneseTextHasHundredsOfWords) {
  std::string text;
  while (text.size() < 1700 * 3) {
    text +=
        "政府は十五日、新しい経済対策を発表した。専門家は景気の回復に"
        "期待を示している。";
  }
  EXPECT_GT(CountWords(text), 500);
}

// The ASCII scanner must agree with ICU on every ASCII input it takes.
TEST(CountWordsTest, AsciiFastPathMatchesIcu) {
  const std::string kFixed[] = {"a.b",
                                "a..b",
                                "a.1",
                                "1.a",
                                "1.2.3",
                                "1,2",
                                "a,b",
                                "a;b",
                                "1;2",
                                "a'b",
                                "1'2",
                                "a:b",
                                "1:2",
                                "'a'",
                                "a.",
                                ".a",
                                "e.g. this",
                                "x-ray 3-4",
                                "It's 9:30 a.m. on Jan. 5, 2025.",
                                "C++ and C#",
                                "foo@example.com http://x.y/z?q=1&r=2",
                                "\t\r\n",
                                "A1b2.C3",
                                "1a.b",
                                "don't-stop",
                                "O'Neil's",
                                "$100.00/hr",
                                "50%",
                                "3.14e10"};
  for (const std::string& s : kFixed) {
    EXPECT_EQ(CountWords(s), CountWordsIcu(s)) << "'" << s << "'";
  }
  std::mt19937 rng(42);
  const std::string alphabet = "aZ09 .,;:'\"-!?()@#$%&*/\\\n\t+=<>[]{}|~`^";
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> len(0, 40);
  for (int i = 0; i < 50000; ++i) {
    std::string s;
    const int n = len(rng);
    for (int k = 0; k < n; ++k) s.push_back(alphabet[pick(rng)]);
    ASSERT_EQ(CountWords(s), CountWordsIcu(s)) << "'" << s << "'";
  }
}

// Mixed text: ASCII chunks by the scanner, the others by ICU, summed; must
// equal ICU over the whole text (marks after spaces, ZWJ, CJK, Thai, quotes,
// vertical tab, form feed).
TEST(CountWordsTest, MixedTextMatchesIcu) {
  const std::vector<std::string> pieces = {
      "a",
      "Z",
      "9",
      " ",
      "  ",
      "\t",
      "\n",
      "\r",
      "\v",
      "\f",
      ".",
      ",",
      "'",
      "_",
      "@",
      "-",
      "é",
      "“",
      "”",
      "’",
      "\xCC\x81" /* U+0301 */,
      "\xE2\x80\x8D" /* ZWJ */,
      "\xC2\xA0" /* NBSP */,
      "日本",
      "語",
      "の",
      "東京",
      "ข่าว",
      "วันนี้",
      "한국어",
      "Привет",
      "مرحبا",
      "😀",
      "1,5",
      "\xE3\x80\x80" /* ideographic space */};
  std::mt19937 rng(7);
  std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1);
  std::uniform_int_distribution<int> len(0, 30);
  for (int i = 0; i < 30000; ++i) {
    std::string s;
    const int n = len(rng);
    for (int k = 0; k < n; ++k) s += pieces[pick(rng)];
    ASSERT_EQ(CountWords(s), CountWordsIcu(s)) << "'" << s << "'";
  }
  const std::string article =
      "He said “it’s fine” — and left. 東京で会議が開かれた。 The end_game, "
      "ok? Café au lait costs 3.50 €.";
  EXPECT_EQ(CountWords(article), CountWordsIcu(article));
}

}  // namespace
}  // namespace newsflow
