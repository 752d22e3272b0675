// Retention of the journal: entries older than a cutoff, or beyond the most
// entries kept, are deleted oldest first, a bounded batch per call, so that
// no write transaction grows with the journal's size.
#pragma once

#include <cstdint>
#include <string>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

struct JournalPrune {
  std::string cutoff;    // RFC 3339 (nanoseconds): entries created before go
  int64_t max_rows = 0;  // most entries kept; 0: no limit
  int64_t batch = 500;   // most entries deleted by one call
};

// Runs on the writer thread: deletes at most p.batch of the oldest entries
// that are older than p.cutoff or beyond p.max_rows, and answers how many
// went. Entries are looked at in id order only: ids grow with created_at
// (the writer appends them in the order the loop stamped them), so each call
// reads at most p.batch rows whatever the journal holds.
Result<int> prune_journal(Connection& c, const JournalPrune& p);

}  // namespace crewship::store
