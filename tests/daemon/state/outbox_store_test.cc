// The outbox table of the state store: append/ack/load, seq order, byte
// accounting, one transaction for "delete entry + mark seen", and what a
// crash between the write and the ack leaves (a reopened file).

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "daemon/state/state_store.h"

namespace newsflow {
namespace {

OutboxEntry Entry(std::string id, std::string value = "{\"v\":1}") {
  OutboxEntry e;
  e.id = std::move(id);
  e.feed_id = "feed-a";
  e.item_hash = "item-" + e.id;
  e.content_hash = "content-" + e.id;
  e.destination = "{\"name\":\"\",\"parts\":[]}";
  e.value = std::move(value);
  e.created_at = TimePoint(std::chrono::milliseconds(1'700'000'000'000));
  return e;
}

ArticleRecord Record(const OutboxEntry& e) {
  ArticleRecord r;
  r.id = e.id;
  r.feed_id = e.feed_id;
  r.item_hash = e.item_hash;
  r.content_hash = e.content_hash;
  r.first_published = r.last_published = e.created_at;
  return r;
}

std::string TempFile() {
  static int counter = 0;
  auto dir = std::filesystem::temp_directory_path() /
             ("nf_outbox_store_test_" + std::to_string(::getpid()) + "_" +
              std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return (dir / "state.db").string();
}

TEST(OutboxStoreTest, AppendAssignsIncreasingSeqsAndBytes) {
  auto store = std::move(*StateStore::Open(":memory:"));
  std::vector<OutboxEntry> batch = {
      Entry("a"), Entry("b", std::string(5000, 'x')), Entry("a")};
  ASSERT_TRUE(store->OutboxAppend(batch));
  EXPECT_LT(batch[0].seq, batch[1].seq);
  EXPECT_LT(batch[1].seq, batch[2].seq);
  EXPECT_GT(batch[1].bytes, 5000);
  EXPECT_EQ(batch[1].bytes - batch[0].bytes,
            static_cast<int64_t>(5000 - batch[0].value.size()));

  auto loaded = store->OutboxLoad(0, 10);
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->size(), 3u);
  EXPECT_EQ((*loaded)[0].id, "a");
  EXPECT_EQ((*loaded)[1].value, std::string(5000, 'x'));
  EXPECT_EQ((*loaded)[1].destination, batch[1].destination);
  EXPECT_EQ((*loaded)[2].seq, batch[2].seq);
  EXPECT_EQ((*loaded)[1].created_at, batch[1].created_at);
  // The index: same rows and byte counts, no values.
  auto index = store->OutboxLoad(0, 10, /*with_value=*/false);
  ASSERT_TRUE(index);
  ASSERT_EQ(index->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*index)[i].bytes, batch[i].bytes) << i;
    EXPECT_TRUE((*index)[i].value.empty());
    EXPECT_EQ((*index)[i].item_hash, batch[i].item_hash);
  }
  // Paging.
  auto page = store->OutboxLoad(batch[0].seq, 1);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].seq, batch[1].seq);
}

TEST(OutboxStoreTest, AckDeletesAndMarksInOneStep) {
  auto store = std::move(*StateStore::Open(":memory:"));
  std::vector<OutboxEntry> batch = {Entry("a"), Entry("b"), Entry("c")};
  ASSERT_TRUE(store->OutboxAppend(batch));
  // a delivered, b dropped (removed, not marked), c still waiting.
  ASSERT_TRUE(store->OutboxAck(
      {{batch[0].seq, Record(batch[0])}, {batch[1].seq, std::nullopt}}));
  auto a = store->FindArticle("a");
  ASSERT_TRUE(a && *a);
  EXPECT_EQ((*a)->item_hash, "item-a");
  EXPECT_FALSE(store->FindArticle("b")->has_value());
  auto left = store->OutboxLoad(0, 10);
  ASSERT_TRUE(left);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].id, "c");
  // Unknown seqs are ignored.
  EXPECT_TRUE(store->OutboxAck({{999, std::nullopt}}));
}

TEST(OutboxStoreTest, SeqsAreNeverReusedAfterTheTableEmpties) {
  auto store = std::move(*StateStore::Open(":memory:"));
  std::vector<OutboxEntry> first = {Entry("a")};
  ASSERT_TRUE(store->OutboxAppend(first));
  ASSERT_TRUE(store->OutboxAck({{first[0].seq, std::nullopt}}));
  std::vector<OutboxEntry> second = {Entry("b")};
  ASSERT_TRUE(store->OutboxAppend(second));
  EXPECT_GT(second[0].seq, first[0].seq);
}

// kill -9 between the outbox write and the ack: the reopened file still has
// the entry and nothing is marked seen; after an ack and a reopen the entry
// is gone and the article is known — never both, never neither.
TEST(OutboxStoreTest, SurvivesACrashBetweenWriteAndAck) {
  const std::string path = TempFile();
  std::vector<OutboxEntry> batch = {Entry("a"), Entry("b")};
  {
    auto store = std::move(*StateStore::Open(path));
    ASSERT_TRUE(store->OutboxAppend(batch));
    // "Crash": the handle is closed without any ack.
  }
  {
    auto store = std::move(*StateStore::Open(path));
    auto left = store->OutboxLoad(0, 10);
    ASSERT_TRUE(left);
    ASSERT_EQ(left->size(), 2u);
    EXPECT_EQ((*left)[0].value, batch[0].value);
    EXPECT_FALSE(store->FindArticle("a")->has_value());
    ASSERT_TRUE(store->OutboxAck({{batch[0].seq, Record(batch[0])}}));
  }
  {
    auto store = std::move(*StateStore::Open(path));
    auto left = store->OutboxLoad(0, 10);
    ASSERT_TRUE(left);
    ASSERT_EQ(left->size(), 1u);
    EXPECT_EQ((*left)[0].id, "b");
    EXPECT_TRUE(store->FindArticle("a")->has_value());
  }
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

// The outbox pushes every article's value through the WAL, and the main
// connection never checkpoints (wal_autocheckpoint=0): the background
// Checkpointer must copy the frames into the database so that the writer can
// restart the WAL from the top. Without it the WAL grows for as long as the
// daemon writes (5 GB for 20,000 articles) and every page lookup searches a
// longer wal-index (sqlite3WalFindFrame): CPU per article grew with the run.
TEST(OutboxStoreTest, BackgroundCheckpointsKeepTheWalFromGrowing) {
  const std::string path = TempFile();
  auto store = std::move(*StateStore::Open(path));
  auto round = [&](int round_no) {
    for (int b = 0; b < 20; ++b) {
      std::vector<OutboxEntry> batch;
      for (int i = 0; i < 10; ++i) {
        batch.push_back(Entry(
            "r" + std::to_string(round_no) + "-" + std::to_string(b * 10 + i),
            std::string(5000, static_cast<char>('a' + i))));
      }
      ASSERT_TRUE(store->OutboxAppend(batch));
      std::vector<OutboxDone> acks;
      for (const auto& e : batch) acks.push_back({e.seq, Record(e)});
      ASSERT_TRUE(store->OutboxAck(acks));
    }
  };
  auto size_of = [](const std::string& f) {
    std::error_code ec;
    auto n = std::filesystem::file_size(f, ec);
    return ec ? uintmax_t{0} : n;
  };
  round(1);
  const uintmax_t wal_after_first = size_of(path + "-wal");
  ASSERT_GT(wal_after_first, 1'000'000u);  // 200 values of 5 KB went through
  // The checkpointer (every 500 ms) copies the committed pages into the
  // database file while the store stays open.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (size_of(path) < 100'000 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(size_of(path), 100'000u) << "no checkpoint while the store is open";
  // SQLite sizes the database file before it copies the pages: give the
  // pass time to finish (the next ones find nothing left to copy).
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  // Everything was checkpointed: the next writes reuse the WAL from the top
  // instead of appending to it.
  round(2);
  EXPECT_LT(size_of(path + "-wal"), wal_after_first * 3 / 2);
  store.reset();
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

}  // namespace
}  // namespace newsflow
