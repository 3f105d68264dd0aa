#include "daemon/state/state_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

namespace newsflow {
namespace {

using namespace std::chrono_literals;

TimePoint T(int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

ArticleRecord Rec(std::string id, int64_t first_ms, int64_t last_ms,
                  std::string content = "c1", std::string item = "i1") {
  ArticleRecord r;
  r.id = std::move(id);
  r.feed_id = "feed-a";
  r.item_hash = std::move(item);
  r.content_hash = std::move(content);
  r.first_published = T(first_ms);
  r.last_published = T(last_ms);
  return r;
}

// A fresh temporary directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("nf_state_test_" + std::to_string(::getpid()) + "_" +
             std::to_string(counter_++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const {
    return (path_ / name).string();
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

std::unique_ptr<StateStore> OpenOrDie(const std::string& path) {
  auto s = StateStore::Open(path);
  EXPECT_TRUE(s) << (s ? "" : s.error().ToString());
  return s ? std::move(*s) : nullptr;
}

TEST(StateStoreTest, ArticleRoundTrip) {
  auto store = OpenOrDie(":memory:");
  ASSERT_TRUE(store);
  auto missing = store->FindArticle("nope");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(store->MarkPublished(Rec("a1", 1000, 1000)));
  auto found = store->FindArticle("a1");
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->has_value());
  const ArticleRecord& r = **found;
  EXPECT_EQ(r.id, "a1");
  EXPECT_EQ(r.feed_id, "feed-a");
  EXPECT_EQ(r.item_hash, "i1");
  EXPECT_EQ(r.content_hash, "c1");
  EXPECT_EQ(r.first_published, T(1000));
  EXPECT_EQ(r.last_published, T(1000));
  EXPECT_FALSE(r.tombstone);
  EXPECT_EQ(*store->CountArticles(), 1);
}

TEST(StateStoreTest, UpdateKeepsFirstPublished) {
  auto store = OpenOrDie(":memory:");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->MarkPublished(Rec("a1", 1000, 1000, "c1", "i1")));
  ASSERT_TRUE(store->MarkPublished(Rec("a1", 5000, 5000, "c2", "i2")));
  auto r = **store->FindArticle("a1");
  EXPECT_EQ(r.first_published, T(1000));
  EXPECT_EQ(r.last_published, T(5000));
  EXPECT_EQ(r.content_hash, "c2");
  EXPECT_EQ(r.item_hash, "i2");
  EXPECT_EQ(*store->CountArticles(), 1);
}

TEST(StateStoreTest, UpdateItemHashOnly) {
  auto store = OpenOrDie(":memory:");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->MarkPublished(Rec("a1", 1000, 2000, "c1", "i1")));
  ASSERT_TRUE(store->UpdateItemHash("a1", "i9"));
  auto r = **store->FindArticle("a1");
  EXPECT_EQ(r.item_hash, "i9");
  EXPECT_EQ(r.content_hash, "c1");
  EXPECT_EQ(r.last_published, T(2000));

  auto unknown = store->UpdateItemHash("zzz", "x");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), Errc::kNotFound);
}

TEST(StateStoreTest, ContentHashVersionIsStoredAndUpdated) {
  auto store = OpenOrDie(":memory:");
  ASSERT_TRUE(store);
  ArticleRecord old = Rec("a", 1000, 1000, "text-only");
  old.content_hash_version = 1;
  ASSERT_TRUE(store->MarkPublished(old));
  auto got = store->FindArticle("a");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->content_hash_version, 1);
  ASSERT_TRUE(store->UpdateHashes("a", "i2", "title-and-text", 2));
  got = store->FindArticle("a");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->content_hash_version, 2);
  EXPECT_EQ((*got)->content_hash, "title-and-text");
  EXPECT_EQ((*got)->item_hash, "i2");
  EXPECT_EQ((*got)->last_published, T(1000));  // not a publication
  EXPECT_EQ((*got)->feed_id, "feed-a");
  // A new record carries the current definition by default.
  EXPECT_EQ(Rec("b", 1, 1).content_hash_version, kContentHashVersion);
  EXPECT_EQ(store->UpdateHashes("nope", "i", "c", 2).error().code(),
            Errc::kNotFound);
  // Tombstones keep the version and can be re-stored too.
  ASSERT_TRUE(store->MarkPublished(old));
  ASSERT_TRUE(store->Prune(T(5000)));
  got = store->FindArticle("a");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_TRUE((*got)->tombstone);
  EXPECT_EQ((*got)->content_hash_version, 1);
  ASSERT_TRUE(store->UpdateHashes("a", "i3", "v2hash", 2));
  got = store->FindArticle("a");
  EXPECT_EQ((*got)->content_hash_version, 2);
  EXPECT_EQ((*got)->content_hash, "v2hash");
}

// A file written before the column existed: its rows read as version 1.
TEST(StateStoreTest, FileFromBeforeContentHashVersionReadsVersionOne) {
  TempDir dir;
  const std::string path = dir.File("old.db");
  {
    auto store = OpenOrDie(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->MarkPublished(Rec("a", 1000, 2000, "old")));
    ASSERT_TRUE(store->MarkPublished(Rec("t", 1000, 1000, "old")));
    ASSERT_TRUE(store->Prune(T(1500)));
  }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    for (const char* sql :
         {"ALTER TABLE articles DROP COLUMN content_hash_version",
          "ALTER TABLE tombstones DROP COLUMN content_hash_version"}) {
      ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK)
          << sql;
    }
    sqlite3_close(db);
  }
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  for (const char* id : {"a", "t"}) {
    auto got = store->FindArticle(id);
    ASSERT_TRUE(got && got->has_value()) << id;
    EXPECT_EQ((*got)->content_hash_version, 1) << id;
    EXPECT_EQ((*got)->content_hash, "old") << id;
  }
  EXPECT_EQ((*store->FindArticle("a"))->last_published, T(2000));
  ASSERT_TRUE(store->MarkPublished(Rec("a", 1000, 3000, "new")));
  EXPECT_EQ((*store->FindArticle("a"))->content_hash_version,
            kContentHashVersion);
}

TEST(StateStoreTest, FeedRoundTripAndDefault) {
  auto store = OpenOrDie(":memory:");
  ASSERT_TRUE(store);
  auto absent = store->LoadFeed("f1");
  ASSERT_TRUE(absent);
  EXPECT_EQ(absent->feed_id, "f1");
  EXPECT_EQ(absent->etag, "");
  EXPECT_FALSE(absent->last_success.has_value());
  EXPECT_EQ(absent->consecutive_failures, 0);

  FeedState f;
  f.feed_id = "f1";
  f.url = "http://a.example/feed";
  f.etag = "\"abc\"";
  f.last_modified = "Sun, 12 Oct 2025 01:40:00 GMT";
  f.body_hash = "bh";
  f.last_success = T(111);
  f.last_attempt = T(222);
  f.last_error = "timeout";
  f.consecutive_failures = 3;
  f.moved_to = "https://a.example/feed";
  f.moved_hits = 2;
  ASSERT_TRUE(store->SaveFeed(f));
  auto got = store->LoadFeed("f1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->url, f.url);
  EXPECT_EQ(got->etag, f.etag);
  EXPECT_EQ(got->last_modified, f.last_modified);
  EXPECT_EQ(got->body_hash, f.body_hash);
  EXPECT_EQ(got->last_success, f.last_success);
  EXPECT_EQ(got->last_attempt, f.last_attempt);
  EXPECT_EQ(got->last_error, f.last_error);
  EXPECT_EQ(got->consecutive_failures, 3);
  EXPECT_EQ(got->moved_to, f.moved_to);
  EXPECT_EQ(got->moved_hits, 2);

  // Overwrite, clearing optional times.
  f.last_success.reset();
  f.consecutive_failures = 0;
  ASSERT_TRUE(store->SaveFeed(f));
  got = store->LoadFeed("f1");
  EXPECT_FALSE(got->last_success.has_value());
  EXPECT_EQ(got->consecutive_failures, 0);
}

TEST(StateStoreTest, SurvivesCloseAndReopenInWalMode) {
  TempDir dir;
  const std::string path = dir.File("state.db");
  {
    auto store = OpenOrDie(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->MarkPublished(Rec("a1", 1000, 2000)));
    FeedState f;
    f.feed_id = "f1";
    f.etag = "e1";
    ASSERT_TRUE(store->SaveFeed(f));
  }
  {
    auto store = OpenOrDie(path);
    ASSERT_TRUE(store);
    auto r = store->FindArticle("a1");
    ASSERT_TRUE(r && r->has_value());
    EXPECT_EQ((*r)->last_published, T(2000));
    EXPECT_EQ(store->LoadFeed("f1")->etag, "e1");
    EXPECT_EQ(*store->CountArticles(), 1);
  }
  // Check journal mode and schema version with an independent connection.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), StateStore::kSchemaVersion);
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST(StateStoreTest, PruneKeepsTombstones) {
  auto store = OpenOrDie(":memory:");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->MarkPublished(Rec("old", 1000, 2000, "c-old", "i-old")));
  ASSERT_TRUE(store->MarkPublished(Rec("new", 1000, 9000, "c-new", "i-new")));

  auto pruned = store->Prune(T(5000));
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 1);
  EXPECT_EQ(*store->CountArticles(), 1);
  EXPECT_EQ(*store->CountTombstones(), 1);

  // The pruned article is still known, as a tombstone without its feed.
  auto t = store->FindArticle("old");
  ASSERT_TRUE(t);
  ASSERT_TRUE(t->has_value());
  EXPECT_TRUE((*t)->tombstone);
  EXPECT_EQ((*t)->id, "old");
  EXPECT_EQ((*t)->feed_id, "");
  EXPECT_EQ((*t)->content_hash, "c-old");
  EXPECT_EQ((*t)->item_hash, "i-old");
  EXPECT_EQ((*t)->first_published, T(1000));
  EXPECT_EQ((*t)->last_published, T(2000));
  EXPECT_FALSE((**store->FindArticle("new")).tombstone);

  // Pruning again does nothing new.
  EXPECT_EQ(*store->Prune(T(5000)), 0);

  // An item hash change is recorded on the tombstone.
  ASSERT_TRUE(store->UpdateItemHash("old", "i-old2"));
  EXPECT_EQ((**store->FindArticle("old")).item_hash, "i-old2");

  // Publishing it again revives it and keeps first_published.
  ASSERT_TRUE(store->MarkPublished(Rec("old", 7000, 7000, "c-old2")));
  auto revived = **store->FindArticle("old");
  EXPECT_FALSE(revived.tombstone);
  EXPECT_EQ(revived.feed_id, "feed-a");
  EXPECT_EQ(revived.first_published, T(1000));
  EXPECT_EQ(revived.last_published, T(7000));
  EXPECT_EQ(*store->CountTombstones(), 0);
  EXPECT_EQ(*store->CountArticles(), 2);
}

TEST(StateStoreTest, PruneDropsOldTombstonesWhenAsked) {
  auto store = OpenOrDie(":memory:");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->MarkPublished(Rec("a", 100, 100)));
  ASSERT_TRUE(store->MarkPublished(Rec("b", 3000, 3000)));
  EXPECT_EQ(*store->Prune(T(5000)), 2);
  EXPECT_EQ(*store->CountTombstones(), 2);
  EXPECT_EQ(*store->Prune(T(5000), T(1000)), 0);
  EXPECT_EQ(*store->CountTombstones(), 1);
  EXPECT_FALSE(store->FindArticle("a")->has_value());
  EXPECT_TRUE(store->FindArticle("b")->has_value());
}

TEST(StateStoreTest, MissingDirectoryIsAnErrorWithThePath) {
  auto s = StateStore::Open("/nonexistent-newsflow-dir/sub/state.db");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kState);
  EXPECT_EQ(s.error().ToString(),
            "/nonexistent-newsflow-dir/sub/state.db: directory "
            "/nonexistent-newsflow-dir/sub does not exist");
}

TEST(StateStoreTest, UnwritablePathIsAnErrorWithThePath) {
  // /proc refuses file creation even for root.
  const std::string path = "/proc/newsflow-state-test.db";
  auto s = StateStore::Open(path);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kState);
  EXPECT_EQ(s.error().where(), path);
  EXPECT_EQ(s.error().ToString().rfind(path + ": ", 0), 0u)
      << s.error().ToString();
}

TEST(StateStoreTest, DirectoryAsPathIsAnError) {
  TempDir dir;
  auto s = StateStore::Open(dir.File(""));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kState);
}

TEST(StateStoreTest, NewerSchemaIsRefused) {
  TempDir dir;
  const std::string path = dir.File("state.db");
  { ASSERT_TRUE(OpenOrDie(path)); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  auto s = StateStore::Open(path);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().ToString(),
            path +
                ": schema version 99 is newer than this newsflowd "
                "supports (2)");
}

TEST(StateStoreTest, ManyArticles) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("state.db"));
  ASSERT_TRUE(store);
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(store->MarkPublished(
        Rec("id" + std::to_string(i), i, i, "c" + std::to_string(i))));
  }
  EXPECT_EQ(*store->CountArticles(), 2000);
  EXPECT_EQ(*store->Prune(T(1000)), 1000);
  EXPECT_EQ(*store->CountArticles(), 1000);
  EXPECT_EQ((**store->FindArticle("id1999")).content_hash, "c1999");
  EXPECT_TRUE((**store->FindArticle("id0")).tombstone);
}

// Issue 12: failed page fetches are counted per item across reopenings,
// forgotten on request, and pruned by age.
TEST(StateStoreTest, PageAttemptsCountAcrossReopens) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.File("state.db"));
    ASSERT_TRUE(store);
    EXPECT_EQ(*store->PageAttempts("a"), 0);
    EXPECT_EQ(*store->AddPageAttempt("a", "feed-a", T(10)), 1);
    EXPECT_EQ(*store->AddPageAttempt("a", "feed-a", T(20)), 2);
    EXPECT_EQ(*store->AddPageAttempt("b", "feed-a", T(5)), 1);
  }
  auto store = OpenOrDie(dir.File("state.db"));
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->PageAttempts("a"), 2);
  EXPECT_EQ(*store->AddPageAttempt("a", "feed-a", T(30)), 3);
  ASSERT_TRUE(store->ClearPageAttempts("a"));
  EXPECT_EQ(*store->PageAttempts("a"), 0);
  EXPECT_EQ(*store->PruneDeliveryRecords(T(6)), 1);  // "b", last at 5
  EXPECT_EQ(*store->PageAttempts("b"), 0);
}

// Issue 12: a dead-lettered article is known (never rebuilt while its item
// is unchanged) and its reason is kept.
TEST(StateStoreTest, DeadLetteredArticleIsKnownWithItsReason) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("state.db"));
  ASSERT_TRUE(store);
  EXPECT_FALSE(*store->FindDeadLetter("x"));
  ASSERT_TRUE(store->MarkDeadLettered(Rec("x", 1, 100, "c"), "unknown_topic"));
  auto known = store->FindArticle("x");
  ASSERT_TRUE(known && *known);
  EXPECT_EQ((*known)->item_hash, "i1");
  EXPECT_EQ(**store->FindDeadLetter("x"), "unknown_topic");
  EXPECT_EQ(*store->PruneDeliveryRecords(T(101)), 1);
  EXPECT_FALSE(*store->FindDeadLetter("x"));
}

}  // namespace
}  // namespace newsflow
