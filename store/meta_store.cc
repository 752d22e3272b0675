#include "store/meta_store.h"

#include "store/query.h"

namespace crewship::store {

Status ping(Connection& c) {
  auto s = c.prepare("SELECT count(*) FROM meta");
  int rc = s.step();
  if (rc == SQLITE_ROW) return {};
  return store_failure(c, last_error(c, rc));
}

const char* library_version() { return sqlite3_libversion(); }

}  // namespace crewship::store
