// Process health and runtime facts.
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
