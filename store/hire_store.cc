#include "store/hire_store.h"

#include "daemon/ids.h"
#include "store/query.h"

namespace crewship::store {

Result<CrewPolicy> crew_policy(Connection& c, std::string_view workspace_id, std::string_view crew_id,
                               std::string_view crew_slug) {
  auto s = c.prepare(
      "SELECT id, workspace_id, slug, name, autonomy_level, max_ephemeral_agents FROM crews"
      " WHERE workspace_id = ?1 AND deleted_at IS NULL AND (CASE WHEN ?2 != '' THEN id = ?2 ELSE slug = ?3 END)");
  s.bind_all(workspace_id, crew_id, crew_slug);
  if (auto st = first_row(c, s, "crew not found"); !st) return std::move(st).take_problem();
  return CrewPolicy{std::string(s.text(0)), std::string(s.text(1)), std::string(s.text(2)),
                    std::string(s.text(3)), std::string(s.text(4)), s.int64(5)};
}

Result<int64_t> live_ephemerals(Connection& c, std::string_view crew_id) {
  auto s = c.prepare(
      "SELECT count(*) FROM agents WHERE crew_id = ?1 AND ephemeral = 1 AND expired_at IS NULL"
      " AND deleted_at IS NULL");
  s.bind(1, crew_id);
  if (auto st = first_row(c, s, ""); !st) return std::move(st).take_problem();
  return s.int64(0);
}

Result<bool> is_crew_lead(Connection& c, std::string_view lead_id, std::string_view workspace_id,
                          std::string_view crew_id) {
  auto s = c.prepare(
      "SELECT 1 FROM agents WHERE id = ?1 AND workspace_id = ?2 AND crew_id = ?3 AND agent_role = 'LEAD'"
      " AND deleted_at IS NULL");
  s.bind_all(lead_id, workspace_id, crew_id);
  return exists(c, s);
}

Status mark_ephemeral(Connection& w, std::string_view id, const HireColumns& h) {
  auto s = w.prepare(
      "UPDATE agents SET ephemeral = 1, status = ?2, expires_at = ?3, hire_reason = ?4, parent_lead_id = ?5"
      " WHERE id = ?1");
  s.bind_all(id, h.status, h.expires_at, h.hire_reason);
  bind_opt(s, 5, h.parent_lead_id);
  return run(w, s);
}

Result<Ephemeral> load_ephemeral(Connection& c, std::string_view id, std::string_view workspace_id) {
  auto s = c.prepare(
      "SELECT " CREWSHIP_AGENT_REF_COLUMNS ", ephemeral, expires_at, expired_at, parent_lead_id, hire_reason"
      " FROM agents WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL");
  s.bind_all(id, workspace_id);
  if (auto st = first_row(c, s, "agent not found"); !st) return std::move(st).take_problem();
  return Ephemeral{agent_ref_of(s), s.int64(7) != 0, opt_text(s, 8), opt_text(s, 9), opt_text(s, 10),
                   opt_text(s, 11)};
}

Status extend_ephemeral(Connection& w, std::string_view id, std::string_view expires_at,
                        std::string_view hire_reason, std::string_view now) {
  auto s = w.prepare(
      "UPDATE agents SET expires_at = ?2, hire_reason = ?3, expired_at = NULL, updated_at = ?4 WHERE id = ?1");
  s.bind_all(id, expires_at, hire_reason, now);
  return run(w, s);
}

Result<bool> approve_pending(Connection& w, std::string_view id, std::string_view workspace_id,
                             std::string_view now) {
  auto s = w.prepare(
      "UPDATE agents SET status = 'IDLE', updated_at = ?3 WHERE id = ?1 AND workspace_id = ?2"
      " AND status = 'PENDING_REVIEW' AND expired_at IS NULL AND deleted_at IS NULL");
  s.bind_all(id, workspace_id, now);
  return changed_one(w, s);
}

// Past its TTL as CREWSHIP_AGENT_REF_COLUMNS reads it (agent_store.h), but
// on the text of expires_at, so that the partial index serves the sweep.
Result<std::vector<AgentRef>> due_ephemerals(Connection& c, std::string_view now, int64_t limit) {
  auto s = c.prepare(
      "SELECT " CREWSHIP_AGENT_REF_COLUMNS " FROM agents"
      " WHERE ephemeral = 1 AND expired_at IS NULL AND deleted_at IS NULL AND expires_at <= ?1"
      " ORDER BY expires_at, id LIMIT ?2");
  s.bind_all(now, limit);
  return collect(c, s, agent_ref_of);
}

Result<bool> expire_ephemeral(Connection& w, std::string_view id, std::string_view now) {
  auto s = w.prepare(
      "UPDATE agents SET expired_at = ?2, updated_at = ?2 WHERE id = ?1 AND ephemeral = 1"
      " AND expired_at IS NULL AND deleted_at IS NULL AND expires_at <= ?2");
  s.bind_all(id, now);
  return changed_one(w, s);
}

Result<int64_t> open_assignments(Connection& c, std::string_view agent_id) {
  auto s = c.prepare(
      "SELECT count(*) FROM assignments WHERE agent_id = ?1"
      " AND status NOT IN ('DONE', 'COMPLETED', 'FAILED', 'CANCELLED', 'CANCELED', 'REJECTED', 'EXPIRED')");
  s.bind(1, agent_id);
  if (auto st = first_row(c, s, ""); !st) return std::move(st).take_problem();
  return s.int64(0);
}

Status append_journal(Connection& w, const JournalEntry& e) {
  auto s = w.prepare(
      "INSERT INTO journal(workspace_id, crew_id, agent_id, kind, payload, created_at)"
      " VALUES (?1, nullif(?2, ''), nullif(?3, ''), ?4, ?5, ?6)");
  s.bind_all(e.workspace_id, e.crew_id, e.agent_id, e.kind, e.payload, now_rfc3339_nanos());
  return run(w, s);
}

}  // namespace crewship::store
