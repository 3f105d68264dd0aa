#include "daemon/core/encoding.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/testing/hex.h"

namespace newsflow {
namespace {

using testing::FromHex;

std::string Decode(std::string_view body, std::string_view content_type,
                   DocumentKind kind, std::string* encoding = nullptr,
                   std::vector<std::string>* warnings = nullptr) {
  DecodedText d;
  DecodeToUtf8(body, content_type, kind, &d, warnings);
  if (encoding) *encoding = d.encoding;
  EXPECT_TRUE(IsValidUtf8(d.utf8));
  return std::string(d.utf8);
}

bool HasC1Control(std::string_view utf8) {
  // U+0080..U+009F are C2 80..C2 9F in UTF-8.
  for (size_t i = 0; i + 1 < utf8.size(); ++i) {
    if (static_cast<unsigned char>(utf8[i]) == 0xC2 &&
        static_cast<unsigned char>(utf8[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(utf8[i + 1]) <= 0x9F)
      return true;
  }
  return false;
}

TEST(EncodingTest, WhatwgLabels) {
  EXPECT_EQ(EncodingForLabel("ISO-8859-1"), "windows-1252");
  EXPECT_EQ(EncodingForLabel(" Latin1\t"), "windows-1252");
  EXPECT_EQ(EncodingForLabel("US-ASCII"), "windows-1252");
  EXPECT_EQ(EncodingForLabel("iso-8859-9"), "windows-1254");
  EXPECT_EQ(EncodingForLabel("tis-620"), "windows-874");
  EXPECT_EQ(EncodingForLabel("GB2312"), "gbk");
  EXPECT_EQ(EncodingForLabel("x-sjis"), "shift_jis");
  EXPECT_EQ(EncodingForLabel("ks_c_5601-1987"), "euc-kr");
  EXPECT_EQ(EncodingForLabel("utf8"), "utf-8");
  EXPECT_EQ(EncodingForLabel("iso-2022-kr"), "replacement");
  EXPECT_EQ(EncodingForLabel("no-such-charset"), "");
  EXPECT_EQ(EncodingForLabel(""), "");
}

TEST(EncodingTest, MetaPrescan) {
  EXPECT_EQ(SniffMetaCharset("<html><head><meta charset=\"Shift_JIS\">"),
            "shift_jis");
  EXPECT_EQ(SniffMetaCharset("<meta http-equiv=\"Content-Type\" "
                             "content=\"text/html; charset=koi8-r\">"),
            "koi8-r");
  EXPECT_EQ(SniffMetaCharset("<META HTTP-EQUIV=content-type "
                             "CONTENT='text/html;charset=EUC-KR'>"),
            "euc-kr");
  // In a comment, or in text: not a declaration.
  EXPECT_EQ(SniffMetaCharset("<!-- <meta charset=gbk> --><p>charset=gbk</p>"),
            "");
  EXPECT_EQ(SniffMetaCharset("<metadata charset=gbk>"), "");
}

TEST(EncodingTest, HtmlCharsetOnlyInHttpHeader) {
  const std::string body =
      "<html><head><title>t</title></head><body><p>" +
      FromHex(
          "cdeee2eef1f2e820e4edff3a20e220cceef1eae2e520eff0eef8ebe020e2f1"
          "f2f0e5f7e02e") +
      "</p></body></html>";
  std::string enc;
  const std::string out = Decode(body, "text/html; charset=windows-1251",
                                 DocumentKind::kHtml, &enc);
  EXPECT_EQ(enc, "windows-1251");
  EXPECT_NE(out.find("Новости дня: в Москве прошла встреча."),
            std::string::npos);
  EXPECT_EQ(out.find("\xEF\xBF\xBD"), std::string::npos);
}

TEST(EncodingTest, Iso88591IsWindows1252) {
  const std::string body =
      "<meta charset=\"iso-8859-1\"><p>\x93Quoted\x94 \x96 it\x92s caf\xE9</p>";
  std::string enc;
  const std::string out = Decode(body, "", DocumentKind::kHtml, &enc);
  EXPECT_EQ(enc, "windows-1252");
  EXPECT_NE(out.find("“Quoted” – it’s café"), std::string::npos) << out;
  EXPECT_FALSE(HasC1Control(out));
  // Same through the HTTP header, and for an XML feed's declaration.
  EXPECT_FALSE(
      HasC1Control(Decode("<p>\x93x\x94</p>", "text/html; charset=ISO-8859-1",
                          DocumentKind::kHtml)));
  const std::string xml = Decode(
      "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss>\x93x\x94</rss>", "",
      DocumentKind::kXml);
  EXPECT_NE(xml.find("“x”"), std::string::npos);
}

TEST(EncodingTest, Byte9DKeepsTheTextAfterIt) {
  // 0x9D is undefined in windows-1252 (libxml2's iconv path stopped there).
  const std::string body =
      "<meta charset=windows-1252><p>before \x9D after, and more text</p>";
  const std::string out = Decode(body, "", DocumentKind::kHtml);
  EXPECT_NE(out.find("before \xEF\xBF\xBD after, and more text</p>"),
            std::string::npos)
      << out;
  EXPECT_FALSE(HasC1Control(out));
}

struct Case {
  const char* label;
  const char* hex;
  const char* text;
};

const Case kCases[] = {
    {"shift_jis",
     "93fa967b8cea82cc8b4c8e9682c582b78142938c8b9e82c589ef8b6382aa8a4a82a982ea"
     "82bd8142",
     "日本語の記事です。東京で会議が開かれた。"},
    {"gbk", "d6d0cec4d0c2cec5b1a8b5c0a3acb1b1bea9bdf1ccecccecc6f8c7e7c0caa1a3",
     "中文新闻报道，北京今天天气晴朗。"},
    {"gb2312",
     "d6d0cec4d0c2cec5b1a8b5c0a3acb1b1bea9bdf1ccecccecc6f8c7e7c0caa1a3",
     "中文新闻报道，北京今天天气晴朗。"},
    // Four-byte GB18030 sequences (U+0F40) and the euro sign.
    {"gb18030", "b2d8cec4d7d6c4b88132ee38bacdc5b7d4aaa2e3", "藏文字母ཀ和欧元€"},
    {"euc-kr",
     "c7d1b1b9beee20b1e2bbe7c0d4b4cfb4d92e20bcadbfefbfa1bcad20c8b8c0c7b0a120bf"
     "adb7c8b4d92e",
     "한국어 기사입니다. 서울에서 회의가 열렸다."},
    {"koi8-r", "f0d2c9d7c5d42c20cdc9d22120eecfd7cfd3d4c920c9da20edcfd3cbd7d92e",
     "Привет, мир! Новости из Москвы."},
    {"windows-1256", "e3d1cdc8c720c8c7e1dac7e1e3a120c3cec8c7d120c7e1ede6e32e",
     "مرحبا بالعالم، أخبار اليوم."},
    {"iso-8859-7",
     "cae1ebe7ecddf1e120eafcf3ece52c20e5e9e4def3e5e9f220f3deece5f1e12e",
     "Καλημέρα κόσμε, ειδήσεις σήμερα."},
    {"iso-2022-jp", "1b2442467c4b5c386c244e254b2565213c25391b2842",
     "日本語のニュース"},
};

TEST(EncodingTest, LegacyCharsetsFromMetaHeaderAndXmlDeclaration) {
  for (const Case& c : kCases) {
    const std::string text = FromHex(c.hex);
    const std::string html = std::string("<html><head><meta charset=\"") +
                             c.label + "\"></head><body><p>" + text +
                             "</p></body></html>";
    std::string out = Decode(html, "", DocumentKind::kHtml);
    EXPECT_NE(out.find(std::string("<p>") + c.text + "</p>"), std::string::npos)
        << c.label << ": " << out;
    EXPECT_EQ(out.find("\xEF\xBF\xBD"), std::string::npos) << c.label;
    out = Decode("<p>" + text + "</p>",
                 std::string("text/html; charset=\"") + c.label + "\"",
                 DocumentKind::kHtml);
    EXPECT_EQ(out, std::string("<p>") + c.text + "</p>") << c.label;
    out = Decode(std::string("<?xml version=\"1.0\" encoding=\"") + c.label +
                     "\"?><t>" + text + "</t>",
                 "", DocumentKind::kXml);
    EXPECT_NE(out.find(std::string("<t>") + c.text + "</t>"), std::string::npos)
        << c.label;
  }
}

TEST(EncodingTest, HttpHeaderWinsOverMeta) {
  const std::string html =
      "<meta charset=\"windows-1252\"><p>" +
      FromHex(
          "f0d2c9d7c5d42c20cdc9d22120eecfd7cfd3d4c920c9da20edcfd3cbd7d92e") +
      "</p>";
  EXPECT_NE(Decode(html, "text/html;charset=KOI8-R", DocumentKind::kHtml)
                .find("Привет, мир!"),
            std::string::npos);
}

TEST(EncodingTest, Utf8ValidityDecides) {
  std::vector<std::string> warnings;
  std::string enc;
  // Declared latin-1, but the bytes are UTF-8: UTF-8.
  EXPECT_EQ(Decode("<p>Grüße – “ok”</p>", "text/html; charset=iso-8859-1",
                   DocumentKind::kHtml, &enc, &warnings),
            "<p>Grüße – “ok”</p>");
  EXPECT_EQ(enc, "utf-8");
  EXPECT_EQ(warnings.size(), 1u);
  // Undeclared, not UTF-8 at all: windows-1252.
  EXPECT_EQ(Decode("<p>caf\xE9 \x93x\x94</p>", "", DocumentKind::kHtml, &enc),
            "<p>café “x”</p>");
  EXPECT_EQ(enc, "windows-1252");
  // Undeclared latin-1 in which one letter pair happens to be a valid UTF-8
  // sequence (C3 A9): more invalid bytes than valid sequences, windows-1252.
  EXPECT_EQ(Decode("<p>caf\xE9 d\xE9j\xE0 \xC3\xA9t\xE9</p>", "",
                   DocumentKind::kHtml, &enc),
            "<p>café déjà Ã©té</p>");
  EXPECT_EQ(enc, "windows-1252");
  // UTF-8 with one stray byte: U+FFFD there, the rest intact.
  EXPECT_EQ(Decode("<p>Grüße \xFF und “mehr”</p>", "", DocumentKind::kHtml),
            "<p>Grüße \xEF\xBF\xBD und “mehr”</p>");
  // Undecodable bytes in a multi-byte charset: U+FFFD, decoding goes on.
  const std::string sjis = FromHex("93fa967b") + "\xFF\xFF" + FromHex("8cea");
  const std::string out =
      Decode(sjis, "text/html; charset=shift_jis", DocumentKind::kHtml);
  EXPECT_NE(out.find("日本"), std::string::npos) << out;
  EXPECT_NE(out.find("\xEF\xBF\xBD"), std::string::npos) << out;
  EXPECT_NE(out.find("語"), std::string::npos) << out;
}

TEST(EncodingTest, ByteOrderMarks) {
  std::string enc;
  EXPECT_EQ(Decode("\xEF\xBB\xBF<p>x</p>", "text/html; charset=koi8-r",
                   DocumentKind::kHtml, &enc),
            "<p>x</p>");
  EXPECT_EQ(enc, "utf-8");
  const std::string utf16le("\xFF\xFE<\0p\0>\0\xE9\0", 10);
  EXPECT_EQ(Decode(utf16le, "", DocumentKind::kHtml, &enc), "<p>é");
  EXPECT_EQ(enc, "utf-16le");
}

TEST(EncodingTest, RepairUtf8) {
  std::string out;
  EXPECT_FALSE(RepairUtf8("fine ü", &out));
  EXPECT_TRUE(
      RepairUtf8("a\x80"
                 "b\xE2\x82",
                 &out));
  EXPECT_EQ(out,
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\xEF\xBF\xBD");
}

}  // namespace
}  // namespace newsflow
