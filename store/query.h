// What the typed store modules share to run a statement and read its row.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "daemon/result.h"
#include "store/db.h"
#include "store/errors.h"

namespace crewship::store {

// A constraint failure (UNIQUE, CHECK, FOREIGN KEY, NOT NULL).
inline bool is_constraint(int rc) { return (rc & 0xff) == SQLITE_CONSTRAINT; }

// The error of the last failing call on c, as the step that failed saw it.
inline int last_error(Connection& c, int rc) {
  int ext = sqlite3_extended_errcode(c.db());
  return (ext & 0xff) == (rc & 0xff) ? ext : rc;
}

// Steps a statement that returns no rows.
inline Status run(Connection& c, StmtLease& s) {
  int rc = s.step();
  if (rc == SQLITE_DONE) return {};
  return store_failure(c, last_error(c, rc));
}

// Steps a statement that changes rows; the number of rows it changed.
inline Result<int> run_changes(Connection& c, StmtLease& s) {
  int rc = s.step();
  if (rc != SQLITE_DONE) return store_failure(c, last_error(c, rc));
  return sqlite3_changes(c.db());
}

// Steps a statement that changes at most one row: whether it changed one.
inline Result<bool> changed_one(Connection& w, StmtLease& s) {
  auto n = run_changes(w, s);
  if (!n) return std::move(n).take_problem();
  return *n == 1;
}

// Steps to the first row: ok on a row, 404 not_found when there is none.
inline Status first_row(Connection& c, StmtLease& s, std::string_view not_found) {
  int rc = s.step();
  if (rc == SQLITE_ROW) return {};
  if (rc == SQLITE_DONE) return fail(404, std::string(not_found));
  return store_failure(c, last_error(c, rc));
}

// Whether the statement yields a row.
inline Result<bool> exists(Connection& c, StmtLease& s) {
  int rc = s.step();
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) return rc == SQLITE_ROW;
  return store_failure(c, last_error(c, rc));
}

// Every row of the statement, as read(s) makes it.
template <class Read>
auto collect(Connection& c, StmtLease& s, Read read)
    -> Result<std::vector<std::invoke_result_t<Read&, const StmtLease&>>> {
  std::vector<std::invoke_result_t<Read&, const StmtLease&>> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(read(s));
  if (rc != SQLITE_DONE) return store_failure(c, last_error(c, rc));
  return out;
}

inline std::optional<std::string> opt_text(const StmtLease& s, int col) {
  if (s.is_null(col)) return std::nullopt;
  return std::string(s.text(col));
}
inline double real(const StmtLease& s, int col) { return sqlite3_column_double(s.get(), col); }

inline void bind_opt(StmtLease& s, int i, const std::optional<std::string>& v) {
  if (v) {
    s.bind(i, *v);
  } else {
    s.bind_null(i);
  }
}
inline void bind_opt(StmtLease& s, int i, const std::optional<int64_t>& v) {
  if (v) {
    s.bind(i, *v);
  } else {
    s.bind_null(i);
  }
}
inline void bind_opt(StmtLease& s, int i, const std::optional<double>& v) {
  if (v) {
    sqlite3_bind_double(s.get(), i, *v);
  } else {
    s.bind_null(i);
  }
}
inline void bind_real(StmtLease& s, int i, double v) { sqlite3_bind_double(s.get(), i, v); }
inline void bind_blob(StmtLease& s, int i, std::string_view v) {
  sqlite3_bind_blob(s.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
inline std::string blob(const StmtLease& s, int col) {
  const void* p = sqlite3_column_blob(s.get(), col);
  return p == nullptr ? std::string()
                      : std::string(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s.get(), col)));
}

}  // namespace crewship::store
