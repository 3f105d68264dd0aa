#include "daemon/runtime/backlog_order.h"

#include <gtest/gtest.h>

namespace newsflow {
namespace {

FeedItem Item(std::optional<TimePoint> published,
              std::optional<TimePoint> updated = std::nullopt) {
  FeedItem item;
  item.published = published;
  item.updated = updated;
  return item;
}

TimePoint Day(int d) { return *MakeUtc(2025, 10, d, 12, 0, 0); }

TEST(NewestFirstOrderTest, OldestFirstFeedIsReversed) {
  const std::vector<FeedItem> items = {Item(Day(1)), Item(Day(2)),
                                       Item(Day(3))};
  EXPECT_EQ(NewestFirstOrder(items), (std::vector<size_t>{2, 1, 0}));
}

TEST(NewestFirstOrderTest, NewestFirstFeedKeepsItsOrder) {
  const std::vector<FeedItem> items = {Item(Day(3)), Item(Day(2)),
                                       Item(Day(1))};
  EXPECT_EQ(NewestFirstOrder(items), (std::vector<size_t>{0, 1, 2}));
}

TEST(NewestFirstOrderTest, DocumentOrderBreaksTiesAndUndatedGoLast) {
  const std::vector<FeedItem> items = {
      Item(std::nullopt), Item(Day(2)),       Item(Day(5)),
      Item(Day(2)),       Item(std::nullopt), Item(std::nullopt, Day(4))};
  // Day 5, updated day 4, the two day-2 items in document order, then the
  // undated ones in document order.
  EXPECT_EQ(NewestFirstOrder(items), (std::vector<size_t>{2, 5, 1, 3, 0, 4}));
}

TEST(NewestFirstOrderTest, PublishedWinsOverUpdated) {
  const std::vector<FeedItem> items = {Item(Day(1), Day(9)),
                                       Item(Day(3), Day(3))};
  EXPECT_EQ(NewestFirstOrder(items), (std::vector<size_t>{1, 0}));
}

TEST(NewestFirstOrderTest, EmptyAndUndatedFeedsKeepDocumentOrder) {
  EXPECT_TRUE(NewestFirstOrder({}).empty());
  const std::vector<FeedItem> items(4);
  EXPECT_EQ(NewestFirstOrder(items), (std::vector<size_t>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace newsflow
