// Crew templates end to end: the built-in ones every workspace lists, the
// workspace's own (create role, 409 for a taken slug, built-ins included),
// bad input, paging, and templates of other workspaces unknown here, to the
// list and to a hire.
#include <string>

#include <criterion/criterion.h>

#include "tests/support/api.h"

using namespace crewship::test;

namespace {

std::string templates(const std::string& ws) { return "/api/v1/crew-templates?workspace_id=" + ws; }

Reply create(const TestDaemon& d, const Session& s, const std::string& ws, const std::string& body) {
  return call(d, "POST", templates(ws), s.token, body);
}

const rapidjson::Value* find(const rapidjson::Value& list, const std::string& slug) {
  for (const auto& t : list.GetArray())
    if (slug == t["slug"].GetString()) return &t;
  return nullptr;
}

}  // namespace

TestSuite(crew_templates, .timeout = 60);

Test(crew_templates, built_ins_are_listed_to_every_member) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  Session viewer = member(d, owner, "viewer@example.com", "VIEWER");
  auto list = list_of(d, templates(owner.workspace_id), viewer.token);
  for (const char* slug : {"backend-dev", "frontend-dev", "reviewer", "qa-engineer"}) {
    const rapidjson::Value* t = find(list, slug);
    cr_assert(t != nullptr, "%s is built in", slug);
    cr_assert((*t)["built_in"].GetBool());
    cr_assert((*t)["name"].IsString() && (*t)["name"].GetStringLength() > 0);
    cr_assert((*t)["role_title"].IsString(), "%s role_title", slug);
    cr_assert((*t)["system_prompt"].IsString(), "%s system_prompt", slug);
    cr_assert((*t)["cli_adapter"].IsString());
    cr_assert((*t)["llm_model"].IsString(), "%s llm_model", slug);
    cr_assert_not(t->HasMember("workspace_id"), "a built-in belongs to no workspace");
  }
  cr_assert_eq(call(d, "GET", "/api/v1/crew-templates", owner.token).status, 400, "workspace_id is required");
  cr_assert_eq(call(d, "GET", templates(owner.workspace_id)).status, 401);
}

Test(crew_templates, create_with_role_gate_conflicts_and_bad_input) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  const std::string& ws = owner.workspace_id;
  Session manager = member(d, owner, "manager@example.com", "MANAGER");
  Session mem = member(d, owner, "member@example.com", "MEMBER");
  Session viewer = member(d, owner, "viewer@example.com", "VIEWER");
  std::string body = R"({"slug":"data-eng","name":"Data Engineer","role_title":"Senior Data Engineer",)"
                     R"("system_prompt":"You build pipelines.","cli_adapter":"CODEX_CLI","llm_model":"gpt-5"})";
  cr_assert_eq(create(d, mem, ws, body).status, 403);
  cr_assert_eq(create(d, viewer, ws, body).status, 403);
  Reply r = create(d, manager, ws, body);
  cr_assert_eq(r.status, 201, "%s", r.body.c_str());
  auto t = json_of(r);
  cr_assert_str_eq(t["slug"].GetString(), "data-eng");
  cr_assert_str_eq(t["name"].GetString(), "Data Engineer");
  cr_assert_str_eq(t["role_title"].GetString(), "Senior Data Engineer");
  cr_assert_str_eq(t["system_prompt"].GetString(), "You build pipelines.");
  cr_assert_str_eq(t["cli_adapter"].GetString(), "CODEX_CLI");
  cr_assert_str_eq(t["llm_model"].GetString(), "gpt-5");
  cr_assert_not(t["built_in"].GetBool());
  cr_assert(t["id"].IsString());
  cr_assert_str_eq(t["workspace_id"].GetString(), ws.c_str());
  cr_assert_str_eq(t["created_by_user_id"].GetString(), manager.user_id.c_str());
  cr_assert(t["created_at"].IsString());

  expect_problem(create(d, owner, ws, body), 409, "");
  expect_problem(create(d, owner, ws, R"({"slug":"reviewer","name":"My Reviewer"})"), 409, "");
  expect_problem(create(d, owner, ws, R"({"name":"No Slug"})"), 400, "slug");
  expect_problem(create(d, owner, ws, R"({"slug":"Bad Slug","name":"Bad"})"), 400, "slug");
  expect_problem(create(d, owner, ws, R"({"slug":"no-name"})"), 400, "name");
  expect_problem(create(d, owner, ws, R"({"slug":"blank","name":"   "})"), 400, "name");
  expect_problem(create(d, owner, ws, R"({"slug":"cli","name":"Cli","cli_adapter":"EMACS"})"), 400, "cli_adapter");
  expect_problem(create(d, owner, ws, R"({"slug":"big","name":"Big","llm_model":")" + std::string(200, 'm') + "\"}"), 400,
                 "llm_model");
  expect_problem(create(d, owner, ws, "[1]"), 400, "");

  // Defaults, and the list: built-ins first, then the workspace's, oldest first.
  Reply minimal = create(d, owner, ws, R"({"slug":"minimal","name":"Minimal"})");
  cr_assert_eq(minimal.status, 201, "%s", minimal.body.c_str());
  auto m = json_of(minimal);
  cr_assert_str_eq(m["cli_adapter"].GetString(), "CLAUDE_CODE");
  cr_assert(m["role_title"].IsNull() && m["system_prompt"].IsNull() && m["llm_model"].IsNull());
  auto list = list_of(d, templates(ws), viewer.token);
  auto slugs = members_of(list, "slug");
  cr_assert(slugs.size() >= 6);
  cr_assert_eq(slugs[slugs.size() - 2], "data-eng");
  cr_assert_eq(slugs.back(), "minimal");
  cr_assert(list[0]["built_in"].GetBool());
  cr_assert_eq(list_of(d, templates(ws) + "&limit=1", viewer.token).Size(), 1u);
  auto last = list_of(d, templates(ws) + "&limit=1&offset=" + std::to_string(slugs.size() - 1), viewer.token);
  cr_assert_str_eq(last[0]["slug"].GetString(), "minimal");
  cr_assert_eq(list_of(d, templates(ws) + "&offset=1000", viewer.token).Size(), 0u);
  cr_assert_eq(call(d, "GET", templates(ws) + "&limit=0", viewer.token).status, 400);
  cr_assert_eq(audit_of(d, owner, "crew_template.create").Size(), 2u);
}

// A workspace's templates are its own: another workspace neither lists nor
// hires from them, and may take the same slug.
Test(crew_templates, other_workspaces_are_apart) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  const std::string& ws = owner.workspace_id;
  cr_assert_eq(create(d, owner, ws, R"({"slug":"ours","name":"Ours","role_title":"Our Role"})").status, 201);
  Session other = signup(d, "other@example.com");
  std::string other_ws = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  cr_assert(find(list_of(d, templates(other_ws), other.token), "ours") == nullptr);
  cr_assert_eq(create(d, other, other_ws, R"({"slug":"ours","name":"Theirs"})").status, 201);
  cr_assert_eq(call(d, "GET", templates(other_ws), owner.token).status, 403, "not a member there");
  cr_assert_eq(create(d, owner, other_ws, R"({"slug":"x1","name":"X1"})").status, 403);

  // Hires build from a workspace template of their own workspace only.
  std::string their_crew = create_id(d, other.token, "/api/v1/crews?workspace_id=" + other_ws,
                                     R"({"name":"Theirs","slug":"theirs","autonomy_level":"full"})");
  sql(d, "DELETE FROM crew_templates WHERE workspace_id = '" + other_ws + "'");
  Reply foreign = call(d, "POST", "/api/v1/agents/hire?workspace_id=" + other_ws, other.token,
                       R"({"crew_id":")" + their_crew + R"(","template_slug":"ours","reason":"borrow"})");
  expect_problem(foreign, 404, "template not found");
  std::string crew = create_id(d, owner.token, "/api/v1/crews?workspace_id=" + ws,
                               R"({"name":"Core","slug":"core","autonomy_level":"full"})");
  Reply hired = call(d, "POST", "/api/v1/agents/hire?workspace_id=" + ws, owner.token,
                     R"({"crew_id":")" + crew + R"(","template_slug":"ours","reason":"our own"})");
  cr_assert_eq(hired.status, 201, "%s", hired.body.c_str());
  auto h = json_of(hired);
  cr_assert_str_eq(h["name"].GetString(), "Ours");
  cr_assert(std::string(h["slug"].GetString()).starts_with("ours-eph-"));
  Reply a = call(d, "GET", "/api/v1/agents/" + std::string(h["id"].GetString()) + "?workspace_id=" + ws, owner.token);
  cr_assert_str_eq(json_of(a)["role_title"].GetString(), "Our Role");
}
