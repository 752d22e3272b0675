// The audit log end to end: a row per mutation of agents, crews and members,
// written with the change (a refused change writes none), read newest first
// by ADMIN and up, filtered by action and paged, one workspace at a time.
#include <string>
#include <vector>

#include <criterion/criterion.h>

#include "tests/support/api.h"

using namespace crewship::test;

TestSuite(audit, .timeout = 120);

Test(audit, agent_crew_and_member_mutations) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  Session admin = member(d, owner, "admin@example.com", "ADMIN");
  std::string q = "?workspace_id=" + ws;

  std::string crew = create_id(d, owner.token, "/api/v1/crews" + q, R"({"name":"Core","slug":"core"})");
  cr_assert_eq(call(d, "PATCH", "/api/v1/crews/" + crew + q, owner.token, R"({"color":"red"})").status, 200);
  cr_assert_eq(call(d, "POST", "/api/v1/crews/" + crew + "/members" + q, owner.token,
                    R"({"user_id":")" + admin.user_id + R"(","role":"MEMBER"})").status, 201);
  cr_assert_eq(call(d, "DELETE", "/api/v1/crews/" + crew + "/members/" + admin.user_id + q, owner.token).status, 204);
  std::string agent = create_id(d, owner.token, "/api/v1/agents" + q, R"({"name":"Dev","slug":"dev"})");
  // Refused changes leave no row.
  cr_assert_eq(call(d, "POST", "/api/v1/agents" + q, owner.token, R"({"name":"Dup","slug":"dev"})").status, 409);
  cr_assert_eq(call(d, "DELETE", "/api/v1/crews/nope" + q, owner.token).status, 404);
  cr_assert_eq(call(d, "PATCH", "/api/v1/agents/" + agent + q, owner.token, R"({"role_title":"Lead dev"})").status, 200);
  cr_assert_eq(call(d, "DELETE", "/api/v1/agents/" + agent + q, owner.token).status, 200);
  cr_assert_eq(call(d, "DELETE", "/api/v1/crews/" + crew + q, owner.token).status, 204);
  signup(d, "late@example.com");
  Reply added = call(d, "POST", "/api/v1/workspaces/" + ws + "/members", owner.token,
                     R"({"email":"late@example.com","role":"VIEWER"})");
  cr_assert_eq(added.status, 201, "%s", added.body.c_str());
  std::string member_id = json_of(added)["id"].GetString();
  cr_assert_eq(call(d, "DELETE", "/api/v1/workspaces/" + ws + "/members/" + member_id, owner.token).status, 204);

  auto rows = audit_of(d, admin);
  std::vector<std::string> want = {"member.remove", "member.add", "crew.delete", "agent.delete", "agent.update",
                                   "agent.create", "crew.member_remove", "crew.member_add", "crew.update",
                                   "crew.create", "member.add"};  // the last: admin joining
  std::vector<std::string> got = members_of(rows, "action");
  cr_assert_eq(got.size(), want.size(), "%zu rows", got.size());
  for (size_t i = 0; i < want.size(); ++i)
    cr_assert_str_eq(got[i].c_str(), want[i].c_str(), "row %zu, newest first", i);
  cr_assert_str_eq(rows[3]["target_type"].GetString(), "agent");
  cr_assert_str_eq(rows[3]["target_id"].GetString(), agent.c_str());
  cr_assert_str_eq(rows[3]["actor_user_id"].GetString(), owner.user_id.c_str());
  cr_assert_str_eq(rows[9]["target_id"].GetString(), crew.c_str());
  cr_assert_str_eq(rows[9]["details"]["slug"].GetString(), "core");
  cr_assert_str_eq(rows[7]["details"]["user_id"].GetString(), admin.user_id.c_str());
  cr_assert_str_eq(rows[1]["details"]["role"].GetString(), "VIEWER");
  for (const auto& r : rows.GetArray()) {
    cr_assert(r.HasMember("id") && r.HasMember("created_at"));
    cr_assert_eq(r.MemberCount(), 7u, "{id, action, actor_user_id, target_type, target_id, details, created_at}");
  }
}

Test(audit, roles_filters_paging_and_tenancy) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  Session manager = member(d, owner, "manager@example.com", "MANAGER");
  for (const char* slug : {"a1", "a2", "a3"})
    create_id(d, owner.token, "/api/v1/agents?workspace_id=" + ws, std::string(R"({"name":"Agent","slug":")") + slug + "\"}");
  std::string base = "/api/v1/audit?workspace_id=" + ws;

  expect_problem(call(d, "GET", base, manager.token), 403, "ADMIN");
  expect_problem(call(d, "GET", "/api/v1/audit", owner.token), 400, "workspace_id");
  expect_problem(call(d, "GET", base + "&action=DROP%20TABLE", owner.token), 400, "action");
  expect_problem(call(d, "GET", base + "&limit=0", owner.token), 400, "limit");

  auto created = list_of(d, base + "&action=agent.create", owner.token);
  cr_assert_eq(created.Size(), 3u);
  auto page = list_of(d, base + "&action=agent.create&limit=1&offset=1", owner.token);
  cr_assert_eq(page.Size(), 1u);
  cr_assert_str_eq(page[0]["id"].GetString(), created[1]["id"].GetString());
  cr_assert_eq(list_of(d, base + "&action=crew.create", owner.token).Size(), 0u);

  Session other = signup(d, "other@example.com");
  std::string other_ws = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  cr_assert_eq(list_of(d, "/api/v1/audit?workspace_id=" + other_ws, other.token).Size(), 0u,
               "another workspace's rows are not shown");
  expect_problem(call(d, "GET", "/api/v1/audit?workspace_id=" + other_ws, owner.token), 403, "member");
}

// The audit row shares the change's transaction: when it cannot be written,
// the change is undone too and the request answers 500.
Test(audit, a_failed_audit_row_undoes_the_change) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  std::string q = "?workspace_id=" + ws;
  std::string crew = create_id(d, owner.token, "/api/v1/crews" + q, R"({"name":"Core","slug":"core"})");
  std::string agent = create_id(d, owner.token, "/api/v1/agents" + q,
                                R"({"name":"Dev","slug":"dev","crew_id":")" + crew + R"("})");
  std::string cred = create_id(d, owner.token, "/api/v1/credentials" + q,
                               R"({"name":"Key","provider":"OPENAI","type":"API_KEY","value":"sk-1234567890"})");
  std::string skill = create_id(d, owner.token, "/api/v1/skills" + q, R"({"name":"Go","slug":"go"})");
  sql(d, "ALTER TABLE audit_logs RENAME TO audit_logs_away;");

  auto refused = [&](const std::string& method, const std::string& path, const std::string& body) {
    Reply r = call(d, method, path, owner.token, body);
    cr_assert_eq(r.status, 500, "%s %s: %d %s", method.c_str(), path.c_str(), r.status, r.body.c_str());
  };
  refused("POST", "/api/v1/credentials" + q, R"({"name":"Two","provider":"OPENAI","type":"API_KEY","value":"sk-2"})");
  refused("DELETE", "/api/v1/credentials/" + cred + q, "");
  refused("POST", "/api/v1/agents/" + agent + "/credentials" + q,
          R"({"credential_id":")" + cred + R"(","env_var_name":"OPENAI_API_KEY"})");
  refused("POST", "/api/v1/skills" + q, R"({"name":"Rust","slug":"rust"})");
  refused("POST", "/api/v1/agents/" + agent + "/skills" + q, R"({"skill_id":")" + skill + R"("})");
  refused("POST", "/api/v1/agents/" + agent + "/chats" + q, "{}");
  refused("POST", "/api/v1/agents/" + agent + "/webhook-secret" + q, "");
  refused("POST", "/api/v1/agents" + q, R"({"name":"Ops","slug":"ops"})");
  refused("PATCH", "/api/v1/agents/" + agent + q, R"({"role_title":"Changed"})");
  refused("DELETE", "/api/v1/crews/" + crew + "/members/" + owner.user_id + q, "");

  sql(d, "ALTER TABLE audit_logs_away RENAME TO audit_logs;");
  cr_assert_eq(list_of(d, "/api/v1/credentials" + q, owner.token).Size(), 1u, "the credential is still there");
  cr_assert_eq(list_of(d, "/api/v1/skills" + q, owner.token).Size(), 1u);
  cr_assert_eq(list_of(d, "/api/v1/agents" + q, owner.token).Size(), 1u);
  auto a = json_of(call(d, "GET", "/api/v1/agents/" + agent + q, owner.token));
  cr_assert(a["role_title"].IsNull(), "the update was undone");
  cr_assert_eq(a["_count"]["credentials"].GetInt64(), 0);
  cr_assert_eq(a["_count"]["skills"].GetInt64(), 0);
  cr_assert_eq(a["_count"]["chats"].GetInt64(), 0);
  cr_assert_eq(list_of(d, "/api/v1/crews/" + crew + "/members" + q, owner.token).Size(), 1u);
  // No secret was set: the agent still has none.
  Reply t = call(d, "POST", "/api/v1/webhooks/" + crew + "/" + agent + "/trigger", "", "{}",
                 "X-Webhook-Secret: anything\r\n");
  cr_assert_eq(t.status, 401);
  cr_assert_eq(audit_of(d, owner).Size(), 4u, "the four changes before the failure");
}
