#include "daemon/state/state_store.h"

#include <sqlite3.h>

#include <cassert>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <utility>

#include "daemon/core/stage_cpu.h"
#include "daemon/state/statement.h"

namespace newsflow {
namespace {

// Version 1. Times are INTEGER milliseconds since the Unix epoch (UTC).
// Tombstones live in their own table so the hot `articles` table and its
// index stay bounded by retention.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE articles (
  id              TEXT PRIMARY KEY,
  feed_id         TEXT NOT NULL,
  item_hash       TEXT NOT NULL,
  content_hash    TEXT NOT NULL,
  first_published INTEGER NOT NULL,
  last_published  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX articles_by_last_published ON articles(last_published);
CREATE TABLE tombstones (
  id              TEXT PRIMARY KEY,
  item_hash       TEXT NOT NULL,
  content_hash    TEXT NOT NULL,
  first_published INTEGER NOT NULL,
  last_published  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tombstones_by_last_published ON tombstones(last_published);
CREATE TABLE feeds (
  feed_id              TEXT PRIMARY KEY,
  url                  TEXT NOT NULL,
  etag                 TEXT NOT NULL,
  last_modified        TEXT NOT NULL,
  body_hash            TEXT NOT NULL,
  last_success         INTEGER,
  last_attempt         INTEGER,
  last_error           TEXT NOT NULL,
  consecutive_failures INTEGER NOT NULL,
  moved_to             TEXT NOT NULL,
  moved_hits           INTEGER NOT NULL
) WITHOUT ROWID;
PRAGMA user_version = 1;
)sql";

// Per-feed article id policy (see daemon/normalizer/id_policy.h).
constexpr const char* kIdPolicyTable = R"sql(
CREATE TABLE IF NOT EXISTS feed_id_policy (
  feed_id    TEXT PRIMARY KEY,
  policy     TEXT NOT NULL,
  reason     TEXT NOT NULL,
  changed_at INTEGER,
  last_items TEXT NOT NULL
) WITHOUT ROWID;
)sql";

// The durable outbox (daemon/runtime/outbox.h). AUTOINCREMENT: a seq is
// never reused, so build order survives an emptied table and restarts.
// value_len / destination_len duplicate the blobs' lengths so the resume
// index (OutboxLoad without values) reads no blob pages.
constexpr const char* kOutboxTable = R"sql(
CREATE TABLE IF NOT EXISTS outbox (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  id              TEXT NOT NULL,
  feed_id         TEXT NOT NULL,
  item_hash       TEXT NOT NULL,
  content_hash    TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  value_len       INTEGER NOT NULL,
  destination_len INTEGER NOT NULL,
  destination     TEXT NOT NULL,
  value           BLOB NOT NULL
);
)sql";

// Per-row overhead counted by OutboxEntry::Bytes (keys, row header, index).
constexpr int64_t kOutboxRowOverhead = 64;

int64_t ToMillis(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint FromMillis(int64_t ms) {
  return TimePoint(std::chrono::milliseconds(ms));
}

std::string ColumnText(sqlite3_stmt* s, int col) {
  const unsigned char* p = sqlite3_column_text(s, col);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(s, col)));
}

std::optional<TimePoint> ColumnTime(sqlite3_stmt* s, int col) {
  if (sqlite3_column_type(s, col) == SQLITE_NULL) return std::nullopt;
  return FromMillis(sqlite3_column_int64(s, col));
}

}  // namespace

struct StateStore::Statements {
  Statement begin, commit, rollback;
  Statement find_article, find_tombstone;
  Statement upsert_article, delete_tombstone;
  Statement update_item_hash, update_tombstone_item_hash;
  Statement update_hashes, update_tombstone_hashes;
  Statement load_feed, save_feed, set_parse_in_progress;
  Statement tombstone_expired, delete_expired, delete_old_tombstones;
  Statement count_articles, count_tombstones;
  Statement outbox_insert, outbox_delete, outbox_load, outbox_index;

  // Finishes the statement: SQLITE_DONE expected, row data ignored.
  static int Run(sqlite3_stmt* s) {
    int rc = sqlite3_step(s);
    while (rc == SQLITE_ROW) rc = sqlite3_step(s);
    return rc;
  }
};

// A thread with its own connection that runs a PASSIVE checkpoint every
// kInterval: it copies committed WAL frames into the database (and fsyncs)
// without blocking the writer; the writer restarts the WAL from the top
// once everything was checkpointed.
class StateStore::Checkpointer {
 public:
  static constexpr std::chrono::milliseconds kInterval{500};

  explicit Checkpointer(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) !=
        SQLITE_OK) {
      sqlite3_close_v2(db_);
      db_ = nullptr;
      return;
    }
    sqlite3_busy_timeout(db_, 1000);
    // A connection learns that the file is in WAL mode only when it first
    // reads it; until then sqlite3_wal_checkpoint_v2 does nothing and
    // returns SQLITE_OK (its pager has no WAL open). Read the schema once so
    // that every checkpoint below really runs (without this, the WAL grew
    // for the whole life of the daemon: bench/pipeline README, scaling).
    sqlite3_stmt* s = nullptr;
    if (sqlite3_exec(db_, "SELECT count(*) FROM sqlite_schema", nullptr,
                     nullptr, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_, "PRAGMA page_size", -1, &s, nullptr) !=
            SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW) {
      sqlite3_finalize(s);
      sqlite3_close_v2(db_);
      db_ = nullptr;
      return;
    }
    page_size_ = std::max(512, sqlite3_column_int(s, 0));
    sqlite3_finalize(s);
    thread_ = std::thread([this] { Loop(); });
  }
  ~Checkpointer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    sqlite3_close_v2(db_);
  }
  bool ok() const { return db_ != nullptr; }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, kInterval, [this] { return stop_; })) {
      lock.unlock();
      int log_frames = 0;
      sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                &log_frames, nullptr);
      // The writer restarts the WAL from the top only when, as it begins,
      // every frame has been checkpointed. Under a steady stream of commits
      // (the outbox in a burst of polls) a PASSIVE checkpoint never quite
      // catches up, and the WAL file grows for as long as the stream lasts
      // (~240 KB per article: disk, and page-cache work). Past
      // kRestartLogBytes, a RESTART checkpoint holds new writers back
      // (their busy handler waits) while it copies the few frames
      // committed since the PASSIVE pass and syncs, so that the next commit
      // starts the WAL over: a short wait on the io_context, at most once
      // per kInterval and only while the WAL is that large.
      if (static_cast<int64_t>(log_frames) * page_size_ >= kRestartLogBytes) {
        sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_RESTART,
                                  nullptr, nullptr);
      }
      lock.lock();
    }
  }

  static constexpr int64_t kRestartLogBytes = 64 << 20;

  sqlite3* db_ = nullptr;
  int page_size_ = 4096;  // bytes per WAL frame (page)
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

StateStore::StateStore(std::string path, sqlite3* db)
    : path_(std::move(path)), db_(db), stmts_(std::make_unique<Statements>()) {}

StateStore::~StateStore() {
  // Story writes still pending belong to articles that never reached the
  // outbox; committing them keeps what Assign answered (best effort).
  if (story_ != nullptr) (void)FlushStories();
  story_.reset();         // its statements, before the close
  checkpointer_.reset();  // before the last connection closes
  stmts_.reset();         // statements must be finalized before the close
  sqlite3_close_v2(db_);
}

Error StateStore::SqlError(const std::string& what) const {
  std::string msg = "sqlite: " + what;
  if (db_ != nullptr) {
    msg += ": ";
    msg += sqlite3_errmsg(db_);
  }
  return Error(Errc::kState, std::move(msg), path_);
}

Result<int> StateStore::ReadSchemaVersion() {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &s, nullptr) !=
      SQLITE_OK) {
    return SqlError("cannot read schema version");
  }
  int version = 0;
  if (sqlite3_step(s) == SQLITE_ROW) version = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  return version;
}

Result<void> StateStore::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return Error(Errc::kState, "sqlite: " + msg, path_);
  }
  return {};
}

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path) {
  if (path.empty()) {
    return Error(Errc::kState, "state store path is empty");
  }
  if (path != ":memory:") {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
      return Error(Errc::kState,
                   "directory " + parent.string() + " does not exist", path);
    }
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  // The constructor takes ownership even on failure so the handle is closed.
  std::unique_ptr<StateStore> store(new StateStore(path, db));
  if (rc != SQLITE_OK) {
    return Error(Errc::kState,
                 std::string("cannot open database: ") +
                     (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)),
                 path);
  }
  if (auto r = store->Init(); !r) return r.error();
  return store;
}

Result<void> StateStore::Init() {
  sqlite3_extended_result_codes(db_, 1);
  // Another process (an operator's sqlite3 shell) may hold a lock briefly.
  sqlite3_busy_timeout(db_, 5000);
  if (sqlite3_db_readonly(db_, "main") == 1) {
    return Error(Errc::kState, "database is read-only", path_);
  }

  {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, "PRAGMA journal_mode=WAL", -1, &s, nullptr) !=
        SQLITE_OK) {
      return SqlError("cannot set journal_mode");
    }
    int rc = sqlite3_step(s);
    std::string mode = rc == SQLITE_ROW ? ColumnText(s, 0) : "";
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW) return SqlError("cannot set journal_mode");
    // An in-memory database has no WAL ("memory"); a file must get it.
    if (path_ != ":memory:" && mode != "wal") {
      return Error(Errc::kState,
                   "cannot enable WAL journal (got \"" + mode + "\")", path_);
    }
  }
  // WAL + NORMAL: commits do not fsync; a power loss can drop the latest
  // commits but never corrupts the database (see header).
  if (auto r = Exec("PRAGMA synchronous=NORMAL"); !r) return r;
  // The outbox writes every article's value through the WAL: with SQLite's
  // automatic checkpoint the committing thread (the daemon's io_context)
  // would copy pages and fsync every 1000 pages (~700 articles). A
  // background connection checkpoints instead (Checkpointer).
  if (path_ != ":memory:") {
    auto checkpointer = std::make_unique<Checkpointer>(path_);
    if (checkpointer->ok()) {
      if (auto r = Exec("PRAGMA wal_autocheckpoint=0"); !r) return r;
      checkpointer_ = std::move(checkpointer);
    }
  }

  auto read_version = ReadSchemaVersion();
  if (!read_version) return read_version.error();
  const int version = *read_version;
  if (version > kSchemaVersion) {
    return Error(Errc::kState,
                 "schema version " + std::to_string(version) +
                     " is newer than this newsflowd supports (" +
                     std::to_string(kSchemaVersion) + ")",
                 path_);
  }
  if (version == 0) {
    // Migrations from version N to N+1 go here, each in its own transaction
    // (1 → 2, the story tables of issue 16: InitStoryTables).
    if (auto r = Exec("BEGIN IMMEDIATE"); !r) return r;
    if (auto r = Exec(kSchemaV1); !r) {
      (void)Exec("ROLLBACK");
      return Error(Errc::kState, "cannot create schema: " + r.error().message(),
                   path_);
    }
    if (auto r = Exec("COMMIT"); !r) return r;
  }

  // Added after version 1 shipped; additive, so no version bump: older
  // binaries simply ignore it.
  if (auto r = Exec(kIdPolicyTable); !r) return r;
  if (auto r = InitDeliveryTables(); !r) return r;  // the same way
  // The outbox, added the same way (additive, no version bump).
  if (auto r = Exec(kOutboxTable); !r) return r;
  if (auto r = InitStoryTables(); !r) return r;
  // feeds.moved_from, added later the same way. Rows from before have ''
  // there, so a move stored by an older binary is learned again (it never
  // names the configured URL it came from).
  {
    bool has_moved_from = false;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, "PRAGMA table_info(feeds)", -1, &s, nullptr) !=
        SQLITE_OK) {
      return SqlError("cannot read the feeds table's columns");
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
      has_moved_from |= ColumnText(s, 1) == "moved_from";
    }
    sqlite3_finalize(s);
    if (!has_moved_from) {
      if (auto r = Exec("ALTER TABLE feeds ADD COLUMN moved_from TEXT NOT NULL "
                        "DEFAULT ''");
          !r) {
        return r;
      }
      // Added with moved_from: the parser crash guard (quarantine).
      if (auto r = Exec("ALTER TABLE feeds ADD COLUMN parse_in_progress "
                        "INTEGER NOT NULL DEFAULT 0");
          !r) {
        return r;
      }
      if (auto r = Exec("ALTER TABLE feeds ADD COLUMN parse_crashes INTEGER "
                        "NOT NULL DEFAULT 0");
          !r) {
        return r;
      }
    }
  }

  // articles/tombstones.content_hash_version, added with the second
  // content_hash definition (title + text): rows from before are version 1
  // and are compared by that definition until they are re-stored.
  for (const char* table : {"articles", "tombstones"}) {
    bool has_version = false;
    sqlite3_stmt* s = nullptr;
    const std::string info = std::string("PRAGMA table_info(") + table + ")";
    if (sqlite3_prepare_v2(db_, info.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      return SqlError(std::string("cannot read the columns of ") + table);
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
      has_version |= ColumnText(s, 1) == "content_hash_version";
    }
    sqlite3_finalize(s);
    if (!has_version) {
      const std::string alter =
          std::string("ALTER TABLE ") + table +
          " ADD COLUMN content_hash_version INTEGER NOT NULL DEFAULT 1";
      if (auto r = Exec(alter.c_str()); !r) {
        return r;
      }
    }
  }

  Statements& st = *stmts_;
  const std::pair<Statement*, const char*> all[] = {
      {&st.begin, "BEGIN IMMEDIATE"},
      {&st.commit, "COMMIT"},
      {&st.rollback, "ROLLBACK"},
      {&st.find_article,
       "SELECT feed_id, item_hash, content_hash, first_published, "
       "last_published, content_hash_version FROM articles WHERE id = ?1"},
      {&st.find_tombstone,
       "SELECT item_hash, content_hash, first_published, last_published, "
       "content_hash_version FROM tombstones WHERE id = ?1"},
      // A revived tombstone keeps its first_published; so does a live row.
      {&st.upsert_article,
       "INSERT INTO articles (id, feed_id, item_hash, content_hash, "
       "first_published, last_published, content_hash_version) VALUES (?1, "
       "?2, ?3, ?4, "
       "COALESCE((SELECT first_published FROM tombstones WHERE id = ?1), ?5), "
       "?6, ?7) ON CONFLICT (id) DO UPDATE SET feed_id = excluded.feed_id, "
       "item_hash = excluded.item_hash, content_hash = excluded.content_hash, "
       "last_published = excluded.last_published, "
       "content_hash_version = excluded.content_hash_version"},
      {&st.delete_tombstone, "DELETE FROM tombstones WHERE id = ?1"},
      {&st.update_item_hash,
       "UPDATE articles SET item_hash = ?2 WHERE id = ?1"},
      {&st.update_tombstone_item_hash,
       "UPDATE tombstones SET item_hash = ?2 WHERE id = ?1"},
      {&st.update_hashes,
       "UPDATE articles SET item_hash = ?2, content_hash = ?3, "
       "content_hash_version = ?4 WHERE id = ?1"},
      {&st.update_tombstone_hashes,
       "UPDATE tombstones SET item_hash = ?2, content_hash = ?3, "
       "content_hash_version = ?4 WHERE id = ?1"},
      {&st.load_feed,
       "SELECT url, etag, last_modified, body_hash, last_success, "
       "last_attempt, last_error, consecutive_failures, moved_to, moved_hits, "
       "moved_from, parse_in_progress, parse_crashes FROM feeds WHERE "
       "feed_id = ?1"},
      {&st.set_parse_in_progress,
       "UPDATE feeds SET parse_in_progress = ?2 WHERE feed_id = ?1"},
      {&st.save_feed,
       "INSERT OR REPLACE INTO feeds (feed_id, url, etag, last_modified, "
       "body_hash, last_success, last_attempt, last_error, "
       "consecutive_failures, moved_to, moved_hits, moved_from, "
       "parse_in_progress, parse_crashes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
       "?8, ?9, ?10, ?11, ?12, ?13, ?14)"},
      {&st.tombstone_expired,
       "INSERT OR REPLACE INTO tombstones (id, item_hash, content_hash, "
       "first_published, last_published, content_hash_version) SELECT id, "
       "item_hash, content_hash, first_published, last_published, "
       "content_hash_version FROM articles WHERE last_published < ?1"},
      {&st.delete_expired, "DELETE FROM articles WHERE last_published < ?1"},
      {&st.delete_old_tombstones,
       "DELETE FROM tombstones WHERE last_published < ?1"},
      {&st.count_articles, "SELECT COUNT(*) FROM articles"},
      {&st.count_tombstones, "SELECT COUNT(*) FROM tombstones"},
      {&st.outbox_insert,
       "INSERT INTO outbox (id, feed_id, item_hash, content_hash, created_at, "
       "value_len, destination_len, destination, value) VALUES (?1, ?2, ?3, "
       "?4, ?5, ?6, ?7, ?8, ?9)"},
      {&st.outbox_delete, "DELETE FROM outbox WHERE seq = ?1"},
      {&st.outbox_load,
       "SELECT seq, id, feed_id, item_hash, content_hash, created_at, "
       "value_len, destination_len, destination, value FROM outbox WHERE seq "
       "> ?1 ORDER BY seq LIMIT ?2"},
      {&st.outbox_index,
       "SELECT seq, id, feed_id, item_hash, content_hash, created_at, "
       "value_len, destination_len FROM outbox WHERE seq > ?1 ORDER BY seq "
       "LIMIT ?2"},
  };
  for (const auto& [stmt, sql] : all) {
    if (stmt->Prepare(db_, sql) != SQLITE_OK) {
      return SqlError(std::string("cannot prepare \"") + sql + "\"");
    }
  }
  return PrepareStoryStatements();
}

Result<std::optional<ArticleRecord>> StateStore::FindArticle(
    const std::string& id) {
  ScopedStageCpu cpu(CpuStage::kState);
  sqlite3_stmt* s = stmts_->find_article.Use();
  sqlite3_bind_text(s, 1, id.data(), static_cast<int>(id.size()),
                    SQLITE_STATIC);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    ArticleRecord r;
    r.id = id;
    r.feed_id = ColumnText(s, 0);
    r.item_hash = ColumnText(s, 1);
    r.content_hash = ColumnText(s, 2);
    r.first_published = FromMillis(sqlite3_column_int64(s, 3));
    r.last_published = FromMillis(sqlite3_column_int64(s, 4));
    r.content_hash_version = sqlite3_column_int(s, 5);
    sqlite3_reset(s);
    return std::optional<ArticleRecord>(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqlError("FindArticle");

  s = stmts_->find_tombstone.Use();
  sqlite3_bind_text(s, 1, id.data(), static_cast<int>(id.size()),
                    SQLITE_STATIC);
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    ArticleRecord r;
    r.id = id;
    r.item_hash = ColumnText(s, 0);
    r.content_hash = ColumnText(s, 1);
    r.first_published = FromMillis(sqlite3_column_int64(s, 2));
    r.last_published = FromMillis(sqlite3_column_int64(s, 3));
    r.content_hash_version = sqlite3_column_int(s, 4);
    r.tombstone = true;
    sqlite3_reset(s);
    return std::optional<ArticleRecord>(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqlError("FindArticle");
  return std::optional<ArticleRecord>();
}

bool StateStore::UpsertArticle(const ArticleRecord& record) {
  sqlite3_stmt* s = stmts_->upsert_article.Use();
  auto bind = [s](int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_STATIC);
  };
  bind(1, record.id);
  bind(2, record.feed_id);
  bind(3, record.item_hash);
  bind(4, record.content_hash);
  sqlite3_bind_int64(s, 5, ToMillis(record.first_published));
  sqlite3_bind_int64(s, 6, ToMillis(record.last_published));
  sqlite3_bind_int(s, 7, record.content_hash_version);
  if (Statements::Run(s) != SQLITE_DONE) return false;
  sqlite3_stmt* d = stmts_->delete_tombstone.Use();
  sqlite3_bind_text(d, 1, record.id.data(), static_cast<int>(record.id.size()),
                    SQLITE_STATIC);
  return Statements::Run(d) == SQLITE_DONE;
}

Result<void> StateStore::MarkPublished(const ArticleRecord& record) {
  ScopedStageCpu cpu(CpuStage::kState);
  assert(!record.id.empty());
  if (Statements::Run(stmts_->begin.Use()) != SQLITE_DONE) {
    return SqlError("MarkPublished: begin");
  }
  if (!UpsertArticle(record)) {
    Error e = SqlError("MarkPublished");
    Statements::Run(stmts_->rollback.Use());
    return e;
  }
  if (Statements::Run(stmts_->commit.Use()) != SQLITE_DONE) {
    Error e = SqlError("MarkPublished: commit");
    Statements::Run(stmts_->rollback.Use());
    return e;
  }
  if (observer_) NotifyArticle(record.id);
  return {};
}

void StateStore::NotifyArticle(const std::string& id) {
  auto found = FindArticle(id);
  if (!found || !found->has_value() || (*found)->tombstone) return;
  StateChange change;
  change.article = &**found;
  Notify(change);
}

Result<void> StateStore::PutArticle(const ArticleRecord& record) {
  assert(!record.id.empty());
  if (Statements::Run(stmts_->begin.Use()) != SQLITE_DONE) {
    return SqlError("PutArticle: begin");
  }
  bool ok = true;
  for (const char* sql : {"DELETE FROM articles WHERE id = ?1",
                          "DELETE FROM tombstones WHERE id = ?1"}) {
    sqlite3_stmt* s = nullptr;
    ok = ok && sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) == SQLITE_OK;
    if (ok) {
      sqlite3_bind_text(s, 1, record.id.data(),
                        static_cast<int>(record.id.size()), SQLITE_TRANSIENT);
      ok = sqlite3_step(s) == SQLITE_DONE;
    }
    sqlite3_finalize(s);
  }
  // With no row left, the upsert inserts every field as given.
  ok = ok && UpsertArticle(record);
  if (!ok) {
    Error e = SqlError("PutArticle");
    Statements::Run(stmts_->rollback.Use());
    return e;
  }
  if (Statements::Run(stmts_->commit.Use()) != SQLITE_DONE) {
    Error e = SqlError("PutArticle: commit");
    Statements::Run(stmts_->rollback.Use());
    return e;
  }
  return {};
}

namespace {
int64_t OutboxBytes(const OutboxEntry& e, size_t value_len,
                    size_t destination_len) {
  return static_cast<int64_t>(value_len + destination_len + e.id.size() +
                              e.feed_id.size() + e.item_hash.size() +
                              e.content_hash.size()) +
         kOutboxRowOverhead;
}
}  // namespace

Result<void> StateStore::OutboxAppend(std::vector<OutboxEntry>& entries) {
  ScopedStageCpu cpu(CpuStage::kState);
  if (entries.empty()) return {};
  if (Statements::Run(stmts_->begin.Use()) != SQLITE_DONE) {
    return SqlError("OutboxAppend: begin");
  }
  // The story records of these articles (StoryIndex::Assign ran before
  // Publish) commit with their outbox rows, or earlier (state_store.h).
  if (!WritePendingStories()) {
    Error err = SqlError("OutboxAppend: stories");
    Statements::Run(stmts_->rollback.Use());
    return err;
  }
  for (OutboxEntry& e : entries) {
    sqlite3_stmt* s = stmts_->outbox_insert.Use();
    auto bind = [s](int i, const std::string& v) {
      sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()),
                        SQLITE_STATIC);
    };
    bind(1, e.id);
    bind(2, e.feed_id);
    bind(3, e.item_hash);
    bind(4, e.content_hash);
    sqlite3_bind_int64(s, 5, ToMillis(e.created_at));
    sqlite3_bind_int64(s, 6, static_cast<int64_t>(e.value.size()));
    sqlite3_bind_int64(s, 7, static_cast<int64_t>(e.destination.size()));
    bind(8, e.destination);
    sqlite3_bind_blob(s, 9, e.value.data(), static_cast<int>(e.value.size()),
                      SQLITE_STATIC);
    if (Statements::Run(s) != SQLITE_DONE) {
      Error err = SqlError("OutboxAppend");
      Statements::Run(stmts_->rollback.Use());
      return err;
    }
    e.seq = sqlite3_last_insert_rowid(db_);
    e.bytes = OutboxBytes(e, e.value.size(), e.destination.size());
  }
  if (Statements::Run(stmts_->commit.Use()) != SQLITE_DONE) {
    Error err = SqlError("OutboxAppend: commit");
    Statements::Run(stmts_->rollback.Use());
    return err;
  }
  ClearPendingStories();
  return {};
}

Result<void> StateStore::OutboxAck(const std::vector<OutboxDone>& acks) {
  ScopedStageCpu cpu(CpuStage::kState);
  if (acks.empty()) return {};
  if (Statements::Run(stmts_->begin.Use()) != SQLITE_DONE) {
    return SqlError("OutboxAck: begin");
  }
  for (const OutboxDone& ack : acks) {
    sqlite3_stmt* s = stmts_->outbox_delete.Use();
    sqlite3_bind_int64(s, 1, ack.seq);
    bool ok = Statements::Run(s) == SQLITE_DONE;
    if (ok && ack.record) ok = UpsertArticle(*ack.record);
    if (!ok) {
      Error err = SqlError("OutboxAck");
      Statements::Run(stmts_->rollback.Use());
      return err;
    }
  }
  if (Statements::Run(stmts_->commit.Use()) != SQLITE_DONE) {
    Error err = SqlError("OutboxAck: commit");
    Statements::Run(stmts_->rollback.Use());
    return err;
  }
  if (observer_) {
    for (const OutboxDone& ack : acks) {
      if (ack.record) NotifyArticle(ack.record->id);
    }
  }
  return {};
}

Result<std::vector<OutboxEntry>> StateStore::OutboxLoad(int64_t after_seq,
                                                        size_t limit,
                                                        bool with_value) {
  sqlite3_stmt* s =
      (with_value ? stmts_->outbox_load : stmts_->outbox_index).Use();
  sqlite3_bind_int64(s, 1, after_seq);
  sqlite3_bind_int64(s, 2, static_cast<int64_t>(limit));
  std::vector<OutboxEntry> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    OutboxEntry e;
    e.seq = sqlite3_column_int64(s, 0);
    e.id = ColumnText(s, 1);
    e.feed_id = ColumnText(s, 2);
    e.item_hash = ColumnText(s, 3);
    e.content_hash = ColumnText(s, 4);
    e.created_at = FromMillis(sqlite3_column_int64(s, 5));
    if (with_value) {
      e.destination = ColumnText(s, 8);
      const void* blob = sqlite3_column_blob(s, 9);
      const int n = sqlite3_column_bytes(s, 9);
      if (blob != nullptr) {
        e.value.assign(static_cast<const char*>(blob), static_cast<size_t>(n));
      }
    }
    e.bytes = OutboxBytes(e, static_cast<size_t>(sqlite3_column_int64(s, 6)),
                          static_cast<size_t>(sqlite3_column_int64(s, 7)));
    out.push_back(std::move(e));
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return SqlError("OutboxLoad");
  return out;
}

Result<void> StateStore::UpdateItemHash(const std::string& id,
                                        const std::string& item_hash) {
  ScopedStageCpu cpu(CpuStage::kState);
  for (Statement* stmt :
       {&stmts_->update_item_hash, &stmts_->update_tombstone_item_hash}) {
    sqlite3_stmt* s = stmt->Use();
    sqlite3_bind_text(s, 1, id.data(), static_cast<int>(id.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(s, 2, item_hash.data(),
                      static_cast<int>(item_hash.size()), SQLITE_STATIC);
    if (Statements::Run(s) != SQLITE_DONE) return SqlError("UpdateItemHash");
    if (sqlite3_changes(db_) > 0) {
      if (observer_) NotifyArticle(id);
      return {};
    }
  }
  return Error(Errc::kNotFound, "UpdateItemHash: unknown article " + id, path_);
}

Result<void> StateStore::UpdateHashes(const std::string& id,
                                      const std::string& item_hash,
                                      const std::string& content_hash,
                                      int content_hash_version) {
  for (Statement* stmt :
       {&stmts_->update_hashes, &stmts_->update_tombstone_hashes}) {
    sqlite3_stmt* s = stmt->Use();
    sqlite3_bind_text(s, 1, id.data(), static_cast<int>(id.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(s, 2, item_hash.data(),
                      static_cast<int>(item_hash.size()), SQLITE_STATIC);
    sqlite3_bind_text(s, 3, content_hash.data(),
                      static_cast<int>(content_hash.size()), SQLITE_STATIC);
    sqlite3_bind_int(s, 4, content_hash_version);
    if (Statements::Run(s) != SQLITE_DONE) return SqlError("UpdateHashes");
    if (sqlite3_changes(db_) > 0) {
      if (observer_) NotifyArticle(id);
      return {};
    }
  }
  return Error(Errc::kNotFound, "UpdateHashes: unknown article " + id, path_);
}

Result<FeedState> StateStore::LoadFeed(const std::string& feed_id) {
  ScopedStageCpu cpu(CpuStage::kState);
  sqlite3_stmt* s = stmts_->load_feed.Use();
  sqlite3_bind_text(s, 1, feed_id.data(), static_cast<int>(feed_id.size()),
                    SQLITE_STATIC);
  FeedState f;
  f.feed_id = feed_id;
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return f;
  if (rc != SQLITE_ROW) return SqlError("LoadFeed");
  f.url = ColumnText(s, 0);
  f.etag = ColumnText(s, 1);
  f.last_modified = ColumnText(s, 2);
  f.body_hash = ColumnText(s, 3);
  f.last_success = ColumnTime(s, 4);
  f.last_attempt = ColumnTime(s, 5);
  f.last_error = ColumnText(s, 6);
  f.consecutive_failures = sqlite3_column_int(s, 7);
  f.moved_to = ColumnText(s, 8);
  f.moved_hits = sqlite3_column_int(s, 9);
  f.moved_from = ColumnText(s, 10);
  f.parse_in_progress = sqlite3_column_int(s, 11) != 0;
  f.parse_crashes = sqlite3_column_int(s, 12);
  sqlite3_reset(s);
  return f;
}

Result<void> StateStore::SaveFeed(const FeedState& f) {
  ScopedStageCpu cpu(CpuStage::kState);
  assert(!f.feed_id.empty());
  sqlite3_stmt* s = stmts_->save_feed.Use();
  auto bind = [s](int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_STATIC);
  };
  auto bind_time = [s](int i, const std::optional<TimePoint>& t) {
    if (t) {
      sqlite3_bind_int64(s, i, ToMillis(*t));
    } else {
      sqlite3_bind_null(s, i);
    }
  };
  bind(1, f.feed_id);
  bind(2, f.url);
  bind(3, f.etag);
  bind(4, f.last_modified);
  bind(5, f.body_hash);
  bind_time(6, f.last_success);
  bind_time(7, f.last_attempt);
  bind(8, f.last_error);
  sqlite3_bind_int(s, 9, f.consecutive_failures);
  bind(10, f.moved_to);
  sqlite3_bind_int(s, 11, f.moved_hits);
  bind(12, f.moved_from);
  sqlite3_bind_int(s, 13, f.parse_in_progress ? 1 : 0);
  sqlite3_bind_int(s, 14, f.parse_crashes);
  if (Statements::Run(s) != SQLITE_DONE) return SqlError("SaveFeed");
  StateChange change;
  change.feed = &f;
  Notify(change);
  return {};
}

Result<void> StateStore::SetParseInProgress(const std::string& feed_id,
                                            bool value) {
  ScopedStageCpu cpu(CpuStage::kState);
  sqlite3_stmt* s = stmts_->set_parse_in_progress.Use();
  sqlite3_bind_text(s, 1, feed_id.data(), static_cast<int>(feed_id.size()),
                    SQLITE_STATIC);
  sqlite3_bind_int(s, 2, value ? 1 : 0);
  if (Statements::Run(s) != SQLITE_DONE) return SqlError("SetParseInProgress");
  return {};
}

Result<int64_t> StateStore::Prune(TimePoint cutoff,
                                  std::optional<TimePoint> tombstone_cutoff) {
  if (Statements::Run(stmts_->begin.Use()) != SQLITE_DONE) {
    return SqlError("Prune: begin");
  }
  int64_t pruned = 0;
  bool ok = true;
  if (tombstone_cutoff) {
    // First, so that articles tombstoned below are judged by `cutoff` only.
    sqlite3_stmt* s = stmts_->delete_old_tombstones.Use();
    sqlite3_bind_int64(s, 1, ToMillis(*tombstone_cutoff));
    ok = Statements::Run(s) == SQLITE_DONE;
  }
  if (ok) {
    sqlite3_stmt* s = stmts_->tombstone_expired.Use();
    sqlite3_bind_int64(s, 1, ToMillis(cutoff));
    ok = Statements::Run(s) == SQLITE_DONE;
  }
  if (ok) {
    sqlite3_stmt* s = stmts_->delete_expired.Use();
    sqlite3_bind_int64(s, 1, ToMillis(cutoff));
    ok = Statements::Run(s) == SQLITE_DONE;
    pruned = sqlite3_changes64(db_);
  }
  if (!ok) {
    Error e = SqlError("Prune");
    Statements::Run(stmts_->rollback.Use());
    return e;
  }
  if (Statements::Run(stmts_->commit.Use()) != SQLITE_DONE) {
    Error e = SqlError("Prune: commit");
    Statements::Run(stmts_->rollback.Use());
    return e;
  }
  return pruned;
}

Result<FeedIdPolicyRecord> StateStore::LoadIdPolicy(
    const std::string& feed_id) {
  ScopedStageCpu cpu(CpuStage::kState);
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "SELECT policy, reason, changed_at, last_items FROM "
                         "feed_id_policy WHERE feed_id = ?1",
                         -1, &s, nullptr) != SQLITE_OK) {
    return SqlError("LoadIdPolicy");
  }
  sqlite3_bind_text(s, 1, feed_id.data(), static_cast<int>(feed_id.size()),
                    SQLITE_TRANSIENT);
  FeedIdPolicyRecord record;
  record.feed_id = feed_id;
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    record.policy = ColumnText(s, 0);
    record.reason = ColumnText(s, 1);
    record.changed_at = ColumnTime(s, 2);
    record.last_items = ColumnText(s, 3);
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqlError("LoadIdPolicy");
  return record;
}

Result<void> StateStore::SaveIdPolicy(const FeedIdPolicyRecord& record) {
  ScopedStageCpu cpu(CpuStage::kState);
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "INSERT OR REPLACE INTO feed_id_policy (feed_id, "
                         "policy, reason, changed_at, last_items) VALUES "
                         "(?1, ?2, ?3, ?4, ?5)",
                         -1, &s, nullptr) != SQLITE_OK) {
    return SqlError("SaveIdPolicy");
  }
  auto text = [s](int col, const std::string& v) {
    sqlite3_bind_text(s, col, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
  };
  text(1, record.feed_id);
  text(2, record.policy);
  text(3, record.reason);
  if (record.changed_at) {
    sqlite3_bind_int64(s, 4, ToMillis(*record.changed_at));
  } else {
    sqlite3_bind_null(s, 4);
  }
  text(5, record.last_items);
  const int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) return SqlError("SaveIdPolicy");
  StateChange change;
  change.id_policy = &record;
  Notify(change);
  return {};
}

Result<int64_t> StateStore::CountArticles() {
  sqlite3_stmt* s = stmts_->count_articles.Use();
  if (sqlite3_step(s) != SQLITE_ROW) return SqlError("CountArticles");
  int64_t n = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return n;
}

Result<int64_t> StateStore::CountTombstones() {
  sqlite3_stmt* s = stmts_->count_tombstones.Use();
  if (sqlite3_step(s) != SQLITE_ROW) return SqlError("CountTombstones");
  int64_t n = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return n;
}

Result<int64_t> PruneByRetention(StateStore& store,
                                 std::chrono::hours retention, TimePoint now) {
  const auto keep = std::chrono::duration_cast<TimePoint::duration>(retention);
  if (auto stories = store.PruneStories(now - keep); !stories)
    return stories.error();
  if (auto delivery = store.PruneDeliveryRecords(now - keep); !delivery)
    return delivery.error();
  return store.Prune(now - keep, now - kTombstoneRetentionFactor * keep);
}

}  // namespace newsflow
