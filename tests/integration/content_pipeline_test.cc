// Issue 13, items 5-8, through the real binary (`run --once`, jsonl sink)
// against loopback servers: detected language, story_id across feeds,
// filters (recorded as seen, never re-evaluated), consent walls and
// paywalls that must not replace a teaser, and page_cookies that go only to
// the feed's own site.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/hostile/hostile_site.h"
#include "tests/testing/loopback_http_server.h"
#include "tests/testing/schema_check.h"

namespace newsflow::testing {
namespace {

const char kTram[] =
    "<p>The city council voted on Tuesday to extend the tram line to the "
    "harbour, ending a debate that had run for more than ten years. The new "
    "section will add six stops and is expected to open in 2029.</p>"
    "<p>Supporters said the line would take thousands of cars off the roads "
    "every day. Opponents warned that the cost estimate had already doubled "
    "since the first plans were drawn up, and that the harbour district "
    "would be a building site for at least four years.</p>"
    "<p>Construction is due to begin next spring, the mayor said. The "
    "council will publish the timetable for the works in January, and "
    "residents along the route will be invited to three public meetings.</p>";

const char kGerman[] =
    "<p>In Hamburg ist am Samstag eine neue Fußgängerbrücke über die Elbe "
    "eröffnet worden. Tausende Menschen kamen schon am ersten Tag, um die "
    "Aussicht auf den Hafen zu genießen.</p><p>Nach Angaben der Stadt hat "
    "der Bau knapp drei Jahre gedauert. Die Brücke soll die Stadtteile auf "
    "beiden Seiten des Flusses besser miteinander verbinden und den Verkehr "
    "entlasten.</p><p>Viele Anwohner zeigten sich begeistert. Eine "
    "Besucherin sagte, sie werde die Brücke künftig jeden Morgen auf dem "
    "Weg zur Arbeit benutzen.</p>";

const char kConsent[] =
    "<h1>We value your privacy</h1><p>We and our partners store and/or "
    "access information on a device, such as cookies, and process personal "
    "data, such as unique identifiers and standard information sent by a "
    "device for personalised advertising and content, advertising and "
    "content measurement, and audience insights.</p><p>With your permission "
    "we and our partners may use precise geolocation data. You may click to "
    "consent to our and our 842 partners' processing as described above. "
    "Alternatively you may click to refuse to consent or access more "
    "detailed information and change your preferences before "
    "consenting.</p><p>Some partners do not ask for your consent to process "
    "your data and rely on their legitimate interest. You can object to "
    "this by clicking Manage options. Your choices will apply to this site "
    "only.</p><p>ACCEPT ALL REJECT ALL MANAGE OPTIONS</p>";

std::string Page(const std::string& title, const std::string& body,
                 const std::string& head = "") {
  return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + title +
         "</title>" + head +
         "</head><body><nav><a href=\"/\">Home</a></nav><article><h1>" + title +
         "</h1>" + body + "</article><footer>(c) 2026</footer>" +
         "</body></html>";
}

struct Item {
  std::string guid, title, link, description;
};

std::string Rss(const std::vector<Item>& items) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\">"
      "<channel><title>F</title><link>http://f.example/</link>";
  for (const Item& i : items) {
    out += "<item><title>" + i.title + "</title><guid>" + i.guid +
           "</guid><link>" + i.link + "</link><description>" + i.description +
           "</description></item>";
  }
  return out + "</channel></rss>\n";
}

std::vector<nlohmann::json> Articles(const std::string& jsonl) {
  std::vector<nlohmann::json> out;
  std::istringstream lines(jsonl);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    EXPECT_EQ(ArticleSchemaErrors(line), "") << line.substr(0, 200);
    out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

const nlohmann::json* ByTitle(const std::vector<nlohmann::json>& articles,
                              const std::string& title) {
  for (const auto& a : articles)
    if (a.value("title", "") == title) return &a;
  return nullptr;
}

int64_t CountFiltered(const std::string& db) {
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(h);
    return -1;
  }
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(
      h, "SELECT COUNT(*) FROM articles WHERE content_hash = 'filtered'", -1,
      &s, nullptr);
  int64_t n = -1;
  if (s != nullptr && sqlite3_step(s) == SQLITE_ROW)
    n = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(h);
  return n;
}

class ContentPipelineTest : public ::testing::Test {
 protected:
  // Pages on another host ("localhost" is another site than 127.0.0.1).
  LoopbackHttpServer other_{[this](const TestRequest& r) {
    std::lock_guard lock(mu_);
    cookies_[r.host + r.path] = r.Header("cookie");
    TestResponse out;
    out.body = Page("Offsite story", kTram);
    return out;
  }};
  LoopbackHttpServer site_{[this](const TestRequest& r) {
    TestResponse out;
    {
      std::lock_guard lock(mu_);
      cookies_[r.path] = r.Header("cookie");
      ++hits_[r.path];
    }
    if (r.path == "/feed.xml") {
      out.body = feed_body_;
    } else if (r.path == "/partner.xml") {
      out.body = partner_body_;
    } else if (r.path == "/tram") {
      out.body = Page("Tram line extended", kTram);
    } else if (r.path == "/partner-tram") {
      // The same story in the partner's boilerplate.
      out.body = Page("Partner: tram line",
                      "<p><em>First published by the Harbour Courier; "
                      "republished with permission.</em></p>" +
                          std::string(kTram) +
                          "<p>Sign up for the Partner Wire newsletter.</p>");
    } else if (r.path == "/consent") {
      out.body =
          "<!DOCTYPE html><html><body><main><div "
          "id=\"qc-cmp2-container\">" +
          std::string(kConsent) + "</div></main></body></html>";
    } else if (r.path == "/paywall") {
      out.body = Page(
          "Locked story", kTram,
          "<script type=\"application/ld+json\">{\"@type\":\"NewsArticle\","
          "\"isAccessibleForFree\":false}</script>");
    } else if (r.path == "/brucke" || r.path == "/sponsored") {
      out.body = Page("Brücke", kGerman);
    } else {
      out.status = 404;
    }
    return out;
  }};
  std::mutex mu_;
  std::map<std::string, std::string> cookies_;
  std::map<std::string, int> hits_;
  std::string feed_body_, partner_body_;

  std::string Cookie(const std::string& path) {
    std::lock_guard lock(mu_);
    return cookies_.count(path) ? cookies_[path] : "<no request>";
  }
  int Hits(const std::string& path) {
    std::lock_guard lock(mu_);
    return hits_[path];
  }
};

TEST_F(ContentPipelineTest, LanguageStoriesFiltersWallsAndPageCookies) {
  const std::string base = site_.base_url();
  const std::string offsite =
      "http://localhost:" + std::to_string(other_.port()) + "/offsite";
  const std::string teaser = "Words of the story.";
  feed_body_ = Rss({{"g-tram", "Tram line extended", base + "/tram", teaser},
                    {"g-consent", "Consent story", base + "/consent", teaser},
                    {"g-paywall", "Locked story", base + "/paywall", teaser},
                    {"g-offsite", "Offsite story", offsite, teaser},
                    {"g-brucke", "Neue Brücke", base + "/brucke", teaser},
                    {"g-sponsored", "Sponsored: the best bridge",
                     base + "/sponsored", teaser}});
  partner_body_ = Rss(
      {{"p-tram", "Partner: tram line",
        base + "/partner-tram?utm_source=partner&fbclid=x", teaser},
       {"p-brucke", "Partner: Brücke", base + "/brucke?ref=partner", teaser}});
  HostileSite site("content");
  site.WriteConfig(
      "  - name: main\n    url: " + base +
          "/feed.xml\n    full_article: auto\n"
          "    page_cookies: \"consent=yes\"\n"
          "  - name: partner\n    url: " +
          base +
          "/partner.xml\n    full_article: auto\n"
          "    filters:\n      include:\n"
          "        - {field: language, keywords: [en]}\n",
      "http:\n  allow_private_targets: true\n"
      "filters:\n  exclude:\n    - {field: title, keywords: [sponsored]}\n");
  auto r = site.RunOnce();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto articles = Articles(site.Output());

  // Item 8: page_cookies to the feed's own site only, never to the feed.
  EXPECT_EQ(Cookie("/tram"), "consent=yes");
  EXPECT_EQ(Cookie("/consent"), "consent=yes");
  EXPECT_EQ(Cookie("/feed.xml"), "");
  EXPECT_EQ(Cookie("localhost:" + std::to_string(other_.port()) + "/offsite"),
            "");
  EXPECT_EQ(Cookie("/partner-tram"), "");  // the partner feed has none

  const nlohmann::json* tram = ByTitle(articles, "Tram line extended");
  ASSERT_NE(tram, nullptr) << site.Output();
  EXPECT_EQ((*tram)["content_source"], "page");
  EXPECT_TRUE((*tram)["content_source_reason"].is_null());
  // Item 5: no declared language anywhere; detected.
  EXPECT_EQ((*tram)["language"], "en");

  // Item 8: walls keep the feed's teaser, with the reason.
  const nlohmann::json* consent = ByTitle(articles, "Consent story");
  ASSERT_NE(consent, nullptr);
  EXPECT_EQ((*consent)["content_source"], "feed");
  EXPECT_EQ((*consent)["content_source_reason"], "consent_wall");
  EXPECT_EQ((*consent)["content_text"], teaser);
  const nlohmann::json* locked = ByTitle(articles, "Locked story");
  ASSERT_NE(locked, nullptr);
  EXPECT_EQ((*locked)["content_source"], "feed");
  EXPECT_EQ((*locked)["content_source_reason"], "paywall");

  // Item 6: the first copy is its own story; the partner's copy (other
  // URL with tracking parameters, other boilerplate) joins it.
  EXPECT_EQ((*tram)["story_id"], (*tram)["id"]);
  const nlohmann::json* copy = ByTitle(articles, "Partner: tram line");
  ASSERT_NE(copy, nullptr);
  EXPECT_NE((*copy)["id"], (*tram)["id"]);
  EXPECT_EQ((*copy)["story_id"], (*tram)["id"]);
  const nlohmann::json* offsite_story = ByTitle(articles, "Offsite story");
  ASSERT_NE(offsite_story, nullptr);
  EXPECT_EQ((*offsite_story)["story_id"], (*tram)["id"]);  // same text
  EXPECT_EQ((*consent)["story_id"], (*consent)["id"]);

  // Item 7: the global exclude and the partner's language include.
  const nlohmann::json* brucke = ByTitle(articles, "Neue Brücke");
  ASSERT_NE(brucke, nullptr);
  EXPECT_EQ((*brucke)["language"], "de");
  EXPECT_EQ(ByTitle(articles, "Sponsored: the best bridge"), nullptr);
  EXPECT_EQ(ByTitle(articles, "Partner: Brücke"), nullptr);  // not "en"
  EXPECT_EQ(articles.size(), 6u);  // 5 of main, 1 of partner
  EXPECT_EQ(CountFiltered(site.state_db().string()), 2);

  // Filtered articles are seen for good: an edited item is not built (no
  // page fetch) nor published again; other edited items are.
  const int sponsored_fetches = Hits("/sponsored");
  EXPECT_EQ(sponsored_fetches, 1);
  feed_body_ = Rss({{"g-sponsored", "Sponsored: the best bridge",
                     base + "/sponsored", "Edited words of the story."}});
  partner_body_ = Rss({{"p-brucke", "Partner: Brücke",
                        base + "/brucke?ref=partner", "Edited words."}});
  r = site.RunOnce();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Hits("/sponsored"), sponsored_fetches);
  EXPECT_EQ(Articles(site.Output()).size(), 6u);
  EXPECT_EQ(CountFiltered(site.state_db().string()), 2);
}

}  // namespace
}  // namespace newsflow::testing
