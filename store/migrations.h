// Forward-only numbered schema migrations; PRAGMA user_version holds the
// version a database is at. A migration is applied whole or not at all.
#pragma once

#include <span>
#include <string>

#include "store/db.h"

namespace crewship::store {

struct Migration {
  int version;  // 1, 2, 3, ... in order
  const char* sql;
};

std::span<const Migration> migrations();
int latest_version();
int schema_version(Connection& c);

// Brings the database to `target` (default: the latest). Refuses a database
// newer than this binary knows.
int migrate(Connection& c, std::string* error, int target = -1);

}  // namespace crewship::store
