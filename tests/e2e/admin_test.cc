// The admin pages end to end: OWNER only (every other role 403), of the
// workspace workspace_id names; their shapes, paging, bad input, and no row
// of another workspace.
#include <string>

#include <criterion/criterion.h>

#include "tests/support/api.h"

using namespace crewship::test;

namespace {

const char* const kPages[] = {"/api/v1/admin/stats", "/api/v1/admin/users", "/api/v1/admin/workspaces",
                              "/api/v1/admin/keeper/requests"};

std::string in(const std::string& page, const Session& s) { return page + "?workspace_id=" + s.workspace_id; }

// A keeper row, as a run's start writes it.
void keeper_row(const TestDaemon& d, const std::string& id, const std::string& ws, const std::string& at) {
  sql(d, "INSERT INTO keeper_requests (id, workspace_id, credential_id, agent_id, run_id, env_var_name, at)"
         " VALUES ('" + id + "', '" + ws + "', 'cred-" + id + "', 'agent-" + id + "', 'run-" + id +
         "', 'API_KEY', '" + at + "')");
}

}  // namespace

TestSuite(admin, .timeout = 120);

Test(admin, owner_only) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  for (const char* page : kPages) {
    cr_assert_eq(call(d, "GET", in(page, owner)).status, 401, "%s", page);
    cr_assert_eq(call(d, "GET", in(page, owner), owner.token).status, 200, "%s", page);
    expect_problem(call(d, "GET", page, owner.token), 400, "workspace_id");
  }
  for (const char* role : {"ADMIN", "MANAGER", "MEMBER", "VIEWER"}) {
    std::string email = std::string(role) + "@example.com";
    Session s = member(d, owner, email, role);
    for (const char* page : kPages) expect_problem(call(d, "GET", in(page, s), s.token), 403, "OWNER");
  }
  // OWNER of a workspace of their own: not of this one.
  Session other = signup(d, "other@example.com");
  Reply made = call(d, "POST", "/api/v1/workspaces", other.token, R"({"name":"Other"})");
  cr_assert_eq(made.status, 201);
  for (const char* page : kPages) expect_problem(call(d, "GET", in(page, owner), other.token), 403, "member");
}

Test(admin, stats_and_workspaces_count_the_current_workspace) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string q = "?workspace_id=" + owner.workspace_id;
  std::string crew = create_id(d, owner.token, "/api/v1/crews" + q, R"({"name":"Core","slug":"core"})");
  std::string dev = create_id(d, owner.token, "/api/v1/agents" + q,
                              R"({"name":"Dev","slug":"dev","crew_id":")" + crew + R"("})");
  create_id(d, owner.token, "/api/v1/agents" + q, R"({"name":"Ops","slug":"ops"})");
  member(d, owner, "viewer@example.com", "VIEWER");
  sql(d, "UPDATE agents SET status = 'RUNNING' WHERE id = '" + dev + "'");
  // Another workspace's rows count only there.
  Session other = signup(d, "other@example.com");
  std::string theirs = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  create_id(d, other.token, "/api/v1/agents?workspace_id=" + theirs, R"({"name":"Them","slug":"them"})");

  Reply r = call(d, "GET", in("/api/v1/admin/stats", owner), owner.token);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  auto stats = json_of(r);
  cr_assert_eq(stats.MemberCount(), 4u, "%s", r.body.c_str());
  cr_assert_eq(stats["workspaces"].GetInt64(), 1);
  cr_assert_eq(stats["users"].GetInt64(), 2);
  cr_assert_eq(stats["agents"].GetInt64(), 2);
  cr_assert_eq(stats["running"].GetInt64(), 1);

  auto list = list_of(d, in("/api/v1/admin/workspaces", owner), owner.token);
  cr_assert_eq(list.Size(), 1u);
  cr_assert_str_eq(list[0]["id"].GetString(), owner.workspace_id.c_str());
  cr_assert(list[0]["name"].IsString() && list[0]["slug"].IsString());
  cr_assert_eq(list[0]["members"].GetInt64(), 2);
  cr_assert_eq(list[0]["agents"].GetInt64(), 2);
  cr_assert_eq(list[0]["crews"].GetInt64(), 1);
  cr_assert_eq(list_of(d, in("/api/v1/admin/workspaces", owner) + "&offset=1", owner.token).Size(), 0u);
  expect_problem(call(d, "GET", in("/api/v1/admin/workspaces", owner) + "&limit=0", owner.token), 400, "limit");
}

Test(admin, users_with_role_sign_in_and_tokens) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  Session dev = member(d, owner, "dev@example.com", "MANAGER");
  for (const char* name : {"laptop", "ci"})
    cr_assert_eq(call(d, "POST", "/api/v1/auth/cli-token", dev.token, R"({"name":")" + std::string(name) + R"("})").status,
                 201);
  // A user added without ever signing in.
  cr_assert_eq(call(d, "POST", "/api/v1/auth/signup", "", R"({"email":"quiet@example.com","password":"correct horse battery"})").status,
               201);
  sql(d, "DELETE FROM user_sessions WHERE user_id = (SELECT id FROM users WHERE email = 'quiet@example.com')");
  cr_assert_eq(call(d, "POST", "/api/v1/workspaces/" + owner.workspace_id + "/members", owner.token,
                    R"({"email":"quiet@example.com","role":"VIEWER"})").status,
               201);

  auto users = list_of(d, in("/api/v1/admin/users", owner), owner.token);
  cr_assert_eq(users.Size(), 3u);
  cr_assert(members_of(users, "email") ==
            std::vector<std::string>({"owner@example.com", "dev@example.com", "quiet@example.com"}));
  cr_assert(members_of(users, "role") == std::vector<std::string>({"OWNER", "MANAGER", "VIEWER"}));
  cr_assert_str_eq(users[1]["user_id"].GetString(), dev.user_id.c_str());
  cr_assert_eq(users[1]["cli_tokens"].GetInt64(), 2);
  cr_assert_eq(users[0]["cli_tokens"].GetInt64(), 0);
  cr_assert(users[1]["last_sign_in_at"].IsString());
  cr_assert(users[2]["last_sign_in_at"].IsNull(), "never signed in");
  for (const auto& u : users.GetArray()) {
    cr_assert(u["id"].IsString() && u["created_at"].IsString());
    cr_assert_not(u.HasMember("password_hash"));
  }
  // Paged, with limit clamped to 100.
  auto second = list_of(d, in("/api/v1/admin/users", owner) + "&limit=1&offset=1", owner.token);
  cr_assert(members_of(second, "email") == std::vector<std::string>({"dev@example.com"}));
  cr_assert_eq(list_of(d, in("/api/v1/admin/users", owner) + "&limit=1000", owner.token).Size(), 3u);
  expect_problem(call(d, "GET", in("/api/v1/admin/users", owner) + "&offset=-1", owner.token), 400, "offset");

  // The OWNER of a workspace of their own may list its members, but not
  // when a member of it last signed in anywhere, or their tokens.
  std::string theirs = create_id(d, dev.token, "/api/v1/workspaces", R"({"name":"Dev's"})");
  Session dev_owner{dev.token, dev.user_id, theirs};
  cr_assert_eq(call(d, "POST", "/api/v1/workspaces/" + theirs + "/members", dev.token,
                    R"({"email":"owner@example.com","role":"VIEWER"})").status,
               201);
  auto seen = list_of(d, in("/api/v1/admin/users", dev_owner), dev.token);
  cr_assert_eq(seen.Size(), 2u);
  for (const auto& u : seen.GetArray()) {
    cr_assert_not(u.HasMember("last_sign_in_at"), "instance-wide fields for a workspace's own OWNER");
    cr_assert_not(u.HasMember("cli_tokens"));
    cr_assert(u["role"].IsString());
  }
}

Test(admin, keeper_requests_newest_first_of_the_workspace_only) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  Session other = signup(d, "other@example.com");
  std::string theirs = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  keeper_row(d, "k1", owner.workspace_id, "2026-01-01T00:00:01.000000000Z");
  keeper_row(d, "k3", owner.workspace_id, "2026-01-01T00:00:03.000000000Z");
  keeper_row(d, "k2", owner.workspace_id, "2026-01-01T00:00:02.000000000Z");
  keeper_row(d, "x1", theirs, "2026-01-01T00:00:09.000000000Z");

  auto rows = list_of(d, in("/api/v1/admin/keeper/requests", owner), owner.token);
  cr_assert(members_of(rows, "id") == std::vector<std::string>({"k3", "k2", "k1"}));
  cr_assert_eq(rows[0].MemberCount(), 6u);
  cr_assert_str_eq(rows[0]["credential_id"].GetString(), "cred-k3");
  cr_assert_str_eq(rows[0]["agent_id"].GetString(), "agent-k3");
  cr_assert_str_eq(rows[0]["run_id"].GetString(), "run-k3");
  cr_assert_str_eq(rows[0]["env_var_name"].GetString(), "API_KEY");
  cr_assert_str_eq(rows[0]["at"].GetString(), "2026-01-01T00:00:03.000000000Z");
  cr_assert(members_of(list_of(d, in("/api/v1/admin/keeper/requests", owner) + "&limit=1&offset=1", owner.token),
                       "id") == std::vector<std::string>({"k2"}));
  Session them{other.token, other.user_id, theirs};
  cr_assert(members_of(list_of(d, in("/api/v1/admin/keeper/requests", them), other.token), "id") ==
            std::vector<std::string>({"x1"}));
  expect_problem(call(d, "GET", in("/api/v1/admin/keeper/requests", owner) + "&limit=x", owner.token), 400, "limit");
}
