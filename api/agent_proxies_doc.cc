#include "api/docs.h"

namespace crewship::api::docs {

void agent_proxies(openapi::DocSet& d) {
  using M = http::Method;
  d.area("agents");
  d.schema("ContainerFile", R"({"type":"object","required":["path","name","size","is_dir","mod_time"],
    "properties":{"path":{"type":"string"},"name":{"type":"string"},"size":{"type":"integer"},"is_dir":{"type":"boolean"},
      "mod_time":{"type":"string"}}})");
  d.schema("Commit", R"({"type":"object","required":["hash","message","author","date"],
    "properties":{"hash":{"type":"string"},"message":{"type":"string"},"author":{"type":"string"},"date":{"type":"string"}}})");
  d.schema("AgentStopped", R"({"type":"object","required":["id","status"],
    "properties":{"id":{"type":"string"},"status":{"const":"STOPPED"}}})");
  d.schema("AgentDebug", R"({"type":"object","required":["agent","presence","run","container","logs"],
    "properties":{
      "agent":{"type":"object","required":["id","name","slug","status","crew_id"],
        "properties":{"id":{"type":"string"},"name":{"type":"string"},"slug":{"type":"string"},"status":{"type":"string"},
          "crew_id":{"type":["string","null"]}}},
      "presence":{"oneOf":[{"type":"null"},{"type":"object","required":["status","since","details"],
        "properties":{"status":{"enum":["online","busy","blocked","offline"]},"since":{"type":"string"},
          "details":{"type":["object","null"]}}}]},
      "run":{"oneOf":[{"type":"null"},{"type":"object","required":["id","status","exit_code","error","started_at","ended_at","in_progress"],
        "properties":{"id":{"type":"string"},"status":{"type":"string"},"exit_code":{"type":["integer","null"]},
          "error":{"type":["string","null"]},"started_at":{"type":"string"},"ended_at":{"type":["string","null"]},
          "in_progress":{"type":"boolean"}}}]},
      "container":{"oneOf":[{"type":"null"},
        {"type":"object","required":["error"],"properties":{"error":{"type":"string"}}},
        {"type":"object","required":["id","name","state","status"],"properties":{"id":{"type":"string"},
          "name":{"type":"string"},"state":{"type":"string"},"status":{"type":"string"}}}]},
      "logs":{"type":"array","items":{"type":"object"},"description":"The last 20 log entries"}}})");

  d.add(M::kGet, "/api/v1/agents/{agentId}/container-files", "Entries below /home in the crew's container")
      .describe("Depth 3, as uid 1001; 10 s and 512 KiB at most.")
      .query("subdir", "string", "A relative path below /home")
      .ok(200, "ContainerFile[]")
      .fails({400, 404, 502, 503});
  d.add(M::kGet, "/api/v1/agents/{agentId}/git-log", "Commits of the agent's workspace (none: [])")
      .paged(20, 100)
      .query("before", "string", "Commits before this hash")
      .ok(200, "Commit[]")
      .fails({404, 502, 503});
  d.add(M::kPost, "/api/v1/agents/{agentId}/stop", "Stops the agent's process tree (TERM, grace, KILL); idempotent")
      .ok(200, "AgentStopped")
      .fails({404, 502, 503});
  d.add(M::kGet, "/api/v1/agents/{agentId}/debug", "The agent, its presence, last run, container and last log lines")
      .ok(200, "AgentDebug")
      .fails({404, 503});

  d.mount(M::kGet, "/api/v1/internal/agents/{agentId}/container-files", "/api/v1/agents/{agentId}/container-files")
      .instead(200, R"({"type":"object","required":["files"],"properties":{"files":{"type":"array","items":{"$ref":"ContainerFile"}}}})");
  d.mount(M::kGet, "/api/v1/internal/agents/{agentId}/git-log", "/api/v1/agents/{agentId}/git-log")
      .instead(200, R"({"type":"object","required":["commits"],"properties":{"commits":{"type":"array","items":{"$ref":"Commit"}}}})");
  d.mount(M::kPost, "/api/v1/internal/agents/{agentId}/stop", "/api/v1/agents/{agentId}/stop");
  d.mount(M::kGet, "/api/v1/internal/agents/{agentId}/debug", "/api/v1/agents/{agentId}/debug");
}

}  // namespace crewship::api::docs
