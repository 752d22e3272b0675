#include "store/admin_store.h"

#include "store/query.h"

namespace crewship::store {

Result<std::vector<MemberActivity>> list_member_activity(Connection& c, std::string_view workspace_id,
                                                         int64_t limit, int64_t offset) {
  auto s = c.prepare(
      "SELECT m.id, m.user_id, u.email, u.name, m.role, m.created_at,"
      " (SELECT max(created_at) FROM user_sessions s WHERE s.user_id = m.user_id AND s.kind = 'session'),"
      " (SELECT count(*) FROM cli_tokens t WHERE t.user_id = m.user_id AND t.revoked_at IS NULL)"
      " FROM workspace_members m JOIN users u ON u.id = m.user_id"
      " WHERE m.workspace_id = ?1 ORDER BY m.created_at, m.rowid LIMIT ?2 OFFSET ?3");
  s.bind_all(workspace_id, limit, offset);
  return collect(c, s, [](const StmtLease& r) {
    return MemberActivity{Member{std::string(r.text(0)), std::string(r.text(1)), std::string(r.text(2)),
                                 opt_text(r, 3), std::string(r.text(4)), std::string(r.text(5))},
                          opt_text(r, 6), r.int64(7)};
  });
}

}  // namespace crewship::store
