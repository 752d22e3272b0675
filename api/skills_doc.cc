#include "api/docs.h"

namespace crewship::api::docs {

void skills(openapi::DocSet& d) {
  using M = http::Method;
  d.area("skills");
  d.schema("Skill", R"({"type":"object","required":["id","workspace_id","name","slug","description","content","created_at","updated_at"],
    "properties":{"id":{"type":"string"},"workspace_id":{"type":"string"},"name":{"type":"string"},"slug":{"type":"string"},
      "description":{"type":["string","null"]},"content":{"type":["string","null"]},
      "created_by_user_id":{"type":"string","description":"Omitted without a creator"},
      "created_at":{"$ref":"Timestamp"},"updated_at":{"$ref":"Timestamp"}}})");
  d.add(M::kPost, "/api/v1/skills", "A skill of the workspace's catalog")
      .takes(R"({"type":"object","required":["name","slug"],
        "properties":{"name":{"type":"string","minLength":2,"maxLength":100},"slug":{"type":"string","minLength":2,"maxLength":50},
          "description":{"type":["string","null"],"maxLength":2000},"content":{"type":["string","null"]}}})")
      .ok(201, "Skill")
      .fails({409});
  d.add(M::kGet, "/api/v1/skills", "The workspace's skills").paged(50, 100).ok(200, "Skill[]");
  d.add(M::kGet, "/api/v1/agents/{agentId}/skills", "The agent's skills")
      .ok(200, R"({"type":"array","items":{"type":"object","required":["id","skill_id","config","created_at","skill"],
        "properties":{"id":{"type":"string"},"skill_id":{"type":"string"},"config":{"type":["string","null"]},
          "created_at":{"$ref":"Timestamp"},"skill":{"type":"object","required":["name","slug"],
            "properties":{"name":{"type":"string"},"slug":{"type":"string"}}}}}})")
      .fails({404});
  d.add(M::kPost, "/api/v1/agents/{agentId}/skills", "Assigns a skill (200 when it already was)")
      .takes(R"({"type":"object","required":["skill_id"],
        "properties":{"skill_id":{"type":"string","minLength":1,"maxLength":128},"config":{"type":["string","null"]}}})")
      .ok(201, "Id", "Assigned")
      .ok(200, R"({"type":"object","required":["id","already_assigned"],
        "properties":{"id":{"type":"string"},"already_assigned":{"const":true}}})", "It already was")
      .fails({404});
  d.add(M::kDelete, "/api/v1/agents/{agentId}/skills/{skillId}", "Removes a skill from the agent")
      .ok(204, "")
      .fails({404});
}

}  // namespace crewship::api::docs
