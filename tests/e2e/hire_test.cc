// Hire, rehire and approve-hire end to end: the autonomy policy table, the
// inputs (slug, TTL clamp, reason log, parent lead), every refusal leaving
// nothing behind, the quota held under concurrent hires, the approval race,
// a pending agent refused a run, the credentials a hire gets, the inbox
// summary, and ghosts made by the TTL sweep.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <criterion/criterion.h>

#include "tests/support/api.h"

using namespace crewship::test;

namespace {

struct World {
  TestDaemon* d;
  Session owner;
  std::string ws;
};

std::string q(const World& w) { return "?workspace_id=" + w.ws; }

std::string make_crew(const World& w, const std::string& slug, const std::string& autonomy, int max = 3) {
  return create_id(*w.d, w.owner.token, "/api/v1/crews" + q(w),
                   R"({"name":"Crew )" + slug + R"(","slug":")" + slug + R"(","autonomy_level":")" + autonomy +
                       R"(","max_ephemeral_agents":)" + std::to_string(max) + "}");
}

Reply hire(const World& w, const std::string& body, const std::string& token = "") {
  return call(*w.d, "POST", "/api/v1/agents/hire" + q(w), token.empty() ? w.owner.token : token, body);
}

std::string hire_body(const std::string& crew, const std::string& more = "") {
  return R"({"crew_id":")" + crew + R"(","template_slug":"backend-dev","reason":"Spike: the flaky deploy")" + more + "}";
}

Reply rehire(const World& w, const std::string& id, const std::string& body, const std::string& token = "") {
  return call(*w.d, "POST", "/api/v1/agents/" + id + "/rehire" + q(w), token.empty() ? w.owner.token : token, body);
}

Reply approve(const World& w, const std::string& id, const std::string& token = "") {
  return call(*w.d, "POST", "/api/v1/agents/" + id + "/approve-hire" + q(w), token.empty() ? w.owner.token : token);
}

rapidjson::Document agent(const World& w, const std::string& id) {
  Reply r = call(*w.d, "GET", "/api/v1/agents/" + id + q(w), w.owner.token);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  return json_of(r);
}

size_t agent_count(const World& w) { return list_of(*w.d, "/api/v1/agents" + q(w), w.owner.token).Size(); }

std::string count(const World& w, const std::string& table_where) {
  return sql_text(*w.d, "SELECT count(*) FROM " + table_where);
}

rapidjson::Document inbox(const World& w, const std::string& id) {
  Reply r = call(*w.d, "GET", "/api/v1/agents/" + id + "/inbox" + q(w), w.owner.token);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  return json_of(r);
}

// Seconds from now to an RFC 3339 (seconds) time.
long seconds_until(const std::string& rfc3339) {
  struct tm tm = {};
  cr_assert(strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) != nullptr, "%s", rfc3339.c_str());
  return static_cast<long>(timegm(&tm) - time(nullptr));
}

template <class One>
std::vector<int> race(int n, One one) {
  std::vector<int> statuses(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back([&, i] { statuses[i] = one(); });
  for (auto& t : threads) t.join();
  return statuses;
}

Reply ipc_start(const World& w, const std::string& id) {
  return ipc_call(*w.d, "POST", "/api/v1/internal/agents/" + id + "/start", R"({"cmd":["true"]})");
}

}  // namespace

TestSuite(hire, .timeout = 120);

Test(hire, the_policy_table) {
  TestDaemon d(api_options());
  World w{&d, bootstrap(d), {}};
  w.ws = w.owner.workspace_id;
  std::string strict = make_crew(w, "strict", "strict"), guided = make_crew(w, "guided", "guided"),
              trusted = make_crew(w, "trusted", "trusted"), full = make_crew(w, "full", "full");

  expect_problem(hire(w, hire_body(strict)), 403, "strict");
  cr_assert_eq(agent_count(w), 0u, "a rejected hire makes no agent");
  cr_assert_eq(count(w, "inbox_items"), "0");

  Reply g = hire(w, hire_body(guided, R"(,"ttl_minutes":60)"));
  cr_assert_eq(g.status, 202, "%s", g.body.c_str());
  auto gd = json_of(g);
  cr_assert_str_eq(gd["status"].GetString(), "PENDING_REVIEW");
  cr_assert(gd["pending_review"].GetBool());
  cr_assert_str_eq(gd["decision"].GetString(), "inbox_approve");
  cr_assert(gd["ephemeral"].GetBool());
  cr_assert_str_eq(gd["crew_id"].GetString(), guided.c_str());
  cr_assert_str_eq(gd["workspace_id"].GetString(), w.ws.c_str());
  cr_assert(std::regex_match(std::string(gd["slug"].GetString()), std::regex("backend-dev-eph-[0-9a-f]{6}")),
            "slug %s", gd["slug"].GetString());
  cr_assert(gd["expired_at"].IsNull());
  cr_assert(gd["parent_lead_id"].IsNull());
  long left = seconds_until(gd["expires_at"].GetString());
  cr_assert(left > 3590 && left <= 3600, "expires in %ld s", left);
  std::string reason = gd["hire_reason"].GetString();
  cr_assert(std::regex_match(reason, std::regex(R"(\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\] hire: Spike: the flaky deploy)")),
            "%s", reason.c_str());
  std::string g_id = gd["id"].GetString(), g_inbox = gd["inbox_item_id"].GetString();
  cr_assert_eq(sql_text(d, "SELECT kind || ',' || blocking || ',' || status || ',' || agent_id FROM inbox_items WHERE id = '" +
                               g_inbox + "'"),
               "hire_approval,1,open," + g_id);
  cr_assert_eq(inbox(w, g_id)["approvals_pending"].GetInt(), 1);

  Reply t = hire(w, hire_body(trusted));
  cr_assert_eq(t.status, 201, "%s", t.body.c_str());
  auto td = json_of(t);
  cr_assert_str_eq(td["status"].GetString(), "IDLE");
  cr_assert_not(td["pending_review"].GetBool());
  cr_assert_str_eq(td["decision"].GetString(), "auto_log_journal");
  std::string t_inbox = td["inbox_item_id"].GetString();
  cr_assert_eq(sql_text(d, "SELECT kind || ',' || blocking FROM inbox_items WHERE id = '" + t_inbox + "'"), "visibility,0");
  cr_assert_eq(inbox(w, td["id"].GetString())["approvals_pending"].GetInt(), 0, "visibility items do not block");
  long deflt = seconds_until(td["expires_at"].GetString());
  cr_assert(deflt > 1790 && deflt <= 1800, "no ttl_minutes: 30 minutes, got %ld s", deflt);

  Reply f = hire(w, hire_body(full));
  cr_assert_eq(f.status, 201, "%s", f.body.c_str());
  auto fd = json_of(f);
  cr_assert_str_eq(fd["decision"].GetString(), "auto_journal");
  cr_assert_not(fd.HasMember("inbox_item_id"), "full autonomy: no inbox row, the member omitted");
  std::string f_id = fd["id"].GetString();
  cr_assert_eq(count(w, "inbox_items WHERE agent_id = '" + f_id + "'"), "0");
  cr_assert_eq(count(w, "journal WHERE kind = 'agent.hired'"), "3");
  cr_assert_eq(count(w, "journal WHERE kind = 'agent.hired' AND agent_id = '" + f_id + "'"), "1");

  // The agent as every agent route shows it.
  auto a = agent(w, f_id);
  cr_assert(a["ephemeral"].GetBool());
  cr_assert_str_eq(a["expires_at"].GetString(), fd["expires_at"].GetString());
  cr_assert(a["expired_at"].IsNull());
  cr_assert_str_eq(a["hire_reason"].GetString(), fd["hire_reason"].GetString());
  cr_assert_str_eq(a["name"].GetString(), fd["name"].GetString());
  cr_assert(a["llm_model"].IsString(), "the template's model");
  cr_assert_str_eq(a["created_by_user_id"].GetString(), w.owner.user_id.c_str());
  auto audit = audit_of(d, w.owner, "agent.hire");
  cr_assert_eq(audit.Size(), 3u);

  // crews-status: the pending agent counts as idle; queued is 0.
  Reply cs = call(d, "GET", "/api/v1/agents/crews-status" + q(w), w.owner.token);
  auto st = json_of(cs);
  cr_assert_eq(st["total"].GetInt(), 3);
  cr_assert_eq(st["idle"].GetInt(), 3);
  cr_assert_eq(st["queued"].GetInt(), 0);
}

Test(hire, inputs_and_refusals_change_nothing) {
  TestDaemon d(api_options());
  World w{&d, bootstrap(d), {}};
  w.ws = w.owner.workspace_id;
  std::string crew = make_crew(w, "core", "full", 10);
  std::string lead = create_id(d, w.owner.token, "/api/v1/agents" + q(w),
                               R"({"name":"Lead","slug":"lead","agent_role":"LEAD","crew_id":")" + crew + "\"}");
  std::string worker = create_id(d, w.owner.token, "/api/v1/agents" + q(w),
                                 R"({"name":"Worker","slug":"worker","crew_id":")" + crew + "\"}");

  expect_problem(hire(w, R"({"template_slug":"backend-dev","reason":"r"})"), 400, "crew_id");
  expect_problem(hire(w, R"({"crew_id":")" + crew + R"(","crew_slug":"core","template_slug":"backend-dev","reason":"r"})"),
                 400, "exactly one");
  expect_problem(hire(w, R"({"crew_id":")" + crew + R"(","reason":"r"})"), 400, "template_slug");
  expect_problem(hire(w, R"({"crew_id":")" + crew + R"(","template_slug":"Bad Slug!","reason":"r"})"), 400, "template_slug");
  expect_problem(hire(w, R"({"crew_id":")" + crew + R"(","template_slug":"backend-dev"})"), 400, "reason");
  expect_problem(hire(w, R"({"crew_id":")" + crew + R"(","template_slug":"backend-dev","reason":"   "})"), 400, "reason");
  expect_problem(hire(w, hire_body(crew, R"(,"ttl_minutes":"soon")")), 400, "ttl_minutes");
  expect_problem(hire(w, "{not json"), 400, "");
  expect_problem(hire(w, hire_body("no-such-crew")), 404, "crew not found");
  expect_problem(hire(w, R"({"crew_slug":"nope","template_slug":"backend-dev","reason":"r"})"), 404, "crew not found");
  expect_problem(hire(w, R"({"crew_id":")" + crew + R"(","template_slug":"no-such-template","reason":"r"})"), 404,
                 "template not found");
  expect_problem(hire(w, hire_body(crew, R"(,"parent_lead_id":")" + worker + "\"")), 400, "parent_lead_id");
  expect_problem(hire(w, hire_body(crew, R"(,"parent_lead_id":"nobody")")), 400, "parent_lead_id");
  cr_assert_eq(agent_count(w), 2u, "no refused hire left an agent");
  cr_assert_eq(count(w, "journal WHERE kind LIKE 'agent.%' AND kind != 'agent.status_change'"), "0");
  cr_assert_eq(audit_of(d, w.owner, "agent.hire").Size(), 0u);

  // By slug, with a lead, a model override and the TTL clamp.
  Reply r = hire(w, R"({"crew_slug":"core","template_slug":"reviewer","reason":"  review the PR  ","model":"claude-opus-4",)"
                    R"("parent_lead_id":")" + lead + R"(","ttl_minutes":1})");
  cr_assert_eq(r.status, 201, "%s", r.body.c_str());
  auto doc = json_of(r);
  cr_assert_str_eq(doc["crew_id"].GetString(), crew.c_str());
  cr_assert_str_eq(doc["parent_lead_id"].GetString(), lead.c_str());
  cr_assert(std::string(doc["slug"].GetString()).starts_with("reviewer-eph-"));
  cr_assert(std::string(doc["hire_reason"].GetString()).ends_with("] hire: review the PR"), "the reason, trimmed");
  long one = seconds_until(doc["expires_at"].GetString());
  cr_assert(one > 50 && one <= 60, "1 minute: %ld s", one);
  cr_assert_str_eq(agent(w, doc["id"].GetString())["llm_model"].GetString(), "claude-opus-4");
  for (auto [ttl, want] : {std::pair{0, 1800L}, {-5, 1800L}, {5000, 86400L}, {1440, 86400L}}) {
    Reply c = hire(w, hire_body(crew, R"(,"ttl_minutes":)" + std::to_string(ttl)));
    cr_assert_eq(c.status, 201, "%s", c.body.c_str());
    long s = seconds_until(json_of(c)["expires_at"].GetString());
    cr_assert(s > want - 10 && s <= want, "ttl %d: %ld s, want %ld", ttl, s, want);
  }
  auto slugs = members_of(list_of(d, "/api/v1/agents" + q(w), w.owner.token), "slug");
  std::sort(slugs.begin(), slugs.end());
  cr_assert(std::adjacent_find(slugs.begin(), slugs.end()) == slugs.end(), "slugs are unique");
}

Test(hire, role_gates_and_other_workspaces) {
  TestDaemon d(api_options());
  World w{&d, bootstrap(d), {}};
  w.ws = w.owner.workspace_id;
  std::string guided = make_crew(w, "guided", "guided");
  std::string pending = json_of(hire(w, hire_body(guided)))["id"].GetString();
  Session manager = member(d, w.owner, "manager@example.com", "MANAGER");
  Session mem = member(d, w.owner, "member@example.com", "MEMBER");
  Session viewer = member(d, w.owner, "viewer@example.com", "VIEWER");
  for (const Session* s : {&mem, &viewer}) {
    cr_assert_eq(hire(w, hire_body(guided), s->token).status, 403);
    cr_assert_eq(rehire(w, pending, R"({"reason":"r"})", s->token).status, 403);
    cr_assert_eq(approve(w, pending, s->token).status, 403);
  }
  cr_assert_eq(agent_count(w), 1u);
  // Any member reads the inbox summary.
  cr_assert_eq(call(d, "GET", "/api/v1/agents/" + pending + "/inbox" + q(w), viewer.token).status, 200);
  cr_assert_eq(hire(w, hire_body(guided), manager.token).status, 202, "MANAGER may hire");
  cr_assert_eq(approve(w, pending, manager.token).status, 200, "MANAGER may approve");

  // Another workspace's crew, agents and inbox are unknown here.
  Session other = signup(d, "other@example.com");
  std::string other_ws = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  World o{&d, other, other_ws};
  std::string their_crew = make_crew(o, "theirs", "full");
  std::string theirs = json_of(hire(o, hire_body(their_crew)))["id"].GetString();
  expect_problem(hire(w, hire_body(their_crew)), 404, "crew not found");
  expect_problem(rehire(w, theirs, R"({"reason":"r"})"), 404, "agent not found");
  expect_problem(approve(w, theirs), 404, "agent not found");
  expect_problem(call(d, "GET", "/api/v1/agents/" + theirs + "/inbox" + q(w), w.owner.token), 404, "agent not found");
  // Their slug lives in their workspace only.
  expect_problem(hire(w, R"({"crew_slug":"theirs","template_slug":"backend-dev","reason":"r"})"), 404, "crew not found");
  // A workspace that is not the caller's: 403 before anything else.
  cr_assert_eq(call(d, "POST", "/api/v1/agents/hire?workspace_id=" + other_ws, w.owner.token, hire_body(their_crew)).status,
               403);
  cr_assert_eq(count(w, "agents WHERE workspace_id = '" + other_ws + "'"), "1");
}

// The quota check and the insert are one writer job: of 8 concurrent hires
// into a crew with room for 3, exactly 3 are made.
Test(hire, the_quota_holds_under_concurrent_hires) {
  TestDaemon d(api_options());
  World w{&d, bootstrap(d), {}};
  w.ws = w.owner.workspace_id;
  std::string crew = make_crew(w, "busy", "full", 3);
  auto statuses = race(8, [&] { return hire(w, hire_body(crew)).status; });
  cr_assert_eq(std::count(statuses.begin(), statuses.end(), 201), 3);
  cr_assert_eq(std::count(statuses.begin(), statuses.end(), 429), 5);
  cr_assert_eq(agent_count(w), 3u);
  expect_problem(hire(w, hire_body(crew)), 429, "quota");
  cr_assert_eq(audit_of(d, w.owner, "agent.hire").Size(), 3u);
  // A ghost no longer counts.
  sql(d, "UPDATE agents SET expired_at = '2026-01-01T00:00:00Z' WHERE id = (SELECT id FROM agents LIMIT 1)");
  cr_assert_eq(hire(w, hire_body(crew)).status, 201);
  // Permanent agents never count.
  create_id(d, w.owner.token, "/api/v1/agents" + q(w), R"({"name":"Perm","slug":"perm","crew_id":")" + crew + "\"}");
  expect_problem(hire(w, hire_body(crew)), 429, "max_ephemeral_agents");
}

// One conditional UPDATE: of 8 concurrent approvals exactly one wins.
Test(hire, approval_race_and_refusals) {
  TestDaemon d(api_options());
  World w{&d, bootstrap(d), {}};
  w.ws = w.owner.workspace_id;
  std::string guided = make_crew(w, "guided", "guided"), full = make_crew(w, "full", "full");
  auto h = json_of(hire(w, hire_body(guided)));
  std::string id = h["id"].GetString(), item = h["inbox_item_id"].GetString();
  auto statuses = race(8, [&] { return approve(w, id).status; });
  cr_assert_eq(std::count(statuses.begin(), statuses.end(), 200), 1);
  cr_assert_eq(std::count(statuses.begin(), statuses.end(), 409), 7);
  cr_assert_str_eq(agent(w, id)["status"].GetString(), "IDLE");
  cr_assert_eq(sql_text(d, "SELECT status || ',' || resolved_by FROM inbox_items WHERE id = '" + item + "'"),
               "resolved," + w.owner.user_id);
  cr_assert_eq(inbox(w, id)["approvals_pending"].GetInt(), 0);
  cr_assert_eq(audit_of(d, w.owner, "agent.hire_approved").Size(), 1u);

  Reply again = approve(w, id);
  expect_problem(again, 409, "not pending review");
  std::string live = json_of(hire(w, hire_body(full)))["id"].GetString();
  expect_problem(approve(w, live), 409, "not pending review");
  std::string perm = create_id(d, w.owner.token, "/api/v1/agents" + q(w), R"({"name":"Perm","slug":"perm"})");
  expect_problem(approve(w, perm), 409, "not pending review");
  expect_problem(approve(w, "no-such-agent"), 404, "agent not found");
  cr_assert_eq(audit_of(d, w.owner, "agent.hire_approved").Size(), 1u);

  // The answer's shape.
  auto h2 = json_of(hire(w, hire_body(guided)));
  Reply ok = approve(w, h2["id"].GetString());
  cr_assert_eq(ok.status, 200, "%s", ok.body.c_str());
  auto od = json_of(ok);
  cr_assert_str_eq(od["id"].GetString(), h2["id"].GetString());
  cr_assert_str_eq(od["status"].GetString(), "IDLE");
  cr_assert_str_eq(od["crew_id"].GetString(), guided.c_str());
}

// A pending hire runs nothing: the IPC start and a webhook answer 409, and a
// presence write does not release it.
Test(hire, a_pending_agent_cannot_start) {
  TestDaemon d(api_options());
  World w{&d, bootstrap(d), {}};
  w.ws = w.owner.workspace_id;
  std::string guided = make_crew(w, "guided", "guided");
  std::string id = json_of(hire(w, hire_body(guided)))["id"].GetString();
  expect_problem(ipc_start(w, id), 409, "pending review");
  Reply secret = call(d, "POST", "/api/v1/agents/" + id + "/webhook-secret" + q(w), w.owner.token);
  cr_assert_eq(secret.status, 201, "%s", secret.body.c_str());
  std::string headers = std::string("X-Webhook-Secret: ") + json_of(secret)["secret"].GetString() + "\r\n";
  expect_problem(call(d, "POST", "/api/v1/webhooks/" + guided + "/" + id + "/trigger", "", R"({"e":1})", headers), 409,
                 "pending review");
  Reply p = ipc_call(d, "POST", "/api/v1/internal/presence", R"({"agent_id":")" + id + R"(","status":"online"})");
  cr_assert_eq(p.status, 200, "%s", p.body.c_str());
  cr_assert_str_eq(agent(w, id)["status"].GetString(), "PENDING_REVIEW", "only an approval releases the gate");
  cr_assert_eq(count(w, "agent_runs"), "0");
  cr_assert_eq(approve(w, id).status, 200);
  Reply after = ipc_start(w, id);
  cr_assert_neq(after.status, 409, "approved: the gate is open (%s)", after.body.c_str());
}

Test(hire, rehire_extends_and_revives_within_the_quota) {
  TestDaemon d(api_options());
  World w{&d, bootstrap(d), {}};
  w.ws = w.owner.workspace_id;
  std::string crew = make_crew(w, "solo", "trusted", 1);
  auto a = json_of(hire(w, hire_body(crew, R"(,"ttl_minutes":10)")));
  std::string id = a["id"].GetString();

  // Live: the TTL moves, for free (the quota of 1 is this agent).
  Reply r = rehire(w, id, R"({"ttl_minutes":90,"reason":"another pass"})");
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  auto rd = json_of(r);
  long left = seconds_until(rd["expires_at"].GetString());
  cr_assert(left > 5390 && left <= 5400, "%ld", left);
  cr_assert_str_eq(rd["status"].GetString(), "IDLE");
  cr_assert_not(rd.HasMember("inbox_item_id"));
  cr_assert_str_eq(rd["decision"].GetString(), "auto_log_journal");
  std::string log = rd["hire_reason"].GetString();
  cr_assert(std::regex_match(log, std::regex(R"(\[[^\]]+\] hire: Spike: the flaky deploy\n\[[^\]]+\] rehire: another pass)")),
            "%s", log.c_str());

  // A ghost needs a slot: another hire holds it.
  sql(d, "UPDATE agents SET expired_at = '2026-01-01T00:00:00Z', expires_at = '2026-01-01T00:00:00Z' WHERE id = '" + id + "'");
  std::string other = json_of(hire(w, hire_body(crew)))["id"].GetString();
  std::string before = agent(w, id)["hire_reason"].GetString();
  expect_problem(rehire(w, id, R"({"reason":"back"})"), 429, "quota");
  cr_assert_str_eq(agent(w, id)["hire_reason"].GetString(), before.c_str(), "a refused rehire changes nothing");
  cr_assert(agent(w, id)["expired_at"].IsString());
  sql(d, "UPDATE agents SET expired_at = '2026-01-01T00:00:00Z' WHERE id = '" + other + "'");
  Reply back = rehire(w, id, R"({"reason":"back","ttl_minutes":0})");
  cr_assert_eq(back.status, 200, "%s", back.body.c_str());
  auto bd = json_of(back);
  cr_assert(bd["expired_at"].IsNull(), "the ghost lives again");
  long thirty = seconds_until(bd["expires_at"].GetString());
  cr_assert(thirty > 1790 && thirty <= 1800, "%ld", thirty);
  cr_assert(std::string(bd["hire_reason"].GetString()).ends_with("] rehire: back"));
  cr_assert_eq(audit_of(d, w.owner, "agent.rehire").Size(), 2u);
  cr_assert_eq(count(w, "journal WHERE kind = 'agent.rehired'"), "2");

  // Refusals.
  std::string perm = create_id(d, w.owner.token, "/api/v1/agents" + q(w), R"({"name":"Perm","slug":"perm"})");
  expect_problem(rehire(w, perm, R"({"reason":"r"})"), 404, "not ephemeral");
  expect_problem(rehire(w, "no-such-agent", R"({"reason":"r"})"), 404, "agent not found");
  expect_problem(rehire(w, id, R"({"ttl_minutes":5})"), 400, "reason");
  expect_problem(rehire(w, id, "nope"), 400, "");
  cr_assert_eq(call(d, "PATCH", "/api/v1/crews/" + crew + q(w), w.owner.token, R"({"autonomy_level":"strict"})").status, 200);
  expect_problem(rehire(w, id, R"({"reason":"r"})"), 403, "strict");
  cr_assert_eq(audit_of(d, w.owner, "agent.rehire").Size(), 2u);
}

Test(hire, credentials_are_assigned_after_the_hire) {
  TestDaemon d(api_options());
  World w{&d, bootstrap(d), {}};
  w.ws = w.owner.workspace_id;
  std::string crew = make_crew(w, "core", "full", 10);
  std::string bare = json_of(hire(w, hire_body(crew)))["id"].GetString();
  cr_assert_eq(count(w, "journal WHERE kind = 'credential.auto_assign_empty' AND agent_id = '" + bare + "'"), "1");
  cr_assert_eq(list_of(d, "/api/v1/agents/" + bare + "/credentials" + q(w), w.owner.token).Size(), 0u);

  auto cred = [&](const std::string& name, const std::string& provider, const std::string& type) {
    return create_id(d, w.owner.token, "/api/v1/credentials" + q(w),
                     R"({"name":")" + name + R"(","provider":")" + provider + R"(","type":")" + type +
                         R"(","value":"sk-secret-value-)" + name + "\"}");
  };
  std::string first_key = cred("key-one", "ANTHROPIC", "API_KEY");
  cred("key-two", "ANTHROPIC", "API_KEY");
  cred("openai", "OPENAI", "API_KEY");
  std::string token = cred("cli", "ANTHROPIC", "AI_CLI_TOKEN");
  std::string id = json_of(hire(w, hire_body(crew)))["id"].GetString();
  auto assigned = list_of(d, "/api/v1/agents/" + id + "/credentials" + q(w), w.owner.token);
  cr_assert_eq(assigned.Size(), 2u);
  cr_assert_str_eq(assigned[0]["credential_id"].GetString(), first_key.c_str(), "the first created wins");
  cr_assert_str_eq(assigned[0]["env_var_name"].GetString(), "ANTHROPIC_API_KEY");
  cr_assert_str_eq(assigned[1]["credential_id"].GetString(), token.c_str());
  cr_assert_str_eq(assigned[1]["env_var_name"].GetString(), "CLAUDE_CODE_OAUTH_TOKEN");
  cr_assert_eq(audit_of(d, w.owner, "credential.assign").Size(), 2u);

  // An assignment that fails is journaled; the hire stands.
  sql(d, "CREATE TRIGGER no_assign BEFORE INSERT ON agent_credentials BEGIN SELECT RAISE(ABORT, 'refused'); END;");
  Reply r = hire(w, hire_body(crew));
  cr_assert_eq(r.status, 201, "%s", r.body.c_str());
  std::string failed = json_of(r)["id"].GetString();
  cr_assert_eq(count(w, "journal WHERE kind = 'credential.auto_assign_failed' AND agent_id = '" + failed + "'"), "1");
  cr_assert_eq(agent(w, failed)["_count"]["credentials"].GetInt(), 0);
  cr_assert_eq(audit_of(d, w.owner, "credential.assign").Size(), 2u);
}

Test(hire, the_inbox_summary_shape) {
  TestDaemon d(api_options());
  World w{&d, bootstrap(d), {}};
  w.ws = w.owner.workspace_id;
  std::string perm = create_id(d, w.owner.token, "/api/v1/agents" + q(w), R"({"name":"Perm","slug":"perm"})");
  sql(d, "INSERT INTO assignments (id, workspace_id, agent_id, status, created_at) VALUES"
         " ('a1','" + w.ws + "','" + perm + "','QUEUED','2026-01-01T00:00:00Z'),"
         " ('a2','" + w.ws + "','" + perm + "','RUNNING','2026-01-01T00:00:00Z'),"
         " ('a3','" + w.ws + "','" + perm + "','DONE','2026-01-01T00:00:00Z')");
  auto doc = inbox(w, perm);
  cr_assert_eq(doc.MemberCount(), 7u);
  cr_assert_eq(doc["approvals_pending"].GetInt(), 0);
  cr_assert_eq(doc["assignments_open"].GetInt(), 2);
  cr_assert_eq(doc["escalations_open"].GetInt(), 0);
  cr_assert(doc["peer_messages"].IsArray() && doc["peer_messages"].Empty());
  cr_assert(doc["cost_usd_this_month"].IsNumber() && doc["cost_usd_this_month"].GetDouble() == 0.0);
  cr_assert_eq(doc["llm_calls_this_month"].GetInt(), 0);
  cr_assert_eq(doc["tokens_used_this_month"].GetInt64(), 0);
  expect_problem(call(d, "GET", "/api/v1/agents/nope/inbox" + q(w), w.owner.token), 404, "agent not found");
  // A permanent agent carries the hire fields too, empty.
  auto a = agent(w, perm);
  cr_assert_not(a["ephemeral"].GetBool());
  for (const char* k : {"expires_at", "expired_at", "parent_lead_id", "hire_reason"})
    cr_assert(a.HasMember(k) && a[k].IsNull(), "%s", k);
}

// A real 1-minute TTL and a 200 ms sweep: the agent becomes a ghost within a
// sweep of its deadline; its RUNNING run is stopped, presence goes offline
// {"reason":"expired"}, the journal says so, it no longer counts against the
// quota and may not run.
Test(hire, the_sweep_makes_ghosts, .timeout = 150) {
  TestDaemon d(api_options({"CREWSHIP_EPHEMERAL_SWEEP_INTERVAL=200ms"}));
  World w{&d, bootstrap(d), {}};
  w.ws = w.owner.workspace_id;
  std::string crew = make_crew(w, "short", "full", 1);
  auto h = json_of(hire(w, hire_body(crew, R"(,"ttl_minutes":1)")));
  std::string id = h["id"].GetString(), expires_at = h["expires_at"].GetString();
  sql(d, "INSERT INTO agent_runs (id, agent_id, workspace_id, crew_id, cmd, status, started_at, source) VALUES"
         " ('run1','" + id + "','" + w.ws + "','" + crew + "','[\"sleep\"]','RUNNING','2026-01-01T00:00:00.000000000Z','ipc')");
  expect_problem(hire(w, hire_body(crew)), 429, "quota");
  cr_assert(agent(w, id)["expired_at"].IsNull());

  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(75);
  while (agent(w, id)["expired_at"].IsNull() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto ghost = agent(w, id);
  cr_assert(ghost["expired_at"].IsString(), "no ghost 75 s after a 1-minute TTL");
  std::string expired_at = ghost["expired_at"].GetString();
  cr_assert(expired_at >= expires_at, "expired %s, deadline %s", expired_at.c_str(), expires_at.c_str());
  long late = seconds_until(expired_at) - seconds_until(expires_at);
  cr_assert(late <= 2, "swept %ld s after the deadline, not within a couple of sweeps", late);
  cr_assert(d.wait_log("hired agents expired"));
  cr_assert_eq(sql_text(d, "SELECT status FROM agent_runs WHERE id = 'run1'"), "STOPPED");
  cr_assert_eq(sql_text(d, "SELECT status || ' ' || details FROM agent_status WHERE agent_id = '" + id + "'"),
               R"(offline {"reason":"expired"})");
  cr_assert_eq(count(w, "journal WHERE kind = 'agent.expired' AND agent_id = '" + id + "'"), "1");
  expect_problem(ipc_start(w, id), 409, "expired");
  // The row stays for audit; the slot is free.
  cr_assert_eq(agent_count(w), 1u);
  cr_assert_eq(hire(w, hire_body(crew)).status, 201);
  // A later sweep leaves the ghost as it is.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  cr_assert_str_eq(agent(w, id)["expired_at"].GetString(), expired_at.c_str());
  cr_assert_eq(count(w, "journal WHERE kind = 'agent.expired'"), "1");
}

// Deadlines set in the past: a sweep makes a ghost of each due one, and only
// of those.
Test(hire, the_sweep_takes_every_due_agent) {
  TestDaemon d(api_options({"CREWSHIP_EPHEMERAL_SWEEP_INTERVAL=100ms"}));
  World w{&d, bootstrap(d), {}};
  w.ws = w.owner.workspace_id;
  std::string crew = make_crew(w, "many", "full", 100);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(json_of(hire(w, hire_body(crew)))["id"].GetString());
  sql(d, "UPDATE agents SET expires_at = '2026-01-01T00:00:00Z' WHERE id IN ('" + ids[0] + "','" + ids[1] + "','" + ids[2] + "')");
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (count(w, "agents WHERE expired_at IS NOT NULL") != "3" && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  cr_assert_eq(count(w, "agents WHERE expired_at IS NOT NULL"), "3");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  cr_assert_eq(count(w, "agents WHERE expired_at IS NOT NULL"), "3", "the live ones stay live");
  cr_assert(agent(w, ids[4])["expired_at"].IsNull());
}

// A hire pending review may not run and waits for its approval (that a
// stop does not release it is the store's run_store test). Past its TTL
// unapproved, its waitpoint is resolved and it can no longer be approved.
Test(hire, a_pending_hire_stays_pending_until_approved_or_expired) {
  TestDaemon d(api_options({"CREWSHIP_EPHEMERAL_SWEEP_INTERVAL=100ms"}));
  World w{&d, bootstrap(d), {}};
  w.ws = w.owner.workspace_id;
  std::string crew = make_crew(w, "careful", "guided");
  Reply h = hire(w, hire_body(crew));
  cr_assert_eq(h.status, 202, "%s", h.body.c_str());
  std::string id = json_of(h)["id"].GetString();
  cr_assert_str_eq(agent(w, id)["status"].GetString(), "PENDING_REVIEW");
  expect_problem(ipc_start(w, id), 409, "pending review");
  cr_assert_eq(inbox(w, id)["approvals_pending"].GetInt(), 1);

  sql(d, "UPDATE agents SET expires_at = '2020-01-01T00:00:00Z' WHERE id = '" + id + "'");
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (agent(w, id)["expired_at"].IsNull() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  cr_assert(agent(w, id)["expired_at"].IsString(), "no ghost of a hire past its deadline");
  cr_assert_eq(inbox(w, id)["approvals_pending"].GetInt(), 0, "the waitpoint outlived the hire");
  cr_assert_eq(count(w, "inbox_items WHERE agent_id = '" + id + "' AND resolved_by = 'expired'"), "1");
  expect_problem(approve(w, id), 409, "not pending review");
}

// A hire counts against its crew's quota, so it cannot move to another crew
// (a full one, say); a permanent agent still can.
Test(hire, a_hired_agent_stays_in_its_crew) {
  TestDaemon d(api_options());
  World w{&d, bootstrap(d), {}};
  w.ws = w.owner.workspace_id;
  std::string a = make_crew(w, "first", "full", 1), b = make_crew(w, "second", "full", 1);
  std::string hired = json_of(hire(w, hire_body(a)))["id"].GetString();
  cr_assert_eq(hire(w, hire_body(b)).status, 201);  // b is full now
  expect_problem(call(d, "PATCH", "/api/v1/agents/" + hired + q(w), w.owner.token, R"({"crew_id":")" + b + R"("})"),
                 409, "hired");
  expect_problem(call(d, "PATCH", "/api/v1/agents/" + hired + q(w), w.owner.token, R"({"crew_id":null})"), 409,
                 "hired");
  cr_assert_str_eq(agent(w, hired)["crew_id"].GetString(), a.c_str());
  cr_assert_eq(count(w, "agents WHERE ephemeral = 1 AND crew_id = '" + b + "'"), "1");
  std::string perm = create_id(d, w.owner.token, "/api/v1/agents" + q(w), R"({"name":"Perm","slug":"perm"})");
  Reply moved = call(d, "PATCH", "/api/v1/agents/" + perm + q(w), w.owner.token, R"({"crew_id":")" + b + R"("})");
  cr_assert_eq(moved.status, 200, "%s", moved.body.c_str());
}

// A backlog larger than one sweep's batch drains at once: a full batch is
// followed by the next sweep right away, not an interval later.
Test(hire, a_backlog_of_due_hires_drains_without_waiting_an_interval_per_batch, .timeout = 60) {
  TestDaemon d(api_options({"CREWSHIP_EPHEMERAL_SWEEP_INTERVAL=3s"}));
  World w{&d, bootstrap(d), {}};
  w.ws = w.owner.workspace_id;
  std::string crew = make_crew(w, "bulk", "full", 3);
  sql(d, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250)"
         " INSERT INTO agents(id, workspace_id, crew_id, name, slug, ephemeral, expires_at, created_at, updated_at)"
         " SELECT 'bulk' || i, '" + w.ws + "', '" + crew + "', 'Bulk ' || i, 'bulk-' || i, 1,"
         " '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000000000Z', '2026-01-01T00:00:00.000000000Z' FROM n");
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (count(w, "agents WHERE expired_at IS NOT NULL") == "0" && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto first = std::chrono::steady_clock::now();
  while (count(w, "agents WHERE expired_at IS NOT NULL") != "250" && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - first).count();
  cr_assert_eq(count(w, "agents WHERE expired_at IS NOT NULL"), "250");
  // Three batches an interval apart take 6 s from the first ghost to the
  // last; back to back, a fraction of one.
  cr_assert_lt(took, 4.0, "the last ghost %.2f s after the first", took);
}
