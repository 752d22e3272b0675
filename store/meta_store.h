// The database as a whole: whether it answers, and which SQLite runs it.
#pragma once

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

// A read of the meta table succeeds.
Status ping(Connection& c);
// The SQLite library's version ("3.46.1").
const char* library_version();

}  // namespace crewship::store
