// Onboarding end to end: the status derived from the data, completion
// (manage), and the guided setup making a crew and its LEAD in one
// transaction, idempotent on crew_slug, within the licence.
#include <string>
#include <thread>
#include <vector>

#include <criterion/criterion.h>

#include "tests/support/api.h"

using namespace crewship::test;

namespace {

std::string status_path(const Session& s) { return "/api/v1/onboarding/status?workspace_id=" + s.workspace_id; }
std::string complete_path(const Session& s) { return "/api/v1/onboarding/complete?workspace_id=" + s.workspace_id; }
std::string setup_path(const Session& s) { return "/api/v1/onboarding/setup?workspace_id=" + s.workspace_id; }

rapidjson::Document status_of(const TestDaemon& d, const Session& s) {
  Reply r = call(d, "GET", status_path(s), s.token);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  return json_of(r);
}

}  // namespace

TestSuite(onboarding, .timeout = 120);

Test(onboarding, status_follows_the_data) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  Session viewer = member(d, owner, "viewer@example.com", "VIEWER");
  std::string q = "?workspace_id=" + owner.workspace_id;
  auto doc = status_of(d, viewer);
  cr_assert_eq(doc["completed"].GetBool(), false);
  cr_assert_not(doc.HasMember("completed_at"), "omitted until completed");
  cr_assert(doc["steps"]["workspace"].GetBool());
  for (const char* step : {"crew", "agent", "credential"}) cr_assert_not(doc["steps"][step].GetBool(), "%s", step);
  cr_assert_eq(doc["steps"].MemberCount(), 4u);

  std::string crew = create_id(d, owner.token, "/api/v1/crews" + q, R"({"name":"Core","slug":"core"})");
  cr_assert(status_of(d, viewer)["steps"]["crew"].GetBool());
  std::string agent = create_id(d, owner.token, "/api/v1/agents" + q, R"({"name":"Dev","slug":"dev"})");
  cr_assert(status_of(d, viewer)["steps"]["agent"].GetBool());
  std::string cred = create_id(d, owner.token, "/api/v1/credentials" + q,
                               R"({"name":"Key","provider":"ANTHROPIC","type":"API_KEY","value":"sk-1"})");
  cr_assert(status_of(d, viewer)["steps"]["credential"].GetBool());
  // Deleted ones do not count.
  cr_assert_eq(call(d, "DELETE", "/api/v1/agents/" + agent + q, owner.token).status, 200);
  cr_assert_eq(call(d, "DELETE", "/api/v1/credentials/" + cred + q, owner.token).status, 204);
  doc = status_of(d, viewer);
  cr_assert_not(doc["steps"]["agent"].GetBool());
  cr_assert_not(doc["steps"]["credential"].GetBool());
  cr_assert(doc["steps"]["crew"].GetBool());
  (void)crew;

  cr_assert_eq(call(d, "GET", status_path(owner)).status, 401);
  expect_problem(call(d, "GET", "/api/v1/onboarding/status", owner.token), 400, "workspace_id");
  Session other = signup(d, "other@example.com");
  expect_problem(call(d, "GET", status_path(owner), other.token), 403, "member");
}

Test(onboarding, complete_needs_manage_and_keeps_the_first_time) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  for (const char* role : {"MANAGER", "MEMBER", "VIEWER"}) {
    Session s = member(d, owner, std::string(role) + "@example.com", role);
    expect_problem(call(d, "POST", complete_path(s), s.token), 403, "ADMIN");
  }
  cr_assert_not(status_of(d, owner)["completed"].GetBool(), "a refused completion changed nothing");
  Session admin = member(d, owner, "admin@example.com", "ADMIN");
  Reply r = call(d, "POST", complete_path(admin), admin.token);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  auto doc = json_of(r);
  cr_assert(doc["completed"].GetBool());
  std::string at = doc["completed_at"].GetString();
  cr_assert_eq(at.size(), 20u, "%s", at.c_str());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto again = json_of(call(d, "POST", complete_path(owner), owner.token));
  cr_assert_str_eq(again["completed_at"].GetString(), at.c_str());
  cr_assert_eq(audit_of(d, owner, "onboarding.complete").Size(), 2u);
  // Another workspace is not completed by it.
  Session other = signup(d, "other@example.com");
  std::string theirs = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  Session them{other.token, other.user_id, theirs};
  cr_assert_not(status_of(d, them)["completed"].GetBool());
  expect_problem(call(d, "POST", complete_path(owner), other.token), 403, "member");
}

Test(onboarding, setup_makes_a_crew_and_its_lead_once) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  Reply r = call(d, "POST", setup_path(owner), owner.token, R"({"crew_name":"Core Team","crew_slug":"core"})");
  cr_assert_eq(r.status, 201, "%s", r.body.c_str());
  auto doc = json_of(r);
  std::string crew = doc["crew"]["id"].GetString(), agent = doc["agent"]["id"].GetString();
  cr_assert_str_eq(doc["crew"]["slug"].GetString(), "core");
  cr_assert_str_eq(doc["crew"]["name"].GetString(), "Core Team");
  cr_assert_eq(doc["crew"]["_count"]["agents"].GetInt64(), 1);
  cr_assert_str_eq(doc["agent"]["agent_role"].GetString(), "LEAD");
  cr_assert_str_eq(doc["agent"]["crew_id"].GetString(), crew.c_str());
  cr_assert_str_eq(doc["agent"]["name"].GetString(), "Core Team Lead");
  cr_assert_str_eq(doc["agent"]["slug"].GetString(), "core-lead");
  cr_assert_str_eq(doc["agent"]["lead_mode"].GetString(), "active", "a LEAD as POST /agents makes one");
  cr_assert_str_eq(doc["agent"]["created_by_user_id"].GetString(), owner.user_id.c_str());
  cr_assert_eq(audit_of(d, owner, "crew.create").Size(), 1u);
  cr_assert_eq(audit_of(d, owner, "agent.create").Size(), 1u);

  // Again, even with other names: nothing new, the same pair, 200.
  Reply again = call(d, "POST", setup_path(owner), owner.token,
                     R"({"crew_name":"Renamed","crew_slug":"core","lead_name":"Someone"})");
  cr_assert_eq(again.status, 200, "%s", again.body.c_str());
  auto same = json_of(again);
  cr_assert_str_eq(same["crew"]["id"].GetString(), crew.c_str());
  cr_assert_str_eq(same["agent"]["id"].GetString(), agent.c_str());
  cr_assert_eq(list_of(d, "/api/v1/crews?workspace_id=" + owner.workspace_id, owner.token).Size(), 1u);
  cr_assert_eq(list_of(d, "/api/v1/agents?workspace_id=" + owner.workspace_id, owner.token).Size(), 1u);

  Reply named = call(d, "POST", setup_path(owner), owner.token,
                     R"({"crew_name":"Web","crew_slug":"web","lead_name":"Ada"})");
  cr_assert_eq(named.status, 201, "%s", named.body.c_str());
  cr_assert_str_eq(json_of(named)["agent"]["name"].GetString(), "Ada");
  auto status = status_of(d, owner);
  cr_assert(status["steps"]["crew"].GetBool() && status["steps"]["agent"].GetBool());

  // The LEAD's slug is taken: the LEAD gets one with a suffix instead of a
  // 409 no retry could get past.
  create_id(d, owner.token, "/api/v1/agents?workspace_id=" + owner.workspace_id,
            R"({"name":"Squatter","slug":"ops-lead"})");
  Reply taken = call(d, "POST", setup_path(owner), owner.token, R"({"crew_name":"Ops","crew_slug":"ops"})");
  cr_assert_eq(taken.status, 201, "%s", taken.body.c_str());
  std::string slug = json_of(taken)["agent"]["slug"].GetString();
  cr_assert(slug.rfind("ops-lead-", 0) == 0 && slug.size() == 15, "slug %s", slug.c_str());
  cr_assert_eq(list_of(d, "/api/v1/crews?workspace_id=" + owner.workspace_id, owner.token).Size(), 3u);

  // A crew name of 100 characters still makes a LEAD name within the 100 an
  // agent may have, cut at a character (each "é" is two bytes).
  std::string long_name;
  for (int i = 0; i < 100; ++i) long_name += "\u00e9";
  Reply longer = call(d, "POST", setup_path(owner), owner.token,
                      R"({"crew_name":")" + long_name + R"(","crew_slug":"long"})");
  cr_assert_eq(longer.status, 201, "%s", longer.body.c_str());
  std::string lead = json_of(longer)["agent"]["name"].GetString();
  std::string expect;
  for (int i = 0; i < 95; ++i) expect += "\xc3\xa9";
  cr_assert_str_eq(lead.c_str(), (expect + " Lead").c_str());
}

Test(onboarding, setup_from_a_template) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  Reply r = call(d, "POST", setup_path(owner), owner.token,
                 R"({"crew_name":"API","crew_slug":"api","template_slug":"backend-dev"})");
  cr_assert_eq(r.status, 201, "%s", r.body.c_str());
  auto agent = json_of(r)["agent"].GetObject();
  cr_assert_str_eq(agent["name"].GetString(), "Backend Developer", "the template's name without lead_name");
  cr_assert_str_eq(agent["role_title"].GetString(), "Backend Developer");
  cr_assert(std::string(agent["system_prompt"].GetString()).find("backend developer") != std::string::npos);
  cr_assert_str_eq(agent["cli_adapter"].GetString(), "CLAUDE_CODE");
  cr_assert(agent["llm_model"].IsString());
  cr_assert_str_eq(agent["agent_role"].GetString(), "LEAD");

  Reply named = call(d, "POST", setup_path(owner), owner.token,
                     R"({"crew_name":"QA","crew_slug":"qa","template_slug":"qa-engineer","lead_name":"Quinn"})");
  cr_assert_eq(named.status, 201, "%s", named.body.c_str());
  auto quinn = json_of(named)["agent"].GetObject();
  cr_assert_str_eq(quinn["name"].GetString(), "Quinn");
  cr_assert_str_eq(quinn["role_title"].GetString(), "QA Engineer");

  // An unknown template: 404, and neither crew nor agent.
  expect_problem(call(d, "POST", setup_path(owner), owner.token,
                      R"({"crew_name":"Xx","crew_slug":"xx","template_slug":"no-such-template"})"),
                 404, "template not found");
  cr_assert_eq(list_of(d, "/api/v1/crews?workspace_id=" + owner.workspace_id, owner.token).Size(), 2u);
  cr_assert_eq(list_of(d, "/api/v1/agents?workspace_id=" + owner.workspace_id, owner.token).Size(), 2u);
}

Test(onboarding, concurrent_setups_make_one_pair) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::vector<Reply> replies(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < replies.size(); ++i)
    threads.emplace_back([&, i] {
      replies[i] = call(d, "POST", setup_path(owner), owner.token, R"({"crew_name":"Core","crew_slug":"core"})");
    });
  for (auto& t : threads) t.join();
  int made = 0, found = 0;
  for (const Reply& r : replies) {
    if (r.status == 201) ++made;
    if (r.status == 200) ++found;
  }
  cr_assert_eq(made, 1);
  cr_assert_eq(found, 7);
  cr_assert_eq(list_of(d, "/api/v1/agents?workspace_id=" + owner.workspace_id, owner.token).Size(), 1u);
}

Test(onboarding, setup_refusals_change_nothing) {
  TestDaemon d(api_options({"CREWSHIP_LICENSE_MAX_AGENTS=1"}));
  Session owner = bootstrap(d);
  std::string q = "?workspace_id=" + owner.workspace_id;
  for (const char* bad : {"{}", R"({"crew_slug":"core"})", R"({"crew_name":"Core"})",
                          R"({"crew_name":"","crew_slug":"core"})", R"({"crew_name":"  ","crew_slug":"core"})",
                          R"({"crew_name":"Core","crew_slug":"Not A Slug"})",
                          R"({"crew_name":"Core","crew_slug":"core","lead_name":" "})",
                          R"({"crew_name":"Core","crew_slug":"core","template_slug":"-x"})",
                          R"({"crew_name":"Core","crew_slug":"core","extra":1})", R"({"crew_name":"C","crew_slug":"core"})",
                          R"({"crew_name":7,"crew_slug":"core"})", "[]", "not json"})
    cr_assert_eq(call(d, "POST", setup_path(owner), owner.token, bad).status, 400, "%s", bad);
  Session manager = member(d, owner, "manager@example.com", "MANAGER");
  expect_problem(call(d, "POST", setup_path(manager), manager.token, R"({"crew_name":"C","crew_slug":"core"})"),
                 403, "ADMIN");
  Session other = signup(d, "other@example.com");
  expect_problem(call(d, "POST", setup_path(owner), other.token, R"({"crew_name":"C","crew_slug":"core"})"), 403,
                 "member");

  // A crew of that slug made without a LEAD: 409, nothing added.
  create_id(d, owner.token, "/api/v1/crews" + q, R"({"name":"Plain","slug":"plain"})");
  expect_problem(call(d, "POST", setup_path(owner), owner.token, R"({"crew_name":"Plain","crew_slug":"plain"})"),
                 409, "LEAD");
  // The licence: room for one agent, taken; the crew is not made either.
  create_id(d, owner.token, "/api/v1/agents" + q, R"({"name":"Dev","slug":"dev"})");
  expect_problem(call(d, "POST", setup_path(owner), owner.token, R"({"crew_name":"Core","crew_slug":"core"})"), 402,
                 "at most 1 agents");
  cr_assert_eq(list_of(d, "/api/v1/crews" + q, owner.token).Size(), 1u);
}
