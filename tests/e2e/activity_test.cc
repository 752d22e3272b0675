// The activity feed end to end: one list of audit rows, presence
// transitions, runs started and finished and inbox items, newest first
// across sources; cursor pages that neither repeat nor skip an entry while
// new ones arrive; one crew; who may read it; bad cursors and limits; one
// workspace at a time.
#include <set>
#include <string>
#include <vector>

#include <criterion/criterion.h>

#include "daemon/crypto.h"
#include "tests/support/api.h"

using namespace crewship::test;

namespace {

using World = TwoCrews;

std::string feed(const World& w) { return "/api/v1/activity?workspace_id=" + w.ws; }

void presence(const TestDaemon& d, const std::string& agent, const std::string& status) {
  Reply r = ipc_call(d, "POST", "/api/v1/internal/presence",
                     R"({"agent_id":")" + agent + R"(","status":")" + status + R"("})");
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
}

std::string at(int second) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "2026-01-01T00:%02d:%02d.000000000Z", second / 60, second % 60);
  return buf;
}

// n presence transitions of agent in crew, at 2026-01-01 00:00:00 + i/3 s
// (three at each second), written as an older instance would have.
void old_transitions(const TestDaemon& d, const World& w, const std::string& agent, const std::string& crew, int n) {
  sql(d, "WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < " + std::to_string(n - 1) +
             ") INSERT INTO journal(workspace_id, crew_id, agent_id, kind, payload, created_at)"
             " SELECT '" + w.ws + "', '" + crew + "', '" + agent + "', 'agent.status_change',"
             " '{\"status\":\"busy\",\"prev\":\"online\",\"details\":{}}',"
             " printf('2026-01-01T00:%02d:%02d.000000000Z', (n / 3) / 60, (n / 3) % 60) FROM s");
}

struct Page {
  rapidjson::Document doc;
  std::string next;  // empty: none
};

Page page_of(const TestDaemon& d, const std::string& path, const std::string& token) {
  Reply r = call(d, "GET", path, token);
  cr_assert_eq(r.status, 200, "%s: %s", path.c_str(), r.body.c_str());
  Page p{json_of(r), {}};
  cr_assert(p.doc.IsObject() && p.doc["entries"].IsArray(), "%s", r.body.c_str());
  cr_assert_eq(p.doc.MemberCount(), 2u, "{entries, next_before}");
  if (p.doc["next_before"].IsString()) {
    p.next = p.doc["next_before"].GetString();
  } else {
    cr_assert(p.doc["next_before"].IsNull());
  }
  return p;
}

std::vector<std::string> ids_of(const rapidjson::Value& entries) { return members_of(entries, "id"); }

}  // namespace

TestSuite(activity, .timeout = 120);

Test(activity, entries_of_every_source_newest_first) {
  TestDaemon d(api_options());
  World w = two_crews(d);
  presence(d, w.agent, "online");
  presence(d, w.agent, "busy");
  presence(d, w.agent, "busy");  // no transition: no entry
  cr_assert_eq(call(d, "POST", "/api/v1/credentials?workspace_id=" + w.ws, w.owner.token,
                    R"({"name":"Key","provider":"ANTHROPIC","type":"API_KEY","value":"sk-do-not-show-1234"})")
                   .status,
               201);
  // Older rows, as the run and inbox code leave them, interleaved in time.
  sql(d, "INSERT INTO agent_runs (id, agent_id, workspace_id, crew_id, cmd, status, exit_code, started_at, ended_at,"
         " source) VALUES ('r1', '" + w.agent + "', '" + w.ws + "', '" + w.crew + "', '[\"true\"]', 'FAILED', 2, '" +
         at(1) + "', '" + at(3) + "', 'webhook')");
  sql(d, "INSERT INTO inbox_items (id, workspace_id, agent_id, kind, blocking, payload, created_at) VALUES"
         " ('i1', '" + w.ws + "', '" + w.other_agent + "', 'hire_approval', 1, '{\"reason\":\"more hands\"}', '" +
         at(2) + "')");

  Page p = page_of(d, feed(w), w.owner.token);
  const auto& e = p.doc["entries"];
  cr_assert(p.next.empty(), "one page holds it all");
  // crew.create x2, agent.create x2, credential.create, 2 transitions, run
  // started and finished, the inbox item.
  cr_assert_eq(e.Size(), 10u, "%zu entries", static_cast<size_t>(e.Size()));
  for (rapidjson::SizeType i = 0; i < e.Size(); ++i) {
    const auto& x = e[i];
    for (const char* k : {"id", "kind", "at", "summary"}) cr_assert(x[k].IsString() && x[k].GetStringLength() > 0, "%s", k);
    cr_assert(x["data"].IsObject());
    for (const auto& m : x.GetObject()) {
      std::string k = m.name.GetString();
      cr_assert(k == "id" || k == "kind" || k == "at" || k == "crew_id" || k == "agent_id" || k == "summary" ||
                    k == "data",
                "unexpected member %s", k.c_str());
    }
    if (i > 0) cr_assert(std::string(e[i - 1]["at"].GetString()) >= x["at"].GetString(), "newest first");
  }
  // The oldest three, across sources.
  cr_assert_str_eq(e[7]["kind"].GetString(), "run.finished");
  cr_assert_str_eq(e[7]["id"].GetString(), "run.finished:r1");
  cr_assert(e[7]["at"].GetString() == at(3));
  cr_assert_str_eq(e[7]["crew_id"].GetString(), w.crew.c_str());
  cr_assert_str_eq(e[7]["agent_id"].GetString(), w.agent.c_str());
  cr_assert_str_eq(e[7]["data"]["status"].GetString(), "FAILED");
  cr_assert_eq(e[7]["data"]["exit_code"].GetInt64(), 2);
  cr_assert_str_eq(e[7]["summary"].GetString(), "Dev's run ended FAILED (exit 2)");
  cr_assert_str_eq(e[8]["kind"].GetString(), "inbox");
  cr_assert_str_eq(e[8]["id"].GetString(), "inbox:i1");
  cr_assert_str_eq(e[8]["crew_id"].GetString(), w.other_crew.c_str(), "the item's agent's crew");
  cr_assert(e[8]["data"]["blocking"].IsTrue());
  cr_assert_str_eq(e[8]["data"]["payload"]["reason"].GetString(), "more hands");
  cr_assert_str_eq(e[9]["kind"].GetString(), "run.started");
  cr_assert_str_eq(e[9]["summary"].GetString(), "Dev started a run from a webhook");
  // The live ones: the newest first is the credential, which has no crew or agent.
  cr_assert_str_eq(e[0]["kind"].GetString(), "audit");
  cr_assert_str_eq(e[0]["data"]["action"].GetString(), "credential.create");
  cr_assert_not(e[0].HasMember("crew_id"));
  cr_assert_not(e[0].HasMember("agent_id"));
  int transitions = 0;
  for (const auto& x : e.GetArray()) {
    if (std::string(x["kind"].GetString()) != "presence") continue;
    ++transitions;
    cr_assert_str_eq(x["agent_id"].GetString(), w.agent.c_str());
    cr_assert_str_eq(x["crew_id"].GetString(), w.crew.c_str());
    cr_assert(std::string(x["id"].GetString()).rfind("presence:", 0) == 0);
    cr_assert(x["data"]["entry_id"].IsInt64());
  }
  cr_assert_eq(transitions, 2);
  cr_assert_str_eq(e[1]["summary"].GetString(), "Dev is busy (was online)");
  cr_assert_str_eq(e[2]["summary"].GetString(), "Dev is online");
  cr_assert_str_eq(e[3]["data"]["action"].GetString(), "agent.create");
  cr_assert_str_eq(e[3]["agent_id"].GetString(), w.other_agent.c_str());
  cr_assert_str_eq(e[3]["crew_id"].GetString(), w.other_crew.c_str());
  cr_assert_str_eq(e[3]["summary"].GetString(), "agent.create on agent Ops");
  Reply raw = call(d, "GET", feed(w), w.owner.token);
  cr_assert(raw.body.find("sk-do-not-show") == std::string::npos, "no secret in the feed");
}

// The cursor: walking pages of 7 returns exactly the feed as it was when the
// walk began, while transitions and audit rows keep arriving at its top.
Test(activity, cursor_pages_neither_repeat_nor_skip_while_rows_arrive) {
  TestDaemon d(api_options());
  World w = two_crews(d);
  old_transitions(d, w, w.agent, w.crew, 60);  // 20 seconds, three rows at each
  old_transitions(d, w, w.other_agent, w.other_crew, 30);
  sql(d, "INSERT INTO agent_runs (id, agent_id, workspace_id, crew_id, cmd, status, started_at, ended_at) VALUES"
         " ('r1', '" + w.agent + "', '" + w.ws + "', '" + w.crew + "', '[]', 'SUCCEEDED', '" + at(5) + "', '" +
         at(5) + "')");
  Page all = page_of(d, feed(w) + "&limit=200", w.owner.token);
  std::vector<std::string> want = ids_of(all.doc["entries"]);
  cr_assert_eq(want.size(), 4u + 90u + 2u, "%zu", want.size());

  std::vector<std::string> got;
  std::string before;
  const char* statuses[] = {"online", "busy", "blocked"};
  for (int i = 0; i < 40; ++i) {
    Page p = page_of(d, feed(w) + "&limit=7" + (before.empty() ? "" : "&before=" + before), w.owner.token);
    for (const auto& id : ids_of(p.doc["entries"])) got.push_back(id);
    if (p.next.empty()) break;
    cr_assert_eq(p.doc["entries"].Size(), 7u);
    before = p.next;
    // New rows, newer than anything walked so far.
    presence(d, i % 2 ? w.agent : w.other_agent, statuses[i % 3]);
    if (i % 4 == 0)
      create_id(d, w.owner.token, "/api/v1/agents?workspace_id=" + w.ws,
                R"({"name":"New","slug":"new-)" + std::to_string(i) + R"("})");
  }
  std::set<std::string> unique(got.begin(), got.end());
  cr_assert_eq(unique.size(), got.size(), "no entry twice");
  cr_assert_eq(got.size(), want.size(), "got %zu of %zu", got.size(), want.size());
  cr_assert(got == want, "the walk is the feed as it was");
  // The newest page now starts with what arrived meanwhile.
  Page top = page_of(d, feed(w) + "&limit=1", w.owner.token);
  cr_assert_str_neq(top.doc["entries"][0]["id"].GetString(), want[0].c_str());
  cr_assert_not(top.next.empty());
}

Test(activity, one_crew) {
  TestDaemon d(api_options());
  World w = two_crews(d);
  presence(d, w.agent, "busy");
  presence(d, w.other_agent, "busy");
  presence(d, w.other_agent, "online");
  Page p = page_of(d, feed(w) + "&crew_id=" + w.crew, w.owner.token);
  const auto& e = p.doc["entries"];
  // The transition, agent.create of its agent, crew.create of the crew.
  cr_assert_eq(e.Size(), 3u, "%zu", static_cast<size_t>(e.Size()));
  for (const auto& x : e.GetArray()) cr_assert_str_eq(x["crew_id"].GetString(), w.crew.c_str());
  cr_assert_str_eq(e[2]["data"]["action"].GetString(), "crew.create");
  cr_assert_eq(page_of(d, feed(w) + "&crew_id=" + w.other_crew, w.owner.token).doc["entries"].Size(), 4u);
  expect_problem(call(d, "GET", feed(w) + "&crew_id=nope", w.owner.token), 404, "crew not found");
  // Paged by crew too.
  Page first = page_of(d, feed(w) + "&crew_id=" + w.other_crew + "&limit=3", w.owner.token);
  Page rest = page_of(d, feed(w) + "&crew_id=" + w.other_crew + "&limit=3&before=" + first.next, w.owner.token);
  cr_assert_eq(rest.doc["entries"].Size(), 1u);
  cr_assert_str_eq(rest.doc["entries"][0]["data"]["action"].GetString(), "crew.create");
  cr_assert(rest.next.empty());
}

Test(activity, any_member_reads_it) {
  TestDaemon d(api_options());
  World w = two_crews(d);
  Session viewer = member(d, w.owner, "viewer@example.com", "VIEWER");
  cr_assert_gt(page_of(d, feed(w), viewer.token).doc["entries"].Size(), 0u);
  Session outsider = signup(d, "outsider@example.com");
  expect_problem(call(d, "GET", feed(w), outsider.token), 403, "member");
  expect_problem(call(d, "GET", feed(w), ""), 401, "");
  expect_problem(call(d, "GET", "/api/v1/activity", w.owner.token), 400, "workspace_id");
}

Test(activity, bad_cursors_and_limits) {
  TestDaemon d(api_options());
  World w = two_crews(d);
  using crewship::crypto::base64url;
  for (std::string bad : {std::string("garbage!"), std::string("12345"), base64url("x|1|2"),
                          base64url("2026-01-01T00:00:00.000000000Z|5|1"),
                          base64url("2026-01-01T00:00:00.000000000Z|1|-1"),
                          base64url("2026-01-01T00:00:00.000000000Z|1"),
                          base64url("2026-01-01 00:00:00.000000000Z|1|1"), std::string(200, 'A')})
    expect_problem(call(d, "GET", feed(w) + "&before=" + bad, w.owner.token), 400, "before");
  // A well-formed cursor anywhere in time is a place in the feed.
  Page old = page_of(d, feed(w) + "&before=" + base64url("2000-01-01T00:00:00.000000000Z|0|0"), w.owner.token);
  cr_assert_eq(old.doc["entries"].Size(), 0u);
  expect_problem(call(d, "GET", feed(w) + "&limit=0", w.owner.token), 400, "limit");
  expect_problem(call(d, "GET", feed(w) + "&limit=ten", w.owner.token), 400, "limit");
  expect_problem(call(d, "GET", feed(w) + "&offset=10", w.owner.token), 400, "before");
  old_transitions(d, w, w.agent, w.crew, 260);
  cr_assert_eq(page_of(d, feed(w), w.owner.token).doc["entries"].Size(), 50u, "50 by default");
  cr_assert_eq(page_of(d, feed(w) + "&limit=100000", w.owner.token).doc["entries"].Size(), 200u, "clamped to 200");
}

Test(activity, one_workspace_at_a_time) {
  TestDaemon d(api_options());
  World w = two_crews(d);
  presence(d, w.agent, "busy");
  Session other = signup(d, "other@example.com");
  std::string other_ws = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  std::string theirs = create_id(d, other.token, "/api/v1/crews?workspace_id=" + other_ws,
                                 R"({"name":"Theirs","slug":"theirs"})");
  Page p = page_of(d, "/api/v1/activity?workspace_id=" + other_ws, other.token);
  cr_assert_eq(p.doc["entries"].Size(), 1u, "only their crew.create");
  cr_assert_str_eq(p.doc["entries"][0]["crew_id"].GetString(), theirs.c_str());
  expect_problem(call(d, "GET", feed(w) + "&crew_id=" + theirs, w.owner.token), 404, "crew not found");
  expect_problem(call(d, "GET", "/api/v1/activity?workspace_id=" + other_ws + "&crew_id=" + w.crew, other.token), 404,
                 "crew not found");
  expect_problem(call(d, "GET", "/api/v1/activity?workspace_id=" + other_ws, w.owner.token), 403, "member");
}
