// How a store failure becomes a Problem: always a 500 (never a 404 or 403),
// its detail naming SQLite's error, for the handler to log once with the
// request id.
#pragma once

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

// rc is the failing call's result code (SQLITE_BUSY, SQLITE_IOERR_...).
Problem store_failure(Connection& c, int rc);
Problem store_failure(int rc);

}  // namespace crewship::store
