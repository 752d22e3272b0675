// A store that fails answers 500 "storage error", logged once with the
// request id: never the 404, 403 or 401 that the missing row would have
// meant. The test breaks tables of the running daemon's database.
#include <memory>
#include <string>

#include <criterion/criterion.h>

#include "store/db.h"
#include "tests/support/api.h"

using namespace crewship;
using namespace crewship::test;

namespace {

void exec_on(const TestDaemon& d, const std::string& sql) {
  std::unique_ptr<store::Connection> c;
  std::string error;
  cr_assert_eq(store::Connection::open(d.dir + "/crewship.db", store::Connection::Mode::kWrite, &c,
                                       &error),
               SQLITE_OK, "%s", error.c_str());
  cr_assert_eq(c->exec(sql.c_str(), &error), SQLITE_OK, "%s", error.c_str());
}

void drop_table(const TestDaemon& d, const std::string& table) {
  exec_on(d, "PRAGMA foreign_keys=OFF; DROP TABLE " + table + ";");
}

void expect_storage_error(const TestDaemon& d, const Reply& r, const char* what) {
  cr_assert_eq(r.status, 500, "%s: want 500, got %d: %s", what, r.status, r.body.c_str());
  cr_assert(r.body.find("storage error") != std::string::npos, "%s: %s", what, r.body.c_str());
  std::string id = r.header("X-Request-Id").value_or("");
  cr_assert(!id.empty());
  cr_assert(d.wait_log("[" + id + "] store error"), "%s: the cause is logged with the request id\n%s",
            what, d.log().c_str());
}

}  // namespace

TestSuite(store_faults, .timeout = 120);

Test(store_faults, broken_tables_answer_500) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  Reply crew = call(d, "POST", "/api/v1/crews?workspace_id=" + ws, owner.token,
                    R"({"name":"Core","slug":"core"})");
  cr_assert_eq(crew.status, 201, "%s", crew.body.c_str());
  std::string crew_id = json_of(crew)["id"].GetString();
  Reply agent = call(d, "POST", "/api/v1/agents?workspace_id=" + ws, owner.token,
                     R"({"name":"Dev","slug":"dev"})");
  cr_assert_eq(agent.status, 201, "%s", agent.body.c_str());
  std::string agent_id = json_of(agent)["id"].GetString();

  // Each table an answer reads, from the least to the most needed.
  drop_table(d, "agent_skills");
  expect_storage_error(d, call(d, "GET", "/api/v1/agents/" + agent_id + "?workspace_id=" + ws, owner.token),
                       "agent");
  drop_table(d, "crew_members");
  expect_storage_error(d, call(d, "GET", "/api/v1/crews/" + crew_id + "?workspace_id=" + ws, owner.token),
                       "crew");
  drop_table(d, "workspace_members");
  expect_storage_error(d, call(d, "GET", "/api/v1/crews?workspace_id=" + ws, owner.token),
                       "membership check");
  drop_table(d, "user_sessions");
  expect_storage_error(d, call(d, "GET", "/api/v1/workspaces", owner.token), "session check");
  expect_storage_error(d, call(d, "GET", "/api/auth/session", owner.token), "session endpoint");
}

// The last-use stamp of a CLI token is written behind the request; when that
// write fails the request still succeeds, and the failure is logged once with
// the request id rather than lost.
Test(store_faults, failed_cli_token_touch_is_logged) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  Reply made = call(d, "POST", "/api/v1/auth/cli-token", owner.token, R"({"name":"laptop"})");
  cr_assert_eq(made.status, 201, "%s", made.body.c_str());
  std::string token = json_of(made)["token"].GetString();
  exec_on(d, "CREATE TRIGGER no_touch BEFORE UPDATE ON cli_tokens BEGIN SELECT RAISE(ABORT, 'refused'); END;");

  Reply valid = call(d, "GET", "/api/v1/auth/cli-token/validate", token);
  cr_assert_eq(valid.status, 200, "%s", valid.body.c_str());
  std::string id = valid.header("X-Request-Id").value_or("");
  cr_assert(!id.empty());
  cr_assert(d.wait_log("[" + id + "] CLI token last use not recorded"), "%s", d.log().c_str());
}
