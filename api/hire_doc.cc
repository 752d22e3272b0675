// The docs of hiring: hire, rehire, approve-hire, the inbox summary and crew
// templates.
#include "api/docs.h"

namespace crewship::api::docs {

void hire(openapi::DocSet& d) {
  using M = http::Method;
  d.area("agents");
  d.schema("Hired", R"({"type":"object",
    "required":["id","crew_id","workspace_id","slug","name","status","ephemeral","expires_at","expired_at",
      "parent_lead_id","hire_reason","pending_review","decision"],
    "properties":{"id":{"type":"string"},"crew_id":{"type":["string","null"]},"workspace_id":{"type":"string"},
      "slug":{"type":"string"},"name":{"type":"string"},"status":{"type":"string"},"ephemeral":{"type":"boolean"},
      "expires_at":{"$ref":"NullableTimestamp"},"expired_at":{"$ref":"NullableTimestamp"},
      "parent_lead_id":{"type":["string","null"]},"hire_reason":{"type":["string","null"]},
      "pending_review":{"type":"boolean"},"inbox_item_id":{"type":"string"},
      "decision":{"enum":["rejected","inbox_approve","auto_log_journal","auto_journal"]}}})");
  d.add(M::kPost, "/api/v1/agents/hire", "Hires a short-lived agent from a template, as the crew's autonomy allows")
      .describe("strict: 403. guided: 202, PENDING_REVIEW with a blocking inbox item, not startable until approved. "
                "trusted: 201 with a visibility item. full: 201, journal only, no inbox_item_id. 429 when the crew's "
                "live hired agents reach max_ephemeral_agents.")
      .takes(R"({"type":"object","required":["template_slug","reason"],
        "properties":{"crew_id":{"type":"string"},"crew_slug":{"type":"string"},
          "template_slug":{"type":"string","minLength":1,"maxLength":50},"reason":{"type":"string","minLength":1},
          "ttl_minutes":{"type":"integer"},"model":{"type":"string"},"parent_lead_id":{"type":"string"}}})")
      .ok(201, "Hired")
      .ok(202, "Hired", "Pending review (guided)")
      .fails({402, 403, 404, 429});
  d.add(M::kPost, "/api/v1/agents/{agentId}/rehire", "Extends a hired agent's TTL, or brings a ghost back")
      .describe("A live one is extended free; a ghost needs a quota slot (429). 404 for a permanent agent.")
      .takes(R"({"type":"object","required":["reason"],
        "properties":{"reason":{"type":"string","minLength":1},"ttl_minutes":{"type":"integer"}}})")
      .ok(200, "Hired")
      .fails({403, 404, 429});
  d.add(M::kPost, "/api/v1/agents/{agentId}/approve-hire", "Approves a hire pending review; one approval wins")
      .ok(200, R"({"type":"object","required":["id","status","crew_id"],
        "properties":{"id":{"type":"string"},"status":{"const":"IDLE"},"crew_id":{"type":["string","null"]}}})")
      .fails({404, 409});
  d.add(M::kGet, "/api/v1/agents/{agentId}/inbox", "What waits on an agent")
      .ok(200, R"({"type":"object","required":["approvals_pending","assignments_open","escalations_open",
        "peer_messages","cost_usd_this_month","llm_calls_this_month","tokens_used_this_month"],
        "properties":{"approvals_pending":{"type":"integer"},"assignments_open":{"type":"integer"},
          "escalations_open":{"type":"integer"},"peer_messages":{"type":"array"},
          "cost_usd_this_month":{"type":"number"},"llm_calls_this_month":{"type":"integer"},
          "tokens_used_this_month":{"type":"integer"}}})")
      .fails({404});

  d.area("crews");
  d.schema("CrewTemplate", R"({"type":"object",
    "required":["slug","name","role_title","system_prompt","cli_adapter","llm_model","built_in"],
    "properties":{"id":{"type":"string"},"workspace_id":{"type":"string"},"slug":{"type":"string"},
      "name":{"type":"string"},"role_title":{"type":["string","null"]},"system_prompt":{"type":["string","null"]},
      "cli_adapter":{"type":"string"},"llm_model":{"type":["string","null"]},"built_in":{"type":"boolean"},
      "created_by_user_id":{"type":"string"},"created_at":{"$ref":"Timestamp"}}})");
  d.add(M::kGet, "/api/v1/crew-templates", "The built-in templates, then the workspace's own")
      .paged(50, 100)
      .ok(200, "CrewTemplate[]");
  d.add(M::kPost, "/api/v1/crew-templates", "A workspace-owned template (a role)")
      .takes(R"({"type":"object","required":["slug","name"],
        "properties":{"slug":{"type":"string","minLength":2,"maxLength":50},
          "name":{"type":"string","minLength":2,"maxLength":100},"role_title":{"type":["string","null"]},
          "system_prompt":{"type":["string","null"]},
          "cli_adapter":{"enum":["CLAUDE_CODE","CODEX_CLI","GEMINI_CLI","OPENCODE","CURSOR_CLI","FACTORY_DROID"]},
          "llm_model":{"type":["string","null"]}}})")
      .ok(201, "CrewTemplate")
      .fails({409});
}

}  // namespace crewship::api::docs
