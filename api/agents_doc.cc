#include "api/docs.h"

namespace crewship::api::docs {

void agents(openapi::DocSet& d) {
  using M = http::Method;
  d.area("agents");
  d.schema("Agent", R"({"type":"object",
    "required":["id","crew_id","workspace_id","name","slug","description","role_title","agent_role","lead_mode","status",
      "cli_adapter","llm_provider","llm_model","system_prompt","avatar_seed","avatar_style","timeout_seconds","tool_profile",
      "memory_enabled","cli_tools","schedule_cron","schedule_prompt","schedule_enabled","schedule_last_run","schedule_next_run",
      "created_at","updated_at","crew","_count","ephemeral","expires_at","expired_at","parent_lead_id","hire_reason"],
    "properties":{"id":{"type":"string"},"crew_id":{"type":["string","null"]},"workspace_id":{"type":"string"},
      "name":{"type":"string"},"slug":{"type":"string"},"description":{"type":["string","null"]},
      "role_title":{"type":["string","null"]},"agent_role":{"enum":["AGENT","LEAD"]},
      "lead_mode":{"enum":["active","passive",null]},"status":{"type":"string","description":"IDLE, RUNNING, ERROR, STOPPED, ..."},
      "cli_adapter":{"enum":["CLAUDE_CODE","CODEX_CLI","GEMINI_CLI","OPENCODE","CURSOR_CLI","FACTORY_DROID"]},
      "llm_provider":{"type":["string","null"]},"llm_model":{"type":["string","null"]},"system_prompt":{"type":["string","null"]},
      "avatar_seed":{"type":["string","null"]},"avatar_style":{"type":["string","null"]},"timeout_seconds":{"type":"integer"},
      "tool_profile":{"enum":["MINIMAL","CODING","FULL"]},"memory_enabled":{"type":"boolean"},
      "cli_tools":{"type":["string","null"]},"schedule_cron":{"type":["string","null"]},"schedule_prompt":{"type":["string","null"]},
      "schedule_enabled":{"type":"boolean"},"schedule_last_run":{"$ref":"NullableTimestamp"},
      "schedule_next_run":{"$ref":"NullableTimestamp"},
      "mcp_config_json":{"type":"string","description":"Omitted when empty"},
      "created_at":{"$ref":"Timestamp"},"updated_at":{"$ref":"Timestamp"},
      "crew":{"oneOf":[{"type":"null"},{"type":"object","required":["name","slug","color","avatar_style"],
        "properties":{"name":{"type":"string"},"slug":{"type":"string"},"color":{"type":["string","null"]},
          "avatar_style":{"type":["string","null"]}}}]},
      "_count":{"type":"object","required":["skills","credentials","chats"],
        "properties":{"skills":{"type":"integer"},"credentials":{"type":"integer"},"chats":{"type":"integer"}}},
      "created_by_user_id":{"type":"string","description":"Omitted for rows without a creator"},
      "ephemeral":{"type":"boolean"},"expires_at":{"$ref":"NullableTimestamp"},"expired_at":{"$ref":"NullableTimestamp"},
      "parent_lead_id":{"type":["string","null"]},"hire_reason":{"type":["string","null"]}}})");
  constexpr std::string_view kFields = R"("name":{"type":"string","minLength":2,"maxLength":100},
    "slug":{"type":"string","minLength":2,"maxLength":50,"pattern":"^[a-z0-9][a-z0-9_-]*$"},
    "crew_id":{"type":["string","null"],"maxLength":128},"agent_role":{"enum":["AGENT","LEAD"]},
    "lead_mode":{"enum":["active","passive",null]},
    "cli_adapter":{"enum":["CLAUDE_CODE","CODEX_CLI","GEMINI_CLI","OPENCODE","CURSOR_CLI","FACTORY_DROID"]},
    "tool_profile":{"enum":["MINIMAL","CODING","FULL"]},"timeout_seconds":{"type":"integer","minimum":1,"maximum":86400},
    "memory_enabled":{"type":"boolean"},"schedule_enabled":{"type":"boolean"},
    "description":{"type":["string","null"],"maxLength":2000},"role_title":{"type":["string","null"],"maxLength":100},
    "llm_provider":{"type":["string","null"],"maxLength":64},"llm_model":{"type":["string","null"],"maxLength":128},
    "system_prompt":{"type":["string","null"],"maxLength":100000},"avatar_seed":{"type":["string","null"],"maxLength":128},
    "avatar_style":{"type":["string","null"],"maxLength":64},"cli_tools":{"type":["string","null"],"maxLength":2000},
    "schedule_cron":{"type":["string","null"],"maxLength":128,"description":"5 or 6 fields, or @daily etc."},
    "schedule_prompt":{"type":["string","null"],"maxLength":10000},
    "mcp_config_json":{"type":["string","null"],"maxLength":100000,"description":"A JSON object as text"})";
  const std::string create = R"({"type":"object","required":["name","slug"],"properties":{)" + std::string(kFields) + "}}";
  const std::string update = R"({"type":"object","properties":{)" + std::string(kFields) + "}}";
  constexpr std::string_view kCounts = R"("total":{"type":"integer"},"running":{"type":"integer"},
    "idle":{"type":"integer"},"error":{"type":"integer"},"utilization":{"type":"number"})";
  const std::string counts = R"({"type":"object","required":["total","running","idle","error","utilization"],"properties":{)" +
                             std::string(kCounts) + "}}";
  d.schema("AgentCounts", counts);

  d.add(M::kGet, "/api/v1/agents/crews-status", "Agent status buckets of the workspace")
      .describe("Any status but RUNNING and ERROR counts as idle; queued counts QUEUED assignments.")
      .ok(200, R"({"type":"object","required":["total","running","error","idle","queued"],
        "properties":{"total":{"type":"integer"},"running":{"type":"integer"},"error":{"type":"integer"},
          "idle":{"type":"integer"},"queued":{"type":"integer"}}})");
  d.add(M::kGet, "/api/v1/agent-load", "Load across the workspace's live agents, per crew")
      .ok(200, R"({"type":"object","required":["total","running","idle","error","queued","utilization","crews","unassigned"],
        "properties":{)" + std::string(kCounts) + R"(,"queued":{"type":"integer"},
          "crews":{"type":"array","items":{"type":"object",
            "required":["crew_id","name","slug","total","running","idle","error","utilization"],
            "properties":{"crew_id":{"type":"string"},"name":{"type":"string"},"slug":{"type":"string"},)" +
                   std::string(kCounts) + R"(}}},
          "unassigned":{"$ref":"AgentCounts"}}})");
  d.add(M::kGet, "/api/v1/agents", "The workspace's live agents")
      .paged(50, 100)
      .query("crew_id", "string", "Only this crew's")
      .ok(200, "Agent[]")
      .fails({404});
  d.add(M::kPost, "/api/v1/agents", "An agent")
      .describe("One live slug per workspace and at most one LEAD per crew (409).")
      .takes(create)
      .ok(201, "Agent")
      .fails({404, 409});
  d.add(M::kPost, "/api/v1/agents/hire", "Reserved: not served yet").fails({404});
  d.add(M::kGet, "/api/v1/agents/{agentId}", "An agent").ok(200, "Agent").fails({404});
  d.add(M::kPatch, "/api/v1/agents/{agentId}", "Edits an agent; null or \"\" clears a text field")
      .describe("A MANAGER edits only agents they created or agents of crews they administer.")
      .takes(update)
      .ok(200, "Agent")
      .fails({404, 409});
  d.add(M::kDelete, "/api/v1/agents/{agentId}", "Soft-deletes an agent")
      .ok(200, R"({"type":"object","required":["id","deleted","success"],
        "properties":{"id":{"type":"string"},"deleted":{"const":true},"success":{"const":true}}})")
      .fails({404});
}

}  // namespace crewship::api::docs
