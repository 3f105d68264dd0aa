// Issue 13: the story tables of StateStore (see state_store.h and
// daemon/story/README.md). Statements are prepared per call like the id
// policy's: stories are looked up once per new article, not per item.

#include <sqlite3.h>

#include <unordered_set>

#include "daemon/core/stage_cpu.h"
#include "daemon/state/state_store.h"

namespace newsflow {
namespace {

constexpr const char* kStoryTables = R"sql(
CREATE TABLE IF NOT EXISTS stories (
  article_id    TEXT PRIMARY KEY,
  story_id      TEXT NOT NULL,
  canonical_url TEXT NOT NULL,
  signature     BLOB NOT NULL,
  last_seen     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS stories_by_url ON stories(canonical_url, last_seen);
CREATE INDEX IF NOT EXISTS stories_by_last_seen ON stories(last_seen);
CREATE TABLE IF NOT EXISTS story_bands (
  band       INTEGER NOT NULL,
  article_id TEXT NOT NULL,
  PRIMARY KEY (band, article_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS story_bands_by_article ON story_bands(article_id);
)sql";

// Owns a statement prepared for one call.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK)
      s_ = nullptr;
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  sqlite3_stmt* get() const { return s_; }
  explicit operator bool() const { return s_ != nullptr; }
  void Text(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
  }
  void Blob(int i, const std::string& v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

std::string Column(sqlite3_stmt* s, int col) {
  const void* p = sqlite3_column_blob(s, col);
  if (p == nullptr) return {};
  return std::string(static_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(s, col)));
}

StoryRecord ReadRecord(sqlite3_stmt* s) {
  StoryRecord r;
  r.article_id = Column(s, 0);
  r.story_id = Column(s, 1);
  r.canonical_url = Column(s, 2);
  r.signature = Column(s, 3);
  r.last_seen =
      TimePoint(std::chrono::milliseconds(sqlite3_column_int64(s, 4)));
  return r;
}

constexpr const char* kSelect =
    "SELECT article_id, story_id, canonical_url, signature, last_seen "
    "FROM stories ";

}  // namespace

Result<void> StateStore::InitStoryTables() { return Exec(kStoryTables); }

Result<std::optional<StoryRecord>> StateStore::FindStoryOfArticle(
    const std::string& article_id) {
  ScopedStageCpu cpu(CpuStage::kState);
  Stmt s(db_, (std::string(kSelect) + "WHERE article_id = ?1").c_str());
  if (!s) return SqlError("FindStoryOfArticle");
  s.Text(1, article_id);
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return std::optional<StoryRecord>(ReadRecord(s.get()));
  if (rc != SQLITE_DONE) return SqlError("FindStoryOfArticle");
  return std::optional<StoryRecord>();
}

Result<std::string> StateStore::FindStoryByUrl(
    const std::string& canonical_url) {
  ScopedStageCpu cpu(CpuStage::kState);
  Stmt s(db_,
         "SELECT story_id FROM stories WHERE canonical_url = ?1 "
         "ORDER BY last_seen LIMIT 1");
  if (!s) return SqlError("FindStoryByUrl");
  s.Text(1, canonical_url);
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return Column(s.get(), 0);
  if (rc != SQLITE_DONE) return SqlError("FindStoryByUrl");
  return std::string();
}

Result<std::vector<StoryRecord>> StateStore::FindStoryCandidates(
    const std::vector<int64_t>& band_keys) {
  ScopedStageCpu cpu(CpuStage::kState);
  Stmt s(db_,
         "SELECT s.article_id, s.story_id, s.canonical_url, s.signature, "
         "s.last_seen FROM story_bands b JOIN stories s "
         "ON s.article_id = b.article_id WHERE b.band = ?1");
  if (!s) return SqlError("FindStoryCandidates");
  std::vector<StoryRecord> out;
  std::unordered_set<std::string> seen;
  for (int64_t key : band_keys) {
    sqlite3_reset(s.get());
    sqlite3_bind_int64(s.get(), 1, key);
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      StoryRecord r = ReadRecord(s.get());
      if (seen.insert(r.article_id).second) out.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return SqlError("FindStoryCandidates");
  }
  return out;
}

Result<void> StateStore::SaveStory(const StoryRecord& record,
                                   const std::vector<int64_t>& band_keys) {
  ScopedStageCpu cpu(CpuStage::kState);
  if (auto r = Exec("BEGIN IMMEDIATE"); !r) return r;
  auto fail = [this](const char* what) {
    Error e = SqlError(what);
    (void)Exec("ROLLBACK");
    return e;
  };
  {
    Stmt s(db_,
           "INSERT OR REPLACE INTO stories (article_id, story_id, "
           "canonical_url, signature, last_seen) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!s) return fail("SaveStory");
    s.Text(1, record.article_id);
    s.Text(2, record.story_id);
    s.Text(3, record.canonical_url);
    s.Blob(4, record.signature);
    sqlite3_bind_int64(s.get(), 5,
                       std::chrono::duration_cast<std::chrono::milliseconds>(
                           record.last_seen.time_since_epoch())
                           .count());
    if (sqlite3_step(s.get()) != SQLITE_DONE) return fail("SaveStory");
  }
  {
    Stmt s(db_, "DELETE FROM story_bands WHERE article_id = ?1");
    if (!s) return fail("SaveStory: bands");
    s.Text(1, record.article_id);
    if (sqlite3_step(s.get()) != SQLITE_DONE) return fail("SaveStory: bands");
  }
  {
    Stmt s(db_,
           "INSERT OR IGNORE INTO story_bands (band, article_id) "
           "VALUES (?1, ?2)");
    if (!s) return fail("SaveStory: bands");
    for (int64_t key : band_keys) {
      sqlite3_reset(s.get());
      sqlite3_bind_int64(s.get(), 1, key);
      s.Text(2, record.article_id);
      if (sqlite3_step(s.get()) != SQLITE_DONE) return fail("SaveStory: bands");
    }
  }
  if (auto r = Exec("COMMIT"); !r) {
    (void)Exec("ROLLBACK");
    return r;
  }
  return {};
}

Result<int64_t> StateStore::PruneStories(TimePoint cutoff) {
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         cutoff.time_since_epoch())
                         .count();
  if (auto r = Exec("BEGIN IMMEDIATE"); !r) return r.error();
  int64_t pruned = 0;
  {
    Stmt s(db_,
           "DELETE FROM story_bands WHERE article_id IN (SELECT article_id "
           "FROM stories WHERE last_seen < ?1)");
    if (!s) return SqlError("PruneStories");
    sqlite3_bind_int64(s.get(), 1, ms);
    if (sqlite3_step(s.get()) != SQLITE_DONE) {
      Error e = SqlError("PruneStories");
      (void)Exec("ROLLBACK");
      return e;
    }
  }
  {
    Stmt s(db_, "DELETE FROM stories WHERE last_seen < ?1");
    if (!s) return SqlError("PruneStories");
    sqlite3_bind_int64(s.get(), 1, ms);
    if (sqlite3_step(s.get()) != SQLITE_DONE) {
      Error e = SqlError("PruneStories");
      (void)Exec("ROLLBACK");
      return e;
    }
    pruned = sqlite3_changes64(db_);
  }
  if (auto r = Exec("COMMIT"); !r) {
    (void)Exec("ROLLBACK");
    return r.error();
  }
  return pruned;
}

Result<int64_t> StateStore::CountStories() {
  Stmt s(db_, "SELECT COUNT(*) FROM stories");
  if (!s || sqlite3_step(s.get()) != SQLITE_ROW)
    return SqlError("CountStories");
  return sqlite3_column_int64(s.get(), 0);
}

}  // namespace newsflow
