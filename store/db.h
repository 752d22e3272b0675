// SQLite handles with RAII, and the connection set-up every connection shares:
// WAL, foreign keys, synchronous=FULL.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <sqlite3.h>

namespace crewship::store {

struct DbClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbClose>;

struct StmtFinalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

// Resets and clears a cached statement when it goes out of scope, so the next
// user finds it fresh and no read transaction stays open. An empty lease (the
// SQL did not compile) answers every step() with the error of preparing it.
class StmtLease {
 public:
  explicit StmtLease(sqlite3_stmt* s, int error = SQLITE_MISUSE) : s_(s), error_(error) {}
  ~StmtLease() {
    if (s_ != nullptr) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  StmtLease(const StmtLease&) = delete;
  StmtLease& operator=(const StmtLease&) = delete;
  StmtLease(StmtLease&& o) noexcept : s_(o.s_), error_(o.error_) { o.s_ = nullptr; }

  sqlite3_stmt* get() const { return s_; }
  explicit operator bool() const { return s_ != nullptr; }

  // An empty view binds '' (SQLite would take a null pointer for NULL).
  int bind(int i, std::string_view v) {
    return sqlite3_bind_text(s_, i, v.data() != nullptr ? v.data() : "", static_cast<int>(v.size()),
                             SQLITE_TRANSIENT);
  }
  int bind(int i, int64_t v) { return sqlite3_bind_int64(s_, i, v); }
  int bind(int i, double v) = delete;  // a real would bind as an integer: see bind_real
  // Binds args to ?1, ?2, ... in order; the first error, or SQLITE_OK.
  template <class... Args>
  int bind_all(const Args&... args) {
    int i = 0, rc = SQLITE_OK;
    ((rc = rc == SQLITE_OK ? bind(++i, args) : rc), ...);
    return rc;
  }
  int bind_null(int i) { return sqlite3_bind_null(s_, i); }
  int step() { return s_ != nullptr ? sqlite3_step(s_) : error_; }
  std::string_view text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p == nullptr ? std::string_view()
                        : std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(s_, col)));
  }
  int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

 private:
  sqlite3_stmt* s_;
  int error_;  // what step() answers when s_ is null
};

// A connection with its prepared statements cached by SQL text. Owned and
// used by one thread.
class Connection {
 public:
  enum class Mode { kWrite, kRead };
  // Opens (creating when kWrite) and configures the database file.
  static int open(const std::string& path, Mode mode, std::unique_ptr<Connection>* out,
                  std::string* error);
  // Creates the database file 0600 whatever the umask, and sets an older
  // start's database, -wal and -shm to 0600. Call it before the process
  // opens its first connection: it opens and closes the file, and closing
  // any descriptor of a file drops every POSIX lock the process holds on it,
  // SQLite's included.
  static int make_private(const std::string& path, std::string* error);

  sqlite3* db() const { return db_.get(); }
  // A cached statement; an empty lease when the SQL does not compile.
  StmtLease prepare(const char* sql);
  int exec(const char* sql, std::string* error = nullptr);
  std::string errmsg() const { return sqlite3_errmsg(db_.get()); }

 private:
  explicit Connection(DbPtr db) : db_(std::move(db)) {}
  DbPtr db_;
  std::unordered_map<const char*, StmtPtr> cache_;  // keyed by the literal's address
};

}  // namespace crewship::store
