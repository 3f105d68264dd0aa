#include "daemon/normalizer/normalizer.h"

#include <gtest/gtest.h>

#include "daemon/cleaner/html_cleaner.h"
#include "daemon/core/hash.h"
#include "daemon/normalizer/id_policy.h"

namespace newsflow {
namespace {

TEST(CanonicalizeUrlTest, DropsTrackingParametersFragmentAndDefaultPort) {
  EXPECT_EQ(CanonicalizeUrl("HTTP://Frontier-Ledger.Example:80/2025/a/"
                            "?utm_source=rss&utm_medium=rss&id=7&fbclid=x#c"),
            "http://frontier-ledger.example/2025/a/?id=7");
  EXPECT_EQ(CanonicalizeUrl("https://x.example:443?gclid=1"),
            "https://x.example/");
  EXPECT_EQ(CanonicalizeUrl("https://x.example/p?a=1&&b=2"),
            "https://x.example/p?a=1&b=2");
}

TEST(CanonicalizeUrlTest, IsTheUrlABrowserWouldLoad) {
  // One URL model (daemon/core/url.h): spellings a browser reads as the same
  // URL canonicalize to one string, so they give one article id.
  EXPECT_EQ(CanonicalizeUrl("https:\\\\Example.com\\news\\a"),
            "https://example.com/news/a");
  EXPECT_EQ(CanonicalizeUrl("https://example.com/news/x/../a?utm_source=rss"),
            "https://example.com/news/a");
  EXPECT_EQ(CanonicalizeUrl("https://b\xC3\xBC"
                            "cher.example/a b"),
            "https://xn--bcher-kva.example/a%20b");
  // An empty path is "/": a feed's "http://example.org" (kept as written in
  // `url`) and "http://example.org/" are one resource.
  EXPECT_EQ(CanonicalizeUrl("http://Example.org"), "http://example.org/");
  EXPECT_EQ(CanonicalizeUrl(" https://example.com/a\n"),
            "https://example.com/a");
  EXPECT_EQ(CanonicalizeUrl("https://example.com/a?utm%5Fsource=x&id=1"),
            "https://example.com/a?id=1");
}

TEST(CanonicalizeUrlTest, LeavesNonHttpUntouched) {
  EXPECT_EQ(CanonicalizeUrl("mailto:a@b.c"), "mailto:a@b.c");
  EXPECT_EQ(CanonicalizeUrl("/relative?utm_x=1"), "/relative?utm_x=1");
}

TEST(ArticleIdTest, StableAndDependsOnFeedAndGuid) {
  const std::string a = ArticleId("feed-a", "guid-1", "http://x/1");
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a, ArticleId("feed-a", "guid-1", "http://x/other"));
  EXPECT_NE(a, ArticleId("feed-b", "guid-1", "http://x/1"));
  EXPECT_NE(a, ArticleId("feed-a", "guid-2", "http://x/1"));
  // Without a GUID the canonical URL decides, whatever the feed.
  EXPECT_EQ(ArticleId("feed-a", "", "http://x/1"),
            ArticleId("feed-b", "", "http://x/1"));
  // Field boundaries matter.
  EXPECT_NE(ArticleId("ab", "c", ""), ArticleId("a", "bc", ""));
}

// Pinned values, computed once from the id function and written here as
// literals. The article id is the Kafka key and the state store's key:
// changing ArticleId (or CanonicalizeUrl feeding it) re-keys every article
// after an upgrade, so consumers see every story again as new. If this test
// fails, that is what the change does; do not just update the literals.
TEST(ArticleIdTest, PinnedValuesNeverChange) {
  // (feed, GUID)
  EXPECT_EQ(ArticleId("frontier-world", "https://frontier-ledger.example/?p=1",
                      "http://frontier-ledger.example/2025/10/12/a/"),
            "80a8e3d6303503fc27b16d6f7462baf4");
  EXPECT_EQ(ArticleId("gen", "gen-17", "http://gen-news.example/a/17"),
            "7527a3dd18e6f9168730ee1d7053e3db");
  EXPECT_EQ(
      ArticleId("feed-a", "urn:uuid:0b5e7a8e-1111-4c2d-9e1f-2a3b4c5d6e7f", ""),
      "ead35c7ad7b360a1e415e7f340418946");
  // (canonical URL): no GUID
  EXPECT_EQ(ArticleId("gen", "", "http://gen-news.example/a/17"),
            "528a74bb859be05762a56174533a8661");
  EXPECT_EQ(ArticleId("any", "",
                      CanonicalizeUrl("HTTPS://News.Example:443/2025/story"
                                      "?utm_source=rss&id=7#top")),
            "e0d3fdb6458d84d2960b7095df2c451a");
  // The URL id policy (feeds whose GUIDs churn) uses the same function.
  EXPECT_EQ(PolicyArticleId("gen", IdPolicy::kUrl,
                            {"gen-1-17", "http://gen-news.example/a/17"}),
            "528a74bb859be05762a56174533a8661");
}

TEST(CountWordsTest, CountsLatinAndCjk) {
  EXPECT_EQ(CountWords("Trade through the Torkham crossing."), 5);
  EXPECT_EQ(CountWords("don't stop"), 2);
  EXPECT_EQ(CountWords(""), 0);
  // ICU segmentation (daemon/core/words.h): 日本 is one word.
  EXPECT_EQ(CountWords("\xE6\x97\xA5\xE6\x9C\xAC"), 1);
}

TEST(ItemHashTest, ChangesWithContent) {
  FeedItem a;
  a.title = "t";
  a.content = "<p>x</p>";
  FeedItem b = a;
  EXPECT_EQ(ItemHash(a), ItemHash(b));
  b.content = "<p>y</p>";
  EXPECT_NE(ItemHash(a), ItemHash(b));
}

TEST(NormalizeTest, FillsArticleFromItemAndContent) {
  FeedItem item;
  item.title = "Torkham crossing &amp; talks";
  item.link = "http://f.example/2025/10/05/torkham-closed/?utm_source=rss";
  item.guid = "http://f.example/?p=48102";
  item.author = "Staff Reporter";
  item.categories = {"World", "World"};
  item.published = MakeUtc(2025, 10, 5, 9, 15, 0);
  item.summary = "<p>Trade through the crossing.</p>";
  CleanedContent content{"<p>One two.</p><p>Three.</p>", "One two.\n\nThree."};
  NormalizeInput in;
  in.feed = {"frontier-world", "http://f.example/feed/", "World",
             "http://f.example/", "en-US"};
  in.item = &item;
  in.content = &content;
  in.fetched_at = *MakeUtc(2025, 10, 5, 10, 0, 0);
  Article a = Normalize(in);
  EXPECT_EQ(a.id, ArticleId("frontier-world", item.guid, ""));
  EXPECT_EQ(a.canonical_url, "http://f.example/2025/10/05/torkham-closed/");
  EXPECT_EQ(a.title, "Torkham crossing & talks");
  EXPECT_EQ(a.authors, std::vector<std::string>{"Staff Reporter"});
  EXPECT_EQ(a.categories, std::vector<std::string>{"World"});
  EXPECT_EQ(a.summary, "Trade through the crossing.");
  EXPECT_EQ(a.word_count, 3);
  // content_hash covers the title and the text (daemon/core/article.h).
  EXPECT_EQ(a.content_hash,
            Sha256Hex("Torkham crossing & talks\nOne two.\n\nThree."));
  EXPECT_EQ(a.content_hash, ContentHash(a.title, a.content_text));
  // An edited headline alone changes it.
  item.title = "Torkham crossing reopens";
  EXPECT_NE(Normalize(in).content_hash, a.content_hash);
  EXPECT_EQ(a.language, "en-US");
  EXPECT_EQ(a.content_source, ContentSource::kFeed);
}

TEST(NormalizeTest, PageMetadataFillsGaps) {
  FeedItem item;
  item.link = "http://f.example/a";
  CleanedContent content{"<p>Body.</p>", "Body."};
  PageMetadata page;
  page.title = "Page title";
  page.authors = {"A. Writer"};
  page.published = MakeUtc(2025, 1, 2, 3, 4, 5);
  page.image = "http://f.example/i.jpg";
  page.language = "de";
  NormalizeInput in;
  in.feed.id = "f";
  in.item = &item;
  in.content = &content;
  in.page = &page;
  in.content_source = ContentSource::kPage;
  Article a = Normalize(in);
  EXPECT_EQ(a.title, "Page title");
  EXPECT_EQ(a.authors, std::vector<std::string>{"A. Writer"});
  EXPECT_EQ(FormatRfc3339(*a.published), "2025-01-02T03:04:05Z");
  EXPECT_EQ(a.image, "http://f.example/i.jpg");
  EXPECT_EQ(a.language, "de");
  EXPECT_EQ(a.content_source, ContentSource::kPage);
}

}  // namespace
}  // namespace newsflow
