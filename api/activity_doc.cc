#include "api/docs.h"

namespace crewship::api::docs {

void activity(openapi::DocSet& d) {
  using M = http::Method;
  d.area("activity");
  d.add(M::kGet, "/api/v1/activity", "The cross-crew activity feed, newest first")
      .describe("Audit rows, presence transitions, runs started and finished, and inbox items, merged. Pages go by "
                "cursor: before=<next_before of the last page>; there is no offset (400).")
      .query("crew_id", "string", "Only this crew's entries")
      .query("limit", R"({"type":"integer","minimum":1,"default":50})", "At most this many (clamped to 200)")
      .query("before", R"({"type":"string","maxLength":128})",
             "An opaque cursor: the entries after the one next_before names")
      .ok(200, R"({"type":"object","required":["entries","next_before"],
        "properties":{"entries":{"type":"array","items":{"type":"object",
          "required":["id","kind","at","summary","data"],
          "properties":{"id":{"type":"string","description":"<kind>:<id of the row in its table>"},
            "kind":{"enum":["audit","presence","run.started","run.finished","inbox"]},
            "at":{"type":"string","description":"RFC 3339, as its source stores it"},
            "crew_id":{"type":"string","description":"Omitted without a crew"},
            "agent_id":{"type":"string","description":"Omitted without an agent"},
            "summary":{"type":"string"},"data":{"type":"object","description":"The row, by kind"}}}},
          "next_before":{"type":["string","null"],"description":"null on the last page"}}})")
      .fails({400, 404});
  d.add(M::kGet, "/api/v1/mcp-tool-calls", "The MCP tool calls the runtime recorded, newest first")
      .query("agent_id", "string", "Only this agent's calls")
      .paged(50, 100)
      .ok(200, R"({"type":"array","items":{"type":"object",
        "required":["id","agent_id","server","tool","arguments_digest","duration_ms","outcome","created_at"],
        "properties":{"id":{"type":"string"},"agent_id":{"type":"string"},
          "crew_id":{"type":"string","description":"Omitted without a crew"},
          "run_id":{"type":"string","description":"Omitted when none was named"},
          "server":{"type":"string"},"tool":{"type":"string"},
          "arguments_digest":{"type":"string","pattern":"^sha256:[0-9a-f]{64}$"},
          "duration_ms":{"type":"integer","minimum":0},"outcome":{"$ref":"McpOutcome"},
          "created_at":{"type":"string"}}}})")
      .fails({404});
}

}  // namespace crewship::api::docs
