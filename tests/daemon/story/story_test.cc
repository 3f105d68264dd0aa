#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "daemon/normalizer/normalizer.h"
#include "daemon/state/state_store.h"
#include "daemon/story/band_table.h"
#include "daemon/story/fingerprint.h"
#include "daemon/story/story_index.h"

namespace newsflow {
namespace {

const char kStory[] =
    "The city council voted on Tuesday to extend the tram line to the "
    "harbour, ending a debate that had run for more than ten years. The new "
    "section will add six stops and is expected to open in 2029.\n\n"
    "Supporters said the line would take thousands of cars off the roads "
    "every day. Opponents warned that the cost estimate had already doubled "
    "since the first plans were drawn up, and that the harbour district "
    "would be a building site for at least four years.\n\n"
    "Construction is due to begin next spring, the mayor said. The council "
    "will publish the timetable for the works in January, and residents "
    "along the route will be invited to three public meetings.";

const char kOtherStory[] =
    "A new public library opened downtown on Saturday, and hundreds of "
    "residents lined up before the doors opened to get a first look at the "
    "building. The library holds more than two hundred thousand books, a "
    "children's reading room and quiet study spaces. The city says it will "
    "also host free classes for adults who want to learn new skills. "
    "Visitors praised the bright reading rooms and the large windows "
    "overlooking the river.";

// The same story as a partner site republishes it: its own lead-in and
// trailer around the text.
std::string Syndicated(const std::string& text) {
  return "This article first appeared on The Harbour Courier and is "
         "republished here with permission.\n\n" +
         text +
         "\n\nSign up for our morning newsletter. Follow Partner Wire on "
         "social media for more local news.";
}

// Stored signatures are compared with new ones across restarts and
// upgrades, so the fingerprint of a text must never change with the build
// (compiler, vectorized or not). The digest of kStory's 96 values below
// was computed by the scalar implementation of commit 4b9680c.
TEST(FingerprintTest, SignatureIsStableAcrossBuilds) {
  const StoryFingerprint fp = FingerprintText(kStory);
  ASSERT_EQ(fp.minhash.size(), static_cast<size_t>(kMinHashes));
  uint64_t digest = 1469598103934665603ULL;
  for (uint32_t v : fp.minhash) digest = (digest ^ v) * 1099511628211ULL;
  EXPECT_EQ(digest, 0x36dc6ffd4e5956f5ULL) << std::hex << digest;
}

// Hostile sizes: a text as large as a page may be (16 MiB of one-letter
// words: 8 M shingles, many blocks of the MinHash loop) and one cut short in
// the middle of a UTF-8 sequence give a full signature, and the long text's
// is the one computed in one pass over all shingles (commit 51742b7).
TEST(FingerprintTest, HugeAndCutShortTextsAreFingerprinted) {
  std::string huge;
  huge.reserve(size_t{16} << 20);
  for (size_t i = 0; huge.size() < (size_t{16} << 20); ++i) {
    huge += static_cast<char>('a' + (i * 7 + i / 26) % 26);
    huge += ' ';
  }
  const StoryFingerprint fp = FingerprintText(huge);
  ASSERT_EQ(fp.minhash.size(), static_cast<size_t>(kMinHashes));
  uint64_t digest = 1469598103934665603ULL;
  for (uint32_t v : fp.minhash) digest = (digest ^ v) * 1099511628211ULL;
  EXPECT_EQ(digest, 0x7b7bf066abac0bd7ULL) << std::hex << digest;
  std::string cut = std::string(kStory) + " caf\xC3";
  EXPECT_EQ(FingerprintText(cut).minhash.size(),
            static_cast<size_t>(kMinHashes));
}

TEST(FingerprintTest, SimilarTextsAreCloseOthersFar) {
  const StoryFingerprint a = FingerprintText(kStory);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a.minhash.size(), static_cast<size_t>(kMinHashes));
  EXPECT_DOUBLE_EQ(EstimatedJaccard(a, FingerprintText(kStory)), 1.0);
  // Case and punctuation do not matter.
  std::string shouted = kStory;
  for (char& c : shouted) c = static_cast<char>(std::toupper(c));
  EXPECT_DOUBLE_EQ(EstimatedJaccard(a, FingerprintText(shouted)), 1.0);
  EXPECT_GE(EstimatedJaccard(a, FingerprintText(Syndicated(kStory))),
            kSameStoryJaccard);
  EXPECT_LT(EstimatedJaccard(a, FingerprintText(kOtherStory)), 0.1);
  // Too short to tell stories apart.
  EXPECT_TRUE(FingerprintText("Read the full story on our site.").empty());
  EXPECT_TRUE(FingerprintText("").empty());
  // CJK text without spaces is fingerprinted per character.
  EXPECT_FALSE(
      FingerprintText("東京都内に新しい市立図書館が今月開館し、初日から多"
                      "くの市民が訪れました。館内には約二十万冊の本が並"
                      "び")
          .empty());
  // Round trip through the store's encoding; bands are deterministic.
  EXPECT_EQ(DecodeFingerprint(EncodeFingerprint(a)).minhash, a.minhash);
  EXPECT_TRUE(DecodeFingerprint("short").empty());
  EXPECT_EQ(BandKeys(a).size(), static_cast<size_t>(kBands));
  EXPECT_EQ(BandKeys(a), BandKeys(FingerprintText(kStory)));
}

TEST(BandTableTest, FindsAddsCapsAndRemoves) {
  BandTable t;
  std::vector<uint32_t> out;
  t.Find(42, &out);
  EXPECT_TRUE(out.empty());
  // Many band keys (the table grows) and each finds exactly its keys.
  std::mt19937_64 rng(3);
  std::vector<int64_t> bands(20000);
  for (size_t i = 0; i < bands.size(); ++i) {
    bands[i] = static_cast<int64_t>(rng());
    ASSERT_TRUE(t.Add(bands[i], static_cast<uint32_t>(i + 1), 8));
  }
  EXPECT_EQ(t.size(), bands.size());
  for (size_t i = 0; i < bands.size(); i += 997) {
    out.clear();
    t.Find(bands[i], &out);
    ASSERT_EQ(out.size(), 1u) << i;
    EXPECT_EQ(out[0], i + 1);
  }
  // One band shared by many stories keeps the first 8; no duplicates.
  for (uint32_t k = 100001; k <= 100020; ++k) t.Add(7, k, 8);
  EXPECT_FALSE(t.Add(7, 100001, 8));
  out.clear();
  t.Find(7, &out);
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, (std::vector<uint32_t>{100001, 100002, 100003, 100004, 100005,
                                        100006, 100007, 100008}));
  // Removed keys are gone, the others stay findable.
  t.Remove({100002, 1, 3});
  out.clear();
  t.Find(7, &out);
  EXPECT_EQ(out.size(), 7u);
  out.clear();
  t.Find(bands[0], &out);
  EXPECT_TRUE(out.empty());
  out.clear();
  t.Find(bands[1], &out);
  EXPECT_EQ(out, std::vector<uint32_t>{2});
  EXPECT_EQ(t.size(), bands.size() + 8 - 3);
}

class StoryIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("nf_story_" + std::to_string(::getpid()) + ".db");
    std::filesystem::remove(path_);
    Open();
  }
  void TearDown() override {
    index_.reset();
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path_.string() + suffix);
  }
  void Open() {
    index_.reset();
    store_.reset();
    auto s = StateStore::Open(path_.string());
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
    index_ = std::make_unique<StoryIndex>(store_.get());
  }
  std::string Assign(const std::string& id, const std::string& url,
                     const std::string& text, TimePoint at = Now()) {
    auto r =
        index_->Assign(id, CanonicalizeUrl(url), FingerprintText(text), at);
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? *r : "";
  }

  std::filesystem::path path_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<StoryIndex> index_;
};

TEST_F(StoryIndexTest, SameUrlOrNearDuplicateTextIsOneStory) {
  // The first article of a story is its own story.
  EXPECT_EQ(Assign("a1", "https://courier.example/tram", kStory), "a1");
  // Another feed, same canonical URL (tracking parameters dropped), text
  // only a teaser: same story by URL.
  EXPECT_EQ(Assign("a2", "https://courier.example/tram?utm_source=rss#top",
                   "Council extends tram line."),
            "a1");
  // A partner's copy: other URL (with tracking), other boilerplate.
  EXPECT_EQ(Assign("a3",
                   "https://partner.example/news/2026/tram-line?utm_medium="
                   "social&fbclid=x",
                   Syndicated(kStory)),
            "a1");
  // A different story.
  EXPECT_EQ(Assign("b1", "https://courier.example/library", kOtherStory), "b1");
  // An article keeps its story when it is updated.
  EXPECT_EQ(
      Assign("a3", "https://partner.example/news/2026/tram-line", kOtherStory),
      "a1");
}

TEST_F(StoryIndexTest, StableAcrossRestarts) {
  EXPECT_EQ(Assign("a1", "https://courier.example/tram", kStory), "a1");
  Open();  // the daemon restarted
  EXPECT_EQ(Assign("a3", "https://partner.example/t", Syndicated(kStory)),
            "a1");
  EXPECT_EQ(Assign("a1", "https://courier.example/tram", kStory), "a1");
}

TEST_F(StoryIndexTest, RetentionPrunesFingerprints) {
  const TimePoint now = Now();
  EXPECT_EQ(Assign("a1", "https://courier.example/tram", kStory,
                   now - std::chrono::hours(24 * 100)),
            "a1");
  EXPECT_EQ(Assign("b1", "https://courier.example/library", kOtherStory, now),
            "b1");
  ASSERT_TRUE(PruneByRetention(*store_, std::chrono::hours(24 * 90), now));
  EXPECT_EQ(*store_->CountStories(), 1);
  // The pruned story is gone: a copy now starts a story of its own.
  EXPECT_EQ(Assign("a3", "https://partner.example/t", Syndicated(kStory)),
            "a3");
}

// The band index holds the stories seen within StoryIndex::kCandidateWindow
// only (memory follows the recent article rate, not the retention): a copy
// that comes later than that after its story's last copy starts a story of
// its own; the canonical URL still finds the story and brings it back.
TEST_F(StoryIndexTest, NearDuplicatesMatchWithinTheCandidateWindow) {
  using std::chrono::hours;
  const TimePoint t0 = Now() - hours(24 * 30);
  const hours window = StoryIndex::kCandidateWindow;
  EXPECT_EQ(Assign("a1", "https://courier.example/tram", kStory, t0), "a1");
  // A copy a day later joins and keeps the story in the window.
  EXPECT_EQ(Assign("p1", "https://partner1.example/t", Syndicated(kStory),
                   t0 + hours(24)),
            "a1");
  // Just inside the window since that copy: still the story.
  EXPECT_EQ(Assign("p2", "https://partner2.example/t", Syndicated(kStory),
                   t0 + hours(24) + window - hours(2)),
            "a1");
  const TimePoint later =
      t0 + hours(24) + window - hours(2) + window + hours(2);
  EXPECT_EQ(Assign("b1", "https://courier.example/library", kOtherStory, later),
            "b1");
  // Evicted: only b1's bands remain in memory.
  EXPECT_EQ(index_->stats().band_entries, static_cast<uint64_t>(kBands));
  EXPECT_EQ(index_->stats().evicted, 1u);
  EXPECT_EQ(
      Assign("p3", "https://partner3.example/t", Syndicated(kStory), later),
      "p3");
  // The URL has no window; it brings a1's story back into the index.
  EXPECT_EQ(
      Assign("a1u", "https://courier.example/tram?utm_source=x", kStory, later),
      "a1");
  EXPECT_EQ(index_->stats().band_entries, static_cast<uint64_t>(3 * kBands));
  // After a restart only the window's stories are loaded: b1 was last seen
  // at `later`, out of the window by now, so its copy starts a story.
  Open();
  EXPECT_EQ(Assign("c1", "https://courier.example/c", kOtherStory,
                   later + window + hours(1)),
            "c1");
  EXPECT_EQ(index_->stats().band_entries, static_cast<uint64_t>(kBands));
  Open();
  EXPECT_EQ(Assign("c2", "https://courier.example/c2", kOtherStory,
                   later + window + hours(2)),
            "c1");
}

// The lookup is sublinear: among thousands of stored stories of unrelated
// texts, a new text's band keys fetch only a handful of representatives.
TEST_F(StoryIndexTest, LookupReadsCandidatesNotEveryFingerprint) {
  std::mt19937 rng(7);
  const std::vector<std::string> vocabulary = {
      "river", "council", "market", "school", "train",  "bridge", "museum",
      "park",  "storm",   "report", "budget", "police", "doctor", "farmer",
      "match", "season",  "album",  "film",   "court",  "harbour"};
  auto random_text = [&] {
    std::string t;
    for (int w = 0; w < 80; ++w)
      t += vocabulary[rng() % vocabulary.size()] + std::to_string(rng() % 50) +
           " ";
    return t;
  };
  const TimePoint now = Now();
  for (int i = 0; i < 3000; ++i) {
    const std::string id = "r" + std::to_string(i);
    auto r = index_->Assign(id, "https://x.example/" + id,
                            FingerprintText(random_text()), now);
    ASSERT_TRUE(r);
    ASSERT_EQ(*r, id);
  }
  EXPECT_EQ(*store_->CountStorySignatures(), 3000);
  const uint64_t before = index_->stats().candidates_read;
  EXPECT_EQ(Assign("a1", "https://courier.example/tram", kStory), "a1");
  EXPECT_LT(index_->stats().candidates_read - before, 30u);
}

// Issue 16: a story syndicated many times is one representative in the
// index, so a new copy compares with it alone — the cost does not grow
// with the copies (before: every copy added its 32 band rows, and the
// 2,001st copy read and compared 2,000 signatures).
TEST_F(StoryIndexTest, CopiesOfAStoryDoNotAddCandidates) {
  const TimePoint now = Now();
  EXPECT_EQ(Assign("a0", "https://courier.example/tram", kStory, now), "a0");
  for (int i = 1; i <= 2000; ++i) {
    const std::string n = std::to_string(i);
    ASSERT_EQ(
        Assign("a" + n, "https://partner" + n + ".example/tram?utm_id=" + n,
               "Partner " + n + " republishes. " + Syndicated(kStory), now),
        "a0")
        << i;
  }
  const StoryIndexStats before = index_->stats();
  EXPECT_EQ(before.band_entries, static_cast<uint64_t>(kBands));
  EXPECT_EQ(*store_->CountStorySignatures(), 1);
  EXPECT_EQ(*store_->CountStories(), 2001);
  // One more copy: found, reading the one representative.
  EXPECT_EQ(Assign("a9999", "https://late.example/x", Syndicated(kStory), now),
            "a0");
  EXPECT_EQ(index_->stats().candidates_read - before.candidates_read, 1u);
  // Across a restart the same.
  Open();
  EXPECT_EQ(
      Assign("a10000", "https://later.example/x", Syndicated(kStory), now),
      "a0");
  EXPECT_EQ(index_->stats().candidates_read, 1u);
  EXPECT_EQ(index_->stats().band_entries, static_cast<uint64_t>(kBands));
}

// A story started by a teaser (no fingerprint) gets its representative
// from the first full text that joins it by URL; near-duplicates at other
// URLs then find the story.
TEST_F(StoryIndexTest, FullTextJoiningByUrlRepresentsATeaserStory) {
  EXPECT_EQ(Assign("t1", "https://courier.example/tram", "Tram line extended."),
            "t1");
  EXPECT_EQ(*store_->CountStorySignatures(), 0);
  EXPECT_EQ(Assign("f1", "https://courier.example/tram?utm_source=x", kStory),
            "t1");
  EXPECT_EQ(*store_->CountStorySignatures(), 1);
  EXPECT_EQ(Assign("p1", "https://partner.example/t", Syndicated(kStory)),
            "t1");
  EXPECT_EQ(*store_->CountStorySignatures(), 1);
}

// Story writes are batched into the outbox transaction: the record of an
// article is committed with (or before) its outbox row.
TEST_F(StoryIndexTest, StoryRecordsCommitWithTheOutboxAppend) {
  EXPECT_EQ(Assign("a1", "https://courier.example/tram", kStory), "a1");
  EXPECT_EQ(Assign("a2", "https://partner.example/t", Syndicated(kStory)),
            "a1");
  auto count_committed = [this] {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    int n = -1;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM story_articles", -1, &s,
                           nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
      n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
  };
  EXPECT_EQ(count_committed(), 0);  // pending, not a transaction each
  std::vector<OutboxEntry> entries(1);
  entries[0].id = "a2";
  entries[0].feed_id = "f";
  entries[0].value = "{}";
  ASSERT_TRUE(store_->OutboxAppend(entries));
  EXPECT_EQ(count_committed(), 2);
  Open();  // restart
  EXPECT_EQ(Assign("a2", "https://partner.example/t", Syndicated(kStory)),
            "a1");
}

// Schema version 1 (issue 13's `stories` with a signature per article and
// `story_bands`) is migrated at Open: every article keeps its story, each
// story keeps one signature, and copies still find their story.
TEST_F(StoryIndexTest, VersionOneStateFileOpens) {
  index_.reset();
  store_.reset();
  for (const char* suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(path_.string() + suffix);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    // The version-1 schema as newsflowd wrote it before issue 16.
    const char* v1 = R"sql(
CREATE TABLE articles (id TEXT PRIMARY KEY, feed_id TEXT NOT NULL,
  item_hash TEXT NOT NULL, content_hash TEXT NOT NULL,
  first_published INTEGER NOT NULL, last_published INTEGER NOT NULL)
  WITHOUT ROWID;
CREATE INDEX articles_by_last_published ON articles(last_published);
CREATE TABLE tombstones (id TEXT PRIMARY KEY, item_hash TEXT NOT NULL,
  content_hash TEXT NOT NULL, first_published INTEGER NOT NULL,
  last_published INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX tombstones_by_last_published ON tombstones(last_published);
CREATE TABLE feeds (feed_id TEXT PRIMARY KEY, url TEXT NOT NULL,
  etag TEXT NOT NULL, last_modified TEXT NOT NULL, body_hash TEXT NOT NULL,
  last_success INTEGER, last_attempt INTEGER, last_error TEXT NOT NULL,
  consecutive_failures INTEGER NOT NULL, moved_to TEXT NOT NULL,
  moved_hits INTEGER NOT NULL) WITHOUT ROWID;
PRAGMA user_version = 1;
CREATE TABLE stories (article_id TEXT PRIMARY KEY, story_id TEXT NOT NULL,
  canonical_url TEXT NOT NULL, signature BLOB NOT NULL,
  last_seen INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX stories_by_url ON stories(canonical_url, last_seen);
CREATE INDEX stories_by_last_seen ON stories(last_seen);
CREATE TABLE story_bands (band INTEGER NOT NULL, article_id TEXT NOT NULL,
  PRIMARY KEY (band, article_id)) WITHOUT ROWID;
CREATE INDEX story_bands_by_article ON story_bands(article_id);
)sql";
    ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "INSERT INTO stories VALUES (?1, ?2, ?3, ?4, "
                                 "?5)",
                                 -1, &s, nullptr),
              SQLITE_OK);
    const int64_t t0 = std::chrono::duration_cast<std::chrono::milliseconds>(
                           Now().time_since_epoch())
                           .count();
    auto row = [&](const char* id, const char* story, const char* url,
                   const std::string& sig, int64_t at) {
      sqlite3_reset(s);
      sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(s, 2, story, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(s, 3, url, -1, SQLITE_TRANSIENT);
      sqlite3_bind_blob(s, 4, sig.data(), static_cast<int>(sig.size()),
                        SQLITE_TRANSIENT);
      sqlite3_bind_int64(s, 5, at);
      ASSERT_EQ(sqlite3_step(s), SQLITE_DONE);
    };
    // A story with two fingerprinted copies, a teaser story, a story whose
    // own article was a teaser and whose copy was a full text.
    row("a1", "a1", "https://courier.example/tram",
        EncodeFingerprint(FingerprintText(kStory)), t0);
    row("a2", "a1", "https://partner.example/t",
        EncodeFingerprint(FingerprintText(Syndicated(kStory))), t0 + 5);
    row("t1", "t1", "https://courier.example/teaser", "", t0 + 1);
    row("l1", "l1", "https://courier.example/library", "", t0 + 2);
    row("l2", "l1", "https://courier.example/library",
        EncodeFingerprint(FingerprintText(kOtherStory)), t0 + 3);
    sqlite3_finalize(s);
    ASSERT_EQ(sqlite3_exec(db,
                           "INSERT INTO story_bands VALUES (1, 'a1'), (2, "
                           "'a2')",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  Open();
  EXPECT_EQ(*store_->CountStories(), 5);
  EXPECT_EQ(*store_->CountStorySignatures(), 2);  // a1's and l1's
  // Every article keeps its story.
  EXPECT_EQ(Assign("a2", "https://partner.example/t", Syndicated(kStory)),
            "a1");
  EXPECT_EQ(Assign("l2", "https://courier.example/library", kOtherStory), "l1");
  // New copies find the migrated signatures.
  EXPECT_EQ(Assign("a3", "https://third.example/t", Syndicated(kStory)), "a1");
  EXPECT_EQ(Assign("l3", "https://third.example/l", kOtherStory), "l1");
  auto sig = store_->FindStorySignatureKey("a1");
  ASSERT_TRUE(sig && *sig);
  EXPECT_EQ((*store_->FindStorySignature(**sig))->signature,
            EncodeFingerprint(FingerprintText(kStory)));  // its own article's
  index_.reset();
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT (SELECT user_version FROM "
                               "pragma_user_version), (SELECT COUNT(*) FROM "
                               "sqlite_schema WHERE name IN ('stories', "
                               "'story_bands'))",
                               -1, &s, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), 2);
  EXPECT_EQ(sqlite3_column_int(s, 1), 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
}

}  // namespace
}  // namespace newsflow
