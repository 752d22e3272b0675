#include "store/crew_store.h"

#include "store/errors.h"

namespace crewship::store {

Result<CrewRef> find_crew(Connection& c, std::string_view crew_id, std::string_view workspace_id,
                          std::string_view scope_crew_id) {
  auto s = c.prepare(
      "SELECT id, workspace_id, slug, container_memory_mb, container_cpus FROM crews"
      " WHERE id = ?1 AND deleted_at IS NULL AND (?2 = '' OR workspace_id = ?2) AND (?3 = '' OR id = ?3)");
  s.bind(1, crew_id);
  s.bind(2, workspace_id);
  s.bind(3, scope_crew_id);
  int rc = s.step();
  if (rc == SQLITE_DONE) return fail(404, "crew not found");
  if (rc != SQLITE_ROW) return store_failure(c, rc);
  CrewRef r;
  r.id = s.text(0);
  r.workspace_id = s.text(1);
  r.slug = s.text(2);
  r.memory_mb = s.int64(3);
  r.cpus = sqlite3_column_double(s.get(), 4);
  return r;
}

}  // namespace crewship::store
