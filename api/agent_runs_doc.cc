#include "api/docs.h"

namespace crewship::api::docs {

void agent_runs(openapi::DocSet& d) {
  using M = http::Method;
  d.area("runs");
  d.schema("Run", R"({"type":"object",
    "required":["id","agent_id","workspace_id","chat_id","cmd","status","source","exit_code","error","started_at","ended_at"],
    "properties":{"id":{"type":"string"},"agent_id":{"type":"string"},"workspace_id":{"type":"string"},
      "chat_id":{"type":["string","null"]},"cmd":{"type":"array","items":{"type":"string"}},
      "status":{"enum":["RUNNING","SUCCEEDED","FAILED","STOPPED","LOST"]},"source":{"type":"string"},
      "exit_code":{"type":["integer","null"]},"error":{"type":["string","null"]},"started_at":{"type":"string"},
      "ended_at":{"type":["string","null"]}}})");
  d.schema("LogEntry", R"({"type":"object","required":["ts","stream","content"],
    "properties":{"ts":{"type":"string"},"stream":{"enum":["stdout","stderr"]},"content":{"type":"string"}}})");

  d.add(M::kPost, "/api/v1/internal/agents/{agentId}/start", "Runs a command as the agent in its crew's container")
      .describe("As uid 1001 in /output/<slug>; stdout and stderr become the agent's log, the end writes the exit "
                "code, the agent's status and presence. The agent's credentials are opened into the exec's "
                "environment only.")
      .takes(R"({"type":"object","required":["cmd"],"properties":{
        "cmd":{"type":"array","minItems":1,"maxItems":256,"items":{"type":"string","maxLength":65536}},
        "env":{"type":["object","null"],"maxProperties":128,"additionalProperties":{"type":"string"},
          "propertyNames":{"pattern":"^[A-Za-z_][A-Za-z0-9_]*$"}},
        "chat_id":{"type":["string","null"],"minLength":1,"maxLength":128}}})")
      .ok(202, R"({"type":"object","required":["run_id"],"properties":{"run_id":{"type":"string"}}})", "Started")
      .fails({404, 409, 502, 503});
  d.add(M::kGet, "/api/v1/agents/{agentId}/runs", "The agent's runs, newest first")
      .paged(20, 100)
      .ok(200, "Run[]")
      .fails({404});
  d.add(M::kGet, "/api/v1/runs", "The workspace's runs, newest first")
      .paged(20, 100)
      .query("agent_id", "string", "Only this agent's (404 when it is no live agent of the workspace)")
      .query("status", R"({"enum":["RUNNING","SUCCEEDED","FAILED","STOPPED","LOST"]})")
      .ok(200, "Run[]")
      .fails({404});
  d.add(M::kGet, "/api/v1/agents/{agentId}/logs", "A page of the agent's log, or its entries as they come")
      .describe("Offsets count entries since the log began and rotation keeps them. An offset below the first "
                "entry kept answers from that entry with the headers X-Log-Truncated: true and "
                "X-Log-First-Offset: N, for a page and for follow alike. follow=1 streams one entry a line "
                "(application/x-ndjson) until the client leaves.")
      .paged(100, 500)
      .query("follow", R"({"enum":["0","1","true","false"]})", "1: stream new entries")
      .ok(200, "LogEntry[]", "A page, or with follow=1 a stream of entries, one a line")
      .raw(200, "application/x-ndjson", "string")
      .fails({404, 503});

  d.mount(M::kGet, "/api/v1/internal/agents/{agentId}/runs", "/api/v1/agents/{agentId}/runs")
      .instead(200, R"({"type":"object","required":["runs"],"properties":{"runs":{"type":"array","items":{"$ref":"Run"}}}})");
  d.mount(M::kGet, "/api/v1/internal/agents/{agentId}/logs", "/api/v1/agents/{agentId}/logs")
      .instead(200, R"({"type":"object","required":["logs"],"properties":{"logs":{"type":"array","items":{"$ref":"LogEntry"}},
        "truncated":{"const":true,"description":"Entries from the offset asked for were rotated away"},
        "first_offset":{"type":"integer","description":"The offset of logs[0], with truncated"}},
        "dependentRequired":{"truncated":["first_offset"]}})");
}

}  // namespace crewship::api::docs
