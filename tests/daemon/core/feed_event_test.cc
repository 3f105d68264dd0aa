#include "daemon/core/feed_event.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace newsflow {
namespace {

TEST(FeedEventTest, JsonCarriesTypeFeedTimeAndDetails) {
  FeedEvent e;
  e.type = "moved";
  e.feed_id = "f\"1";
  e.feed_url = "http://x/feed";
  e.time = TimePoint(std::chrono::milliseconds(1760000000000));
  e.details = {{"to", "https://x/feed"}, {"status", "301"}};
  auto j = nlohmann::json::parse(FeedEventToJson(e));
  EXPECT_EQ(j["type"], "moved");
  EXPECT_EQ(j["feed"]["id"], "f\"1");
  EXPECT_EQ(j["feed"]["url"], "http://x/feed");
  EXPECT_EQ(j["time"], "2025-10-09T08:53:20Z");
  EXPECT_EQ(j["details"]["to"], "https://x/feed");
  EXPECT_EQ(j["details"]["status"], "301");
}

// Hostile input (issue 11 item 12): events carry the same redaction as
// logs; a token in the feed URL or quoted in an error never leaves.
TEST(FeedEventTest, UrlsAndDetailsAreRedacted) {
  FeedEvent e;
  e.type = "fetch_failed";
  e.feed_id = "private";
  e.feed_url = "https://bob:hunter2@news.example/rss?token=s3cr3t";
  e.details = {
      {"error",
       "HTTP 403: feed private (https://news.example/rss?token=s3cr3t)"},
      {"to", "https://news.example/new#access_token=s3cr3t"}};
  const std::string json = FeedEventToJson(e);
  EXPECT_EQ(json.find("s3cr3t"), std::string::npos) << json;
  EXPECT_EQ(json.find("hunter2"), std::string::npos) << json;
  auto j = nlohmann::json::parse(json);
  EXPECT_EQ(j["feed"]["url"], "https://…@news.example/rss?…");
  EXPECT_NE(j["details"]["error"].get<std::string>().find(
                "https://news.example/rss?…"),
            std::string::npos);
}

}  // namespace
}  // namespace newsflow
