#include "api/docs.h"

namespace crewship::api::docs {

void credentials(openapi::DocSet& d) {
  using M = http::Method;
  d.area("credentials");
  constexpr std::string_view kCredential = R"("id":{"type":"string"},"name":{"type":"string"},
    "provider":{"enum":["ANTHROPIC","OPENAI","GOOGLE","GITHUB","CUSTOM"]},
    "type":{"enum":["API_KEY","AI_CLI_TOKEN","OAUTH_TOKEN","SECRET"]},
    "hint":{"type":"string","description":"The last characters of the value at most, never more than half of it"})";
  d.schema("Credential", R"({"type":"object","required":["id","name","provider","type","hint","created_at","updated_at"],
    "description":"Never the value","properties":{)" + std::string(kCredential) +
                             R"(,"created_at":{"$ref":"Timestamp"},"updated_at":{"$ref":"Timestamp"}}})");
  d.schema("CredentialAssignment", R"({"type":"object",
    "required":["id","agent_id","credential_id","env_var_name","priority","created_at","credential"],
    "properties":{"id":{"type":"string"},"agent_id":{"type":"string"},"credential_id":{"type":"string"},
      "env_var_name":{"type":"string"},"priority":{"type":"integer"},"created_at":{"$ref":"Timestamp"},
      "credential":{"type":"object","required":["id","name","provider","type","hint"],"properties":{)" +
                                         std::string(kCredential) + "}}}}");

  d.add(M::kPost, "/api/v1/credentials", "Stores a credential, sealed; the value is never returned")
      .takes(R"({"type":"object","required":["name","provider","type","value"],
        "properties":{"name":{"type":"string","minLength":2,"maxLength":100},
          "provider":{"enum":["ANTHROPIC","OPENAI","GOOGLE","GITHUB","CUSTOM"]},
          "type":{"enum":["API_KEY","AI_CLI_TOKEN","OAUTH_TOKEN","SECRET"]},
          "value":{"type":"string","minLength":1,"description":"At most 16 KiB"}}})")
      .ok(201, "Credential")
      .fails({409});
  d.add(M::kGet, "/api/v1/credentials", "The workspace's credentials, without values").paged(50, 100).ok(200, "Credential[]");
  d.add(M::kDelete, "/api/v1/credentials/{credentialId}", "Soft-deletes a credential and its assignments")
      .ok(204, "")
      .fails({404});
  d.add(M::kGet, "/api/v1/agents/{agentId}/credentials", "The agent's credential assignments")
      .ok(200, "CredentialAssignment[]")
      .fails({404});
  d.add(M::kPost, "/api/v1/agents/{agentId}/credentials", "Assigns a credential to an agent as an env var")
      .takes(R"({"type":"object","required":["credential_id","env_var_name"],
        "properties":{"credential_id":{"type":"string","minLength":1,"maxLength":128},
          "env_var_name":{"type":"string","pattern":"^[A-Z_][A-Z0-9_]{0,127}$","description":"Not CREWSHIP_*"},
          "priority":{"type":["integer","null"],"minimum":-1000000,"maximum":1000000}}})")
      .ok(201, "Id")
      .fails({404, 409});
  d.add(M::kDelete, "/api/v1/agents/{agentId}/credentials/{assignmentId}", "Removes a credential assignment")
      .ok(200, R"({"type":"object","required":["id","success"],"properties":{"id":{"type":"string"},"success":{"const":true}}})")
      .fails({404});
}

}  // namespace crewship::api::docs
