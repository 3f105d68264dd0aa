// The size-limit path of the Kafka sink: oversized articles are trimmed and
// flagged, never rejected, and stay valid against docs/article.schema.json.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "connectors/sinks/kafka/kafka_sink.h"
#include "tests/testing/schema_check.h"

namespace newsflow {
namespace {

Article Big(size_t html_bytes, size_t text_bytes,
            const std::string& unit = "ab ") {
  Article a;
  a.id = std::string(32, 'a');
  a.feed = {"feed-x", "http://x/feed", "X", "http://x/", "en"};
  a.url = a.canonical_url = "http://x/1";
  a.title = "Title";
  a.fetched_at = Now();
  a.summary = "Summary";
  while (a.content_html.size() < html_bytes)
    a.content_html += "<p>" + unit + "</p>";
  while (a.content_text.size() < text_bytes) a.content_text += unit;
  a.content_hash = std::string(64, 'f');
  a.word_count = 1000;
  return a;
}

TEST(KafkaRecordValueTest, SmallArticleIsUnchanged) {
  Article a = Big(100, 100);
  bool truncated = true;
  const std::string v = KafkaRecordValue(a, 100000, &truncated);
  EXPECT_FALSE(truncated);
  // Checked against the article's own fields with an independent parser,
  // not against ArticleToJson (which KafkaRecordValue itself uses).
  EXPECT_EQ(testing::ArticleSchemaErrors(v), "") << v;
  auto j = nlohmann::json::parse(v);
  EXPECT_FALSE(j.contains("truncated"));
  EXPECT_EQ(j["id"], a.id);
  EXPECT_EQ(j["title"], "Title");
  EXPECT_EQ(j["summary"], "Summary");
  EXPECT_EQ(j["content_html"], a.content_html);
  EXPECT_EQ(j["content_text"], a.content_text);
  EXPECT_EQ(j["content_hash"], a.content_hash);
  EXPECT_EQ(j["word_count"], 1000);
  EXPECT_EQ(j["feed"]["id"], "feed-x");
}

TEST(KafkaRecordValueTest, HtmlGoesFirst) {
  Article a = Big(60000, 20000);
  bool truncated = false;
  const std::string v = KafkaRecordValue(a, 50000, &truncated);
  EXPECT_TRUE(truncated);
  EXPECT_LE(v.size(), 50000u);
  EXPECT_EQ(testing::ArticleSchemaErrors(v), "") << v.substr(0, 200);
  auto j = nlohmann::json::parse(v);
  EXPECT_EQ(j["truncated"], true);
  EXPECT_EQ(j["content_html"], "");
  EXPECT_EQ(j["content_text"], a.content_text);  // fits once the HTML is gone
  EXPECT_EQ(j["content_hash"], a.content_hash);  // identity of the full story
}

TEST(KafkaRecordValueTest, TextIsCutAtAUtf8BoundaryWhenNeeded) {
  // "é€" = 2 + 3 bytes; JSON escaping of '"' doubles some bytes too.
  Article a = Big(50000, 200000, "\xC3\xA9\xE2\x82\xAC \"q\" ");
  bool truncated = false;
  const std::string v = KafkaRecordValue(a, 30000, &truncated);
  EXPECT_TRUE(truncated);
  EXPECT_LE(v.size(), 30000u);
  EXPECT_GT(v.size(), 25000u);        // trimmed to the limit, not to nothing
  auto j = nlohmann::json::parse(v);  // throws on invalid UTF-8
  const std::string text = j["content_text"];
  EXPECT_EQ(a.content_text.rfind(text, 0), 0u) << "not a prefix";
  EXPECT_EQ(testing::ArticleSchemaErrors(v), "");
}

TEST(KafkaRecordValueTest, HugeSummaryIsCutToATeaser) {
  Article a = Big(100000, 100000);
  a.summary = a.content_text;  // a feed whose description is the story
  const std::string v = KafkaRecordValue(a, 40000);
  EXPECT_LE(v.size(), 40000u);
  auto j = nlohmann::json::parse(v);
  EXPECT_EQ(j["summary"].get<std::string>().size(), 1000u);
  EXPECT_GT(j["content_text"].get<std::string>().size(), 30000u);
}

TEST(KafkaRecordValueTest, EffectiveLimitFollowsMessageMaxBytes) {
  KafkaSinkOptions o;
  EXPECT_EQ(EffectiveMaxMessageBytes(o), 1000000u - 4096u);
  o.librdkafka["message.max.bytes"] = "200000";
  EXPECT_EQ(EffectiveMaxMessageBytes(o), 200000u - 4096u);
  o.max_message_bytes = 1234;
  EXPECT_EQ(EffectiveMaxMessageBytes(o), 1234u);
}

}  // namespace
}  // namespace newsflow
