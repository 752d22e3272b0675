#include "store/db.h"

#include <cerrno>
#include <cstring>

#include <sys/stat.h>

#include "daemon/dirs.h"

namespace crewship::store {
namespace {

// Before SQLite's first use: no memory statistics, so no process-wide mutex
// taken on every allocation (about a hundred per presence write). Fails
// harmlessly when something in the process already initialised SQLite.
const bool kConfigured = [] {
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  return true;
}();

}  // namespace

int Connection::make_private(const std::string& path, std::string* error) {
  // SQLite gives the -wal and -shm files the database's mode when it makes
  // them; ones left by an older start are set here.
  if (int r = ensure_file_mode(path, 0600); r != 0) {
    *error = "cannot set the mode of " + path + ": " + std::strerror(-r);
    return SQLITE_CANTOPEN;
  }
  for (const char* suffix : {"-wal", "-shm"}) {
    std::string side = path + suffix;
    if (::chmod(side.c_str(), 0600) != 0 && errno != ENOENT) {
      *error = "cannot set the mode of " + side + ": " + std::strerror(errno);
      return SQLITE_CANTOPEN;
    }
  }
  return SQLITE_OK;
}

int Connection::open(const std::string& path, Mode mode, std::unique_ptr<Connection>* out,
                     std::string* error) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (mode == Mode::kWrite) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    *error = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    return rc;
  }
  sqlite3_extended_result_codes(raw, 1);
  std::unique_ptr<Connection> c(new Connection(std::move(db)));
  // synchronous=FULL: an acknowledged commit survives power loss, not just a
  // process crash. busy_timeout only matters against outside tools; within
  // the daemon one thread writes and WAL readers never wait for it.
  // temp_store=MEMORY keeps each write's savepoint journal in memory: past
  // 64 KiB SQLite spills it to a temp file for good, and every write then
  // cost a pwrite per page it touched (86 per group, against 9 for the WAL).
  const char* setup = mode == Mode::kWrite
                          ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY;"
                            "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;"
                          : "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;"
                            "PRAGMA query_only=ON;";
  rc = c->exec(setup, error);
  if (rc != SQLITE_OK) return rc;
  *out = std::move(c);
  return SQLITE_OK;
}

StmtLease Connection::prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return StmtLease(it->second.get());
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) return StmtLease(nullptr, sqlite3_extended_errcode(db_.get()));
  if (s == nullptr) return StmtLease(nullptr);  // no statement in the text
  cache_.emplace(sql, StmtPtr(s));
  return StmtLease(s);
}

int Connection::exec(const char* sql, std::string* error) {
  char* msg = nullptr;
  int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &msg);
  if (rc != SQLITE_OK && error != nullptr) *error = msg != nullptr ? msg : sqlite3_errstr(rc);
  sqlite3_free(msg);
  return rc;
}

}  // namespace crewship::store
