#include "ipc/docs.h"

namespace crewship::ipc::docs {

void mcp_tool_calls(openapi::DocSet& d) {
  using M = http::Method;
  d.area("activity");
  d.schema("McpOutcome", R"({"enum":["ok","error","timeout","denied","cancelled"]})");
  d.add(M::kPost, "/api/v1/internal/mcp-tool-calls", "Records an MCP tool call of an agent")
      .describe("The arguments are never sent: only their SHA-256, sha256:<64 hex> or the 64 hex digits alone. A "
                "bound token may only record for agents in its scope (403).")
      .takes(R"({"type":"object","required":["agent_id","server","tool","arguments_digest","duration_ms","outcome"],
        "additionalProperties":false,
        "properties":{"agent_id":{"type":"string","minLength":1,"maxLength":128},
          "run_id":{"type":["string","null"],"minLength":1,"maxLength":128},
          "server":{"type":"string","minLength":1,"maxLength":128,"pattern":"^[!-~]+$"},
          "tool":{"type":"string","minLength":1,"maxLength":128,"pattern":"^[!-~]+$"},
          "arguments_digest":{"type":"string","pattern":"^(sha256:)?[0-9A-Fa-f]{64}$"},
          "duration_ms":{"type":"integer","minimum":0,"maximum":86400000},"outcome":{"$ref":"McpOutcome"}}})")
      .ok(201, R"({"type":"object","required":["id","created_at"],
        "properties":{"id":{"type":"string"},"created_at":{"type":"string"}}})")
      .fails({403, 404});
}

}  // namespace crewship::ipc::docs
