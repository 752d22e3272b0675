#include "store/agent_store.h"

#include "store/errors.h"

namespace crewship::store {

Result<AgentRef> find_agent(Connection& c, std::string_view agent_id, std::string_view workspace_id,
                            std::string_view crew_id) {
  auto s = c.prepare(
      "SELECT id, workspace_id, coalesce(crew_id, ''), slug, name, status FROM agents"
      " WHERE id = ?1 AND deleted_at IS NULL AND (?2 = '' OR workspace_id = ?2)"
      " AND (?3 = '' OR crew_id = ?3)");
  s.bind(1, agent_id);
  s.bind(2, workspace_id);
  s.bind(3, crew_id);
  int rc = s.step();
  if (rc == SQLITE_DONE) return fail(404, "agent not found");
  if (rc != SQLITE_ROW) return store_failure(c, rc);
  AgentRef a;
  a.id = s.text(0);
  a.workspace_id = s.text(1);
  a.crew_id = s.text(2);
  a.slug = s.text(3);
  a.name = s.text(4);
  a.status = s.text(5);
  return a;
}

}  // namespace crewship::store
