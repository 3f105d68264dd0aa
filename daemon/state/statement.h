#pragma once

// StateStore::Statement, for the .cc files of StateStore only (state_store.cc,
// story_table.cc, ...): not part of the store's interface.

#include <sqlite3.h>

#include "daemon/state/state_store.h"

namespace newsflow {

// A prepared statement, prepared once at Open and reused; Bind* then Step,
// and Reset (done by Use) before the next use.
class StateStore::Statement {
 public:
  Statement() = default;
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  int Prepare(sqlite3* db, const char* sql) {
    sql_ = sql;
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_,
                              nullptr);
  }

  // Resets the statement for a new execution and returns it.
  sqlite3_stmt* Use() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    return stmt_;
  }

  const char* sql() const { return sql_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  const char* sql_ = "";
};

}  // namespace newsflow
