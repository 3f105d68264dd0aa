// Retention as the daemon schedules it, and the per-feed id policy rows.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "daemon/state/state_store.h"

namespace newsflow {
namespace {

using namespace std::chrono_literals;

ArticleRecord Rec(const std::string& id, TimePoint last) {
  ArticleRecord r;
  r.id = id;
  r.feed_id = "f";
  r.item_hash = "i-" + id;
  r.content_hash = "c-" + id;
  r.first_published = last;
  r.last_published = last;
  return r;
}

TEST(StateRetentionTest, ExpiredArticlesBecomeTombstonesThenGoAway) {
  auto store = StateStore::Open(":memory:");
  ASSERT_TRUE(store) << store.error().ToString();
  StateStore& s = **store;
  const TimePoint now = Now();
  const auto retention = std::chrono::hours(24);
  ASSERT_TRUE(s.MarkPublished(Rec("fresh", now - 1h)));
  ASSERT_TRUE(s.MarkPublished(Rec("expired", now - 25h)));
  ASSERT_TRUE(s.MarkPublished(Rec("ancient", now - 24h * 5)));

  auto pruned = PruneByRetention(s, retention, now);
  ASSERT_TRUE(pruned) << pruned.error().ToString();
  EXPECT_EQ(*pruned, 2);
  EXPECT_EQ(*s.CountArticles(), 1);
  EXPECT_EQ(*s.CountTombstones(), 2);
  // The expired item is still known (same item hash: not new again).
  auto expired = s.FindArticle("expired");
  ASSERT_TRUE(expired && *expired);
  EXPECT_TRUE((*expired)->tombstone);
  EXPECT_EQ((*expired)->item_hash, "i-expired");

  // The next run drops tombstones older than 4 x retention.
  ASSERT_TRUE(PruneByRetention(s, retention, now));
  EXPECT_EQ(*s.CountTombstones(), 1);
  auto ancient = s.FindArticle("ancient");
  ASSERT_TRUE(ancient);
  EXPECT_FALSE(ancient->has_value());
}

TEST(StateRetentionTest, IdPolicyDefaultsToGuidAndSurvivesReopen) {
  const std::string path =
      (std::filesystem::temp_directory_path() /
       ("nf_idpolicy_" + std::to_string(::getpid()) + ".db"))
          .string();
  std::filesystem::remove(path);
  {
    auto store = StateStore::Open(path);
    ASSERT_TRUE(store) << store.error().ToString();
    auto fresh = (*store)->LoadIdPolicy("feed-a");
    ASSERT_TRUE(fresh);
    EXPECT_EQ(fresh->policy, "guid");
    EXPECT_EQ(fresh->last_items, "");
    FeedIdPolicyRecord r;
    r.feed_id = "feed-a";
    r.policy = "url";
    r.reason = "guids_changed";
    r.changed_at = TimePoint(std::chrono::milliseconds(1234));
    r.last_items = "http://x/1\tg1\n";
    ASSERT_TRUE((*store)->SaveIdPolicy(r));
  }
  auto store = StateStore::Open(path);
  ASSERT_TRUE(store);
  auto back = (*store)->LoadIdPolicy("feed-a");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->policy, "url");
  EXPECT_EQ(back->reason, "guids_changed");
  ASSERT_TRUE(back->changed_at.has_value());
  EXPECT_EQ(back->changed_at->time_since_epoch().count(), 1234);
  EXPECT_EQ(back->last_items, "http://x/1\tg1\n");
  EXPECT_EQ((*store)->LoadIdPolicy("feed-b")->policy, "guid");
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
}

}  // namespace
}  // namespace newsflow
