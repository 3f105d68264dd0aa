#include "daemon/normalizer/id_policy.h"

#include <gtest/gtest.h>

#include "daemon/normalizer/normalizer.h"

namespace newsflow {
namespace {

std::vector<ItemKey> Items(
    std::initializer_list<std::pair<const char*, const char*>> guid_url) {
  std::vector<ItemKey> items;
  for (const auto& [guid, url] : guid_url) items.push_back({guid, url});
  return items;
}

TEST(IdPolicyTest, StableGuidsKeepGuidPolicy) {
  IdPolicyState prev;
  prev.last_items = Items({{"a", "http://x/1"}, {"b", "http://x/2"}});
  auto d = DecideIdPolicy(
      prev,
      Items({{"c", "http://x/3"}, {"a", "http://x/1"}, {"b", "http://x/2"}}));
  EXPECT_EQ(d.policy, IdPolicy::kGuid);
  EXPECT_FALSE(d.changed);
}

TEST(IdPolicyTest, FirstPollWithoutHistoryKeepsGuid) {
  auto d =
      DecideIdPolicy({}, Items({{"a", "http://x/1"}, {"b", "http://x/2"}}));
  EXPECT_EQ(d.policy, IdPolicy::kGuid);
  EXPECT_FALSE(d.changed);
}

TEST(IdPolicyTest, GuidSharedByDifferentStoriesSwitchesToUrl) {
  auto d = DecideIdPolicy(
      {}, Items({{"same", "http://x/1"}, {"same", "http://x/2"}}));
  EXPECT_EQ(d.policy, IdPolicy::kUrl);
  EXPECT_EQ(d.reason, "guids_repeated");
  EXPECT_TRUE(d.changed);
}

TEST(IdPolicyTest, SameItemListedTwiceIsNotARepeat) {
  auto d =
      DecideIdPolicy({}, Items({{"a", "http://x/1"}, {"a", "http://x/1"}}));
  EXPECT_EQ(d.policy, IdPolicy::kGuid);
}

TEST(IdPolicyTest, GuidsChangingForTheSameUrlsSwitchToUrl) {
  IdPolicyState prev;
  prev.last_items = Items(
      {{"t1-a", "http://x/1"}, {"t1-b", "http://x/2"}, {"t1-c", "http://x/3"}});
  auto d = DecideIdPolicy(prev, Items({{"t2-a", "http://x/1"},
                                       {"t2-b", "http://x/2"},
                                       {"t1-c", "http://x/3"}}));
  EXPECT_EQ(d.policy, IdPolicy::kUrl);
  EXPECT_EQ(d.reason, "guids_changed");
}

TEST(IdPolicyTest, OneEditedGuidIsTolerated) {
  IdPolicyState prev;
  prev.last_items =
      Items({{"a", "http://x/1"}, {"b", "http://x/2"}, {"c", "http://x/3"}});
  auto d = DecideIdPolicy(
      prev,
      Items({{"a2", "http://x/1"}, {"b", "http://x/2"}, {"c", "http://x/3"}}));
  EXPECT_EQ(d.policy, IdPolicy::kGuid);
}

TEST(IdPolicyTest, GuidsDisappearingSwitchToUrl) {
  IdPolicyState prev;
  prev.last_items = Items({{"a", "http://x/1"}});
  auto d =
      DecideIdPolicy(prev, Items({{"", "http://x/1"}, {"", "http://x/2"}}));
  EXPECT_EQ(d.policy, IdPolicy::kUrl);
  EXPECT_EQ(d.reason, "guids_missing");
}

TEST(IdPolicyTest, FeedThatNeverHadGuidsStaysGuidPolicyWithUrlIds) {
  auto d = DecideIdPolicy({}, Items({{"", "http://x/1"}}));
  EXPECT_EQ(d.policy, IdPolicy::kGuid);
  // Items without a GUID use their URL anyway.
  EXPECT_EQ(PolicyArticleId("f", IdPolicy::kGuid, {"", "http://x/1"}),
            ArticleId("f", "", "http://x/1"));
}

TEST(IdPolicyTest, UrlPolicyIsSticky) {
  IdPolicyState prev;
  prev.policy = IdPolicy::kUrl;
  prev.reason = "guids_changed";
  auto d = DecideIdPolicy(prev, Items({{"a", "http://x/1"}}));
  EXPECT_EQ(d.policy, IdPolicy::kUrl);
  EXPECT_EQ(d.reason, "guids_changed");
  EXPECT_FALSE(d.changed);
}

TEST(IdPolicyTest, UrlPolicyIdsIgnoreGuids) {
  EXPECT_EQ(PolicyArticleId("f", IdPolicy::kUrl, {"g1", "http://x/1"}),
            PolicyArticleId("f", IdPolicy::kUrl, {"g2", "http://x/1"}));
  EXPECT_NE(PolicyArticleId("f", IdPolicy::kGuid, {"g1", "http://x/1"}),
            PolicyArticleId("f", IdPolicy::kGuid, {"g2", "http://x/1"}));
}

TEST(IdPolicyTest, ItemHashCanIgnoreChurningGuids) {
  FeedItem a;
  a.title = "T";
  a.link = "http://x/1";
  a.guid = "g1";
  FeedItem b = a;
  b.guid = "g2";
  EXPECT_NE(ItemHash(a), ItemHash(b));
  EXPECT_EQ(ItemHash(a, false), ItemHash(b, false));
  b.title = "T2";
  EXPECT_NE(ItemHash(a, false), ItemHash(b, false));
}

TEST(IdPolicyTest, ItemKeysRoundTrip) {
  auto items = Items({{"g\t1", "http://x/1"}, {"", "http://x/2?a=b"}});
  auto back = DecodeItemKeys(EncodeItemKeys(items));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].guid, "g1");
  EXPECT_EQ(back[0].canonical_url, "http://x/1");
  EXPECT_EQ(back[1].guid, "");
  EXPECT_EQ(back[1].canonical_url, "http://x/2?a=b");
}

}  // namespace
}  // namespace newsflow
