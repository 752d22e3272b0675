#include "api/docs.h"

namespace crewship::api::docs {

void invitations(openapi::DocSet& d) {
  using M = http::Method;
  d.area("workspaces");
  d.add(M::kGet, "/api/v1/workspaces/{workspaceId}/invitations", "Invitations, newest first, never a token")
      .paged(50, 100)
      .ok(200, R"({"type":"array","items":{"type":"object",
        "required":["id","email","role","status","invited_by_user_id","created_at","expires_at","accepted_at","revoked_at"],
        "properties":{"id":{"type":"string"},"email":{"type":"string"},"role":{"$ref":"Role"},
          "status":{"enum":["pending","accepted","revoked","expired"]},"invited_by_user_id":{"type":["string","null"]},
          "created_at":{"$ref":"Timestamp"},"expires_at":{"$ref":"Timestamp"},
          "accepted_at":{"$ref":"NullableTimestamp"},"revoked_at":{"$ref":"NullableTimestamp"}}}})");
  d.add(M::kPost, "/api/v1/workspaces/{workspaceId}/invitations", "Invites an email with a role; the token is shown once")
      .describe("Valid 7 days. Only an OWNER invites an OWNER. Answered with Cache-Control: no-store.")
      .takes("Grant")
      .ok(201, R"({"type":"object","required":["id","email","role","expires_at","token"],
        "properties":{"id":{"type":"string"},"email":{"type":"string"},"role":{"$ref":"Role"},
          "expires_at":{"$ref":"Timestamp"},"token":{"type":"string","pattern":"^crewship_inv_[0-9a-f]{64}$"}}})")
      .fails({409});
  d.add(M::kDelete, "/api/v1/workspaces/{workspaceId}/invitations/{invitationId}",
        "Revokes a pending invitation; its token answers 410 from then on")
      .ok(204, "")
      .fails({404, 409});
  d.add(M::kPost, "/api/v1/invitations/{token}/accept", "Joins the invitation's workspace, once")
      .describe("The signed-in user must have the invited email. 410 once used, revoked or expired.")
      .ok(200, R"({"type":"object","required":["id","workspace_id","user_id","email","role","created_at"],
        "properties":{"id":{"type":"string"},"workspace_id":{"type":"string"},"user_id":{"type":"string"},
          "email":{"type":"string"},"role":{"$ref":"Role"},"created_at":{"$ref":"Timestamp"}}})", "The new membership")
      .fails({403, 404, 409, 410});
}

}  // namespace crewship::api::docs
