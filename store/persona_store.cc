#include "store/persona_store.h"

#include "daemon/ids.h"
#include "store/query.h"

namespace crewship::store {

Result<PersonaAgent> find_persona_agent(Connection& c, std::string_view id, std::string_view workspace_id) {
  auto s = c.prepare(
      "SELECT a.id, a.workspace_id, coalesce(c.id, ''), a.name, a.slug, a.agent_role, a.role_title,"
      " coalesce(c.autonomy_level, 'guided'), a.self_learning_enabled"
      " FROM agents a LEFT JOIN crews c ON c.id = a.crew_id AND c.deleted_at IS NULL"
      " WHERE a.id = ?1 AND a.deleted_at IS NULL AND (?2 = '' OR a.workspace_id = ?2)");
  s.bind_all(id, workspace_id);
  if (auto st = first_row(c, s, "agent not found"); !st) return std::move(st).take_problem();
  return PersonaAgent{std::string(s.text(0)), std::string(s.text(1)), std::string(s.text(2)),
                      std::string(s.text(3)), std::string(s.text(4)), std::string(s.text(5)),
                      opt_text(s, 6),         std::string(s.text(7)), s.int64(8) != 0};
}

Result<MemoryVersion> append_memory_version(Connection& w, std::string_view path, std::string_view sha256,
                                            int64_t bytes, std::string_view written_by, std::string_view now) {
  MemoryVersion v{new_id(), std::string(path), std::string(sha256), bytes, std::string(now),
                  std::string(written_by), std::nullopt};
  auto last = w.prepare(
      "SELECT sha256 FROM memory_versions WHERE path = ?1 ORDER BY written_at DESC, rowid DESC LIMIT 1");
  last.bind(1, path);
  if (int rc = last.step(); rc == SQLITE_ROW) {
    v.parent_sha = std::string(last.text(0));
  } else if (rc != SQLITE_DONE) {
    return store_failure(w, last_error(w, rc));
  }
  auto i = w.prepare(
      "INSERT INTO memory_versions(id, path, sha256, bytes, written_at, written_by, parent_sha)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  i.bind_all(v.id, v.path, v.sha256, v.bytes, v.written_at, v.written_by);
  bind_opt(i, 7, v.parent_sha);
  if (auto st = run(w, i); !st) return std::move(st).take_problem();
  return v;
}

// Within one second (the timestamps' resolution) rowid keeps the order.
Result<std::vector<MemoryVersion>> list_memory_versions(Connection& c, std::string_view path, int64_t limit,
                                                        int64_t offset) {
  auto s = c.prepare(
      "SELECT id, path, sha256, bytes, written_at, written_by, parent_sha FROM memory_versions"
      " WHERE path = ?1 ORDER BY written_at DESC, rowid DESC LIMIT ?2 OFFSET ?3");
  s.bind_all(path, limit, offset);
  return collect(c, s, [](const StmtLease& r) {
    return MemoryVersion{std::string(r.text(0)), std::string(r.text(1)), std::string(r.text(2)),
                         r.int64(3),             std::string(r.text(4)), std::string(r.text(5)),
                         opt_text(r, 6)};
  });
}

Result<Learning> get_learning(Connection& c, std::string_view id, std::string_view workspace_id) {
  auto s = c.prepare(
      "SELECT self_learning_enabled, self_learning_set_by_user_id, self_learning_set_at, self_learning_reason"
      " FROM agents WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL");
  s.bind_all(id, workspace_id);
  if (auto st = first_row(c, s, "agent not found"); !st) return std::move(st).take_problem();
  return Learning{s.int64(0) != 0, opt_text(s, 1), opt_text(s, 2), opt_text(s, 3)};
}

Status set_learning(Connection& w, std::string_view id, std::string_view workspace_id, bool enabled,
                    std::string_view user_id, std::string_view reason, std::string_view now) {
  auto s = w.prepare(
      "UPDATE agents SET self_learning_enabled = ?3, self_learning_set_by_user_id = ?4,"
      " self_learning_set_at = ?5, self_learning_reason = ?6, updated_at = ?5"
      " WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL");
  s.bind_all(id, workspace_id, int64_t{enabled}, user_id, now, reason);
  auto changed = changed_one(w, s);
  if (!changed) return std::move(changed).take_problem();
  if (!*changed) return fail(404, "agent not found");
  return {};
}

}  // namespace crewship::store
