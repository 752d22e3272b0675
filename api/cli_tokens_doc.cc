#include "api/docs.h"

namespace crewship::api::docs {

void cli_tokens(openapi::DocSet& d) {
  using M = http::Method;
  d.area("auth");
  d.add(M::kPost, "/api/v1/auth/cli-token", "A CLI token, shown once")
      .describe("Without a body or a name, the token is named cli-<date>. Answered with Cache-Control: no-store.")
      .takes(R"({"type":"object","properties":{"name":{"type":"string","minLength":1,"maxLength":100}}})")
      .optional_body()
      .ok(201, R"({"type":"object","required":["id","name","token","created_at"],
        "properties":{"id":{"type":"string"},"name":{"type":"string"},"token":{"type":"string","pattern":"^crewship_cli_[0-9a-f]{64}$"},
          "created_at":{"$ref":"Timestamp"}}})");
  d.add(M::kGet, "/api/v1/auth/cli-token/validate", "Who the presented credential is")
      .ok(200, R"({"type":"object","required":["valid","user","token"],
        "properties":{"valid":{"const":true},
          "user":{"type":"object","required":["id","email","name"],"properties":{"id":{"type":"string"},"email":{"type":"string"},"name":{"type":"string"}}},
          "token":{"oneOf":[{"type":"null"},{"type":"object","required":["id","name"],
            "properties":{"id":{"type":"string"},"name":{"type":"string"}}}]}}})");
  d.add(M::kGet, "/api/v1/auth/cli-tokens", "The caller's live CLI tokens, never their secrets")
      .paged(50, 100)
      .ok(200, R"({"type":"array","items":{"type":"object","required":["id","name","created_at","last_used_at"],
        "properties":{"id":{"type":"string"},"name":{"type":"string"},"created_at":{"$ref":"Timestamp"},
          "last_used_at":{"$ref":"NullableTimestamp"}}}})");
  d.add(M::kDelete, "/api/v1/auth/cli-tokens/{tokenId}", "Revokes a CLI token")
      .ok(204, "", "Revoked")
      .fails({404});
}

}  // namespace crewship::api::docs
