#include "store/mcp_store.h"

#include "store/query.h"

namespace crewship::store {

Status insert_mcp_tool_call(Connection& w, const McpToolCall& call) {
  if (call.run_id) {
    auto run = w.prepare("SELECT 1 FROM agent_runs WHERE id = ?1 AND agent_id = ?2");
    run.bind_all(*call.run_id, call.agent_id);
    auto found = exists(w, run);
    if (!found) return std::move(found).take_problem();
    if (!*found) return fail(404, "run not found");
  }
  auto s = w.prepare(
      "INSERT INTO mcp_tool_calls (id, workspace_id, crew_id, agent_id, run_id, server, tool,"
      " arguments_digest, duration_ms, outcome, created_at)"
      " VALUES (?1, ?2, nullif(?3, ''), ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  s.bind_all(call.id, call.workspace_id, call.crew_id, call.agent_id);
  bind_opt(s, 5, call.run_id);
  s.bind(6, call.server);
  s.bind(7, call.tool);
  s.bind(8, call.arguments_digest);
  s.bind(9, call.duration_ms);
  s.bind(10, call.outcome);
  s.bind(11, call.created_at);
  return run(w, s);
}

Result<std::vector<McpToolCall>> list_mcp_tool_calls(Connection& c, std::string_view workspace_id,
                                                     const std::optional<std::string>& agent_id,
                                                     int64_t limit, int64_t offset) {
  // Two statements, so each has its index: (agent_id, created_at) when one
  // agent is asked for, (workspace_id, created_at) otherwise.
  auto s = c.prepare(agent_id ? "SELECT id, workspace_id, coalesce(crew_id, ''), agent_id, run_id, server, tool,"
                                " arguments_digest, duration_ms, outcome, created_at FROM mcp_tool_calls"
                                " WHERE agent_id = ?2 AND workspace_id = ?1"
                                " ORDER BY created_at DESC, rowid DESC LIMIT ?3 OFFSET ?4"
                              : "SELECT id, workspace_id, coalesce(crew_id, ''), agent_id, run_id, server, tool,"
                                " arguments_digest, duration_ms, outcome, created_at FROM mcp_tool_calls"
                                " WHERE workspace_id = ?1 AND ?2 IS NULL"
                                " ORDER BY created_at DESC, rowid DESC LIMIT ?3 OFFSET ?4");
  s.bind(1, workspace_id);
  bind_opt(s, 2, agent_id);
  s.bind(3, limit);
  s.bind(4, offset);
  return collect(c, s, [](const StmtLease& r) {
    McpToolCall m;
    m.id = r.text(0);
    m.workspace_id = r.text(1);
    m.crew_id = r.text(2);
    m.agent_id = r.text(3);
    m.run_id = opt_text(r, 4);
    m.server = r.text(5);
    m.tool = r.text(6);
    m.arguments_digest = r.text(7);
    m.duration_ms = r.int64(8);
    m.outcome = r.text(9);
    m.created_at = r.text(10);
    return m;
  });
}

}  // namespace crewship::store
