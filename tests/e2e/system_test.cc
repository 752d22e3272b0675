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

Test(system, runtime) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  auto doc = json_of(call(d, "GET", "/api/v1/system/runtime", owner.token));
  for (const char* k : {"version", "compiler", "libuv", "sqlite", "libsodium", "llhttp", "started_at"})
    cr_assert(doc[k].IsString() && doc[k].GetStringLength() > 0, "%s", k);
  cr_assert_eq(std::string(doc["sqlite"].GetString()).substr(0, 2), "3.");
}
