// GET /api/v1/mcp-tool-calls?workspace_id=&agent_id=&limit=&offset= (manage):
// the MCP tool calls the runtime recorded (POST /api/v1/internal/mcp-tool-calls),
// newest first: [{id, agent_id, crew_id?, run_id?, server, tool,
// arguments_digest, duration_ms, outcome, created_at}]. An agent of another
// workspace answers 404, like a missing one.
#include "api/common.h"
#include "api/routes.h"
#include "store/mcp_store.h"
#include "store/presence_store.h"

namespace crewship::api {

void list_mcp_tool_calls(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  std::optional<std::string> agent_id;
  if (auto a = ex->req.query_param("agent_id"); a && !a->empty()) {
    auto known = store::agent_known(app.store.reader(), *a, ex->who.workspace_id);
    if (!known) return reply_problem(ex, known.problem());
    if (!*known) return reply_problem(ex, 404, "agent not found");
    agent_id = *a;
  }
  reply_list(ex,
             store::list_mcp_tool_calls(app.store.reader(), ex->who.workspace_id, agent_id, page.limit,
                                        page.offset),
             [](json::Out& out, const store::McpToolCall& m) {
               out.begin_object();
               out.member("id", m.id);
               out.member("agent_id", m.agent_id);
               if (!m.crew_id.empty()) out.member("crew_id", m.crew_id);
               if (m.run_id) out.member("run_id", *m.run_id);
               out.member("server", m.server);
               out.member("tool", m.tool);
               out.member("arguments_digest", m.arguments_digest);
               out.member("duration_ms", m.duration_ms);
               out.member("outcome", m.outcome);
               out.member("created_at", m.created_at);
               out.end_object();
             });
}

}  // namespace crewship::api
