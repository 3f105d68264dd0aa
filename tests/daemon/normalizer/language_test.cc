#include "daemon/normalizer/language.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "daemon/cleaner/html_cleaner.h"
#include "daemon/core/feed_item.h"
#include "daemon/normalizer/normalizer.h"

namespace newsflow {
namespace {

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(NEWSFLOW_SOURCE_DIR) +
                   "/tests/fixtures/languages/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(NormalizeLanguageTagTest, Bcp47Spelling) {
  EXPECT_EQ(NormalizeLanguageTag("en_US"), "en-US");
  EXPECT_EQ(NormalizeLanguageTag("EN"), "en");
  EXPECT_EQ(NormalizeLanguageTag(" de-de "), "de-DE");
  EXPECT_EQ(NormalizeLanguageTag("zh-hant-tw"), "zh-Hant-TW");
  EXPECT_EQ(NormalizeLanguageTag("es-419"), "es-419");
  EXPECT_EQ(NormalizeLanguageTag("en, fr"), "en");
  EXPECT_EQ(NormalizeLanguageTag("\"fr\""), "fr");
  EXPECT_EQ(NormalizeLanguageTag(""), "");
  EXPECT_EQ(NormalizeLanguageTag("und"), "");
  EXPECT_EQ(NormalizeLanguageTag("english"), "");  // not a subtag
  EXPECT_EQ(NormalizeLanguageTag("12"), "");
  EXPECT_EQ(NormalizeLanguageTag("en-US-!!"), "en-US");  // valid prefix kept
}

// The page set written for the tests: no declared language anywhere, so
// the normalizer's detection decides, through the real extraction.
TEST(LanguageDetectionTest, MultilingualPagesComeOutInTheirLanguage) {
  for (const char* lang :
       {"ja", "zh", "ko", "th", "ar", "ru", "el", "de", "en"}) {
    SCOPED_TRACE(lang);
    const std::string html = ReadFixture(std::string(lang) + ".html");
    ASSERT_FALSE(html.empty());
    ExtractedPage page = ExtractPage(html, {});
    ASSERT_FALSE(page.content.text.empty());
    ASSERT_EQ(page.metadata.language, "");
    FeedItem item;
    item.link = "https://news.example/a";
    NormalizeInput in;
    in.feed.id = "f";
    in.item = &item;
    in.content = &page.content;
    in.page = &page.metadata;
    Article a = Normalize(in);
    EXPECT_EQ(a.language, lang);
    EXPECT_EQ(DetectLanguage(page.content.text), lang);
  }
}

TEST(LanguageDetectionTest, ShortOrAmbiguousTextGivesNoLanguage) {
  EXPECT_EQ(DetectLanguage(""), "");
  EXPECT_EQ(DetectLanguage("OK"), "");
  EXPECT_EQ(DetectLanguage("Breaking news"), "");
  EXPECT_EQ(DetectLanguage("2026-03-01 12:00 UTC 42 17 99"), "");
  EXPECT_EQ(DetectLanguage("iPhone 17 Pro Max"), "");
  // Mixed halves of two languages: neither covers enough of the text.
  const std::string mixed =
      "In Hamburg ist am Samstag eine neue Brücke eröffnet worden, die viele "
      "Menschen besuchten. A new public library opened downtown on Saturday "
      "and hundreds of residents lined up before the doors opened.";
  EXPECT_EQ(DetectLanguage(mixed), "");
}

TEST(LanguageDetectionTest, DeclaredValueWinsUnlessItsScriptDoesNotMatch) {
  const std::string russian =
      "В субботу в Москве открылся новый городской парк на берегу реки. В "
      "первый же день его посетили тысячи жителей, которые гуляли по аллеям.";
  const std::string german =
      "In Hamburg ist am Samstag eine neue Fußgängerbrücke über die Elbe "
      "eröffnet worden. Tausende Menschen kamen schon am ersten Tag, um die "
      "Aussicht auf den Hafen zu genießen.";
  // Declared, plausible: kept as declared (normalized, region kept).
  EXPECT_EQ(ChooseLanguage("ru_RU", russian), "ru-RU");
  // Same script, different language: the declaration wins (documented).
  EXPECT_EQ(ChooseLanguage("nl", german), "nl");
  // Declared English on Cyrillic text: implausible, the detector wins.
  EXPECT_EQ(ChooseLanguage("en-US", russian), "ru");
  // Declared and the text says nothing: the declaration.
  EXPECT_EQ(ChooseLanguage("EN", "OK"), "en");
  // Nothing declared, nothing detectable: null.
  EXPECT_EQ(ChooseLanguage("", "OK"), "");
  // Nothing declared: detected.
  EXPECT_EQ(ChooseLanguage("", german), "de");
  // A declared value that is no tag counts as undeclared.
  EXPECT_EQ(ChooseLanguage("english", german), "de");
}

TEST(LanguageDetectionTest, OperatorOverrideIsNotSecondGuessed) {
  CleanedContent content;
  content.text =
      "В субботу в Москве открылся новый городской парк на берегу реки. В "
      "первый же день его посетили тысячи жителей, которые гуляли по аллеям.";
  FeedItem item;
  item.language = "de";
  NormalizeInput in;
  in.item = &item;
  in.content = &content;
  in.language_override = "EN_gb";
  EXPECT_EQ(Normalize(in).language, "en-GB");
  in.language_override.clear();
  EXPECT_EQ(Normalize(in).language, "ru");  // "de" is implausible here
  in.feed.language = "ru";
  item.language.clear();
  EXPECT_EQ(Normalize(in).language, "ru");
}

}  // namespace
}  // namespace newsflow
