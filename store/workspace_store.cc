#include "store/workspace_store.h"

#include "daemon/ids.h"

namespace crewship::store {

int insert_workspace(Connection& c, const std::string& id, const std::string& name,
                     const std::string& slug, const std::string& owner_user_id, const std::string& now) {
  auto w = c.prepare(
      "INSERT INTO workspaces(id, name, slug, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)");
  w.bind(1, id);
  w.bind(2, name);
  w.bind(3, slug);
  w.bind(4, now);
  if (w.step() != SQLITE_DONE) return sqlite3_extended_errcode(c.db());
  auto m = c.prepare(
      "INSERT INTO workspace_members(id, workspace_id, user_id, role, created_at)"
      " VALUES (?1, ?2, ?3, 'OWNER', ?4)");
  m.bind(1, new_id());
  m.bind(2, id);
  m.bind(3, owner_user_id);
  m.bind(4, now);
  return m.step() == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(c.db());
}

}  // namespace crewship::store
