// The credentials vault end to end: create, list without values, soft
// delete, roles, bad input that changes nothing, the sealed value on disk,
// agents' credential assignments and a key that no longer opens them.
#include <string>

#include <sys/stat.h>

#include <criterion/criterion.h>

#include "tests/support/api.h"

using namespace crewship::test;

namespace {

constexpr const char* kValue = "sk-ant-api03-Zq8v1Lr0xWq7Tt5Yb2Nm6Pc4Kd9Hs3Jf";

std::string creds(const std::string& ws) { return "/api/v1/credentials?workspace_id=" + ws; }
std::string agent_path(const std::string& ws, const std::string& agent, const std::string& tail = "") {
  return "/api/v1/agents/" + agent + tail + "?workspace_id=" + ws;
}

std::string credential_body(const std::string& name, const std::string& value = kValue) {
  return R"({"name":")" + name + R"(","provider":"ANTHROPIC","type":"API_KEY","value":")" + value + R"("})";
}

int64_t count_of(const TestDaemon& d, const Session& s, const std::string& agent, const char* what) {
  Reply r = call(d, "GET", agent_path(s.workspace_id, agent), s.token);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  return json_of(r)["_count"][what].GetInt64();
}

}  // namespace

TestSuite(credentials, .timeout = 120);

Test(credentials, create_list_delete_without_values) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;

  Reply made = call(d, "POST", creds(ws), owner.token, credential_body("Anthropic key"));
  cr_assert_eq(made.status, 201, "%s", made.body.c_str());
  cr_assert(made.body.find(kValue) == std::string::npos, "the value is never answered: %s", made.body.c_str());
  auto c = json_of(made);
  std::string id = c["id"].GetString();
  cr_assert_str_eq(c["name"].GetString(), "Anthropic key");
  cr_assert_str_eq(c["provider"].GetString(), "ANTHROPIC");
  cr_assert_str_eq(c["type"].GetString(), "API_KEY");
  cr_assert_str_eq(c["hint"].GetString(), "s3Jf");
  cr_assert(!c.HasMember("value"));
  cr_assert(c.HasMember("created_at") && c.HasMember("updated_at"));
  cr_assert_eq(c.MemberCount(), 7u, "exactly {id, name, provider, type, hint, created_at, updated_at}");

  // A short value shows no more than half of itself.
  Reply short_one = call(d, "POST", creds(ws), owner.token, credential_body("Short", "abc"));
  cr_assert_eq(short_one.status, 201, "%s", short_one.body.c_str());
  cr_assert_str_eq(json_of(short_one)["hint"].GetString(), "c");

  Reply list = call(d, "GET", creds(ws), owner.token);
  cr_assert_eq(list.status, 200);
  cr_assert(list.body.find(kValue) == std::string::npos);
  auto all = json_of(list);
  cr_assert_eq(all.Size(), 2u);
  cr_assert_str_eq(all[0]["id"].GetString(), id.c_str());

  Reply gone = call(d, "DELETE", "/api/v1/credentials/" + id + "?workspace_id=" + ws, owner.token);
  cr_assert_eq(gone.status, 204, "%s", gone.body.c_str());
  cr_assert_eq(list_of(d, creds(ws), owner.token).Size(), 1u, "a deleted credential is gone from the list");
  expect_problem(call(d, "DELETE", "/api/v1/credentials/" + id + "?workspace_id=" + ws, owner.token), 404,
                 "credential not found");

  auto created = audit_of(d, owner, "credential.create");
  cr_assert_eq(created.Size(), 2u);
  cr_assert_str_eq(created[1]["target_id"].GetString(), id.c_str());
  cr_assert_str_eq(created[1]["actor_user_id"].GetString(), owner.user_id.c_str());
  cr_assert_str_eq(created[1]["details"]["provider"].GetString(), "ANTHROPIC");
  auto deleted = audit_of(d, owner, "credential.delete");
  cr_assert_eq(deleted.Size(), 1u);
  cr_assert_str_eq(deleted[0]["target_type"].GetString(), "credential");
  Reply audit = call(d, "GET", "/api/v1/audit?workspace_id=" + ws, owner.token);
  cr_assert(audit.body.find(kValue) == std::string::npos, "audit rows never hold the value");
  cr_assert(audit.body.find("abc") == std::string::npos, "audit rows never hold the value");
}

Test(credentials, roles_and_bad_input_change_nothing) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  Session manager = member(d, owner, "manager@example.com", "MANAGER");
  Session viewer = member(d, owner, "viewer@example.com", "VIEWER");

  expect_problem(call(d, "POST", creds(ws), manager.token, credential_body("Key")), 403, "ADMIN");
  expect_problem(call(d, "POST", creds(ws), viewer.token, credential_body("Key")), 403, "ADMIN");
  expect_problem(call(d, "POST", creds(ws), "", credential_body("Key")), 401, "authentication");
  expect_problem(call(d, "POST", creds(ws), owner.token,
                      R"({"name":"Key","provider":"AZURE","type":"API_KEY","value":"x1"})"),
                 400, "provider");
  expect_problem(call(d, "POST", creds(ws), owner.token,
                      R"({"name":"Key","provider":"OPENAI","type":"PASSWORD","value":"x1"})"),
                 400, "type");
  expect_problem(call(d, "POST", creds(ws), owner.token, credential_body("K")), 400, "name");
  expect_problem(call(d, "POST", creds(ws), owner.token, credential_body("Key", "")), 400, "value");
  expect_problem(call(d, "POST", creds(ws), owner.token, R"({"name":"Key","provider":"OPENAI","type":"SECRET"})"),
                 400, "value");
  expect_problem(call(d, "POST", creds(ws), owner.token, credential_body("Key", std::string(16385, 'v'))), 400,
                 "value");
  expect_problem(call(d, "POST", creds(ws), owner.token, "{not json"), 400, "JSON");
  cr_assert_eq(call(d, "POST", creds(ws), owner.token, credential_body("Max", std::string(16384, 'v'))).status, 201,
               "16 KiB is the limit, not beyond it");

  // Only the one good request left a trace.
  cr_assert_eq(list_of(d, creds(ws), viewer.token).Size(), 1u, "any member reads the list");
  cr_assert_eq(audit_of(d, owner, "credential.create").Size(), 1u);
  expect_problem(call(d, "GET", "/api/v1/audit?workspace_id=" + ws, manager.token), 403, "ADMIN");
}

Test(credentials, plaintext_is_in_no_file_of_the_data_dir) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  std::string agent = create_id(d, owner.token, "/api/v1/agents?workspace_id=" + ws, R"({"name":"Dev","slug":"dev"})");
  std::string id = create_id(d, owner.token, creds(ws), credential_body("Key"));
  create_id(d, owner.token, agent_path(ws, agent, "/credentials"),
            R"({"credential_id":")" + id + R"(","env_var_name":"ANTHROPIC_API_KEY"})");

  struct stat st;
  cr_assert_eq(stat((d.dir + "/vault-key").c_str(), &st), 0, "without ENCRYPTION_KEY a key file is made");
  cr_assert_eq(st.st_mode & 0777, 0600);
  // While running (the WAL holds the newest pages) and after a clean stop.
  auto holding = files_holding(d.dir, kValue);
  cr_assert(holding.empty(), "the value is in %s", holding.empty() ? "" : holding[0].c_str());
  cr_assert_eq(stat((d.dir + "/crewship.db-wal").c_str(), &st), 0, "the WAL is there and searched");
  cr_assert(d.log().find(kValue) == std::string::npos, "never logged");
  cr_assert_eq(d.stop(), 0);
  holding = files_holding(d.dir, kValue);
  cr_assert(holding.empty(), "the value is in %s", holding.empty() ? "" : holding[0].c_str());
}

Test(credentials, assignments) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  Session manager = member(d, owner, "manager@example.com", "MANAGER");
  std::string agent = create_id(d, owner.token, "/api/v1/agents?workspace_id=" + ws, R"({"name":"Dev","slug":"dev"})");
  std::string cred = create_id(d, owner.token, creds(ws), credential_body("Key"));
  std::string path = agent_path(ws, agent, "/credentials");
  auto assign = [&](const std::string& body, const std::string& token) { return call(d, "POST", path, token, body); };
  std::string good = R"({"credential_id":")" + cred + R"(","env_var_name":"ANTHROPIC_API_KEY","priority":5})";

  expect_problem(assign(good, manager.token), 403, "ADMIN");
  expect_problem(assign(R"({"env_var_name":"X"})", owner.token), 400, "credential_id");
  expect_problem(assign(R"({"credential_id":")" + cred + R"("})", owner.token), 400, "env_var_name");
  for (const char* bad : {"lower_case", "1STARTS_WITH_DIGIT", "HAS-DASH", "CREWSHIP_AGENT_ID", ""}) {
    expect_problem(assign(R"({"credential_id":")" + cred + R"(","env_var_name":")" + bad + R"("})", owner.token), 400,
                   "env_var_name");
  }
  expect_problem(assign(R"({"credential_id":")" + cred + R"(","env_var_name":")" + std::string(129, 'A') + R"("})",
                        owner.token),
                 400, "env_var_name");
  expect_problem(assign(R"({"credential_id":"nope","env_var_name":"X"})", owner.token), 404, "credential not found");
  expect_problem(call(d, "POST", agent_path(ws, "nope", "/credentials"), owner.token, good), 404, "agent not found");

  // Another workspace's credential is as unknown as a missing one.
  Session other = signup(d, "other@example.com");
  std::string other_ws = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  std::string foreign = create_id(d, other.token, creds(other_ws), credential_body("Theirs"));
  expect_problem(assign(R"({"credential_id":")" + foreign + R"(","env_var_name":"X"})", owner.token), 404,
                 "credential not found");
  cr_assert_eq(count_of(d, owner, agent, "credentials"), 0, "no failed request assigned anything");
  cr_assert_eq(audit_of(d, owner, "credential.assign").Size(), 0u);

  Reply made = assign(good, owner.token);
  cr_assert_eq(made.status, 201, "%s", made.body.c_str());
  auto m = json_of(made);
  cr_assert_eq(m.MemberCount(), 1u, "201 {id}");
  std::string assignment = m["id"].GetString();
  expect_problem(assign(good, owner.token), 409, "already assigned");
  cr_assert_eq(count_of(d, owner, agent, "credentials"), 1);

  auto list = list_of(d, path, manager.token);
  cr_assert_eq(list.Size(), 1u);
  cr_assert_str_eq(list[0]["id"].GetString(), assignment.c_str());
  cr_assert_str_eq(list[0]["credential_id"].GetString(), cred.c_str());
  cr_assert_str_eq(list[0]["env_var_name"].GetString(), "ANTHROPIC_API_KEY");
  cr_assert_eq(list[0]["priority"].GetInt64(), 5);
  cr_assert_str_eq(list[0]["credential"]["hint"].GetString(), "s3Jf");
  cr_assert(!list[0]["credential"].HasMember("value"));

  std::string one = "/api/v1/agents/" + agent + "/credentials/";
  expect_problem(call(d, "DELETE", one + assignment + "?workspace_id=" + ws, manager.token), 403, "ADMIN");
  expect_problem(call(d, "DELETE", one + "nope?workspace_id=" + ws, owner.token), 404, "assignment not found");
  Reply removed = call(d, "DELETE", one + assignment + "?workspace_id=" + ws, owner.token);
  cr_assert_eq(removed.status, 200, "%s", removed.body.c_str());
  cr_assert_eq(count_of(d, owner, agent, "credentials"), 0);
  expect_problem(call(d, "DELETE", one + assignment + "?workspace_id=" + ws, owner.token), 404, "assignment not found");

  // A deleted credential leaves its agents' counts and lists.
  cr_assert_eq(assign(good, owner.token).status, 201);
  cr_assert_eq(count_of(d, owner, agent, "credentials"), 1);
  cr_assert_eq(call(d, "DELETE", "/api/v1/credentials/" + cred + "?workspace_id=" + ws, owner.token).status, 204);
  cr_assert_eq(count_of(d, owner, agent, "credentials"), 0);
  cr_assert_eq(list_of(d, path, owner.token).Size(), 0u);

  auto assigned = audit_of(d, owner, "credential.assign");
  cr_assert_eq(assigned.Size(), 2u);
  cr_assert_str_eq(assigned[0]["target_id"].GetString(), agent.c_str());
  cr_assert_str_eq(assigned[0]["details"]["env_var_name"].GetString(), "ANTHROPIC_API_KEY");
  auto unassigned = audit_of(d, owner, "credential.unassign");
  cr_assert_eq(unassigned.Size(), 1u);
  cr_assert_str_eq(unassigned[0]["details"]["assignment_id"].GetString(), assignment.c_str());
}

Test(credentials, a_value_that_does_not_open_is_a_500_naming_it) {
  // The internal token would follow ENCRYPTION_KEY: fix it across both keys.
  static constexpr const char* kToken = "CREWSHIP_INTERNAL_TOKEN=fixed-internal-token-of-this-test-0123456789";
  std::string dir = make_temp_dir();
  std::string agent, cred;
  {
    DaemonOptions o = api_options({"ENCRYPTION_KEY=the-first-key-of-this-instance-0123456789", kToken});
    o.data_dir = dir;
    TestDaemon d(o);
    Session owner = bootstrap(d);
    std::string ws = owner.workspace_id;
    std::string crew = create_id(d, owner.token, "/api/v1/crews?workspace_id=" + ws, R"({"name":"Core","slug":"core"})");
    agent = create_id(d, owner.token, "/api/v1/agents?workspace_id=" + ws,
                      R"({"name":"Dev","slug":"dev","crew_id":")" + crew + R"("})");
    cred = create_id(d, owner.token, creds(ws), credential_body("Key"));
    create_id(d, owner.token, agent_path(ws, agent, "/credentials"),
              R"({"credential_id":")" + cred + R"(","env_var_name":"ANTHROPIC_API_KEY"})");
    cr_assert_eq(d.stop(), 0);
  }
  DaemonOptions o = api_options({"ENCRYPTION_KEY=another-key-altogether-9876543210-abcdef", kToken});
  o.data_dir = dir;
  TestDaemon d(o);
  Reply r = ipc_call(d, "POST", "/api/v1/internal/agents/" + agent + "/start", R"({"cmd":["sh","-c","true"]})",
                     std::string_view(kToken).substr(sizeof "CREWSHIP_INTERNAL_TOKEN=" - 1));
  expect_problem(r, 500, "credential " + cred + " could not be opened");
  cr_assert(d.wait_log("credential " + cred + " of agent " + agent), "the log names it:\n%s", d.log().c_str());
  cr_assert(d.log().find(kValue) == std::string::npos);
  // The daemon keeps serving.
  cr_assert_eq(call(d, "GET", "/api/health").status, 200);
  remove_tree(dir);
}

// Every id of another workspace answers like a missing one, on each new route.
Test(credentials, cross_tenant_ids_answer_404) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  Session other = signup(d, "other@example.com");
  std::string other_ws = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  std::string theirs = create_id(d, other.token, "/api/v1/agents?workspace_id=" + other_ws, R"({"name":"Them","slug":"them"})");
  std::string their_cred = create_id(d, other.token, creds(other_ws), credential_body("Theirs"));
  std::string mine = create_id(d, owner.token, "/api/v1/agents?workspace_id=" + ws, R"({"name":"Mine","slug":"mine"})");
  create_id(d, owner.token, creds(ws), credential_body("Mine"));

  expect_problem(call(d, "DELETE", "/api/v1/credentials/" + their_cred + "?workspace_id=" + ws, owner.token), 404,
                 "credential not found");
  for (const char* tail : {"/credentials", "/skills", "/chats"}) {
    expect_problem(call(d, "GET", agent_path(ws, theirs, tail), owner.token), 404, "agent not found");
  }
  expect_problem(call(d, "POST", agent_path(ws, theirs, "/chats"), owner.token, "{}"), 404, "agent not found");
  expect_problem(call(d, "POST", agent_path(ws, theirs, "/webhook-secret"), owner.token), 404, "agent not found");
  expect_problem(call(d, "POST", agent_path(ws, theirs, "/credentials"), owner.token,
                      R"({"credential_id":")" + their_cred + R"(","env_var_name":"X"})"),
                 404, "not found");
  expect_problem(call(d, "DELETE", "/api/v1/agents/" + theirs + "/skills/any?workspace_id=" + ws, owner.token), 404,
                 "agent not found");
  expect_problem(call(d, "GET", "/api/v1/runs?workspace_id=" + ws + "&agent_id=" + theirs, owner.token), 404,
                 "agent not found");
  // Their workspace, asked for by name, is not ours to read.
  expect_problem(call(d, "GET", creds(other_ws), owner.token), 403, "member");
  auto their_list = list_of(d, creds(other_ws), other.token);
  cr_assert_eq(their_list.Size(), 1u);
  cr_assert_str_eq(their_list[0]["id"].GetString(), their_cred.c_str(), "and ours is not in theirs");
  cr_assert_eq(list_of(d, agent_path(ws, mine, "/credentials"), owner.token).Size(), 0u);
}
