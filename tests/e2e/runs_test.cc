// Workspace runs and webhook triggers end to end, without a container
// engine: the runs list and its filters over recorded runs, the webhook
// secret (shown once, kept as a keyed hash), every refusal of a trigger, the
// per-agent rate limit, and a trigger the engine cannot serve writing nothing.
#include <string>

#include <criterion/criterion.h>

#include "tests/support/api.h"

using namespace crewship::test;

namespace {

using World = TwoCrews;

std::string secret_of(const World& w, const std::string& agent) {
  Reply r = call(*w.d, "POST", "/api/v1/agents/" + agent + "/webhook-secret?workspace_id=" + w.ws, w.owner.token);
  cr_assert_eq(r.status, 201, "%s", r.body.c_str());
  auto doc = json_of(r);
  cr_assert_eq(doc.MemberCount(), 1u);
  return doc["secret"].GetString();
}

Reply trigger(const World& w, const std::string& crew, const std::string& agent, const std::string& secret,
              const std::string& body = R"({"event":"push"})") {
  std::string headers = secret.empty() ? "" : "X-Webhook-Secret: " + secret + "\r\n";
  return call(*w.d, "POST", "/api/v1/webhooks/" + crew + "/" + agent + "/trigger", "", body, headers);
}

}  // namespace

TestSuite(runs, .timeout = 120);

Test(runs, workspace_runs_list_and_filters) {
  TestDaemon d(api_options());
  World w = two_crews(d);
  Session viewer = member(d, w.owner, "viewer@example.com", "VIEWER");
  sql(d, "INSERT INTO agent_runs (id, agent_id, workspace_id, crew_id, cmd, status, started_at, source) VALUES"
         " ('r1','" + w.agent + "','" + w.ws + "','" + w.crew + "','[\"true\"]','SUCCEEDED','2026-01-01T00:00:01.000000000Z','ipc'),"
         " ('r2','" + w.other_agent + "','" + w.ws + "','" + w.other_crew + "','[\"false\"]','FAILED','2026-01-01T00:00:02.000000000Z','webhook'),"
         " ('r3','" + w.agent + "','" + w.ws + "','" + w.crew + "','[\"sleep\",\"9\"]','LOST','2026-01-01T00:00:03.000000000Z','webhook');");
  std::string base = "/api/v1/runs?workspace_id=" + w.ws;
  auto all = list_of(d, base, viewer.token);
  cr_assert_eq(all.Size(), 3u);
  auto ids = members_of(all, "id");
  cr_assert(ids == std::vector<std::string>({"r3", "r2", "r1"}), "newest first");
  cr_assert_str_eq(all[0]["source"].GetString(), "webhook");
  cr_assert_str_eq(all[2]["source"].GetString(), "ipc");
  cr_assert_str_eq(all[0]["agent_id"].GetString(), w.agent.c_str());
  cr_assert_str_eq(all[0]["status"].GetString(), "LOST");
  cr_assert(all[0]["cmd"].IsArray() && all[0]["cmd"].Size() == 2);
  // The same shape as an agent's runs, plus source.
  auto agent_runs = list_of(d, "/api/v1/agents/" + w.agent + "/runs?workspace_id=" + w.ws, viewer.token);
  for (const auto& m : agent_runs[0].GetObject()) cr_assert(all[0].HasMember(m.name), "%s", m.name.GetString());

  cr_assert(members_of(list_of(d, base + "&agent_id=" + w.agent, viewer.token), "id") ==
            std::vector<std::string>({"r3", "r1"}));
  cr_assert(members_of(list_of(d, base + "&status=FAILED", viewer.token), "id") == std::vector<std::string>({"r2"}));
  cr_assert_eq(list_of(d, base + "&agent_id=" + w.agent + "&status=FAILED", viewer.token).Size(), 0u);
  cr_assert(members_of(list_of(d, base + "&limit=1&offset=1", viewer.token), "id") == std::vector<std::string>({"r2"}));
  expect_problem(call(d, "GET", base + "&status=DONE", viewer.token), 400, "status");
  expect_problem(call(d, "GET", base + "&agent_id=nope", viewer.token), 404, "agent not found");
  expect_problem(call(d, "GET", "/api/v1/runs", viewer.token), 400, "workspace_id");
  Session other = signup(d, "other@example.com");
  std::string other_ws = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  cr_assert_eq(list_of(d, "/api/v1/runs?workspace_id=" + other_ws, other.token).Size(), 0u);
}

Test(runs, webhook_secret_and_refusals) {
  TestDaemon d(api_options());
  World w = two_crews(d);
  Session manager = member(d, w.owner, "manager@example.com", "MANAGER");
  expect_problem(call(d, "POST", "/api/v1/agents/" + w.agent + "/webhook-secret?workspace_id=" + w.ws, manager.token),
                 403, "ADMIN");
  expect_problem(call(d, "POST", "/api/v1/agents/nope/webhook-secret?workspace_id=" + w.ws, w.owner.token), 404,
                 "agent not found");

  // Before any secret, and with every wrong one: 401.
  expect_problem(trigger(w, w.crew, w.agent, "anything"), 401, "X-Webhook-Secret");
  std::string first = secret_of(w, w.agent);
  cr_assert_eq(first.size(), 64u, "32 random bytes as hex");
  cr_assert(first.find_first_not_of("0123456789abcdef") == std::string::npos);
  std::string secret = secret_of(w, w.agent);
  cr_assert_str_neq(secret.c_str(), first.c_str(), "rotated");
  cr_assert(files_holding(d.dir, secret).empty(), "the secret is kept only as a keyed hash");
  cr_assert(files_holding(d.dir, first).empty());

  expect_problem(trigger(w, w.crew, w.agent, ""), 401, "X-Webhook-Secret");
  expect_problem(trigger(w, w.crew, w.agent, first), 401, "X-Webhook-Secret");
  expect_problem(trigger(w, w.crew, w.agent, secret.substr(0, 63) + "0"), 401, "X-Webhook-Secret");
  expect_problem(trigger(w, w.crew, w.other_agent, secret), 401, "X-Webhook-Secret");
  expect_problem(trigger(w, w.crew, "nope", secret), 401, "X-Webhook-Secret");
  expect_problem(trigger(w, w.other_crew, w.agent, secret), 404, "not found in this crew");
  expect_problem(trigger(w, w.crew, w.agent, secret, "{not json"), 400, "JSON");
  expect_problem(trigger(w, w.crew, w.agent, secret, ""), 400, "JSON");
  Reply big = trigger(w, w.crew, w.agent, secret, "\"" + std::string(1 << 20, 'x') + "\"");
  cr_assert_eq(big.status, 413, "%d", big.status);

  // Past authentication any JSON is taken; without an engine the run cannot
  // start (502) and nothing is recorded.
  Reply array = trigger(w, w.crew, w.agent, secret, "[1,2,3]");
  cr_assert_eq(array.status, 502, "%d %s", array.status, array.body.c_str());
  cr_assert_eq(list_of(d, "/api/v1/runs?workspace_id=" + w.ws, w.owner.token).Size(), 0u);
  cr_assert_eq(audit_of(d, w.owner, "webhook.triggered").Size(), 0u);
  auto rotated = audit_of(d, w.owner, "webhook.secret_rotated");
  cr_assert_eq(rotated.Size(), 2u);
  cr_assert_str_eq(rotated[0]["target_id"].GetString(), w.agent.c_str());
  Reply audit = call(d, "GET", "/api/v1/audit?workspace_id=" + w.ws, w.owner.token);
  cr_assert(audit.body.find(secret) == std::string::npos && audit.body.find(first) == std::string::npos);
  cr_assert(d.log().find(secret) == std::string::npos, "never logged");
}

Test(runs, webhook_rate_limit_per_agent) {
  TestDaemon d(api_options({"CREWSHIP_WEBHOOK_RATE=3"}));
  World w = two_crews(d);
  std::string secret = secret_of(w, w.agent);
  std::string other = secret_of(w, w.other_agent);
  int limited = 0;
  for (int i = 0; i < 7; ++i) {
    Reply r = trigger(w, w.crew, w.agent, secret);
    if (r.status == 429) {
      ++limited;
      int after = std::stoi(r.header("Retry-After").value_or("0"));
      cr_assert(after >= 1 && after <= 60, "Retry-After %d", after);
      expect_problem(r, 429, "too many");
    } else {
      cr_assert_eq(r.status, 502, "%d %s", r.status, r.body.c_str());
    }
  }
  // 7 over a budget of 3: at least one is refused even when a minute
  // boundary splits them, 4 when none does.
  cr_assert(limited >= 1 && limited <= 4, "limited %d", limited);
  cr_assert_neq(trigger(w, w.other_crew, w.other_agent, other).status, 429, "another agent has its own budget");
  expect_problem(trigger(w, w.crew, w.agent, "wrong"), 401, "X-Webhook-Secret");
  cr_assert_eq(call(d, "GET", "/api/health").status, 200);
}
