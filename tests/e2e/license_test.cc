// Licence limits end to end: GET /api/v1/system/license, and a create past a
// CREWSHIP_LICENSE_MAX_* limit answering 402 on every path that makes an
// agent, crew, member or workspace, with concurrent creates never passing it
// (the count and the insert share one writer transaction).
#include <string>
#include <thread>
#include <vector>

#include <criterion/criterion.h>

#include "tests/support/api.h"

using namespace crewship::test;

namespace {

// Sends every request at once, one thread and connection each; the answers
// in order.
std::vector<Reply> concurrently(const TestDaemon& d, const std::string& token,
                                const std::vector<std::pair<std::string, std::string>>& posts) {
  std::vector<Reply> replies(posts.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < posts.size(); ++i)
    threads.emplace_back([&, i] { replies[i] = call(d, "POST", posts[i].first, token, posts[i].second); });
  for (auto& t : threads) t.join();
  return replies;
}

// n POSTs to path of {"name", "slug"} bodies: prefix0, prefix1, ...
std::vector<std::pair<std::string, std::string>> named_posts(const std::string& path, const std::string& prefix,
                                                             int n) {
  std::vector<std::pair<std::string, std::string>> posts;
  for (int i = 0; i < n; ++i) {
    std::string name = prefix + std::to_string(i);
    posts.emplace_back(path, R"({"name":")" + name + R"(","slug":")" + name + R"("})");
  }
  return posts;
}

// How many answers were 201, asserting that each other one is a 402
// problem naming the limit.
size_t created(const std::vector<Reply>& replies, const std::string& limit_text) {
  size_t made = 0;
  for (const Reply& r : replies) {
    if (r.status == 201) {
      ++made;
    } else {
      expect_problem(r, 402, limit_text);
    }
  }
  return made;
}

rapidjson::Document license(const TestDaemon& d, const Session& s) {
  Reply r = call(d, "GET", "/api/v1/system/license", s.token);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  return json_of(r);
}

}  // namespace

TestSuite(license, .timeout = 120);

Test(license, unlimited_by_default_usage_for_the_operator) {
  TestDaemon d(api_options());
  cr_assert_eq(call(d, "GET", "/api/v1/system/license").status, 401);
  Session owner = bootstrap(d);
  std::string q = "?workspace_id=" + owner.workspace_id;
  std::string crew = create_id(d, owner.token, "/api/v1/crews" + q, R"({"name":"Core","slug":"core"})");
  create_id(d, owner.token, "/api/v1/agents" + q, R"({"name":"Dev","slug":"dev","crew_id":")" + crew + R"("})");
  std::string gone = create_id(d, owner.token, "/api/v1/agents" + q, R"({"name":"Gone","slug":"gone"})");
  cr_assert_eq(call(d, "DELETE", "/api/v1/agents/" + gone + q, owner.token).status, 200);
  Session viewer = member(d, owner, "viewer@example.com", "VIEWER");

  auto doc = license(d, owner);
  cr_assert_str_eq(doc["edition"].GetString(), "community");
  for (const char* k : {"max_agents", "max_crews", "max_members", "max_workspaces"})
    cr_assert(doc["limits"][k].IsNull(), "%s", k);
  cr_assert_eq(doc["limits"].MemberCount(), 4u);
  cr_assert_eq(doc["usage"]["agents"].GetInt64(), 1, "a deleted agent is not counted");
  cr_assert_eq(doc["usage"]["crews"].GetInt64(), 1);
  cr_assert_eq(doc["usage"]["members"].GetInt64(), 2);
  cr_assert_eq(doc["usage"]["workspaces"].GetInt64(), 1);
  // The instance's usage is for who operates it; the limits for anyone.
  auto seen = license(d, viewer);
  cr_assert(seen["limits"]["max_agents"].IsNull());
  cr_assert_not(seen.HasMember("usage"));
}

Test(license, limits_from_the_environment) {
  TestDaemon d(api_options({"CREWSHIP_LICENSE_MAX_AGENTS=7", "CREWSHIP_LICENSE_MAX_CREWS=3",
                            "CREWSHIP_LICENSE_MAX_MEMBERS=12", "CREWSHIP_LICENSE_MAX_WORKSPACES=2"}));
  Session owner = bootstrap(d);
  auto doc = license(d, owner);
  cr_assert_eq(doc["limits"]["max_agents"].GetInt64(), 7);
  cr_assert_eq(doc["limits"]["max_crews"].GetInt64(), 3);
  cr_assert_eq(doc["limits"]["max_members"].GetInt64(), 12);
  cr_assert_eq(doc["limits"]["max_workspaces"].GetInt64(), 2);
}

// 20 creates at once against room for 5: exactly 5 are made.
Test(license, concurrent_agent_creates_stop_at_the_limit) {
  TestDaemon d(api_options({"CREWSHIP_LICENSE_MAX_AGENTS=5"}));
  Session owner = bootstrap(d);
  std::string q = "?workspace_id=" + owner.workspace_id;
  auto replies = concurrently(d, owner.token, named_posts("/api/v1/agents" + q, "a", 20));
  cr_assert_eq(created(replies, "at most 5 agents"), 5u);
  cr_assert_eq(list_of(d, "/api/v1/agents" + q, owner.token).Size(), 5u);
  cr_assert_eq(license(d, owner)["usage"]["agents"].GetInt64(), 5);
  // A refused create wrote nothing, its audit row included.
  cr_assert_eq(audit_of(d, owner, "agent.create").Size(), 5u);
  // Deleting one makes room for one.
  auto agents = list_of(d, "/api/v1/agents" + q, owner.token);
  cr_assert_eq(call(d, "DELETE", "/api/v1/agents/" + std::string(agents[0]["id"].GetString()) + q, owner.token).status,
               200);
  cr_assert_eq(call(d, "POST", "/api/v1/agents" + q, owner.token, R"({"name":"Late","slug":"late"})").status, 201);
  expect_problem(call(d, "POST", "/api/v1/agents" + q, owner.token, R"({"name":"More","slug":"more"})"), 402,
                 "license limit reached");
  // At the limit a taken slug is still a 409, not a 402.
  expect_problem(call(d, "POST", "/api/v1/agents" + q, owner.token, R"({"name":"Late again","slug":"late"})"), 409,
                 "slug");
}

Test(license, concurrent_crew_creates_stop_at_the_limit) {
  TestDaemon d(api_options({"CREWSHIP_LICENSE_MAX_CREWS=3"}));
  Session owner = bootstrap(d);
  std::string q = "?workspace_id=" + owner.workspace_id;
  cr_assert_eq(created(concurrently(d, owner.token, named_posts("/api/v1/crews" + q, "c", 12)), "at most 3 crews"),
               3u);
  cr_assert_eq(list_of(d, "/api/v1/crews" + q, owner.token).Size(), 3u);
  // A taken slug is still a 409, not a 402.
  auto crews = list_of(d, "/api/v1/crews" + q, owner.token);
  std::string body = R"({"name":"Again","slug":")" + std::string(crews[0]["slug"].GetString()) + R"("})";
  expect_problem(call(d, "POST", "/api/v1/crews" + q, owner.token, body), 409, "slug");
}

// Workspaces count over the instance; their creator takes a seat too.
Test(license, concurrent_workspace_creates_stop_at_the_limit) {
  TestDaemon d(api_options({"CREWSHIP_LICENSE_MAX_WORKSPACES=4"}));
  Session owner = bootstrap(d);
  Session other = signup(d, "other@example.com");
  cr_assert_eq(created(concurrently(d, owner.token, named_posts("/api/v1/workspaces", "ws", 10)),
                       "at most 4 workspaces"),
               3u);
  expect_problem(call(d, "POST", "/api/v1/workspaces", other.token, R"({"name":"Theirs"})"), 402, "workspaces");
  cr_assert_eq(list_of(d, "/api/v1/workspaces", other.token).Size(), 0u, "nothing was made for them");
  cr_assert_eq(license(d, owner)["usage"]["workspaces"].GetInt64(), 4);
}

// Members are seats: users with a membership anywhere. Adding a member,
// accepting an invitation and making a workspace each take one.
Test(license, every_member_path_takes_a_seat) {
  TestDaemon d(api_options({"CREWSHIP_LICENSE_MAX_MEMBERS=2"}));
  Session owner = bootstrap(d);
  std::string members = "/api/v1/workspaces/" + owner.workspace_id + "/members";
  Session first = signup(d, "first@example.com");
  Session second = signup(d, "second@example.com");
  Session third = signup(d, "third@example.com");
  cr_assert_eq(call(d, "POST", members, owner.token, R"({"email":"first@example.com","role":"MEMBER"})").status, 201);
  expect_problem(call(d, "POST", members, owner.token, R"({"email":"second@example.com","role":"MEMBER"})"), 402,
                 "at most 2 members");
  // An invitation is made, but its acceptance would take a third seat: it
  // stays pending.
  Reply inv = call(d, "POST", "/api/v1/workspaces/" + owner.workspace_id + "/invitations", owner.token,
                   R"({"email":"second@example.com","role":"VIEWER"})");
  cr_assert_eq(inv.status, 201, "%s", inv.body.c_str());
  std::string token = json_of(inv)["token"].GetString();
  expect_problem(call(d, "POST", "/api/v1/invitations/" + token + "/accept", second.token), 402, "members");
  auto pending = list_of(d, "/api/v1/workspaces/" + owner.workspace_id + "/invitations", owner.token);
  cr_assert_str_eq(pending[0]["status"].GetString(), "pending");
  // A user without a seat cannot make a workspace; one with a seat can.
  expect_problem(call(d, "POST", "/api/v1/workspaces", third.token, R"({"name":"Third"})"), 402, "members");
  Reply own = call(d, "POST", "/api/v1/workspaces", first.token, R"({"name":"First's"})");
  cr_assert_eq(own.status, 201, "the same user in a second workspace takes no new seat: %s", own.body.c_str());
  // With a seat freed, the invitation goes through.
  sql(d, "DELETE FROM workspace_members WHERE user_id = '" + first.user_id + "'");
  cr_assert_eq(call(d, "POST", "/api/v1/invitations/" + token + "/accept", second.token).status, 200);
  cr_assert_eq(license(d, owner)["usage"]["members"].GetInt64(), 2);
}

// Concurrent acceptances of different invitations: one seat left, one wins.
Test(license, concurrent_acceptances_stop_at_the_limit) {
  TestDaemon d(api_options({"CREWSHIP_LICENSE_MAX_MEMBERS=2"}));
  Session owner = bootstrap(d);
  std::vector<Session> users;
  std::vector<std::string> tokens;
  for (int i = 0; i < 6; ++i) {
    std::string email = "u" + std::to_string(i) + "@example.com";
    users.push_back(signup(d, email));
    Reply inv = call(d, "POST", "/api/v1/workspaces/" + owner.workspace_id + "/invitations", owner.token,
                     R"({"email":")" + email + R"(","role":"MEMBER"})");
    cr_assert_eq(inv.status, 201, "%s", inv.body.c_str());
    tokens.push_back(json_of(inv)["token"].GetString());
  }
  std::vector<Reply> replies(users.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < users.size(); ++i)
    threads.emplace_back([&, i] {
      replies[i] = call(d, "POST", "/api/v1/invitations/" + tokens[i] + "/accept", users[i].token);
    });
  for (auto& t : threads) t.join();
  size_t joined = 0;
  for (const Reply& r : replies) {
    if (r.status == 200) {
      ++joined;
    } else {
      expect_problem(r, 402, "members");
    }
  }
  cr_assert_eq(joined, 1u);
  cr_assert_eq(list_of(d, "/api/v1/workspaces/" + owner.workspace_id + "/members", owner.token).Size(), 2u);
}
