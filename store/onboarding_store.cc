#include "store/onboarding_store.h"

#include "store/query.h"

namespace crewship::store {

Result<Onboarding> onboarding_of(Connection& c, std::string_view workspace_id) {
  auto s = c.prepare(
      "SELECT (SELECT completed_at FROM onboarding WHERE workspace_id = ?1),"
      " EXISTS (SELECT 1 FROM crews WHERE workspace_id = ?1 AND deleted_at IS NULL),"
      " EXISTS (SELECT 1 FROM agents WHERE workspace_id = ?1 AND deleted_at IS NULL),"
      " EXISTS (SELECT 1 FROM credentials WHERE workspace_id = ?1 AND deleted_at IS NULL)");
  s.bind(1, workspace_id);
  if (auto st = first_row(c, s, "no onboarding"); !st) return std::move(st).take_problem();
  return Onboarding{opt_text(s, 0), s.int64(1) != 0, s.int64(2) != 0, s.int64(3) != 0};
}

Result<std::string> complete_onboarding(Connection& w, std::string_view workspace_id,
                                        std::string_view user_id, std::string_view now) {
  auto i = w.prepare(
      "INSERT INTO onboarding(workspace_id, completed_at, completed_by_user_id) VALUES (?1, ?2, ?3)"
      " ON CONFLICT (workspace_id) DO NOTHING");
  i.bind_all(workspace_id, now, user_id);
  if (auto st = run(w, i); !st) return std::move(st).take_problem();
  auto s = w.prepare("SELECT completed_at FROM onboarding WHERE workspace_id = ?1");
  s.bind(1, workspace_id);
  if (auto st = first_row(w, s, "workspace not found"); !st) return std::move(st).take_problem();
  return std::string(s.text(0));
}

Result<std::optional<CrewLead>> find_crew_lead(Connection& c, std::string_view workspace_id,
                                               std::string_view crew_slug) {
  auto s = c.prepare(
      "SELECT c.id, (SELECT a.id FROM agents a WHERE a.crew_id = c.id AND a.agent_role = 'LEAD'"
      " AND a.deleted_at IS NULL) FROM crews c"
      " WHERE c.workspace_id = ?1 AND c.slug = ?2 AND c.deleted_at IS NULL");
  s.bind_all(workspace_id, crew_slug);
  auto found = first_row(c, s, "crew not found");
  if (!found) {
    if (found.problem().status == 404) return std::optional<CrewLead>();
    return std::move(found).take_problem();
  }
  return std::optional<CrewLead>(CrewLead{std::string(s.text(0)), opt_text(s, 1).value_or("")});
}

}  // namespace crewship::store
