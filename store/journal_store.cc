#include "store/journal_store.h"

#include "store/query.h"

namespace crewship::store {

Result<int> prune_journal(Connection& c, const JournalPrune& p) {
  // max(id) - min(id) + 1 bounds the count from above (ids are never
  // reused), so deleting ids up to max(id) - max_rows leaves at most max_rows.
  auto s = c.prepare(
      "DELETE FROM journal WHERE id IN ("
      " SELECT id FROM (SELECT id, created_at FROM journal ORDER BY id LIMIT ?3)"
      " WHERE created_at < ?1 OR (?2 > 0 AND id <= (SELECT max(id) FROM journal) - ?2))");
  s.bind_all(p.cutoff, p.max_rows, p.batch);
  return run_changes(c, s);
}

}  // namespace crewship::store
