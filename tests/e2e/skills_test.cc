// Skills end to end: the workspace catalog (create, 409 on a taken slug,
// list), agents' assignments as the seed has them (201 {id}, 200 with
// already_assigned, 404 for an unknown skill, 204 on removal), roles, the
// agent's _count and the audit rows, and bad input that changes nothing.
#include <string>

#include <criterion/criterion.h>

#include "tests/support/api.h"

using namespace crewship::test;

namespace {

std::string skills(const std::string& ws) { return "/api/v1/skills?workspace_id=" + ws; }
std::string agent_skills(const std::string& ws, const std::string& agent, const std::string& tail = "") {
  return "/api/v1/agents/" + agent + "/skills" + tail + "?workspace_id=" + ws;
}

}  // namespace

TestSuite(skills, .timeout = 120);

Test(skills, catalog) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  Session manager = member(d, owner, "manager@example.com", "MANAGER");
  Session viewer = member(d, owner, "viewer@example.com", "VIEWER");

  Reply made = call(d, "POST", skills(ws), manager.token,
                    R"({"name":"Go testing","slug":"go-testing","description":"Table tests","content":"# Go\nUse t.Run."})");
  cr_assert_eq(made.status, 201, "%s", made.body.c_str());
  auto k = json_of(made);
  std::string id = k["id"].GetString();
  cr_assert_str_eq(k["workspace_id"].GetString(), ws.c_str());
  cr_assert_str_eq(k["slug"].GetString(), "go-testing");
  cr_assert_str_eq(k["description"].GetString(), "Table tests");
  cr_assert_str_eq(k["content"].GetString(), "# Go\nUse t.Run.");
  cr_assert_str_eq(k["created_by_user_id"].GetString(), manager.user_id.c_str());

  expect_problem(call(d, "POST", skills(ws), owner.token, R"({"name":"Other","slug":"go-testing"})"), 409, "slug");
  expect_problem(call(d, "POST", skills(ws), viewer.token, R"({"name":"Mine","slug":"mine"})"), 403, "MANAGER");
  expect_problem(call(d, "POST", skills(ws), owner.token, R"({"name":"Bad","slug":"Bad Slug"})"), 400, "slug");
  expect_problem(call(d, "POST", skills(ws), owner.token, R"({"slug":"no-name"})"), 400, "name");
  expect_problem(call(d, "POST", skills(ws), owner.token, R"({"name":"x","slug":"short-name"})"), 400, "name");
  expect_problem(call(d, "POST", skills(ws), owner.token,
                      R"({"name":"Big","slug":"big","content":")" + std::string((256 << 10) + 1, 'c') + R"("})"),
                 400, "content");

  auto list = list_of(d, skills(ws), viewer.token);
  cr_assert_eq(list.Size(), 1u, "failed creates left nothing");
  cr_assert_str_eq(list[0]["id"].GetString(), id.c_str());
  cr_assert_eq(audit_of(d, owner, "skill.create").Size(), 1u);

  // Slugs are per workspace.
  Session other = signup(d, "other@example.com");
  std::string other_ws = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  cr_assert_eq(call(d, "POST", skills(other_ws), other.token, R"({"name":"Go","slug":"go-testing"})").status, 201);
  cr_assert_eq(list_of(d, skills(ws), owner.token).Size(), 1u);
}

Test(skills, agent_assignments) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  Session viewer = member(d, owner, "viewer@example.com", "VIEWER");
  std::string agent = create_id(d, owner.token, "/api/v1/agents?workspace_id=" + ws, R"({"name":"Dev","slug":"dev"})");
  std::string skill = create_id(d, owner.token, skills(ws), R"({"name":"Go testing","slug":"go-testing"})");
  std::string body = R"({"skill_id":")" + skill + R"(","config":"{\"depth\":2}"})";

  expect_problem(call(d, "POST", agent_skills(ws, agent), viewer.token, body), 403, "MANAGER");
  expect_problem(call(d, "POST", agent_skills(ws, agent), owner.token, R"({"skill_id":"nope"})"), 404, "skill not found");
  expect_problem(call(d, "POST", agent_skills(ws, agent), owner.token, R"({"config":"x"})"), 400, "skill_id");
  expect_problem(call(d, "POST", agent_skills(ws, agent), owner.token, R"({"skill_id":5})"), 400, "skill_id");
  expect_problem(call(d, "POST", agent_skills(ws, "nope"), owner.token, body), 404, "agent not found");
  Session other = signup(d, "other@example.com");
  std::string other_ws = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  std::string foreign = create_id(d, other.token, skills(other_ws), R"({"name":"Theirs","slug":"theirs"})");
  expect_problem(call(d, "POST", agent_skills(ws, agent), owner.token, R"({"skill_id":")" + foreign + R"("})"), 404,
                 "skill not found");
  cr_assert_eq(list_of(d, agent_skills(ws, agent), owner.token).Size(), 0u, "no failed request assigned anything");

  Reply first = call(d, "POST", agent_skills(ws, agent), owner.token, body);
  cr_assert_eq(first.status, 201, "%s", first.body.c_str());
  auto f = json_of(first);
  cr_assert_eq(f.MemberCount(), 1u);
  std::string id = f["id"].GetString();
  Reply again = call(d, "POST", agent_skills(ws, agent), owner.token, body);
  cr_assert_eq(again.status, 200, "%s", again.body.c_str());
  auto a = json_of(again);
  cr_assert_str_eq(a["id"].GetString(), id.c_str());
  cr_assert(a["already_assigned"].GetBool());

  auto list = list_of(d, agent_skills(ws, agent), viewer.token);
  cr_assert_eq(list.Size(), 1u);
  cr_assert_str_eq(list[0]["id"].GetString(), id.c_str());
  cr_assert_str_eq(list[0]["skill_id"].GetString(), skill.c_str());
  cr_assert_str_eq(list[0]["config"].GetString(), "{\"depth\":2}");
  cr_assert(list[0].HasMember("created_at"));
  cr_assert_str_eq(list[0]["skill"]["name"].GetString(), "Go testing");
  cr_assert_str_eq(list[0]["skill"]["slug"].GetString(), "go-testing");
  Reply got = call(d, "GET", "/api/v1/agents/" + agent + "?workspace_id=" + ws, owner.token);
  cr_assert_eq(json_of(got)["_count"]["skills"].GetInt64(), 1);

  expect_problem(call(d, "DELETE", agent_skills(ws, agent, "/" + skill), viewer.token), 403, "MANAGER");
  Reply removed = call(d, "DELETE", agent_skills(ws, agent, "/" + skill), owner.token);
  cr_assert_eq(removed.status, 204, "%s", removed.body.c_str());
  cr_assert(removed.body.empty());
  expect_problem(call(d, "DELETE", agent_skills(ws, agent, "/" + skill), owner.token), 404, "not assigned");
  cr_assert_eq(list_of(d, agent_skills(ws, agent), owner.token).Size(), 0u);
  got = call(d, "GET", "/api/v1/agents/" + agent + "?workspace_id=" + ws, owner.token);
  cr_assert_eq(json_of(got)["_count"]["skills"].GetInt64(), 0);

  auto assigned = audit_of(d, owner, "skill.assign");
  cr_assert_eq(assigned.Size(), 1u, "the repeated assign changed nothing and wrote no row");
  cr_assert_str_eq(assigned[0]["target_id"].GetString(), agent.c_str());
  cr_assert_str_eq(assigned[0]["details"]["skill_id"].GetString(), skill.c_str());
  cr_assert_eq(audit_of(d, owner, "skill.remove").Size(), 1u);
}
