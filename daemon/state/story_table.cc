// Issues 13 and 16: the story tables of StateStore (see state_store.h and
// daemon/story/README.md). Not scoped as CPU stage `state` here: the caller,
// StoryIndex::Assign, scopes its whole call (stage scopes must not nest). Every
// statement is prepared once at Open, and writes are batched into the next
// outbox transaction (issue 16: a transaction of its own per article, and 32
// band rows per article at random keys of a table of 32 × N rows, made the cost
// per article grow with the state).

#include <sqlite3.h>

#include <cassert>
#include <map>
#include <unordered_map>

#include "daemon/state/state_store.h"
#include "daemon/state/statement.h"

namespace newsflow {
namespace {

// Schema version 2 (issue 16). `story_articles`: where each article
// belongs. `story_signatures`: one representative signature per story,
// under an integer key the in-memory band index (daemon/story) points to.
constexpr const char* kStoryTables = R"sql(
CREATE TABLE IF NOT EXISTS story_articles (
  article_id    TEXT PRIMARY KEY,
  story_id      TEXT NOT NULL,
  canonical_url TEXT NOT NULL,
  last_seen     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS story_articles_by_url
  ON story_articles(canonical_url, last_seen);
CREATE INDEX IF NOT EXISTS story_articles_by_last_seen
  ON story_articles(last_seen);
CREATE TABLE IF NOT EXISTS story_signatures (
  key       INTEGER PRIMARY KEY,
  story_id  TEXT NOT NULL UNIQUE,
  signature BLOB NOT NULL,
  last_seen INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS story_signatures_by_last_seen
  ON story_signatures(last_seen);
)sql";

// Version 1 → 2: the issue-13 tables `stories` (a signature per article)
// and `story_bands` (32 rows per article) become the tables above. Every
// record keeps its story; each story keeps one signature: its own
// article's when fingerprinted, else its earliest-seen fingerprinted copy's
// (UNIQUE story_id: the first inserted wins), last seen when the story was.
constexpr const char* kMigrateV1Stories = R"sql(
INSERT OR REPLACE INTO story_articles
  SELECT article_id, story_id, canonical_url, last_seen FROM stories;
INSERT OR IGNORE INTO story_signatures (story_id, signature, last_seen)
  SELECT story_id, signature, last_seen FROM stories
  WHERE length(signature) > 0
  ORDER BY article_id <> story_id, last_seen;
UPDATE story_signatures SET last_seen = m.last_seen
  FROM (SELECT story_id, max(last_seen) AS last_seen FROM stories
        GROUP BY story_id) AS m
  WHERE m.story_id = story_signatures.story_id;
DROP TABLE stories;
DROP TABLE IF EXISTS story_bands;
)sql";

int64_t ToMillis(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint FromMillis(int64_t ms) {
  return TimePoint(std::chrono::milliseconds(ms));
}

std::string Column(sqlite3_stmt* s, int col) {
  const void* p = sqlite3_column_blob(s, col);
  if (p == nullptr) return {};
  return std::string(static_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(s, col)));
}

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

// Steps to the end; SQLITE_DONE expected.
int Run(sqlite3_stmt* s) {
  int rc = sqlite3_step(s);
  while (rc == SQLITE_ROW) rc = sqlite3_step(s);
  return rc;
}

}  // namespace

struct StateStore::StoryTables {
  Statement find_article, find_by_url, upsert_article;
  Statement find_signature, find_signature_key, insert_signature;
  Statement touch_signature, all_signatures, max_key;
  Statement count_articles, count_signatures;
  Statement prune_signature_keys, prune_signatures, prune_articles;

  // Pending writes (see state_store.h), committed by WritePendingStories.
  struct PendingSignature {
    StorySignature signature;  // story_id and bytes empty for a touch
    bool is_new = false;       // INSERT (else UPDATE last_seen)
  };
  std::unordered_map<std::string, StoryRecord> articles;  // by article id
  // Canonical URL -> story of the first pending article with that URL.
  std::unordered_map<std::string, std::string> story_of_url;
  std::map<int64_t, PendingSignature> signatures;     // by key
  std::unordered_map<std::string, int64_t> new_keys;  // story id -> key
  int64_t next_key = 1;
};

void StateStore::StoryTablesDeleter::operator()(StoryTables* p) const {
  delete p;
}

Result<void> StateStore::InitStoryTables() {
  if (auto r = Exec(kStoryTables); !r) return r;
  auto read_version = ReadSchemaVersion();
  if (!read_version) return read_version.error();
  const int version = *read_version;
  if (version >= 2) return {};
  // Migration 1 → 2, one transaction.
  bool has_v1_tables = false;
  {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_,
                           "SELECT 1 FROM sqlite_schema WHERE type = 'table' "
                           "AND name = 'stories'",
                           -1, &s, nullptr) != SQLITE_OK) {
      return SqlError("cannot read the schema");
    }
    has_v1_tables = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
  }
  if (auto r = Exec("BEGIN IMMEDIATE"); !r) return r;
  if (has_v1_tables) {
    if (auto r = Exec(kMigrateV1Stories); !r) {
      (void)Exec("ROLLBACK");
      return Error(Errc::kState,
                   "cannot migrate the story tables to schema version 2: " +
                       r.error().message(),
                   path_);
    }
  }
  if (auto r = Exec("PRAGMA user_version = 2"); !r) {
    (void)Exec("ROLLBACK");
    return r;
  }
  return Exec("COMMIT");
}

Result<void> StateStore::PrepareStoryStatements() {
  story_.reset(new StoryTables);
  StoryTables& t = *story_;
  const std::pair<Statement*, const char*> all[] = {
      {&t.find_article,
       "SELECT story_id, canonical_url, last_seen FROM story_articles WHERE "
       "article_id = ?1"},
      {&t.find_by_url,
       "SELECT story_id FROM story_articles WHERE canonical_url = ?1 ORDER BY "
       "last_seen LIMIT 1"},
      {&t.upsert_article,
       "INSERT OR REPLACE INTO story_articles (article_id, story_id, "
       "canonical_url, last_seen) VALUES (?1, ?2, ?3, ?4)"},
      {&t.find_signature,
       "SELECT story_id, signature, last_seen FROM story_signatures WHERE "
       "key = ?1"},
      {&t.find_signature_key,
       "SELECT key FROM story_signatures WHERE story_id = ?1"},
      {&t.insert_signature,
       "INSERT INTO story_signatures (key, story_id, signature, last_seen) "
       "VALUES (?1, ?2, ?3, ?4)"},
      {&t.touch_signature,
       "UPDATE story_signatures SET last_seen = max(last_seen, ?2) WHERE key "
       "= ?1"},
      {&t.all_signatures,
       "SELECT key, signature, last_seen FROM story_signatures "
       "WHERE last_seen >= ?1 ORDER BY key"},
      {&t.max_key, "SELECT max(key) FROM story_signatures"},
      {&t.count_articles, "SELECT COUNT(*) FROM story_articles"},
      {&t.count_signatures, "SELECT COUNT(*) FROM story_signatures"},
      {&t.prune_signature_keys,
       "SELECT key FROM story_signatures WHERE last_seen < ?1"},
      {&t.prune_signatures,
       "DELETE FROM story_signatures WHERE last_seen < ?1"},
      {&t.prune_articles, "DELETE FROM story_articles WHERE last_seen < ?1"},
  };
  for (const auto& [stmt, sql] : all) {
    if (stmt->Prepare(db_, sql) != SQLITE_OK) {
      return SqlError(std::string("cannot prepare \"") + sql + "\"");
    }
  }
  sqlite3_stmt* s = t.max_key.Use();
  if (sqlite3_step(s) != SQLITE_ROW) return SqlError("story signature keys");
  t.next_key = sqlite3_column_int64(s, 0) + 1;
  sqlite3_reset(s);
  return {};
}

Result<std::optional<StoryRecord>> StateStore::FindStoryOfArticle(
    const std::string& article_id) {
  StoryTables& t = *story_;
  if (auto it = t.articles.find(article_id); it != t.articles.end())
    return std::optional<StoryRecord>(it->second);
  sqlite3_stmt* s = t.find_article.Use();
  BindText(s, 1, article_id);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    StoryRecord r;
    r.article_id = article_id;
    r.story_id = Column(s, 0);
    r.canonical_url = Column(s, 1);
    r.last_seen = FromMillis(sqlite3_column_int64(s, 2));
    sqlite3_reset(s);
    return std::optional<StoryRecord>(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqlError("FindStoryOfArticle");
  return std::optional<StoryRecord>();
}

Result<std::string> StateStore::FindStoryByUrl(
    const std::string& canonical_url) {
  StoryTables& t = *story_;
  sqlite3_stmt* s = t.find_by_url.Use();
  BindText(s, 1, canonical_url);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    std::string story = Column(s, 0);
    sqlite3_reset(s);
    return story;
  }
  if (rc != SQLITE_DONE) return SqlError("FindStoryByUrl");
  // Pending records are later than every committed one.
  if (auto it = t.story_of_url.find(canonical_url); it != t.story_of_url.end())
    return it->second;
  return std::string();
}

Result<void> StateStore::SaveStoryArticle(const StoryRecord& record) {
  StoryTables& t = *story_;
  t.articles[record.article_id] = record;
  if (!record.canonical_url.empty())
    t.story_of_url.emplace(record.canonical_url, record.story_id);
  if (PendingStoryWrites() >= kMaxPendingStoryWrites) return FlushStories();
  return {};
}

Result<std::optional<StorySignature>> StateStore::FindStorySignature(
    int64_t key) {
  StoryTables& t = *story_;
  auto pending = t.signatures.find(key);
  if (pending != t.signatures.end() && pending->second.is_new)
    return std::optional<StorySignature>(pending->second.signature);
  sqlite3_stmt* s = t.find_signature.Use();
  sqlite3_bind_int64(s, 1, key);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    StorySignature sig;
    sig.key = key;
    sig.story_id = Column(s, 0);
    sig.signature = Column(s, 1);
    sig.last_seen = FromMillis(sqlite3_column_int64(s, 2));
    sqlite3_reset(s);
    if (pending != t.signatures.end())
      sig.last_seen =
          std::max(sig.last_seen, pending->second.signature.last_seen);
    return std::optional<StorySignature>(std::move(sig));
  }
  if (rc != SQLITE_DONE) return SqlError("FindStorySignature");
  return std::optional<StorySignature>();
}

Result<std::optional<int64_t>> StateStore::FindStorySignatureKey(
    const std::string& story_id) {
  StoryTables& t = *story_;
  if (auto it = t.new_keys.find(story_id); it != t.new_keys.end())
    return std::optional<int64_t>(it->second);
  sqlite3_stmt* s = t.find_signature_key.Use();
  BindText(s, 1, story_id);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    const int64_t key = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return std::optional<int64_t>(key);
  }
  if (rc != SQLITE_DONE) return SqlError("FindStorySignatureKey");
  return std::optional<int64_t>();
}

Result<int64_t> StateStore::AddStorySignature(const std::string& story_id,
                                              const std::string& signature,
                                              TimePoint last_seen) {
  StoryTables& t = *story_;
  assert(t.new_keys.count(story_id) == 0);
  const int64_t key = t.next_key++;
  StoryTables::PendingSignature& p = t.signatures[key];
  p.signature.key = key;
  p.signature.story_id = story_id;
  p.signature.signature = signature;
  p.signature.last_seen = last_seen;
  p.is_new = true;
  t.new_keys.emplace(story_id, key);
  if (PendingStoryWrites() >= kMaxPendingStoryWrites) {
    if (auto r = FlushStories(); !r) return r.error();
  }
  return key;
}

Result<void> StateStore::TouchStorySignature(int64_t key, TimePoint last_seen) {
  StoryTables& t = *story_;
  StoryTables::PendingSignature& p = t.signatures[key];
  p.signature.key = key;
  p.signature.last_seen = std::max(p.signature.last_seen, last_seen);
  if (PendingStoryWrites() >= kMaxPendingStoryWrites) return FlushStories();
  return {};
}

size_t StateStore::PendingStoryWrites() const {
  return story_->articles.size() + story_->signatures.size();
}

bool StateStore::WritePendingStories() {
  StoryTables& t = *story_;
  for (const auto& [key, p] : t.signatures) {
    sqlite3_stmt* s;
    if (p.is_new) {
      s = t.insert_signature.Use();
      sqlite3_bind_int64(s, 1, key);
      BindText(s, 2, p.signature.story_id);
      sqlite3_bind_blob(s, 3, p.signature.signature.data(),
                        static_cast<int>(p.signature.signature.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(s, 4, ToMillis(p.signature.last_seen));
    } else {
      s = t.touch_signature.Use();
      sqlite3_bind_int64(s, 1, key);
      sqlite3_bind_int64(s, 2, ToMillis(p.signature.last_seen));
    }
    if (Run(s) != SQLITE_DONE) return false;
  }
  for (const auto& [id, r] : t.articles) {
    sqlite3_stmt* s = t.upsert_article.Use();
    BindText(s, 1, r.article_id);
    BindText(s, 2, r.story_id);
    BindText(s, 3, r.canonical_url);
    sqlite3_bind_int64(s, 4, ToMillis(r.last_seen));
    if (Run(s) != SQLITE_DONE) return false;
  }
  return true;
}

void StateStore::ClearPendingStories() {
  StoryTables& t = *story_;
  t.articles.clear();
  t.story_of_url.clear();
  t.signatures.clear();
  t.new_keys.clear();
}

Result<void> StateStore::FlushStories() {
  if (story_ == nullptr || PendingStoryWrites() == 0) return {};
  if (auto r = Exec("BEGIN IMMEDIATE"); !r) return r;
  if (!WritePendingStories()) {
    Error e = SqlError("FlushStories");
    (void)Exec("ROLLBACK");
    return e;
  }
  if (auto r = Exec("COMMIT"); !r) {
    (void)Exec("ROLLBACK");
    return r;
  }
  ClearPendingStories();
  return {};
}

Result<void> StateStore::ForEachStorySignature(
    TimePoint since,
    const std::function<void(int64_t, const std::string&, TimePoint)>& fn) {
  if (auto r = FlushStories(); !r) return r;
  sqlite3_stmt* s = story_->all_signatures.Use();
  sqlite3_bind_int64(s, 1, ToMillis(since));
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const void* p = sqlite3_column_blob(s, 1);
    const std::string bytes =
        p == nullptr
            ? std::string()
            : std::string(static_cast<const char*>(p),
                          static_cast<size_t>(sqlite3_column_bytes(s, 1)));
    fn(sqlite3_column_int64(s, 0), bytes,
       TimePoint(std::chrono::milliseconds(sqlite3_column_int64(s, 2))));
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return SqlError("ForEachStorySignature");
  return {};
}

Result<int64_t> StateStore::PruneStories(TimePoint cutoff) {
  if (auto r = FlushStories(); !r) return r.error();
  StoryTables& t = *story_;
  const int64_t ms = ToMillis(cutoff);
  if (auto r = Exec("BEGIN IMMEDIATE"); !r) return r.error();
  auto fail = [this] {
    Error e = SqlError("PruneStories");
    (void)Exec("ROLLBACK");
    return e;
  };
  std::vector<int64_t> keys;
  {
    sqlite3_stmt* s = t.prune_signature_keys.Use();
    sqlite3_bind_int64(s, 1, ms);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
      keys.push_back(sqlite3_column_int64(s, 0));
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return fail();
  }
  sqlite3_stmt* s = t.prune_signatures.Use();
  sqlite3_bind_int64(s, 1, ms);
  if (Run(s) != SQLITE_DONE) return fail();
  s = t.prune_articles.Use();
  sqlite3_bind_int64(s, 1, ms);
  if (Run(s) != SQLITE_DONE) return fail();
  const int64_t pruned = sqlite3_changes64(db_);
  if (auto r = Exec("COMMIT"); !r) {
    (void)Exec("ROLLBACK");
    return r.error();
  }
  if (story_prune_listener_ && !keys.empty()) story_prune_listener_(keys);
  return pruned;
}

Result<int64_t> StateStore::CountStories() {
  if (auto r = FlushStories(); !r) return r.error();
  sqlite3_stmt* s = story_->count_articles.Use();
  if (sqlite3_step(s) != SQLITE_ROW) return SqlError("CountStories");
  const int64_t n = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return n;
}

Result<int64_t> StateStore::CountStorySignatures() {
  if (auto r = FlushStories(); !r) return r.error();
  sqlite3_stmt* s = story_->count_signatures.Use();
  if (sqlite3_step(s) != SQLITE_ROW) return SqlError("CountStorySignatures");
  const int64_t n = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return n;
}

}  // namespace newsflow
