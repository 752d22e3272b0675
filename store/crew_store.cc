#include "store/crew_store.h"

#include "store/query.h"

namespace crewship::store {
namespace {

// The columns crew_of() reads, with the live agents and the members.
#define CREW_SELECT                                                                          \
  "SELECT c.id, c.workspace_id, c.name, c.slug, c.description, c.color, c.avatar_style,"     \
  " c.autonomy_level, c.max_ephemeral_agents, c.container_memory_mb, c.container_cpus,"      \
  " c.created_by_user_id, c.created_at, c.updated_at,"                                       \
  " (SELECT count(*) FROM agents a WHERE a.crew_id = c.id AND a.deleted_at IS NULL),"        \
  " (SELECT count(*) FROM crew_members m WHERE m.crew_id = c.id)"                            \
  " FROM crews c"

Crew crew_of(const StmtLease& s) {
  Crew c;
  c.id = s.text(0);
  c.workspace_id = s.text(1);
  c.name = s.text(2);
  c.slug = s.text(3);
  c.description = opt_text(s, 4);
  c.color = opt_text(s, 5);
  c.avatar_style = opt_text(s, 6);
  c.autonomy_level = s.text(7);
  c.max_ephemeral_agents = s.int64(8);
  c.container_memory_mb = s.int64(9);
  c.container_cpus = real(s, 10);
  c.created_by_user_id = opt_text(s, 11);
  c.created_at = s.text(12);
  c.updated_at = s.text(13);
  c.agents = s.int64(14);
  c.members = s.int64(15);
  return c;
}

}  // namespace

Result<CrewRef> find_crew(Connection& c, std::string_view crew_id, std::string_view workspace_id,
                          std::string_view scope_crew_id) {
  auto s = c.prepare(
      "SELECT id, workspace_id, slug, container_memory_mb, container_cpus, token_generation FROM crews"
      " WHERE id = ?1 AND deleted_at IS NULL AND (?2 = '' OR workspace_id = ?2) AND (?3 = '' OR id = ?3)");
  s.bind_all(crew_id, workspace_id, scope_crew_id);
  if (auto st = first_row(c, s, "crew not found"); !st) return std::move(st).take_problem();
  CrewRef r;
  r.id = s.text(0);
  r.workspace_id = s.text(1);
  r.slug = s.text(2);
  r.memory_mb = s.int64(3);
  r.cpus = real(s, 4);
  r.token_generation = s.int64(5);
  return r;
}

Result<int64_t> crew_token_generation(Connection& c, std::string_view crew_id) {
  auto s = c.prepare("SELECT token_generation FROM crews WHERE id = ?1 AND deleted_at IS NULL");
  s.bind(1, crew_id);
  if (auto st = first_row(c, s, "crew not found"); !st) return std::move(st).take_problem();
  return s.int64(0);
}

Status bump_token_generation(Connection& w, std::string_view crew_id, int64_t* now) {
  auto s = w.prepare(
      "UPDATE crews SET token_generation = token_generation + 1 WHERE id = ?1 AND deleted_at IS NULL"
      " RETURNING token_generation");
  s.bind(1, crew_id);
  if (auto st = first_row(w, s, "crew not found"); !st) return st;
  *now = s.int64(0);
  return {};
}

Result<Crew> get_crew(Connection& c, std::string_view crew_id, std::string_view workspace_id) {
  auto s = c.prepare(CREW_SELECT " WHERE c.id = ?1 AND c.workspace_id = ?2 AND c.deleted_at IS NULL");
  s.bind_all(crew_id, workspace_id);
  if (auto st = first_row(c, s, "crew not found"); !st) return std::move(st).take_problem();
  return crew_of(s);
}

Result<std::vector<Crew>> list_crews(Connection& c, std::string_view workspace_id, int64_t limit,
                                     int64_t offset) {
  auto s = c.prepare(CREW_SELECT " WHERE c.workspace_id = ?1 AND c.deleted_at IS NULL"
                                 " ORDER BY c.created_at, c.id LIMIT ?2 OFFSET ?3");
  s.bind_all(workspace_id, limit, offset);
  return collect(c, s, crew_of);
}

#undef CREW_SELECT

Result<bool> crew_slug_taken(Connection& c, std::string_view workspace_id, std::string_view slug,
                             std::string_view except_id) {
  auto s = c.prepare(
      "SELECT 1 FROM crews WHERE workspace_id = ?1 AND slug = ?2 AND id != ?3 AND deleted_at IS NULL");
  s.bind_all(workspace_id, slug, except_id);
  return exists(c, s);
}

Status insert_crew(Connection& w, std::string_view id, std::string_view workspace_id,
                   const NewCrew& crew, std::string_view creator_user_id, std::string_view now) {
  auto c = w.prepare(
      "INSERT INTO crews(id, workspace_id, name, slug, description, color, avatar_style,"
      " autonomy_level, max_ephemeral_agents, container_memory_mb, container_cpus,"
      " created_by_user_id, created_at, updated_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)");
  c.bind_all(id, workspace_id, crew.name, crew.slug);
  bind_opt(c, 5, crew.description);
  bind_opt(c, 6, crew.color);
  bind_opt(c, 7, crew.avatar_style);
  c.bind(8, crew.autonomy_level);
  c.bind(9, crew.max_ephemeral_agents);
  c.bind(10, crew.container_memory_mb);
  bind_real(c, 11, crew.container_cpus);
  c.bind(12, creator_user_id);
  c.bind(13, now);
  if (auto st = run(w, c); !st) return st;
  auto m = w.prepare(
      "INSERT INTO crew_members(crew_id, user_id, role, created_at) VALUES (?1, ?2, 'OWNER', ?3)");
  m.bind_all(id, creator_user_id, now);
  return run(w, m);
}

Status update_crew(Connection& w, std::string_view id, std::string_view workspace_id,
                   const CrewPatch& p, std::string_view now) {
  auto u = w.prepare(
      "UPDATE crews SET name = coalesce(?3, name), slug = coalesce(?4, slug),"
      " description = CASE WHEN ?5 THEN ?6 ELSE description END,"
      " color = CASE WHEN ?7 THEN ?8 ELSE color END,"
      " avatar_style = CASE WHEN ?9 THEN ?10 ELSE avatar_style END,"
      " autonomy_level = coalesce(?11, autonomy_level),"
      " max_ephemeral_agents = coalesce(?12, max_ephemeral_agents),"
      " container_memory_mb = coalesce(?13, container_memory_mb),"
      " container_cpus = coalesce(?14, container_cpus), updated_at = ?15"
      " WHERE id = ?1 AND workspace_id = ?2");
  u.bind_all(id, workspace_id);
  bind_opt(u, 3, p.name);
  bind_opt(u, 4, p.slug);
  u.bind(5, int64_t{p.description.set});
  bind_opt(u, 6, p.description.value);
  u.bind(7, int64_t{p.color.set});
  bind_opt(u, 8, p.color.value);
  u.bind(9, int64_t{p.avatar_style.set});
  bind_opt(u, 10, p.avatar_style.value);
  bind_opt(u, 11, p.autonomy_level);
  bind_opt(u, 12, p.max_ephemeral_agents);
  bind_opt(u, 13, p.container_memory_mb);
  bind_opt(u, 14, p.container_cpus);
  u.bind(15, now);
  return run(w, u);
}

Result<CrewRights> crew_rights(Connection& c, std::string_view crew_id,
                               std::string_view workspace_id, std::string_view user_id) {
  auto s = c.prepare(
      "SELECT c.created_by_user_id = ?3, (SELECT m.role IN ('OWNER', 'ADMIN') FROM crew_members m"
      "   WHERE m.crew_id = c.id AND m.user_id = ?3)"
      " FROM crews c WHERE c.id = ?1 AND c.workspace_id = ?2 AND c.deleted_at IS NULL");
  s.bind_all(crew_id, workspace_id, user_id);
  if (auto st = first_row(c, s, "crew not found"); !st) return std::move(st).take_problem();
  return CrewRights{s.int64(0) == 1, s.int64(1) == 1};
}

Result<bool> crew_has_agents(Connection& c, std::string_view crew_id) {
  auto a = c.prepare("SELECT 1 FROM agents WHERE crew_id = ?1 AND deleted_at IS NULL LIMIT 1");
  a.bind(1, crew_id);
  return exists(c, a);
}

Status delete_crew(Connection& w, std::string_view id, std::string_view now) {
  auto u = w.prepare("UPDATE crews SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1");
  u.bind_all(id, now);
  return run(w, u);
}

Result<std::vector<CrewMember>> list_crew_members(Connection& c, std::string_view crew_id,
                                                  int64_t limit, int64_t offset) {
  auto s = c.prepare(
      "SELECT m.user_id, u.email, u.name, m.role, m.created_at"
      " FROM crew_members m JOIN users u ON u.id = m.user_id"
      " WHERE m.crew_id = ?1 ORDER BY m.created_at, m.user_id LIMIT ?2 OFFSET ?3");
  s.bind_all(crew_id, limit, offset);
  return collect(c, s, [](const StmtLease& r) {
    return CrewMember{std::string(r.text(0)), std::string(r.text(1)), opt_text(r, 2),
                      std::string(r.text(3)), std::string(r.text(4))};
  });
}

Result<bool> insert_crew_member(Connection& w, std::string_view crew_id, std::string_view user_id,
                                std::string_view role, std::string_view now) {
  auto i = w.prepare(
      "INSERT INTO crew_members(crew_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4)"
      " ON CONFLICT (crew_id, user_id) DO NOTHING");
  i.bind_all(crew_id, user_id, role, now);
  return changed_one(w, i);
}

Result<bool> delete_crew_member(Connection& w, std::string_view crew_id, std::string_view user_id) {
  auto d = w.prepare("DELETE FROM crew_members WHERE crew_id = ?1 AND user_id = ?2");
  d.bind_all(crew_id, user_id);
  return changed_one(w, d);
}

}  // namespace crewship::store
