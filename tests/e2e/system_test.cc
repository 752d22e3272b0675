// Process health, runtime facts, the keeper's status and the auxiliary-model
// slots (the licence: license_test.cc).
#include <string>
#include <vector>

#include <criterion/criterion.h>

#include "tests/support/api.h"

using namespace crewship::test;

TestSuite(system, .timeout = 60);

Test(system, crewshipd_status) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  cr_assert_eq(call(d, "GET", "/api/v1/crewshipd").status, 401);
  Reply r = call(d, "GET", "/api/v1/crewshipd", owner.token);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  auto doc = json_of(r);
  cr_assert_str_eq(doc["status"].GetString(), "ok");
  cr_assert(doc["version"].IsString());
  cr_assert(doc["uptime_secs"].IsInt64());
  cr_assert(doc["started_at"].IsString());
  cr_assert_geq(doc["connections"].GetInt64(), 1);
  cr_assert_eq(doc["engine"]["reachable"].GetBool(), false, "the test daemon has no engine");
  cr_assert(doc["engine"]["name"].IsNull());
  cr_assert(doc["store"]["ok"].GetBool());
}

// Library versions and the pid are for who operates the instance (ADMIN or
// OWNER of its first workspace); others see the version and uptime.
Test(system, runtime) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  const char* detail_keys[] = {"compiler", "libuv", "sqlite", "libsodium", "llhttp"};
  auto doc = json_of(call(d, "GET", "/api/v1/system/runtime", owner.token));
  for (const char* k : {"version", "started_at"}) cr_assert(doc[k].IsString() && doc[k].GetStringLength() > 0, "%s", k);
  for (const char* k : detail_keys) cr_assert(doc[k].IsString() && doc[k].GetStringLength() > 0, "%s", k);
  cr_assert_eq(std::string(doc["sqlite"].GetString()).substr(0, 2), "3.");
  cr_assert_eq(doc["pid"].GetInt64(), d.pid);

  Session admin = member(d, owner, "admin@example.com", "ADMIN");
  cr_assert(json_of(call(d, "GET", "/api/v1/system/runtime", admin.token)).HasMember("pid"));
  Session plain = member(d, owner, "member@example.com", "MEMBER");
  // OWNER of a workspace of their own, which proves nothing about the instance.
  Session own = signup(d, "own@example.com");
  cr_assert_eq(call(d, "GET", "/api/v1/workspaces", own.token).status, 200);
  cr_assert_eq(call(d, "POST", "/api/v1/workspaces", own.token, R"({"name":"Mine"})").status, 201);
  for (const Session* s : {&plain, &own}) {
    Reply r = call(d, "GET", "/api/v1/system/runtime", s->token);
    cr_assert_eq(r.status, 200, "%s", r.body.c_str());
    auto basic = json_of(r);
    cr_assert(basic["version"].IsString());
    cr_assert(basic["uptime_secs"].IsInt64());
    cr_assert(basic["started_at"].IsString());
    cr_assert_not(basic.HasMember("pid"), "%s", r.body.c_str());
    for (const char* k : detail_keys) cr_assert_not(basic.HasMember(k), "%s: %s", k, r.body.c_str());
  }
  cr_assert_eq(call(d, "GET", "/api/v1/system/runtime").status, 401);
}

// The keeper's status, for who operates the instance: how values are kept,
// the instance's live credentials and assignments, the newest access.
Test(system, keeper) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string q = "?workspace_id=" + owner.workspace_id;
  Reply r = call(d, "GET", "/api/v1/system/keeper", owner.token);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  auto doc = json_of(r);
  cr_assert_eq(doc.MemberCount(), 5u, "%s", r.body.c_str());
  cr_assert(doc["sealed"].GetBool());
  cr_assert_str_eq(doc["key_source"].GetString(), "file", "no ENCRYPTION_KEY: the generated key file");
  cr_assert_eq(doc["credentials"].GetInt64(), 0);
  cr_assert_eq(doc["assignments"].GetInt64(), 0);
  cr_assert(doc["last_access_at"].IsNull());

  std::string agent = create_id(d, owner.token, "/api/v1/agents" + q, R"({"name":"Dev","slug":"dev"})");
  std::string body = R"({"name":"Key","provider":"ANTHROPIC","type":"API_KEY","value":"sk-keeper-secret-1"})";
  std::string cred = create_id(d, owner.token, "/api/v1/credentials" + q, body);
  create_id(d, owner.token, "/api/v1/credentials" + q,
            R"({"name":"Key2","provider":"OPENAI","type":"API_KEY","value":"sk-keeper-secret-2"})");
  create_id(d, owner.token, "/api/v1/agents/" + agent + "/credentials" + q,
            R"({"credential_id":")" + cred + R"(","env_var_name":"ANTHROPIC_API_KEY"})");
  sql(d, "INSERT INTO keeper_requests (id, workspace_id, credential_id, agent_id, run_id, env_var_name, at) VALUES"
         " ('k1', '" + owner.workspace_id + "', '" + cred + "', '" + agent + "', 'r1', 'ANTHROPIC_API_KEY',"
         " '2026-02-03T04:05:06.000000000Z')");
  r = call(d, "GET", "/api/v1/system/keeper", owner.token);
  doc = json_of(r);
  cr_assert_eq(doc["credentials"].GetInt64(), 2);
  cr_assert_eq(doc["assignments"].GetInt64(), 1);
  cr_assert_str_eq(doc["last_access_at"].GetString(), "2026-02-03T04:05:06.000000000Z");
  cr_assert(r.body.find("sk-keeper") == std::string::npos);
  // A deleted agent's assignment no longer counts.
  cr_assert_eq(call(d, "DELETE", "/api/v1/agents/" + agent + q, owner.token).status, 200);
  cr_assert_eq(json_of(call(d, "GET", "/api/v1/system/keeper", owner.token))["assignments"].GetInt64(), 0);

  Session admin = member(d, owner, "admin@example.com", "ADMIN");
  cr_assert_eq(call(d, "GET", "/api/v1/system/keeper", admin.token).status, 200);
  Session manager = member(d, owner, "manager@example.com", "MANAGER");
  expect_problem(call(d, "GET", "/api/v1/system/keeper", manager.token), 403, "ADMIN");
  Session own = signup(d, "own@example.com");
  cr_assert_eq(call(d, "POST", "/api/v1/workspaces", own.token, R"({"name":"Mine"})").status, 201);
  expect_problem(call(d, "GET", "/api/v1/system/keeper", own.token), 403, "first workspace");
  cr_assert_eq(call(d, "GET", "/api/v1/system/keeper").status, 401);
}

Test(system, keeper_key_from_the_environment) {
  TestDaemon d(api_options({"ENCRYPTION_KEY=an-encryption-key-for-this-test-0123456789"}));
  Session owner = bootstrap(d);
  cr_assert_str_eq(json_of(call(d, "GET", "/api/v1/system/keeper", owner.token))["key_source"].GetString(), "env");
}

// Every slot falls back unless its settings say otherwise.
Test(system, aux_status_fallbacks) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  cr_assert_eq(call(d, "GET", "/api/v1/system/aux-status").status, 401);
  Session viewer = member(d, owner, "viewer@example.com", "VIEWER");
  auto slots = list_of(d, "/api/v1/system/aux-status", viewer.token);
  cr_assert(members_of(slots, "slot") == std::vector<std::string>({"summarizer", "classifier", "embedder"}));
  cr_assert(members_of(slots, "source") == std::vector<std::string>({"fallback", "fallback", "fallback"}));
  cr_assert(members_of(slots, "provider") == std::vector<std::string>({"anthropic", "anthropic", "openai"}));
  cr_assert_str_eq(slots[0]["model"].GetString(), "claude-3-5-haiku-latest");
  cr_assert_str_eq(slots[2]["model"].GetString(), "text-embedding-3-small");
  cr_assert_eq(slots[0]["timeout_s"].GetInt64(), 30);
  cr_assert_eq(slots[1]["timeout_s"].GetInt64(), 10);
  for (const auto& s : slots.GetArray()) cr_assert_eq(s.MemberCount(), 5u);
}

Test(system, aux_status_explicit) {
  TestDaemon d(api_options({"CREWSHIP_AUX_SUMMARIZER_PROVIDER=ollama", "CREWSHIP_AUX_SUMMARIZER_MODEL=llama3.2",
                            "CREWSHIP_AUX_SUMMARIZER_TIMEOUT=90s", "CREWSHIP_AUX_CLASSIFIER_PROVIDER=openai",
                            "CREWSHIP_AUX_EMBEDDER_MODEL=text-embedding-3-large"}));
  Session owner = bootstrap(d);
  auto slots = list_of(d, "/api/v1/system/aux-status", owner.token);
  cr_assert(members_of(slots, "source") == std::vector<std::string>({"explicit", "explicit", "explicit"}));
  cr_assert_str_eq(slots[0]["provider"].GetString(), "ollama");
  cr_assert_str_eq(slots[0]["model"].GetString(), "llama3.2");
  cr_assert_eq(slots[0]["timeout_s"].GetInt64(), 90);
  // Another provider than the fallback's: its model is not borrowed.
  cr_assert_str_eq(slots[1]["provider"].GetString(), "openai");
  cr_assert(slots[1]["model"].IsNull());
  cr_assert_eq(slots[1]["timeout_s"].GetInt64(), 10, "the timeout falls back on its own");
  cr_assert_str_eq(slots[2]["provider"].GetString(), "openai");
  cr_assert_str_eq(slots[2]["model"].GetString(), "text-embedding-3-large");
}
