#include "daemon/cleaner/html_cleaner.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/cleaner/dom.h"
#include "daemon/cleaner/metadata.h"
#include "daemon/cleaner/selector.h"
#include "daemon/core/time_util.h"
#include "tests/testing/corpus.h"

namespace newsflow {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string SeedPath(const char* name) {
  return testing::CorpusPath("seed") + "/" + name;
}
std::string FixturePath(const char* name) {
  return std::string(NEWSFLOW_SOURCE_DIR) + "/tests/fixtures/cleaner/" + name;
}

std::vector<std::string> Tokens(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \n\t\r");
  size_t e = s.find_last_not_of(" \n\t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

const char* const kBoilerplate[] = {"Leave a Reply",
                                    "Your email address will not be published",
                                    "Required fields are marked",
                                    "Share this",
                                    "Subscribe",
                                    "Related Posts",
                                    "appeared first on"};

void ExpectNoBoilerplate(const CleanedContent& c) {
  for (const char* b : kBoilerplate) {
    EXPECT_EQ(c.html.find(b), std::string::npos) << b << " in html";
    EXPECT_EQ(c.text.find(b), std::string::npos) << b << " in text";
  }
}

TEST(ExtractPageTest, SeedArticleMatchesGold) {
  NF_REQUIRE_CORPUS("seed");
  std::string html = ReadFile(SeedPath("article.html"));
  ASSERT_FALSE(html.empty());
  ExtractedPage page = ExtractPage(html);
  std::string gold = ReadFile(SeedPath("article.gold.txt"));
  EXPECT_EQ(Tokens(page.content.text), Tokens(gold));
  EXPECT_EQ(page.content.text, Trim(gold));
  ExpectNoBoilerplate(page.content);

  const PageMetadata& m = page.metadata;
  EXPECT_EQ(m.title,
            "Taliban Claims Killing 58 Pakistani Soldiers in Fierce "
            "Cross-Border Clashes");
  ASSERT_EQ(m.authors.size(), 1u);
  EXPECT_EQ(m.authors[0], "Staff Reporter");
  ASSERT_TRUE(m.published.has_value());
  EXPECT_EQ(FormatRfc3339(*m.published), "2025-10-12T01:40:00Z");
  EXPECT_EQ(m.canonical_url,
            "https://frontier-ledger.example/2025/10/12/"
            "taliban-claims-killing-58-pakistani-soldiers/");
  EXPECT_EQ(m.image,
            "https://frontier-ledger.example/wp-content/uploads/2025/10/"
            "durand-line.jpg");
  EXPECT_EQ(m.site_name, "Frontier Ledger");
  EXPECT_EQ(m.language, "en-US");
}

TEST(CleanFragmentTest, SeedItem2KeepsOnlyTheTwoParagraphs) {
  std::string html = ReadFile(FixturePath("seed_item2_content.html"));
  ASSERT_FALSE(html.empty());
  CleanedContent c = CleanFragment(html);
  EXPECT_EQ(c.text,
            "Trade through the Torkham crossing remained suspended for a third "
            "day on Sunday as talks between border officials stalled, leaving "
            "hundreds of lorries stranded on both sides.\n\n"
            "Traders said perishable goods worth millions of rupees were at "
            "risk, and transporters called on both governments to reopen the "
            "route while negotiations continue.");
  ExpectNoBoilerplate(c);
  EXPECT_EQ(c.html.find("<img"), std::string::npos) << c.html;
  EXPECT_EQ(c.html.find("<h3"), std::string::npos) << c.html;
  EXPECT_FALSE(LooksLikeTeaser(html, c));
}

TEST(CleanFragmentTest, SeedItem1DescriptionIsTeaser) {
  std::string html = ReadFile(FixturePath("seed_item1_description.html"));
  ASSERT_FALSE(html.empty());
  CleanedContent c = CleanFragment(html);
  ExpectNoBoilerplate(c);
  EXPECT_EQ(c.text.find("Continue reading"), std::string::npos) << c.text;
  EXPECT_TRUE(LooksLikeTeaser(html, c));
}

TEST(CleanFragmentTest, DropsScriptsHandlersAndUnsafeUrls) {
  CleanedContent c = CleanFragment(
      "<p onclick=\"evil()\">Hi <a href=\"javascript:alert(1)\">x</a> "
      "<a href=\" JaVa\tScRiPt:alert(1)\">y</a> "
      "<img src=\"data:image/png;base64,AAAA\"><img src=\"vbscript:x\">"
      "<script>alert(1)</script><style>p{}</style>"
      "<iframe src=\"https://evil.example/\"></iframe>"
      "<iframe src=\"https://www.youtube.com/embed/abc\"></iframe>"
      "<form><input value=\"v\"><button>B</button></form></p>");
  EXPECT_EQ(c.html.find("onclick"), std::string::npos) << c.html;
  // The only "script" allowed is the sandbox token of the kept player
  // iframe ("allow-scripts": the player needs it, the sandbox is the point).
  std::string without_sandbox = c.html;
  const std::string sandbox =
      " sandbox=\"allow-scripts allow-same-origin allow-presentation "
      "allow-popups\"";
  if (size_t at = without_sandbox.find(sandbox); at != std::string::npos) {
    without_sandbox.erase(at, sandbox.size());
  }
  EXPECT_EQ(without_sandbox.find("script"), std::string::npos) << c.html;
  EXPECT_EQ(c.html.find("data:"), std::string::npos) << c.html;
  EXPECT_EQ(c.html.find("vbscript"), std::string::npos) << c.html;
  EXPECT_EQ(c.html.find("evil.example"), std::string::npos) << c.html;
  EXPECT_NE(c.html.find("https://www.youtube.com/embed/abc"), std::string::npos)
      << c.html;
  EXPECT_EQ(c.html.find("<form"), std::string::npos) << c.html;
  EXPECT_EQ(c.text, "Hi x y");
}

TEST(CleanFragmentTest, ResolvesUrlsAndStripsTracking) {
  CleanOptions o;
  o.base_url = "https://news.example/a/b/story.html";
  CleanedContent c = CleanFragment(
      "<p><a href=\"../c/d.html?id=4&utm_source=rss&fbclid=zz&x=1#top\">l</a>"
      "<img src=\"/img/p.jpg?gclid=1\" alt=\"a &quot;q&quot;\"></p>",
      o);
  EXPECT_NE(c.html.find("href=\"https://news.example/a/c/d.html?id=4&amp;x=1"
                        "#top\""),
            std::string::npos)
      << c.html;
  EXPECT_NE(c.html.find("src=\"https://news.example/img/p.jpg\""),
            std::string::npos)
      << c.html;
  EXPECT_NE(c.html.find("alt=\"a &quot;q&quot;\""), std::string::npos)
      << c.html;
}

TEST(CleanFragmentTest, DropsTrackingPixels) {
  CleanedContent c = CleanFragment(
      "<p>Body text here.</p><img src=\"https://x.example/p.gif\" width=\"1\" "
      "height=\"1\"><img src=\"http://feeds.feedburner.com/~r/a/~4/b\">"
      "<img src=\"https://x.example/photo.jpg\" width=\"600\">");
  EXPECT_EQ(c.html.find("p.gif"), std::string::npos) << c.html;
  EXPECT_EQ(c.html.find("feedburner"), std::string::npos) << c.html;
  EXPECT_NE(c.html.find("photo.jpg"), std::string::npos) << c.html;
}

TEST(HtmlToPlainTextTest, TextFormat) {
  EXPECT_EQ(HtmlToPlainText("<h2>Head</h2><p>One &amp;  two\n three</p>"
                            "<ul><li>a</li><li>b</li></ul><p>x<br>y</p>"),
            "Head\n\nOne & two three\n\na\nb\n\nx\ny");
  EXPECT_EQ(HtmlToPlainText("  plain   text "), "plain text");
  // <pre> keeps indentation, blank lines and tabs; its trailing newline
  // gives way to the paragraph break.
  EXPECT_EQ(HtmlToPlainText("<p>a</p><pre>\n  x = 1\n\n\ty = <b>2</b>\n</pre>"
                            "<p>b</p>"),
            "a\n\n  x = 1\n\n\ty = 2\n\nb");
  EXPECT_EQ(HtmlToPlainText("<pre>  lead\r\nnext  </pre>"), "  lead\nnext");
  EXPECT_EQ(HtmlToPlainText(""), "");
}

TEST(ExtractPageTest, CommentFormTailIsRemoved) {
  std::string html =
      "<html><body><div class=\"post\">"
      "<p>First paragraph of the story, with enough words to count as text "
      "for the extractor, and some commas, here, and there.</p>"
      "<p>Second paragraph of the story, also long enough to matter, with a "
      "comma or two, for the scoring to pick it up.</p>"
      "<h3>3 Comments</h3><p>Great post, thanks, really enjoyed it, "
      "truly.</p>"
      "<h3>Leave a Reply</h3><p>Your email address will not be published.</p>"
      "</div></body></html>";
  ExtractedPage p = ExtractPage(html);
  EXPECT_NE(p.content.text.find("Second paragraph"), std::string::npos);
  EXPECT_EQ(p.content.text.find("Comments"), std::string::npos)
      << p.content.text;
  EXPECT_EQ(p.content.text.find("Great post"), std::string::npos)
      << p.content.text;
  ExpectNoBoilerplate(p.content);
}

TEST(DomTest, StripRawTextBodies) {
  using cleaner::StripRawTextBodies;
  EXPECT_EQ(StripRawTextBodies("<p>a</p><script>if (a<b) x='</p>';</script>b"),
            "<p>a</p><script></script>b");
  EXPECT_EQ(StripRawTextBodies("<STYLE type=x>p{}</Style >c"),
            "<STYLE type=x></Style >c");
  // JSON-LD stays (metadata reads it).
  std::string ld =
      "<script type=\"application/ld+json\">{\"a\":\"<b>\"}</script>";
  EXPECT_EQ(StripRawTextBodies(ld), ld);
  // Not tags: comments, quoted attribute values, "<" in text.
  std::string keep =
      "<!-- <script>x</script> --><a title=\"<script>\">t</a> 1 < 2 "
      "<scripts>y</scripts>";
  EXPECT_EQ(StripRawTextBodies(keep), keep);
  EXPECT_EQ(StripRawTextBodies("a<svg x=1><svg><path d=\"M0\"/></svg>"
                               "<title>t</title></SVG>b<svg/>c"),
            "a<svg x=1></SVG>b<svg/>c");
  // Unused attributes go, the rest of the tag stays byte for byte.
  EXPECT_EQ(
      StripRawTextBodies("<img data-props='{\"a\":\"<b>\"}' src=x.png "
                         "srcset=\"a 1x, b 2x\" data-src=y.png onload=f() "
                         "aria-label=z aria-hidden=true alt=\"data-x=1\">"),
      "<img  src=x.png  data-src=y.png   aria-hidden=true "
      "alt=\"data-x=1\">");
  EXPECT_EQ(StripRawTextBodies("<p ONCLICK = \"x\" class=a/>"),
            "<p  class=a/>");
  EXPECT_EQ(StripRawTextBodies("<p onclick=x data-a=1>", false),
            "<p onclick=x data-a=1>");
  // Unterminated: the rest is script text.
  EXPECT_EQ(StripRawTextBodies("<p>a<script>var x"), "<p>a<script>");
  EXPECT_EQ(StripRawTextBodies("<script"), "<script");
  // Parsing the stripped text gives the same visible text.
  EXPECT_EQ(HtmlToPlainText("<p>one<script>document.write('<p>x')</script> "
                            "two</p><style>p{}</style><p>three</p>"),
            "one two\n\nthree");
}

TEST(MetadataTest, TitleLosesSiteName) {
  using cleaner::StripSiteName;
  EXPECT_EQ(StripSiteName("Big news today | The Daily", "The Daily", {}),
            "Big news today");
  EXPECT_EQ(StripSiteName("Big news today \xE2\x80\x93 Daily", "the daily", {}),
            "Big news today");
  EXPECT_EQ(StripSiteName("Daily - Big news today", "Daily", {}),
            "Big news today");
  // No site name, but the <h1> is the headline part.
  EXPECT_EQ(StripSiteName("Big news today - Example", "", {"Big news today"}),
            "Big news today");
  // A dash that belongs to the headline stays.
  EXPECT_EQ(StripSiteName("Spider-Man - the review", "Example", {}),
            "Spider-Man - the review");
  EXPECT_EQ(StripSiteName("Q&A | Interview", "", {}), "Q&A | Interview");

  ExtractedPage p = ExtractPage(
      "<html><head><title>Storm hits coast | Coast Herald</title>"
      "<meta property=\"og:site_name\" content=\"Coast Herald\"></head>"
      "<body><p>Text.</p></body></html>");
  EXPECT_EQ(p.metadata.title, "Storm hits coast");
  EXPECT_EQ(p.metadata.site_name, "Coast Herald");
}

TEST(SelectorTest, CompoundsCombinatorsGroups) {
  std::string html =
      "<html><body><div class=\"article main\" id=\"a1\">"
      "<p class=\"lead\">Lead</p><section><p>Deep</p></section>"
      "<div class=\"box\"><span data-x=\"1\">S</span></div></div>"
      "<div class=\"other\"><p>Other</p></div></body></html>";
  cleaner::DocPtr doc = cleaner::ParseHtml(html, /*all_attributes=*/true);
  xmlNode* body = cleaner::FindBody(doc.get());
  auto texts = [&](std::vector<std::string> sel) {
    std::vector<xmlNode*> hits;
    cleaner::SelectorList(sel).Collect(body, &hits);
    std::string out;
    for (xmlNode* n : hits) {
      cleaner::AppendAllText(n, &out);
      out += ";";
    }
    return out;
  };
  EXPECT_EQ(texts({"div.article p"}), "Lead;Deep;");
  EXPECT_EQ(texts({"div.article > p"}), "Lead;");
  EXPECT_EQ(texts({".ARTICLE.main #nope"}), "");
  EXPECT_EQ(texts({"#a1 span[data-x=\"1\"]"}), "S;");
  EXPECT_EQ(texts({"span[data-x=2]"}), "");
  EXPECT_EQ(texts({".other p, p.lead"}), "Lead;Other;");
  EXPECT_EQ(texts({"body *"}), "LeadDeepS;Other;");  // outermost only
  EXPECT_EQ(texts({"div *"}), "Lead;Deep;S;Other;");
  // Unsupported or broken selectors match nothing.
  EXPECT_EQ(texts({"p:first-child", "> p", "div >", "[", "."}), "");

  CleanOptions options;
  options.keep_selectors = {"div.article p"};
  options.remove_selectors = {"section p"};
  ExtractedPage page = ExtractPage(html, options);
  EXPECT_EQ(page.content.text, "Lead");
  // Attribute selectors see every attribute, data-* included.
  options.keep_selectors = {"[data-x=\"1\"]"};
  options.remove_selectors = {};
  EXPECT_EQ(ExtractPage(html, options).content.text, "S");
  options.keep_selectors = {};
  options.remove_selectors = {"span[data-x]"};
  EXPECT_EQ(CleanFragment(html, options).text.find('S'), std::string::npos);
}

TEST(ExtractPageTest, JsonLdArticleBodyIsTheBaseline) {
  // Script-rendered page: no text in the markup, the body only in JSON-LD.
  const std::string para1 =
      "First paragraph of a story that only lives in structured data, long "
      "enough to be a real article body and not a teaser of one.";
  const std::string para2 =
      "Second paragraph with more words, so that together they pass the "
      "minimum length that a full page extraction needs, & a <tag> that is "
      "text, not markup.";
  std::string html =
      "<html><head><script type=\"application/ld+json\">{\"@type\":"
      "\"NewsArticle\",\"headline\":\"H\",\"articleBody\":\"" +
      para1 + "\\n" + para2 +
      "\"}</script></head><body><div id=\"app\"></div></body></html>";
  ASSERT_GE(para1.size() + para2.size(), 250u);
  ExtractedPage p = ExtractPage(html);
  EXPECT_EQ(p.content.text, para1 + "\n\n" + para2);
  // A page with real text ignores it.
  ExtractedPage q = ExtractPage(
      "<html><head><script type=\"application/ld+json\">{\"@type\":"
      "\"NewsArticle\",\"articleBody\":\"Other text entirely\"}</script>"
      "</head><body><p>The visible story.</p></body></html>");
  EXPECT_EQ(q.content.text, "The visible story.");
}

TEST(ExtractPageTest, NeverFailsOnGarbage) {
  EXPECT_TRUE(ExtractPage("").content.text.empty());
  ExtractPage("<<<>>>&&&\x01\xff");
  ExtractPage(std::string(5000, '<'));
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "<div>";
  deep += "text";
  ExtractPage(deep);
  CleanFragment(deep);
}

}  // namespace
}  // namespace newsflow
