// Pages in legacy charsets through ExtractPage: decoded by the one encoding
// module (daemon/core/encoding.h) before libxml2 sees them; the text and its
// word count (daemon/core/words.h) come out right in every script.

#include <gtest/gtest.h>

#include <string>

#include "daemon/cleaner/html_cleaner.h"
#include "daemon/core/words.h"
#include "tests/testing/hex.h"

namespace newsflow {
namespace {

using testing::FromHex;

bool HasC1Control(std::string_view utf8) {
  for (size_t i = 0; i + 1 < utf8.size(); ++i) {
    if (static_cast<unsigned char>(utf8[i]) == 0xC2 &&
        static_cast<unsigned char>(utf8[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(utf8[i + 1]) <= 0x9F)
      return true;
  }
  return false;
}

struct PageCase {
  const char* language;
  const char* sentence;  // UTF-8
  const char* hex;       // the sentence in the page's charset
  const char* declared;  // "header", "meta" or "http-equiv"
  const char* label;
  int words;  // ICU words in the sentence
};

// A multilingual page set: each page declares its charset one way.
const PageCase kPages[] = {
    {"Japanese", "日本語の記事です。東京で会議が開かれた。",
     "93fa967b8cea82cc8b4c8e9682c582b78142938c8b9e82c589ef8b6382aa8a4a82a982ea"
     "82bd8142",
     "header", "Shift_JIS", 12},
    {"Chinese", "中文新闻报道，北京今天天气晴朗。",
     "d6d0cec4d0c2cec5b1a8b5c0a3acb1b1bea9bdf1ccecccecc6f8c7e7c0caa1a3", "meta",
     "gb2312", 7},
    {"Korean", "한국어 기사입니다. 서울에서 회의가 열렸다.",
     "c7d1b1b9beee20b1e2bbe7c0d4b4cfb4d92e20bcadbfefbfa1bcad20c8b8c0c7b0a120bf"
     "adb7c8b4d92e",
     "http-equiv", "euc-kr", 5},
    {"Thai", "ข่าววันนี้ รัฐบาลประกาศมาตรการใหม่",
     "a2e8d2c7c7d1b9b9d5e920c3d1b0bad2c5bbc3d0a1d2c8c1d2b5c3a1d2c3e3cbc1e8",
     "meta", "tis-620", 7},
    {"Arabic", "مرحبا بالعالم، أخبار اليوم.",
     "e3d1cdc8c720c8c7e1dac7e1e3a120c3cec8c7d120c7e1ede6e32e", "meta",
     "windows-1256", 4},
    {"Russian", "Привет, мир! Новости из Москвы.",
     "f0d2c9d7c5d42c20cdc9d22120eecfd7cfd3d4c920c9da20edcfd3cbd7d92e", "header",
     "koi8-r", 5},
    {"Greek", "Καλημέρα κόσμε, ειδήσεις σήμερα.",
     "cae1ebe7ecddf1e120eafcf3ece52c20e5e9e4def3e5e9f220f3deece5f1e12e", "meta",
     "ISO-8859-7", 4},
    // Declared ISO-8859-1, written in windows-1252 („ “ are 0x84 0x93).
    {"German", "Grüße aus Köln: „Die Straßenbahn fährt wieder“, sagte er.",
     "4772fcdf6520617573204bf66c6e3a20844469652053747261df656e6261686e2066e468"
     "727420776965646572932c2073616774652065722e",
     "meta", "ISO-8859-1", 9},
};

TEST(PageCharsetTest, MultilingualPagesComeOutInTheRightCharset) {
  for (const PageCase& c : kPages) {
    const std::string sentence = FromHex(c.hex);
    std::string para;
    for (int i = 0; i < 4; ++i) para += (i ? " " : "") + sentence;
    const std::string declared = c.declared;
    std::string head = "<title>News</title>";
    if (declared == "meta") {
      head = std::string("<meta charset=\"") + c.label + "\">" + head;
    } else if (declared == "http-equiv") {
      head = std::string(
                 "<meta http-equiv=\"Content-Type\" "
                 "content=\"text/html; charset=") +
             c.label + "\">" + head;
    }
    const std::string html = "<!DOCTYPE html><html><head>" + head +
                             "</head><body><article><p>" + para + "</p><p>" +
                             para + "</p><p>" + para +
                             "</p></article></body></html>";
    CleanOptions options;
    if (declared == "header")
      options.content_type = std::string("text/html; charset=") + c.label;
    ExtractedPage page = ExtractPage(html, options);
    const std::string& text = page.content.text;
    EXPECT_NE(text.find(c.sentence), std::string::npos)
        << c.language << ": " << text;
    EXPECT_EQ(text.find("\xEF\xBF\xBD"), std::string::npos) << c.language;
    EXPECT_FALSE(HasC1Control(text)) << c.language;
    EXPECT_EQ(CountWords(text), 12 * c.words) << c.language << ": " << text;
    EXPECT_NE(page.content.html.find(c.sentence), std::string::npos)
        << c.language;
  }
}

TEST(PageCharsetTest, CharsetOnlyInHttpHeaderHasNoReplacementCharacters) {
  const std::string para =
      FromHex("f0d2c9d7c5d42c20cdc9d22120eecfd7cfd3d4c920c9da20edcfd3cbd7d92e");
  const std::string html = "<html><body><article><p>" + para + " " + para +
                           "</p></article></body></html>";
  CleanOptions options;
  options.content_type = "text/html; charset=KOI8-R";
  const std::string text = ExtractPage(html, options).content.text;
  EXPECT_NE(text.find("Привет, мир! Новости из Москвы."), std::string::npos)
      << text;
  EXPECT_EQ(text.find("\xEF\xBF\xBD"), std::string::npos) << text;
  // Without the header the bytes are not UTF-8: read as windows-1252, so
  // the header is what made the difference.
  EXPECT_EQ(ExtractPage(html).content.text.find("Привет"), std::string::npos);
}

TEST(PageCharsetTest, Iso88591PageWithCurlyQuotes) {
  const std::string html =
      "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
      "charset=iso-8859-1\"></head><body><article><p>\x93Quoted\x94 \x96 "
      "it\x92s the caf\xE9.</p></article></body></html>";
  const std::string text = ExtractPage(html).content.text;
  EXPECT_EQ(text, "“Quoted” – it’s the café.");
  EXPECT_FALSE(HasC1Control(text));
}

TEST(PageCharsetTest, Byte9DKeepsTheTextAfterIt) {
  const std::string html =
      "<html><head><meta charset=\"windows-1252\"></head><body><article>"
      "<p>Before the odd byte \x9D the story goes on.</p>"
      "<p>A second paragraph after it.</p></article></body></html>";
  const std::string text = ExtractPage(html).content.text;
  EXPECT_NE(text.find("the story goes on."), std::string::npos) << text;
  EXPECT_NE(text.find("A second paragraph after it."), std::string::npos)
      << text;
}

TEST(PageCharsetTest, LongJapaneseFeedTextIsNotATeaser) {
  std::string body;
  while (body.size() < 1700 * 3) {
    body +=
        "<p>政府は十五日、新しい経済対策を発表した。専門家は景気の回復に"
        "期待を示している。</p>";
  }
  CleanedContent c = CleanFragment(body);
  EXPECT_GE(c.text.size(), 1700u * 3 - 300);
  EXPECT_GT(CountWords(c.text), 500);
  EXPECT_FALSE(LooksLikeTeaser(body, c));
  // A short Japanese teaser still is one.
  const std::string teaser = "<p>政府は新しい経済対策を発表した。</p>";
  EXPECT_TRUE(LooksLikeTeaser(teaser, CleanFragment(teaser)));
}

}  // namespace
}  // namespace newsflow
