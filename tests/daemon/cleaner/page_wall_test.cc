#include "daemon/cleaner/page_wall.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "daemon/cleaner/html_cleaner.h"
#include "tests/testing/corpus.h"

namespace newsflow {
namespace {

PageWall Classify(const std::string& html) {
  return DetectPageWall(html, ExtractPage(html, {}).content.text);
}

const char kStory[] =
    "<p>The city council voted on Tuesday to extend the tram line to the "
    "harbour, ending a debate that had run for more than ten years. The new "
    "section will add six stops and is expected to open in 2029.</p>"
    "<p>Supporters said the line would take thousands of cars off the "
    "roads every day. Opponents warned that the cost estimate had already "
    "doubled since the first plans were drawn up.</p>"
    "<p>Construction is due to begin next spring, the mayor said.</p>";

TEST(PageWallTest, SchemaOrgNotFreeIsAPaywall) {
  for (const std::string ld :
       {"{\"@type\":\"NewsArticle\",\"isAccessibleForFree\": false}",
        "{\"@type\":\"NewsArticle\",\"isAccessibleForFree\":\"False\"}",
        "{\"@type\":\"NewsArticle\",\"ISACCESSIBLEFORFREE\" :  \"false\"}"}) {
    SCOPED_TRACE(ld);
    const std::string html =
        "<html><head><script type=\"application/ld+json\">" + ld +
        "</script></head><body><article><h1>Tram</h1>" + kStory +
        "<p>Subscribe to read the rest.</p></article></body></html>";
    EXPECT_EQ(Classify(html), PageWall::kPaywall);
  }
  // Microdata, attributes in either order.
  EXPECT_EQ(Classify("<html><body><article><meta content=\"false\" "
                     "itemprop=\"isAccessibleForFree\">" +
                     std::string(kStory) + "</article></body></html>"),
            PageWall::kPaywall);
  EXPECT_EQ(Classify("<html><body><article><meta "
                     "itemprop=\"isAccessibleForFree\" content=\"false\">" +
                     std::string(kStory) + "</article></body></html>"),
            PageWall::kPaywall);
  // Free articles say true, or nothing.
  EXPECT_EQ(Classify("<html><head><script type=\"application/ld+json\">"
                     "{\"isAccessibleForFree\": true}</script></head><body>"
                     "<article>" +
                     std::string(kStory) + "</article></body></html>"),
            PageWall::kNone);
  // Metered sites flag pages that still carry the whole story: used.
  std::string whole;
  for (int i = 0; i < 6; ++i) whole += kStory;
  EXPECT_EQ(Classify("<html><head><script type=\"application/ld+json\">"
                     "{\"isAccessibleForFree\": false}</script></head><body>"
                     "<article>" +
                     whole + "</article></body></html>"),
            PageWall::kNone);
  EXPECT_EQ(PageWallReason(PageWall::kPaywall), "paywall");
  EXPECT_EQ(PageWallReason(PageWall::kNone), "");
}

const char kConsentText[] =
    "<h1>We value your privacy</h1>"
    "<p>We and our partners store and/or access information on a device, "
    "such as cookies, and process personal data, such as unique identifiers "
    "and standard information sent by a device for personalised advertising "
    "and content, advertising and content measurement, and audience "
    "insights.</p>"
    "<p>With your permission we and our partners may use precise "
    "geolocation data. You may click to consent to our and our 842 partners' "
    "processing as described above. Alternatively you may click to refuse "
    "to consent or access more detailed information and change your "
    "preferences before consenting.</p>"
    "<p>Some partners do not ask for your consent to process your data and "
    "rely on their legitimate interest. You can object to this by clicking "
    "Manage options. Your choices will apply to this site only.</p>"
    "<p>ACCEPT ALL &nbsp; REJECT ALL &nbsp; MANAGE OPTIONS</p>";

TEST(PageWallTest, ConsentDialogPagesAreConsentWalls) {
  // A whole page that is the dialog, with a CMP's marker.
  for (const char* marker :
       {"<div id=\"qc-cmp2-container\">", "<div class=\"fc-dialog-container\">",
        "<div id=\"sp_message_container_123\">",
        "<div class=\"didomi-popup-container\">",
        "<script src=\"https://cdn.cookielaw.org/x.js\" "
        "data-domain-script=\"optanon\"></script><div>"}) {
    SCOPED_TRACE(marker);
    const std::string html = std::string("<html><body><main>") + marker +
                             kConsentText + "</div></main></body></html>";
    EXPECT_EQ(Classify(html), PageWall::kConsentWall);
  }
  // No marker, but the text is plainly a consent dialog.
  EXPECT_EQ(Classify(std::string("<html><body><main>") + kConsentText +
                     "</main></body></html>"),
            PageWall::kConsentWall);
  EXPECT_EQ(PageWallReason(PageWall::kConsentWall), "consent_wall");
}

TEST(PageWallTest, ArticlesWithACookieBannerOrAboutPrivacyAreNot) {
  // The usual case: the story, plus a CMP banner.
  EXPECT_EQ(Classify("<html><body><div id=\"onetrust-banner-sdk\">We use "
                     "cookies. Accept all cookies or manage preferences."
                     "</div><article><h1>Tram</h1>" +
                     std::string(kStory) + "</article></body></html>"),
            PageWall::kNone);
  // A story about consent and cookies (a few terms, not a dialog's density).
  const std::string privacy_story =
      "<p>The regulator fined the company on Monday for setting tracking "
      "cookies before visitors had given their consent, the third such "
      "decision this year.</p><p>The company said it would appeal. Its "
      "lawyers argued that the rules had been unclear when the site was "
      "built, and that it had changed the banner within weeks of the first "
      "complaint.</p><p>Consumer groups welcomed the ruling and called on "
      "other regulators to follow. The fine amounts to about two percent of "
      "the company's annual turnover in the country, the regulator said in "
      "a statement published on its website on Monday afternoon.</p>";
  EXPECT_EQ(Classify("<html><body><div class=\"cmpbox\">x</div><article>" +
                     privacy_story + "</article></body></html>"),
            PageWall::kNone);
}

// The extraction corpus's pages are real articles (some on sites with a
// CMP banner): none may be taken for a consent wall. Paywall declarations
// are what the page says; they are counted and printed, not asserted away.
TEST(PageWallTest, NoConsentWallAmongTheExtractionCorpusArticles) {
  NF_REQUIRE_CORPUS("extraction/dev");
  const std::vector<testing::ExtractionPage> gold =
      testing::LoadExtractionPages("extraction/dev");
  ASSERT_FALSE(gold.empty());
  int consent = 0, paywall = 0, pages = 0;
  for (const testing::ExtractionPage& entry : gold) {
    const std::string& id = entry.id;
    const std::string& html = entry.html;
    ASSERT_FALSE(html.empty()) << id;
    ++pages;
    const PageWall wall = Classify(html);
    if (wall == PageWall::kConsentWall) {
      ++consent;
      ADD_FAILURE() << "taken for a consent wall: " << id;
    }
    if (wall == PageWall::kPaywall) {
      ++paywall;
      std::printf("paywall: %s %s\n", id.substr(0, 12).c_str(),
                  entry.url.c_str());
    }
  }
  std::printf(
      "page walls on extraction/dev: pages=%d consent_wall=%d "
      "paywall=%d\n",
      pages, consent, paywall);
  EXPECT_EQ(consent, 0);
}

}  // namespace
}  // namespace newsflow
