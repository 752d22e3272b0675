#include "store/presence_feed.h"

#include "store/query.h"

namespace crewship::store {

Result<int64_t> last_status_entry(Connection& c, std::string_view agent_id) {
  auto s = c.prepare(
      "SELECT coalesce(max(id), 0) FROM journal WHERE agent_id = ?1 AND kind = 'agent.status_change'");
  s.bind(1, agent_id);
  int rc = s.step();
  if (rc != SQLITE_ROW) return store_failure(c, last_error(c, rc));
  return s.int64(0);
}

int status_entries_after(Connection& c, std::string_view workspace_id, std::string_view crew_id, int64_t after,
                         int64_t limit, const std::function<void(const JournalRow&)>& row) {
  auto s = c.prepare(
      "SELECT id, coalesce(agent_id, ''), coalesce(crew_id, ''), payload, created_at FROM journal"
      " WHERE workspace_id = ?1 AND kind = 'agent.status_change' AND (?2 = '' OR crew_id = ?2) AND id > ?3"
      " ORDER BY id LIMIT ?4");
  s.bind_all(workspace_id, crew_id, after, limit);
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) row({s.int64(0), s.text(1), s.text(2), s.text(3), s.text(4)});
  return rc == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(c.db());
}

}  // namespace crewship::store
