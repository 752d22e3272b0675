#include "store/agent_store.h"

#include "store/query.h"

namespace crewship::store {
namespace {

// The settable columns in the order bind_fields() binds and read_fields()
// reads them.
#define AGENT_COLUMNS                                                                          \
  "name, slug, crew_id, description, role_title, agent_role, lead_mode, cli_adapter,"          \
  " llm_provider, llm_model, system_prompt, avatar_seed, avatar_style, timeout_seconds,"       \
  " tool_profile, memory_enabled, cli_tools, schedule_cron, schedule_prompt, schedule_enabled," \
  " mcp_config_json"
constexpr int kFieldCount = 21;

// One statement per page: the crew and the _count members come from a join
// and correlated subqueries (each served by an index on agent_id).
#define AGENT_SELECT                                                                            \
  "SELECT a.id, a.workspace_id, a.name, a.slug, a.crew_id, a.description, a.role_title,"        \
  " a.agent_role, a.lead_mode, a.cli_adapter, a.llm_provider, a.llm_model, a.system_prompt,"    \
  " a.avatar_seed, a.avatar_style, a.timeout_seconds, a.tool_profile, a.memory_enabled,"        \
  " a.cli_tools, a.schedule_cron, a.schedule_prompt, a.schedule_enabled, a.mcp_config_json,"    \
  " a.status, a.schedule_last_run, a.schedule_next_run, a.created_at, a.updated_at,"            \
  " c.id, c.name, c.slug, c.color, c.avatar_style,"                                             \
  " (SELECT count(*) FROM agent_skills k WHERE k.agent_id = a.id),"                             \
  " (SELECT count(*) FROM agent_credentials r JOIN credentials v ON v.id = r.credential_id"        \
  "   AND v.deleted_at IS NULL WHERE r.agent_id = a.id),"                                         \
  " (SELECT count(*) FROM chats h WHERE h.agent_id = a.id),"                                    \
  " a.created_by_user_id, a.ephemeral, a.expires_at, a.expired_at, a.parent_lead_id,"           \
  " a.hire_reason"                                                                              \
  " FROM agents a LEFT JOIN crews c ON c.id = a.crew_id AND c.deleted_at IS NULL"

// Binds AGENT_COLUMNS to ?first .. ?first+20.
void bind_fields(StmtLease& s, int first, const AgentFields& a) {
  int i = first;
  s.bind(i++, a.name);
  s.bind(i++, a.slug);
  bind_opt(s, i++, a.crew_id);
  bind_opt(s, i++, a.description);
  bind_opt(s, i++, a.role_title);
  s.bind(i++, a.agent_role);
  bind_opt(s, i++, a.lead_mode);
  s.bind(i++, a.cli_adapter);
  bind_opt(s, i++, a.llm_provider);
  bind_opt(s, i++, a.llm_model);
  bind_opt(s, i++, a.system_prompt);
  bind_opt(s, i++, a.avatar_seed);
  bind_opt(s, i++, a.avatar_style);
  s.bind(i++, a.timeout_seconds);
  s.bind(i++, a.tool_profile);
  s.bind(i++, int64_t{a.memory_enabled});
  bind_opt(s, i++, a.cli_tools);
  bind_opt(s, i++, a.schedule_cron);
  bind_opt(s, i++, a.schedule_prompt);
  s.bind(i++, int64_t{a.schedule_enabled});
  bind_opt(s, i++, a.mcp_config_json);
}

// Reads AGENT_COLUMNS starting at column first.
AgentFields read_fields(const StmtLease& s, int first) {
  AgentFields a;
  int i = first;
  a.name = s.text(i++);
  a.slug = s.text(i++);
  a.crew_id = opt_text(s, i++);
  a.description = opt_text(s, i++);
  a.role_title = opt_text(s, i++);
  a.agent_role = s.text(i++);
  a.lead_mode = opt_text(s, i++);
  a.cli_adapter = s.text(i++);
  a.llm_provider = opt_text(s, i++);
  a.llm_model = opt_text(s, i++);
  a.system_prompt = opt_text(s, i++);
  a.avatar_seed = opt_text(s, i++);
  a.avatar_style = opt_text(s, i++);
  a.timeout_seconds = s.int64(i++);
  a.tool_profile = s.text(i++);
  a.memory_enabled = s.int64(i++) != 0;
  a.cli_tools = opt_text(s, i++);
  a.schedule_cron = opt_text(s, i++);
  a.schedule_prompt = opt_text(s, i++);
  a.schedule_enabled = s.int64(i++) != 0;
  a.mcp_config_json = opt_text(s, i++);
  return a;
}

// A row of AGENT_SELECT.
Agent agent_of(const StmtLease& s) {
  Agent a;
  a.id = s.text(0);
  a.workspace_id = s.text(1);
  a.fields = read_fields(s, 2);
  int i = 2 + kFieldCount;
  a.status = s.text(i++);
  a.schedule_last_run = opt_text(s, i++);
  a.schedule_next_run = opt_text(s, i++);
  a.created_at = s.text(i++);
  a.updated_at = s.text(i++);
  if (!s.is_null(i)) {
    a.crew = CrewBadge{std::string(s.text(i + 1)), std::string(s.text(i + 2)), opt_text(s, i + 3),
                       opt_text(s, i + 4)};
  }
  i += 5;
  a.skills = s.int64(i++);
  a.credentials = s.int64(i++);
  a.chats = s.int64(i++);
  a.created_by_user_id = opt_text(s, i++);
  a.ephemeral = s.int64(i++) != 0;
  a.expires_at = opt_text(s, i++);
  a.expired_at = opt_text(s, i++);
  a.parent_lead_id = opt_text(s, i++);
  a.hire_reason = opt_text(s, i++);
  return a;
}

// After an INSERT or UPDATE of agent id failed with rc: which of the unique
// rules it broke, as a 409, or a store failure.
Problem explain_failure(Connection& w, int rc, std::string_view workspace_id, std::string_view id,
                        const AgentFields& a) {
  rc = last_error(w, rc);
  if (!is_constraint(rc)) return store_failure(w, rc);
  auto s = w.prepare(
      "SELECT 1 FROM agents WHERE workspace_id = ?1 AND slug = ?2 AND id != ?3"
      " AND deleted_at IS NULL");
  s.bind_all(workspace_id, a.slug, id);
  auto taken = exists(w, s);
  if (!taken) return std::move(taken).take_problem();
  if (*taken) return fail(409, "an agent with this slug exists in the workspace");
  if (a.agent_role == "LEAD") return fail(409, "the crew already has a LEAD agent");
  return store_failure(w, rc);
}

AgentCounts counts_at(const StmtLease& s, int first) {
  return AgentCounts{s.int64(first), s.int64(first + 1), s.int64(first + 2)};
}

}  // namespace

AgentRef agent_ref_of(const StmtLease& s) {
  AgentRef a;
  a.id = s.text(0);
  a.workspace_id = s.text(1);
  a.crew_id = s.text(2);
  a.slug = s.text(3);
  a.name = s.text(4);
  a.status = s.text(5);
  a.expired = s.int64(6) != 0;
  return a;
}

Result<AgentRef> find_agent(Connection& c, std::string_view agent_id, std::string_view workspace_id,
                            std::string_view crew_id) {
  auto s = c.prepare(
      "SELECT " CREWSHIP_AGENT_REF_COLUMNS " FROM agents"
      " WHERE id = ?1 AND deleted_at IS NULL AND (?2 = '' OR workspace_id = ?2)"
      " AND (?3 = '' OR crew_id = ?3)");
  s.bind_all(agent_id, workspace_id, crew_id);
  if (auto st = first_row(c, s, "agent not found"); !st) return std::move(st).take_problem();
  return agent_ref_of(s);
}

Result<Agent> get_agent(Connection& c, std::string_view id, std::string_view workspace_id) {
  auto s = c.prepare(AGENT_SELECT " WHERE a.id = ?1 AND a.workspace_id = ?2 AND a.deleted_at IS NULL");
  s.bind_all(id, workspace_id);
  if (auto st = first_row(c, s, "agent not found"); !st) return std::move(st).take_problem();
  return agent_of(s);
}

Result<std::vector<Agent>> list_agents(Connection& c, std::string_view workspace_id,
                                       const Text& crew_id, int64_t limit, int64_t offset) {
  auto s = c.prepare(AGENT_SELECT " WHERE a.workspace_id = ?1 AND a.deleted_at IS NULL"
                                  " AND (?2 IS NULL OR a.crew_id = ?2)"
                                  " ORDER BY a.created_at, a.id LIMIT ?3 OFFSET ?4");
  s.bind(1, workspace_id);
  bind_opt(s, 2, crew_id);
  s.bind(3, limit);
  s.bind(4, offset);
  return collect(c, s, agent_of);
}

Status insert_agent(Connection& w, std::string_view id, std::string_view workspace_id,
                    std::string_view creator_user_id, std::string_view now, const AgentFields& a) {
  auto s = w.prepare(
      "INSERT INTO agents(id, workspace_id, created_by_user_id, created_at, updated_at, "
      AGENT_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
      " ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)");
  s.bind_all(id, workspace_id, creator_user_id, now);
  bind_fields(s, 5, a);
  if (int rc = s.step(); rc != SQLITE_DONE) return explain_failure(w, rc, workspace_id, id, a);
  return {};
}

Status update_agent(Connection& w, std::string_view id, std::string_view workspace_id,
                    std::string_view now, const AgentFields& a) {
  auto s = w.prepare(
      "UPDATE agents SET (" AGENT_COLUMNS ", updated_at) = (?3, ?4, ?5, ?6, ?7, ?8, ?9,"
      " ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?2)"
      " WHERE id = ?1");
  s.bind_all(id, now);
  bind_fields(s, 3, a);
  if (int rc = s.step(); rc != SQLITE_DONE) return explain_failure(w, rc, workspace_id, id, a);
  return {};
}

Status delete_agent(Connection& w, std::string_view id, std::string_view now) {
  auto s = w.prepare("UPDATE agents SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1");
  s.bind_all(id, now);
  return run(w, s);
}

Result<EditableAgent> load_agent_for_edit(Connection& c, std::string_view id,
                                          std::string_view workspace_id, std::string_view user_id) {
  auto s = c.prepare(
      "SELECT " AGENT_COLUMNS ", coalesce(a.created_by_user_id = ?3, 0),"
      " coalesce((SELECT m.role IN ('OWNER', 'ADMIN') FROM crew_members m"
      "   WHERE m.crew_id = a.crew_id AND m.user_id = ?3), 0)"
      " FROM agents a WHERE a.id = ?1 AND a.workspace_id = ?2 AND a.deleted_at IS NULL");
  s.bind_all(id, workspace_id, user_id);
  if (auto st = first_row(c, s, "agent not found"); !st) return std::move(st).take_problem();
  return EditableAgent{read_fields(s, 0), s.int64(kFieldCount) == 1, s.int64(kFieldCount + 1) == 1};
}

// Any status but RUNNING and ERROR (IDLE, STOPPED, PENDING_REVIEW, ...)
// counts as idle.
Result<WorkspaceLoad> workspace_load(Connection& c, std::string_view workspace_id) {
  auto s = c.prepare(
      "SELECT count(*), coalesce(sum(a.status = 'RUNNING'), 0),"
      " coalesce(sum(a.status = 'ERROR'), 0), coalesce(sum(a.crew_id IS NULL), 0),"
      " coalesce(sum(a.crew_id IS NULL AND a.status = 'RUNNING'), 0),"
      " coalesce(sum(a.crew_id IS NULL AND a.status = 'ERROR'), 0),"
      " (SELECT count(*) FROM assignments q WHERE q.workspace_id = ?1 AND q.status = 'QUEUED')"
      " FROM agents a WHERE a.workspace_id = ?1 AND a.deleted_at IS NULL");
  s.bind(1, workspace_id);
  int rc = s.step();
  if (rc != SQLITE_ROW) return store_failure(c, last_error(c, rc));
  return WorkspaceLoad{counts_at(s, 0), counts_at(s, 3), s.int64(6)};
}

Result<std::vector<CrewLoad>> crew_loads(Connection& c, std::string_view workspace_id) {
  auto s = c.prepare(
      "SELECT c.id, c.name, c.slug, count(a.id), coalesce(sum(a.status = 'RUNNING'), 0),"
      " coalesce(sum(a.status = 'ERROR'), 0)"
      " FROM crews c LEFT JOIN agents a ON a.crew_id = c.id AND a.deleted_at IS NULL"
      " WHERE c.workspace_id = ?1 AND c.deleted_at IS NULL"
      " GROUP BY c.id ORDER BY c.created_at, c.id");
  s.bind(1, workspace_id);
  return collect(c, s, [](const StmtLease& r) {
    return CrewLoad{std::string(r.text(0)), std::string(r.text(1)), std::string(r.text(2)),
                    counts_at(r, 3)};
  });
}

#undef AGENT_SELECT
#undef AGENT_COLUMNS

}  // namespace crewship::store
