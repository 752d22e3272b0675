// The docs of the operators' routes: licence, keeper, aux status, admin
// pages and onboarding.
#include "api/docs.h"

namespace crewship::api::docs {

void operators(openapi::DocSet& d) {
  using M = http::Method;
  d.area("system");
  d.add(M::kGet, "/api/v1/system/license", "The edition, its limits (null: none) and, for the operator, usage")
      .describe("Limits cover the instance, from CREWSHIP_LICENSE_MAX_*. A create past one answers 402. usage only "
                "for an ADMIN or OWNER of the instance's first workspace.")
      .ok(200, R"({"type":"object","required":["edition","limits"],
        "properties":{"edition":{"const":"community"},
          "limits":{"type":"object","required":["max_agents","max_crews","max_members","max_workspaces"],
            "properties":{"max_agents":{"type":["integer","null"]},"max_crews":{"type":["integer","null"]},
              "max_members":{"type":["integer","null"]},"max_workspaces":{"type":["integer","null"]}}},
          "usage":{"type":"object","required":["agents","crews","members","workspaces"],
            "properties":{"agents":{"type":"integer"},"crews":{"type":"integer"},"members":{"type":"integer"},
              "workspaces":{"type":"integer"}}}}})");
  d.add(M::kGet, "/api/v1/system/keeper", "The credential keeper: sealed, where its key comes from, counts")
      .describe("For an ADMIN or OWNER of the instance's first workspace.")
      .ok(200, R"({"type":"object","required":["sealed","key_source","credentials","assignments","last_access_at"],
        "properties":{"sealed":{"type":"boolean"},"key_source":{"enum":["env","file"]},
          "credentials":{"type":"integer"},"assignments":{"type":"integer"},
          "last_access_at":{"$ref":"NullableTimestamp"}}})")
      .fails({403});
  d.add(M::kGet, "/api/v1/system/aux-status", "The auxiliary model of each slot, set or by fallback")
      .describe("From CREWSHIP_AUX_<SLOT>_{PROVIDER,MODEL,TIMEOUT}.")
      .ok(200, R"({"type":"array","items":{"type":"object","required":["slot","provider","model","timeout_s","source"],
        "properties":{"slot":{"type":"string"},"provider":{"type":"string"},"model":{"type":["string","null"]},
          "timeout_s":{"type":"integer"},"source":{"enum":["explicit","fallback"]}}}})");

  d.area("admin");
  d.add(M::kGet, "/api/v1/admin/stats", "The current workspace's members, live agents and those running")
      .ok(200, R"({"type":"object","required":["workspaces","users","agents","running"],
        "properties":{"workspaces":{"const":1},"users":{"type":"integer"},"agents":{"type":"integer"},
          "running":{"type":"integer"}}})");
  d.add(M::kGet, "/api/v1/admin/users", "The members, with role; last sign-in and tokens for the operator")
      .describe("last_sign_in_at and cli_tokens are about the user across the instance: only an ADMIN or OWNER of "
                "the instance's first workspace sees them.")
      .paged(50, 100)
      .ok(200, R"({"type":"array","items":{"type":"object","required":["id","user_id","email","name","role","created_at"],
        "properties":{"id":{"type":"string"},"user_id":{"type":"string"},"email":{"type":"string"},
          "name":{"type":["string","null"]},"role":{"$ref":"Role"},"created_at":{"$ref":"Timestamp"},
          "last_sign_in_at":{"$ref":"NullableTimestamp"},"cli_tokens":{"type":"integer"}}}})");
  d.add(M::kGet, "/api/v1/admin/workspaces", "The current workspace with its counts, as a list of one")
      .paged(50, 100)
      .ok(200, R"({"type":"array","items":{"type":"object",
        "required":["id","name","slug","created_at","updated_at","members","agents","crews"],
        "properties":{"id":{"type":"string"},"name":{"type":"string"},"slug":{"type":"string"},
          "created_at":{"$ref":"Timestamp"},"updated_at":{"$ref":"Timestamp"},"members":{"type":"integer"},
          "agents":{"type":"integer"},"crews":{"type":"integer"}}}})");
  d.add(M::kGet, "/api/v1/admin/keeper/requests", "Each credential opened for a run, newest first, never a value")
      .paged(50, 100)
      .ok(200, R"({"type":"array","items":{"type":"object",
        "required":["id","credential_id","agent_id","run_id","env_var_name","at"],
        "properties":{"id":{"type":"string"},"credential_id":{"type":"string"},"agent_id":{"type":"string"},
          "run_id":{"type":"string"},"env_var_name":{"type":"string"},"at":{"$ref":"Timestamp"}}}})");

  d.area("onboarding");
  d.schema("OnboardingStatus", R"({"type":"object","required":["completed","steps"],
    "properties":{"completed":{"type":"boolean"},"completed_at":{"$ref":"Timestamp"},
      "steps":{"type":"object","required":["workspace","crew","agent","credential"],
        "properties":{"workspace":{"type":"boolean"},"crew":{"type":"boolean"},"agent":{"type":"boolean"},
          "credential":{"type":"boolean"}}}}})");
  d.add(M::kGet, "/api/v1/onboarding/status", "Which first steps the workspace has done, from its data")
      .ok(200, "OnboardingStatus");
  d.add(M::kPost, "/api/v1/onboarding/complete", "Marks onboarding complete; the first time is kept")
      .ok(200, "OnboardingStatus");
  d.add(M::kPost, "/api/v1/onboarding/setup", "A crew and its LEAD agent in one transaction, idempotent on crew_slug")
      .describe("201 when made; 200 with the existing pair when a live crew of that slug has a LEAD; 409 when it has "
                "none. From a crew template when template_slug is given.")
      .takes(R"({"type":"object","required":["crew_name","crew_slug"],
        "properties":{"crew_name":{"type":"string","minLength":2,"maxLength":100},
          "crew_slug":{"type":"string","minLength":2,"maxLength":50},
          "template_slug":{"type":"string","minLength":2,"maxLength":50},
          "lead_name":{"type":"string","minLength":2,"maxLength":100}}})")
      .ok(201, R"({"type":"object","required":["crew","agent"],"properties":{"crew":{"$ref":"Crew"},"agent":{"$ref":"Agent"}}})")
      .ok(200, R"({"type":"object","required":["crew","agent"],"properties":{"crew":{"$ref":"Crew"},"agent":{"$ref":"Agent"}}})",
          "The pair made before")
      .fails({402, 404, 409});
}

}  // namespace crewship::api::docs
