#include "api/docs.h"

namespace crewship::api::docs {

void workspaces(openapi::DocSet& d) {
  using M = http::Method;
  d.area("workspaces");
  d.schema("WorkspaceListed", R"({"type":"object","required":["id","name","slug","role","created_at","updated_at"],
    "properties":{"id":{"type":"string"},"name":{"type":"string"},"slug":{"type":"string"},"role":{"$ref":"Role"},
      "created_at":{"$ref":"Timestamp"},"updated_at":{"$ref":"Timestamp"}}})");
  d.schema("Workspace", R"({"type":"object","required":["id","name","slug","role","created_at","updated_at","_count"],
    "properties":{"id":{"type":"string"},"name":{"type":"string"},"slug":{"type":"string"},"role":{"$ref":"Role"},
      "created_at":{"$ref":"Timestamp"},"updated_at":{"$ref":"Timestamp"},
      "_count":{"type":"object","required":["members","crews","agents"],
        "properties":{"members":{"type":"integer"},"crews":{"type":"integer"},"agents":{"type":"integer"}}}}})");
  d.schema("Member", R"({"type":"object","required":["id","user_id","email","name","role","created_at"],
    "properties":{"id":{"type":"string"},"user_id":{"type":"string"},"email":{"type":"string"},
      "name":{"type":["string","null"]},"role":{"$ref":"Role"},"created_at":{"$ref":"Timestamp"}}})");
  d.schema("Grant", R"({"type":"object","required":["email","role"],
    "properties":{"email":{"type":"string"},"role":{"$ref":"Role"}}})");

  d.add(M::kGet, "/api/v1/workspaces", "The caller's workspaces, with their role in each")
      .paged(50, 100)
      .ok(200, "WorkspaceListed[]");
  d.add(M::kPost, "/api/v1/workspaces", "A workspace; the caller becomes its OWNER")
      .describe("A slug derived from the name gets a random suffix when taken; an explicit one that is taken is 409.")
      .takes(R"({"type":"object","required":["name"],"properties":{"name":{"type":"string","minLength":1,"maxLength":100},
        "slug":{"type":"string","minLength":2,"maxLength":50}}})")
      .ok(201, "WorkspaceListed")
      .fails({409});
  d.add(M::kGet, "/api/v1/workspaces/{workspaceId}", "A workspace, with counts").ok(200, "Workspace").fails({404});
  d.add(M::kPatch, "/api/v1/workspaces/{workspaceId}", "Renames a workspace or changes its slug")
      .takes(R"({"type":"object","properties":{"name":{"type":"string","minLength":1,"maxLength":100},
        "slug":{"type":"string","minLength":2,"maxLength":50}}})")
      .ok(200, "Workspace")
      .fails({404, 409});
  d.add(M::kGet, "/api/v1/workspaces/{workspaceId}/members", "The members, in the order they joined")
      .paged(50, 100)
      .ok(200, "Member[]");
  d.add(M::kPost, "/api/v1/workspaces/{workspaceId}/members", "Adds an existing user; only an OWNER grants OWNER")
      .takes("Grant")
      .ok(201, "Member")
      .fails({404, 409});
  d.add(M::kDelete, "/api/v1/workspaces/{workspaceId}/members/{memberId}",
        "Removes a member and their crew memberships here; the last OWNER stays")
      .ok(204, "")
      .fails({404, 409});
}

}  // namespace crewship::api::docs
