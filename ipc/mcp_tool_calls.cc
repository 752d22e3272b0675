// POST /api/v1/internal/mcp-tool-calls {agent_id, run_id?, server, tool,
// arguments_digest, duration_ms, outcome}: the runtime records an MCP tool
// call of an agent -> 201 {id, created_at}. The arguments never come here,
// only their SHA-256 ("sha256:<64 hex>", or the 64 hex digits alone); a
// bound token records only for agents in its scope (403 otherwise).
#include "daemon/app.h"
#include "daemon/handler.h"
#include "daemon/ids.h"
#include "daemon/json_input.h"
#include "ipc/agent_scope.h"
#include "ipc/routes.h"
#include "store/mcp_store.h"

namespace crewship::ipc {
namespace {

constexpr int64_t kMaxDurationMs = 86'400'000;  // a day

bool printable_ascii(std::string_view s) {
  for (char c : s)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

// "sha256:<hex>" or "<hex>", 64 hex digits of either case, as
// "sha256:<lowercase hex>"; empty when it is neither.
std::string normalised_digest(std::string_view d) {
  if (d.substr(0, 7) == "sha256:") d.remove_prefix(7);
  if (d.size() != 64) return {};
  std::string out = "sha256:";
  for (char c : d) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
    out += c;
  }
  return out;
}

}  // namespace

void record_mcp_tool_call(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return;
  if (doc.HasMember("arguments"))
    return reply_problem(ex, 400, "arguments are never recorded: send arguments_digest, their SHA-256");
  json::Field<std::string> agent_id, run_id, server, tool, digest, outcome;
  json::Field<int64_t> duration;
  json::Reader r(doc);
  r.only({"agent_id", "run_id", "server", "tool", "arguments_digest", "duration_ms", "outcome"})
      .string("agent_id", &agent_id, {.min = 1, .max = 128, .required = true, .nullable = false})
      .string("run_id", &run_id, {.min = 1, .max = 128})
      .string("server", &server, {.min = 1, .max = 128, .required = true, .nullable = false})
      .string("tool", &tool, {.min = 1, .max = 128, .required = true, .nullable = false})
      .string("arguments_digest", &digest, {.min = 1, .max = 80, .required = true, .nullable = false})
      .integer("duration_ms", &duration, {.min = 0, .max = kMaxDurationMs, .required = true, .nullable = false})
      .one_of("outcome", &outcome, {"ok", "error", "timeout", "denied", "cancelled"},
              {.required = true, .nullable = false});
  if (!r.ok()) return reply_problem(ex, 400, r.error());
  if (!printable_ascii(server.value)) return reply_problem(ex, 400, "server must be printable ASCII without spaces");
  if (!printable_ascii(tool.value)) return reply_problem(ex, 400, "tool must be printable ASCII without spaces");
  store::McpToolCall call;
  call.arguments_digest = normalised_digest(digest.value);
  if (call.arguments_digest.empty())
    return reply_problem(ex, 400, "arguments_digest must be a SHA-256: sha256:<64 hex digits>");

  store::AgentRef agent;
  if (!agent_in_scope(app, ex, agent_id.value, &agent)) return;
  call.id = new_id();
  call.workspace_id = std::move(agent.workspace_id);
  call.crew_id = std::move(agent.crew_id);
  call.agent_id = std::move(agent.id);
  if (run_id.has_value()) call.run_id = std::move(run_id.value);
  call.server = std::move(server.value);
  call.tool = std::move(tool.value);
  call.duration_ms = duration.value;
  call.outcome = std::move(outcome.value);
  call.created_at = now_rfc3339_nanos();
  std::string id = call.id, created_at = call.created_at;
  store::submit(
      app.store.writer(),
      [call = std::move(call)](store::Connection& w) { return store::insert_mcp_tool_call(w, call); },
      [ex, id, created_at](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        json::Out out;
        out.begin_object();
        out.member("id", id);
        out.member("created_at", created_at);
        out.end_object();
        reply(ex, 201, out);
      });
}

}  // namespace crewship::ipc
