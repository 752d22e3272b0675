#include "api/docs.h"

namespace crewship::api::docs {

void audit(openapi::DocSet& d) {
  using M = http::Method;
  d.area("audit");
  d.add(M::kGet, "/api/v1/audit", "The workspace's audit log, newest first")
      .query("action", R"({"type":"string","pattern":"^[a-z._]{1,64}$"})", "Only this action, e.g. credential.create")
      .paged(50, 100)
      .ok(200, R"({"type":"array","items":{"type":"object",
        "required":["id","action","actor_user_id","target_type","target_id","details","created_at"],
        "properties":{"id":{"type":"string"},"action":{"type":"string"},"actor_user_id":{"type":["string","null"]},
          "target_type":{"type":"string"},"target_id":{"type":"string"},"details":{"type":["object","null"]},
          "created_at":{"$ref":"Timestamp"}}}})");
}

}  // namespace crewship::api::docs
