// StateStore's delivery bookkeeping (issue 12): failed page fetches per
// item, and articles the sink sent to its dead-letter destination. Kept out
// of state_store.cc: its own tables, its own (per-call prepared)
// statements; these calls are rare (only items whose page failed, only
// dead-lettered articles).

#include <sqlite3.h>

#include <cassert>

#include "daemon/state/state_store.h"

namespace newsflow {
namespace {

constexpr const char* kDeliveryTables = R"sql(
CREATE TABLE IF NOT EXISTS page_attempts (
  id           TEXT PRIMARY KEY,
  feed_id      TEXT NOT NULL,
  attempts     INTEGER NOT NULL,
  last_attempt INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dead_letters (
  id      TEXT PRIMARY KEY,
  feed_id TEXT NOT NULL,
  reason  TEXT NOT NULL,
  at      INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

int64_t ToMillis(TimePoint t) { return t.time_since_epoch().count(); }

// One statement, finalized when it goes out of scope.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) {
      sqlite3_finalize(s_);
      s_ = nullptr;
    }
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return s_ != nullptr; }
  void Text(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
  }
  void Int(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  int Step() { return sqlite3_step(s_); }
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

}  // namespace

Result<void> StateStore::InitDeliveryTables() { return Exec(kDeliveryTables); }

Result<int> StateStore::PageAttempts(const std::string& id) {
  Stmt s(db_, "SELECT attempts FROM page_attempts WHERE id = ?1");
  if (!s.ok()) return SqlError("PageAttempts");
  s.Text(1, id);
  const int rc = s.Step();
  if (rc == SQLITE_ROW) return sqlite3_column_int(s.get(), 0);
  if (rc != SQLITE_DONE) return SqlError("PageAttempts");
  return 0;
}

Result<int> StateStore::AddPageAttempt(const std::string& id,
                                       const std::string& feed_id,
                                       TimePoint now) {
  {
    Stmt s(db_,
           "INSERT INTO page_attempts (id, feed_id, attempts, last_attempt) "
           "VALUES (?1, ?2, 1, ?3) ON CONFLICT (id) DO UPDATE SET attempts = "
           "attempts + 1, feed_id = excluded.feed_id, last_attempt = "
           "excluded.last_attempt");
    if (!s.ok()) return SqlError("AddPageAttempt");
    s.Text(1, id);
    s.Text(2, feed_id);
    s.Int(3, ToMillis(now));
    if (s.Step() != SQLITE_DONE) return SqlError("AddPageAttempt");
  }
  return PageAttempts(id);
}

Result<void> StateStore::ClearPageAttempts(const std::string& id) {
  Stmt s(db_, "DELETE FROM page_attempts WHERE id = ?1");
  if (!s.ok()) return SqlError("ClearPageAttempts");
  s.Text(1, id);
  if (s.Step() != SQLITE_DONE) return SqlError("ClearPageAttempts");
  return {};
}

Result<void> StateStore::MarkDeadLettered(const ArticleRecord& record,
                                          const std::string& reason) {
  assert(!record.id.empty());
  // Seen first: a crash between the two leaves a seen article without its
  // reason row, never a dead letter that is rebuilt. The observer hears
  // of it once, with the reason, after both.
  auto observer = std::move(observer_);
  observer_ = nullptr;
  auto marked = MarkPublished(record);
  observer_ = std::move(observer);
  if (!marked) return marked;
  if (auto r = PutDeadLetter(record, reason); !r) return r;
  if (observer_) {
    auto found = FindArticle(record.id);
    if (found && found->has_value() && !(*found)->tombstone) {
      StateChange change;
      change.article = &**found;
      change.dead_letter_reason = reason;
      Notify(change);
    }
  }
  return {};
}

Result<void> StateStore::PutDeadLetter(const ArticleRecord& record,
                                       const std::string& reason) {
  Stmt s(db_,
         "INSERT OR REPLACE INTO dead_letters (id, feed_id, reason, at) "
         "VALUES (?1, ?2, ?3, ?4)");
  if (!s.ok()) return SqlError("MarkDeadLettered");
  s.Text(1, record.id);
  s.Text(2, record.feed_id);
  s.Text(3, reason);
  s.Int(4, ToMillis(record.last_published));
  if (s.Step() != SQLITE_DONE) return SqlError("MarkDeadLettered");
  return {};
}

Result<std::optional<std::string>> StateStore::FindDeadLetter(
    const std::string& id) {
  Stmt s(db_, "SELECT reason FROM dead_letters WHERE id = ?1");
  if (!s.ok()) return SqlError("FindDeadLetter");
  s.Text(1, id);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return SqlError("FindDeadLetter");
  const unsigned char* p = sqlite3_column_text(s.get(), 0);
  return std::optional<std::string>(
      p == nullptr
          ? std::string()
          : std::string(reinterpret_cast<const char*>(p),
                        static_cast<size_t>(sqlite3_column_bytes(s.get(), 0))));
}

Result<int64_t> StateStore::PruneDeliveryRecords(TimePoint cutoff) {
  int64_t removed = 0;
  for (const char* sql : {"DELETE FROM page_attempts WHERE last_attempt < ?1",
                          "DELETE FROM dead_letters WHERE at < ?1"}) {
    Stmt s(db_, sql);
    if (!s.ok()) return SqlError("PruneDeliveryRecords");
    s.Int(1, ToMillis(cutoff));
    if (s.Step() != SQLITE_DONE) return SqlError("PruneDeliveryRecords");
    removed += sqlite3_changes(db_);
  }
  return removed;
}

}  // namespace newsflow
