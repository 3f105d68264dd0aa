#include "daemon/core/article.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace newsflow {
namespace {

TEST(ArticleTest, SerializesEveryDesignField) {
  Article a;
  a.id = "abc";
  a.event = ArticleEvent::kUpdated;
  a.feed = {"frontier-world", "http://f.example/feed/", "Frontier",
            "http://f.example/", "en"};
  a.url = "http://f.example/a?utm_source=x";
  a.canonical_url = "http://f.example/a";
  a.title = "Title";
  a.authors = {"Staff Reporter"};
  a.categories = {"World"};
  a.published = MakeUtc(2025, 10, 12, 1, 40, 0);
  a.fetched_at = *MakeUtc(2025, 10, 12, 2, 0, 0);
  a.content_text = "One.\n\nTwo.";
  a.content_source = ContentSource::kPage;
  a.enclosures = {{"http://f.example/a.mp3", "audio/mpeg", 12}};
  a.word_count = 2;
  a.content_hash = "00";
  auto j = nlohmann::json::parse(ArticleToJson(a));
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["event"], "updated");
  EXPECT_EQ(j["feed"]["id"], "frontier-world");
  EXPECT_EQ(j["published"], "2025-10-12T01:40:00Z");
  EXPECT_TRUE(j["updated"].is_null());
  EXPECT_TRUE(j["image"].is_null());
  EXPECT_EQ(j["content_source"], "page");
  EXPECT_TRUE(j["content_source_reason"].is_null());
  a.content_source = ContentSource::kFeed;
  a.content_source_reason = kReasonPageFetchFailed;
  EXPECT_EQ(nlohmann::json::parse(ArticleToJson(a))["content_source_reason"],
            "page_fetch_failed");
  EXPECT_EQ(j["enclosures"][0]["length"], 12);
  for (const char* key : {"id",
                          "event",
                          "feed",
                          "url",
                          "canonical_url",
                          "title",
                          "authors",
                          "categories",
                          "published",
                          "updated",
                          "fetched_at",
                          "summary",
                          "content_html",
                          "content_text",
                          "content_source",
                          "content_source_reason",
                          "language",
                          "image",
                          "enclosures",
                          "word_count",
                          "content_hash"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
}

// Issue 13 (content helper): story_id is the own id unless set;
// content_source_reason is null unless set.
TEST(ArticleTest, StoryIdAndContentSourceReason) {
  Article a;
  a.id = "abc";
  auto j = nlohmann::json::parse(ArticleToJson(a));
  EXPECT_EQ(j["story_id"], "abc");
  ASSERT_TRUE(j.contains("content_source_reason"));
  EXPECT_TRUE(j["content_source_reason"].is_null());
  a.story_id = "first";
  a.content_source_reason = "paywall";
  j = nlohmann::json::parse(ArticleToJson(a));
  EXPECT_EQ(j["story_id"], "first");
  EXPECT_EQ(j["content_source_reason"], "paywall");
}

}  // namespace
}  // namespace newsflow

namespace newsflow {
namespace {

// ce_dataschema names the schema the consumer guide points at: its $id,
// and the draft the guide names.
TEST(ArticleSchemaTest, SchemaUriIsTheSchemaFilesId) {
  std::ifstream in(std::string(NEWSFLOW_SOURCE_DIR) +
                   "/docs/article.schema.json");
  ASSERT_TRUE(in);
  const auto schema = nlohmann::json::parse(in);
  EXPECT_EQ(schema["$id"], kSchemaUri);
  EXPECT_EQ(schema["$schema"], "http://json-schema.org/draft-07/schema#");
  std::ifstream guide(std::string(NEWSFLOW_SOURCE_DIR) +
                      "/docs/consumer-guide.md");
  const std::string text((std::istreambuf_iterator<char>(guide)),
                         std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("JSON Schema draft-07"), std::string::npos);
  EXPECT_EQ(text.find("2020-12"), std::string::npos);
  EXPECT_NE(text.find(kSchemaUri), std::string::npos);
}

}  // namespace
}  // namespace newsflow
