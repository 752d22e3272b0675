#include "store/migrations.h"

namespace crewship::store {
namespace {

// Append only: a released migration is never edited.
const Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES
  ('instance_id', lower(hex(randomblob(16)))),
  ('created_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
)sql"},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

int latest_version() { return kMigrations[std::size(kMigrations) - 1].version; }

int schema_version(Connection& c) {
  StmtLease s = c.prepare("PRAGMA user_version");
  if (!s || s.step() != SQLITE_ROW) return -1;
  return static_cast<int>(s.int64(0));
}

int migrate(Connection& c, std::string* error, int target) {
  if (target < 0) target = latest_version();
  int current = schema_version(c);
  if (current < 0) {
    *error = "cannot read the schema version: " + c.errmsg();
    return SQLITE_ERROR;
  }
  if (current > latest_version()) {
    *error = "database schema version " + std::to_string(current) +
             " is newer than this crewshipd knows (" + std::to_string(latest_version()) + ")";
    return SQLITE_ERROR;
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= current || m.version > target) continue;
    std::string sql = "BEGIN IMMEDIATE;\n";
    sql += m.sql;
    sql += "\nPRAGMA user_version = " + std::to_string(m.version) + ";\nCOMMIT;";
    int rc = c.exec(sql.c_str(), error);
    if (rc != SQLITE_OK) {
      c.exec("ROLLBACK");
      *error = "migration " + std::to_string(m.version) + " failed: " + *error;
      return rc;
    }
  }
  return SQLITE_OK;
}

}  // namespace crewship::store
