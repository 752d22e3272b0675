#include "store/workspace_store.h"

#include "daemon/ids.h"
#include "store/query.h"

namespace crewship::store {
namespace {

Problem slug_failure(Connection& w, int rc) {
  rc = last_error(w, rc);
  if (rc == SQLITE_CONSTRAINT_UNIQUE) return fail(409, "slug is already taken");
  return store_failure(w, rc);
}

}  // namespace

Status insert_workspace(Connection& w, std::string_view id, std::string_view name,
                        std::string_view slug, std::string_view owner_user_id, std::string_view now) {
  auto s = w.prepare(
      "INSERT INTO workspaces(id, name, slug, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)");
  s.bind_all(id, name, slug, now);
  if (int rc = s.step(); rc != SQLITE_DONE) return slug_failure(w, rc);
  auto m = w.prepare(
      "INSERT INTO workspace_members(id, workspace_id, user_id, role, created_at)"
      " VALUES (?1, ?2, ?3, 'OWNER', ?4)");
  m.bind_all(new_id(), id, owner_user_id, now);
  return run(w, m);
}

Result<bool> workspace_slug_taken(Connection& c, std::string_view slug) {
  auto q = c.prepare("SELECT 1 FROM workspaces WHERE slug = ?1");
  q.bind(1, slug);
  return exists(c, q);
}

Result<Workspace> find_workspace(Connection& c, std::string_view id) {
  auto s = c.prepare(
      "SELECT w.id, w.name, w.slug, w.created_at, w.updated_at,"
      " (SELECT count(*) FROM workspace_members m WHERE m.workspace_id = w.id),"
      " (SELECT count(*) FROM crews c WHERE c.workspace_id = w.id AND c.deleted_at IS NULL),"
      " (SELECT count(*) FROM agents a WHERE a.workspace_id = w.id AND a.deleted_at IS NULL)"
      " FROM workspaces w WHERE w.id = ?1");
  s.bind(1, id);
  if (auto st = first_row(c, s, "workspace not found"); !st) return std::move(st).take_problem();
  return Workspace{std::string(s.text(0)), std::string(s.text(1)), std::string(s.text(2)),
                   std::string(s.text(3)), std::string(s.text(4)), s.int64(5), s.int64(6), s.int64(7)};
}

// Within one second (the timestamps' resolution) rowid keeps creation order.
Result<std::vector<UserWorkspace>> list_user_workspaces(Connection& c, std::string_view user_id,
                                                        int64_t limit, int64_t offset) {
  auto s = c.prepare(
      "SELECT w.id, w.name, w.slug, m.role, w.created_at, w.updated_at"
      " FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id"
      " WHERE m.user_id = ?1 ORDER BY w.created_at, w.rowid LIMIT ?2 OFFSET ?3");
  s.bind_all(user_id, limit, offset);
  return collect(c, s, [](const StmtLease& r) {
    return UserWorkspace{std::string(r.text(0)), std::string(r.text(1)), std::string(r.text(2)),
                         std::string(r.text(3)), std::string(r.text(4)), std::string(r.text(5))};
  });
}

Status update_workspace(Connection& w, std::string_view id, const std::optional<std::string>& name,
                        const std::optional<std::string>& slug, std::string_view now) {
  auto u = w.prepare(
      "UPDATE workspaces SET name = coalesce(?2, name), slug = coalesce(?3, slug),"
      " updated_at = ?4 WHERE id = ?1");
  u.bind(1, id);
  bind_opt(u, 2, name);
  bind_opt(u, 3, slug);
  u.bind(4, now);
  if (int rc = u.step(); rc != SQLITE_DONE) return slug_failure(w, rc);
  return {};
}

Result<std::string> member_role(Connection& c, std::string_view workspace_id,
                                std::string_view user_id) {
  auto s = c.prepare("SELECT role FROM workspace_members WHERE workspace_id = ?1 AND user_id = ?2");
  s.bind_all(workspace_id, user_id);
  if (auto st = first_row(c, s, "not a member of this workspace"); !st)
    return std::move(st).take_problem();
  return std::string(s.text(0));
}

Result<std::string> first_workspace_role(Connection& c, std::string_view user_id) {
  auto s = c.prepare(
      "SELECT role FROM workspace_members WHERE user_id = ?1 AND workspace_id ="
      " (SELECT id FROM workspaces ORDER BY created_at, rowid LIMIT 1)");
  s.bind(1, user_id);
  if (auto st = first_row(c, s, "not a member of the first workspace"); !st) return std::move(st).take_problem();
  return std::string(s.text(0));
}

Result<std::vector<Member>> list_members(Connection& c, std::string_view workspace_id,
                                         int64_t limit, int64_t offset) {
  auto s = c.prepare(
      "SELECT m.id, m.user_id, u.email, u.name, m.role, m.created_at"
      " FROM workspace_members m JOIN users u ON u.id = m.user_id"
      " WHERE m.workspace_id = ?1 ORDER BY m.created_at, m.rowid LIMIT ?2 OFFSET ?3");
  s.bind_all(workspace_id, limit, offset);
  return collect(c, s, [](const StmtLease& r) {
    return Member{std::string(r.text(0)), std::string(r.text(1)), std::string(r.text(2)),
                  opt_text(r, 3),         std::string(r.text(4)), std::string(r.text(5))};
  });
}

Result<bool> insert_member(Connection& w, std::string_view workspace_id, const Member& m) {
  auto i = w.prepare(
      "INSERT INTO workspace_members(id, workspace_id, user_id, role, created_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (workspace_id, user_id) DO NOTHING");
  i.bind_all(m.id, workspace_id, m.user_id, m.role, m.created_at);
  return changed_one(w, i);
}

Result<MemberRef> find_member(Connection& c, std::string_view member_id,
                              std::string_view workspace_id) {
  auto s = c.prepare("SELECT user_id, role FROM workspace_members WHERE id = ?1 AND workspace_id = ?2");
  s.bind_all(member_id, workspace_id);
  if (auto st = first_row(c, s, "member not found"); !st) return std::move(st).take_problem();
  return MemberRef{std::string(s.text(0)), std::string(s.text(1))};
}

Result<int64_t> count_owners(Connection& c, std::string_view workspace_id) {
  auto n = c.prepare("SELECT count(*) FROM workspace_members WHERE workspace_id = ?1 AND role = 'OWNER'");
  n.bind(1, workspace_id);
  int rc = n.step();
  if (rc != SQLITE_ROW) return store_failure(c, last_error(c, rc));
  return n.int64(0);
}

Status remove_member(Connection& w, std::string_view member_id, std::string_view user_id,
                     std::string_view workspace_id) {
  auto c = w.prepare(
      "DELETE FROM crew_members WHERE user_id = ?1"
      " AND crew_id IN (SELECT id FROM crews WHERE workspace_id = ?2)");
  c.bind_all(user_id, workspace_id);
  if (auto st = run(w, c); !st) return st;
  auto d = w.prepare("DELETE FROM workspace_members WHERE id = ?1");
  d.bind(1, member_id);
  return run(w, d);
}

}  // namespace crewship::store
