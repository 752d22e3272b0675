#include "store/errors.h"

#include <string>

namespace crewship::store {

// SQLITE_MISUSE is what a connection closed by the shutdown answers.
Problem store_failure(int rc) {
  Problem p = rc == SQLITE_MISUSE ? fail(503, "shutting down", 1) : fail(500, "storage error");
  p.cause = std::string("store error ") + std::to_string(rc) + ": " + sqlite3_errstr(rc);
  return p;
}

Problem store_failure(Connection& c, int rc) {
  Problem p = store_failure(rc);
  p.cause += " (" + c.errmsg() + ")";
  return p;
}

}  // namespace crewship::store
