#include "store/skill_store.h"

#include "store/query.h"

namespace crewship::store {
namespace {

Skill skill_of(const StmtLease& s) {
  Skill k;
  k.id = s.text(0);
  k.workspace_id = s.text(1);
  k.name = s.text(2);
  k.slug = s.text(3);
  k.description = opt_text(s, 4);
  k.content = opt_text(s, 5);
  k.created_by_user_id = opt_text(s, 6);
  k.created_at = s.text(7);
  k.updated_at = s.text(8);
  return k;
}

#define SKILL_SELECT \
  "SELECT id, workspace_id, name, slug, description, content, created_by_user_id, created_at, updated_at FROM skills"

}  // namespace

Status insert_skill(Connection& w, const Skill& k) {
  auto s = w.prepare(
      "INSERT INTO skills (id, workspace_id, name, slug, description, content, created_by_user_id,"
      " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)"
      " ON CONFLICT (workspace_id, slug) DO NOTHING");
  s.bind_all(k.id, k.workspace_id, k.name, k.slug);
  bind_opt(s, 5, k.description);
  bind_opt(s, 6, k.content);
  bind_opt(s, 7, k.created_by_user_id);
  s.bind(8, k.created_at);
  auto added = changed_one(w, s);
  if (!added) return std::move(added).take_problem();
  if (!*added) return fail(409, "a skill with this slug exists in the workspace");
  return {};
}

Result<std::vector<Skill>> list_skills(Connection& c, std::string_view workspace_id, int64_t limit,
                                       int64_t offset) {
  auto s = c.prepare(SKILL_SELECT " WHERE workspace_id = ?1 ORDER BY created_at, rowid LIMIT ?2 OFFSET ?3");
  s.bind_all(workspace_id, limit, offset);
  return collect(c, s, skill_of);
}

Result<Skill> find_skill(Connection& c, std::string_view id, std::string_view workspace_id) {
  auto s = c.prepare(SKILL_SELECT " WHERE id = ?1 AND workspace_id = ?2");
  s.bind_all(id, workspace_id);
  if (auto st = first_row(c, s, "skill not found"); !st) return std::move(st).take_problem();
  return skill_of(s);
}

Result<std::optional<std::string>> find_skill_assignment(Connection& c, std::string_view agent_id,
                                                         std::string_view skill_id) {
  auto s = c.prepare("SELECT id FROM agent_skills WHERE agent_id = ?1 AND skill_id = ?2");
  s.bind_all(agent_id, skill_id);
  int rc = s.step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return store_failure(c, last_error(c, rc));
  return std::optional<std::string>(std::string(s.text(0)));
}

Status insert_skill_assignment(Connection& w, const SkillAssignment& a) {
  auto s = w.prepare(
      "INSERT INTO agent_skills (id, agent_id, skill_id, config, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
  s.bind_all(a.id, a.agent_id, a.skill_id);
  bind_opt(s, 4, a.config);
  s.bind(5, a.created_at);
  return run(w, s);
}

Result<std::vector<SkillAssignment>> list_skill_assignments(Connection& c, std::string_view agent_id) {
  auto s = c.prepare(
      "SELECT a.id, a.agent_id, a.skill_id, a.config, a.created_at, k.name, k.slug"
      " FROM agent_skills a JOIN skills k ON k.id = a.skill_id WHERE a.agent_id = ?1"
      " ORDER BY a.created_at, a.rowid");
  s.bind(1, agent_id);
  return collect(c, s, [](const StmtLease& r) {
    SkillAssignment a;
    a.id = r.text(0);
    a.agent_id = r.text(1);
    a.skill_id = r.text(2);
    a.config = opt_text(r, 3);
    a.created_at = r.text(4);
    a.skill_name = r.text(5);
    a.skill_slug = r.text(6);
    return a;
  });
}

Result<bool> delete_skill_assignment(Connection& w, std::string_view agent_id, std::string_view skill_id) {
  auto s = w.prepare("DELETE FROM agent_skills WHERE agent_id = ?1 AND skill_id = ?2");
  s.bind_all(agent_id, skill_id);
  return changed_one(w, s);
}

}  // namespace crewship::store
