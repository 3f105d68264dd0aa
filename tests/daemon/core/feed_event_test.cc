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

}  // namespace
}  // namespace newsflow
