#include "api/docs.h"

namespace crewship::api::docs {

void crews(openapi::DocSet& d) {
  using M = http::Method;
  d.area("crews");
  d.schema("Crew", R"({"type":"object",
    "required":["id","workspace_id","name","slug","description","color","avatar_style","autonomy_level",
      "max_ephemeral_agents","container_memory_mb","container_cpus","created_at","updated_at","_count"],
    "properties":{"id":{"type":"string"},"workspace_id":{"type":"string"},"name":{"type":"string"},"slug":{"type":"string"},
      "description":{"type":["string","null"]},"color":{"type":["string","null"]},"avatar_style":{"type":["string","null"]},
      "autonomy_level":{"enum":["strict","guided","trusted","full"]},"max_ephemeral_agents":{"type":"integer"},
      "container_memory_mb":{"type":"integer"},"container_cpus":{"type":"number"},
      "created_by_user_id":{"type":"string","description":"Omitted when the creator is gone"},
      "created_at":{"$ref":"Timestamp"},"updated_at":{"$ref":"Timestamp"},
      "_count":{"type":"object","required":["agents","members"],
        "properties":{"agents":{"type":"integer"},"members":{"type":"integer"}}}}})");
  constexpr std::string_view kCrewFields = R"("name":{"type":"string","minLength":2,"maxLength":100},
      "slug":{"type":"string","minLength":2,"maxLength":50,"pattern":"^[a-z0-9][a-z0-9_-]*$"},
      "description":{"type":["string","null"],"maxLength":2000},"color":{"type":["string","null"],"maxLength":32},
      "avatar_style":{"type":["string","null"],"maxLength":64},"autonomy_level":{"enum":["strict","guided","trusted","full"]},
      "max_ephemeral_agents":{"type":"integer","minimum":0,"maximum":100},
      "container_memory_mb":{"type":"integer","minimum":256,"maximum":262144},
      "container_cpus":{"type":"number","minimum":0.1,"maximum":64})";
  const std::string create = R"({"type":"object","required":["name","slug"],"properties":{)" + std::string(kCrewFields) + "}}";
  const std::string update = R"({"type":"object","properties":{)" + std::string(kCrewFields) + "}}";
  d.schema("CrewMember", R"({"type":"object","required":["user_id","email","name","role","created_at"],
    "properties":{"user_id":{"type":"string"},"email":{"type":"string"},"name":{"type":["string","null"]},
      "role":{"enum":["OWNER","ADMIN","MEMBER"]},"created_at":{"$ref":"Timestamp"}}})");

  d.add(M::kGet, "/api/v1/crews", "The workspace's crews").paged(50, 100).ok(200, "Crew[]");
  d.add(M::kPost, "/api/v1/crews", "A crew; the creator becomes its OWNER")
      .takes(create)
      .ok(201, "Crew")
      .fails({409});
  d.add(M::kGet, "/api/v1/crews/{crewId}", "A crew").ok(200, "Crew").fails({404});
  d.add(M::kPatch, "/api/v1/crews/{crewId}", "Edits a crew; null clears description, color and avatar_style")
      .describe("A MANAGER only edits crews they created or administer.")
      .takes(update)
      .ok(200, "Crew")
      .fails({404, 409});
  d.add(M::kDelete, "/api/v1/crews/{crewId}", "Soft-deletes a crew without live agents")
      .ok(204, "")
      .fails({404, 409});
  d.add(M::kGet, "/api/v1/crews/{crewId}/members", "The crew's members").paged(50, 100).ok(200, "CrewMember[]").fails({404});
  d.add(M::kPost, "/api/v1/crews/{crewId}/members", "Adds a workspace member to the crew (by user_id or email)")
      .takes(R"({"type":"object","required":["role"],"properties":{"user_id":{"type":"string","minLength":1,"maxLength":128},
        "email":{"type":"string","minLength":3,"maxLength":254},"role":{"enum":["OWNER","ADMIN","MEMBER"]}}})")
      .ok(201, "CrewMember")
      .fails({404, 409});
  d.add(M::kDelete, "/api/v1/crews/{crewId}/members/{userId}", "Removes a member from the crew")
      .ok(204, "")
      .fails({404});
}

}  // namespace crewship::api::docs
