// Presence end to end: IPC writes with master and bound tokens, the roster
// with ETags, history, the sweeper, crewship-hook, and crash safety.
#include <atomic>
#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/api.h"

using namespace crewship::test;

namespace {

struct World {
  Session owner;
  std::string crew_a, crew_b;
  std::vector<std::string> agents_a, agents_b;  // agents of crew A and crew B
};

std::string create(const TestDaemon& d, const Session& s, const std::string& path, const std::string& body) {
  Reply r = call(d, "POST", path + "?workspace_id=" + s.workspace_id, s.token, body);
  cr_assert_eq(r.status, 201, "POST %s: %d %s", path.c_str(), r.status, r.body.c_str());
  return json_of(r)["id"].GetString();
}

World make_world(const TestDaemon& d, int per_crew = 3) {
  World w;
  w.owner = bootstrap(d);
  w.crew_a = create(d, w.owner, "/api/v1/crews", R"({"name":"Crew A","slug":"crew-a"})");
  w.crew_b = create(d, w.owner, "/api/v1/crews", R"({"name":"Crew B","slug":"crew-b"})");
  for (int i = 0; i < per_crew; ++i) {
    for (auto [crew, list, tag] : {std::tuple{&w.crew_a, &w.agents_a, "a"}, std::tuple{&w.crew_b, &w.agents_b, "b"}}) {
      std::string slug = std::string("agent-") + tag + std::to_string(i);
      list->push_back(create(d, w.owner, "/api/v1/agents",
                             R"({"name":"Agent )" + slug + R"(","slug":")" + slug + R"(","crew_id":")" + *crew + R"("})"));
    }
  }
  return w;
}

Reply ipc_post(const TestDaemon& d, const std::string& path, const std::string& token, const std::string& body) {
  std::string raw = "POST " + path + " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n";
  if (!token.empty()) raw += "X-Internal-Token: " + token + "\r\n";
  raw += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  auto r = request_unix(d.socket, raw, 10000);
  cr_assert(r.has_value(), "no answer on the IPC socket");
  return *r;
}

Reply set_presence(const TestDaemon& d, const std::string& token, const std::string& agent,
                   const std::string& status, const std::string& details = "") {
  std::string body = R"({"agent_id":")" + agent + R"(","status":")" + status + "\"";
  if (!details.empty()) body += R"(,"details":)" + details;
  return ipc_post(d, "/api/v1/internal/presence", token, body + "}");
}

rapidjson::Document roster(const TestDaemon& d, const World& w, const std::string& crew = "") {
  std::string path = "/api/v1/presence/roster?workspace_id=" + w.owner.workspace_id;
  if (!crew.empty()) path += "&crew_id=" + crew;
  Reply r = call(d, "GET", path, w.owner.token);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  return json_of(r);
}

std::string hook_binary() {
  std::string bin = daemon_binary();
  return bin.substr(0, bin.rfind('/')) + "/crewship-hook";
}

}  // namespace

TestSuite(presence, .timeout = 120);

Test(presence, upsert_roster_and_journal) {
  TestDaemon d(api_options());
  World w = make_world(d);
  const std::string& a0 = w.agents_a[0];
  Reply first = set_presence(d, d.token, a0, "busy", R"({"current_task_id":"T-42"})");
  cr_assert_eq(first.status, 200, "%s", first.body.c_str());
  auto doc = json_of(first);
  cr_assert_str_eq(doc["agent_id"].GetString(), a0.c_str());
  cr_assert_str_eq(doc["status"].GetString(), "busy");
  cr_assert(doc["changed"].GetBool());
  std::string since = doc["since"].GetString();
  cr_assert_eq(since.size(), 30u, "9 fractional digits: %s", since.c_str());
  cr_assert_eq(since.back(), 'Z');

  Reply same = set_presence(d, d.token, a0, "busy");
  cr_assert_not(json_of(same)["changed"].GetBool(), "same status is no transition");
  std::string since2 = json_of(same)["since"].GetString();
  cr_assert_gt(since2, since, "every write moves since");
  set_presence(d, d.token, w.agents_b[0], "online");

  auto r = roster(d, w);
  cr_assert_eq(r["count"].GetInt(), 2);
  cr_assert_eq(r["rows"].Size(), 2u);
  cr_assert_str_eq(r["rows"][0]["agent_id"].GetString(), w.agents_b[0].c_str(), "newest since first");
  cr_assert_str_eq(r["rows"][1]["agent_id"].GetString(), a0.c_str());
  cr_assert_str_eq(r["rows"][1]["crew_id"].GetString(), w.crew_a.c_str());
  cr_assert_not(r["rows"][1].HasMember("details"), "the last write had no details");
  cr_assert_not(r["rows"][0].HasMember("details"));

  set_presence(d, d.token, a0, "blocked", R"({"blocked_reason":"awaiting_approval"})");
  auto filtered = roster(d, w, w.crew_a);
  cr_assert_eq(filtered["count"].GetInt(), 1);
  cr_assert_str_eq(filtered["rows"][0]["details"]["blocked_reason"].GetString(), "awaiting_approval");

  // Journal: first write, busy->blocked; not the repeated busy.
  Reply h = call(d, "GET", "/api/v1/presence/history?workspace_id=" + w.owner.workspace_id + "&agent_id=" + a0,
                 w.owner.token);
  auto hist = json_of(h);
  cr_assert_eq(hist["entries"].Size(), 2u, "%s", h.body.c_str());
  cr_assert_str_eq(hist["entries"][0]["status"].GetString(), "blocked");
  cr_assert_str_eq(hist["entries"][0]["prev"].GetString(), "busy");
  cr_assert(hist["entries"][1]["prev"].IsNull());
  cr_assert_str_eq(hist["entries"][1]["details"]["current_task_id"].GetString(), "T-42");
  // Cursor paging.
  int64_t newest = hist["entries"][0]["id"].GetInt64();
  auto older = json_of(call(d, "GET",
                            "/api/v1/presence/history?workspace_id=" + w.owner.workspace_id + "&agent_id=" + a0 +
                                "&limit=1&before=" + std::to_string(newest),
                            w.owner.token));
  cr_assert_eq(older["entries"].Size(), 1u);
  cr_assert_str_eq(older["entries"][0]["status"].GetString(), "busy");
}

Test(presence, agent_status_follows_presence) {
  TestDaemon d(api_options());
  World w = make_world(d, 1);
  const std::string& a = w.agents_a[0];
  auto status_of = [&] {
    Reply r = call(d, "GET", "/api/v1/agents/" + a + "?workspace_id=" + w.owner.workspace_id, w.owner.token);
    return std::string(json_of(r)["status"].GetString());
  };
  set_presence(d, d.token, a, "busy");
  cr_assert_eq(status_of(), "RUNNING");
  set_presence(d, d.token, a, "online");
  cr_assert_eq(status_of(), "IDLE");
  set_presence(d, d.token, a, "blocked");
  cr_assert_eq(status_of(), "RUNNING");
  set_presence(d, d.token, a, "offline", R"({"error":"exit 1"})");
  cr_assert_eq(status_of(), "ERROR");
}

Test(presence, bad_input_writes_nothing) {
  TestDaemon d(api_options());
  World w = make_world(d, 1);
  const std::string& a = w.agents_a[0];
  struct Case {
    std::string body;
    int status;
  } cases[] = {
      {"{", 400},
      {"[]", 400},
      {R"({"status":"busy"})", 400},
      {R"({"agent_id":"x"})", 400},
      {R"({"agent_id":")" + a + R"(","status":"sleeping"})", 400},
      {R"({"agent_id":")" + a + R"(","status":5})", 400},
      {R"({"agent_id":7,"status":"busy"})", 400},
      {R"({"agent_id":")" + a + R"(","status":"busy","details":"text"})", 400},
      {R"({"agent_id":")" + a + R"(","status":"busy","details":[1]})", 400},
      {R"({"agent_id":")" + a + R"(","status":"busy","details":{"k":")" + std::string(17000, 'x') + "\"}}", 413},
      {R"({"agent_id":"no-such-agent","status":"busy"})", 404},
      {R"({"agent_id":")" + a + R"(","status":"busy","details":)" + std::string(40, '[') + std::string(40, ']') + "}", 400},
  };
  for (const Case& c : cases) {
    Reply r = ipc_post(d, "/api/v1/internal/presence", d.token, c.body);
    cr_assert_eq(r.status, c.status, "%s -> %d %s", c.body.substr(0, 80).c_str(), r.status, r.body.c_str());
    cr_assert_eq(r.header("Content-Type").value_or(""), "application/problem+json");
  }
  cr_assert_eq(ipc_post(d, "/api/v1/internal/presence", "", R"({"agent_id":")" + a + R"(","status":"busy"})").status, 401);
  cr_assert_eq(ipc_post(d, "/api/v1/internal/presence", std::string(64, 'f'), R"({"agent_id":")" + a + R"(","status":"busy"})").status, 401);
  for (const char* hb : {"{}", R"({"agent_ids":[]})", R"({"agent_ids":"x"})", R"({"agent_ids":[5]})", R"({"agent_id":""})"})
    cr_assert_eq(ipc_post(d, "/api/v1/internal/presence/heartbeat", d.token, hb).status, 400, "%s", hb);
  cr_assert_eq(roster(d, w)["count"].GetInt(), 0, "nothing was written");
  cr_assert_eq(json_of(call(d, "GET", "/api/v1/presence/history?workspace_id=" + w.owner.workspace_id, w.owner.token))["entries"].Size(), 0u);
}

Test(presence, bound_tokens_stay_in_scope) {
  TestDaemon d(api_options());
  World w = make_world(d, 1);
  std::string crew_a = bound_token(d, "crew", w.crew_a);
  std::string ws = bound_token(d, "workspace", w.owner.workspace_id);
  cr_assert(crew_a.rfind("crwv1." + w.owner.workspace_id + "." + w.crew_a + ".", 0) == 0, "%s", crew_a.c_str());
  cr_assert_eq(set_presence(d, crew_a, w.agents_a[0], "busy").status, 200);
  Reply foreign = set_presence(d, crew_a, w.agents_b[0], "busy");
  cr_assert_eq(foreign.status, 403, "%s", foreign.body.c_str());
  cr_assert_eq(ipc_post(d, "/api/v1/internal/presence/heartbeat", crew_a,
                        R"({"agent_ids":[")" + w.agents_a[0] + R"(",")" + w.agents_b[0] + R"("]})").status, 403);
  cr_assert_eq(set_presence(d, ws, w.agents_b[0], "online").status, 200);

  // A token for another workspace, or one with its MAC altered, does nothing.
  Session other = signup(d, "other@example.com");
  Reply made = call(d, "POST", "/api/v1/workspaces", other.token, R"({"name":"Other"})");
  cr_assert_eq(made.status, 201, "%s", made.body.c_str());
  std::string other_ws = bound_token(d, "workspace", json_of(made)["id"].GetString());
  cr_assert_eq(set_presence(d, other_ws, w.agents_a[0], "offline").status, 403);
  std::string forged = crew_a;
  forged.back() = forged.back() == '0' ? '1' : '0';
  cr_assert_eq(set_presence(d, forged, w.agents_a[0], "offline").status, 401);
  std::string swapped = "crwv1." + w.owner.workspace_id + "." + w.crew_b + crew_a.substr(crew_a.rfind('.'));
  cr_assert_eq(set_presence(d, swapped, w.agents_b[0], "offline").status, 401, "the MAC binds the crew");
  auto r = roster(d, w);
  cr_assert_eq(r["count"].GetInt(), 2);
  for (auto& row : r["rows"].GetArray()) cr_assert_str_neq(row["status"].GetString(), "offline");
}

Test(presence, roster_etag_and_access) {
  TestDaemon d(api_options());
  World w = make_world(d, 1);
  std::string path = "/api/v1/presence/roster?workspace_id=" + w.owner.workspace_id;
  set_presence(d, d.token, w.agents_a[0], "busy");
  Reply first = call(d, "GET", path, w.owner.token);
  std::string etag = first.header("ETag").value_or("");
  cr_assert(etag.size() > 2 && etag.front() == '"', "%s", etag.c_str());
  Reply again = call(d, "GET", path, w.owner.token, "", "If-None-Match: " + etag + "\r\n");
  cr_assert_eq(again.status, 304);
  cr_assert(again.body.empty());
  cr_assert_eq(again.header("ETag").value_or(""), etag);
  // A heartbeat changes nothing visible: still 304.
  cr_assert_eq(ipc_post(d, "/api/v1/internal/presence/heartbeat", d.token, R"({"agent_id":")" + w.agents_a[0] + R"("})").status, 200);
  cr_assert_eq(call(d, "GET", path, w.owner.token, "", "If-None-Match: " + etag + "\r\n").status, 304);
  // A write does.
  set_presence(d, d.token, w.agents_a[0], "online");
  Reply changed = call(d, "GET", path, w.owner.token, "", "If-None-Match: " + etag + "\r\n");
  cr_assert_eq(changed.status, 200);
  std::string etag2 = changed.header("ETag").value_or("");
  cr_assert_neq(etag2, etag);
  // Deleting the agent takes it off the roster.
  cr_assert_eq(call(d, "DELETE", "/api/v1/agents/" + w.agents_a[0] + "?workspace_id=" + w.owner.workspace_id,
                    w.owner.token).status, 200);
  Reply gone = call(d, "GET", path, w.owner.token, "", "If-None-Match: " + etag2 + "\r\n");
  cr_assert_eq(gone.status, 200);
  cr_assert_eq(json_of(gone)["count"].GetInt(), 0);

  // Access rules of the seed.
  cr_assert_eq(call(d, "GET", path).status, 401);
  cr_assert_eq(call(d, "GET", "/api/v1/presence/roster", w.owner.token).status, 400);
  Session outsider = signup(d, "outsider@example.com");
  cr_assert_eq(call(d, "GET", path, outsider.token).status, 403);
  Session viewer = member(d, w.owner, "viewer@example.com", "VIEWER");
  cr_assert_eq(call(d, "GET", path, viewer.token).status, 200);
  // A foreign crew answers like a missing one.
  Reply made = call(d, "POST", "/api/v1/workspaces", outsider.token, R"({"name":"Elsewhere"})");
  std::string other_ws = json_of(made)["id"].GetString();
  Reply crew = call(d, "POST", "/api/v1/crews?workspace_id=" + other_ws, outsider.token, R"({"name":"Theirs","slug":"theirs"})");
  cr_assert_eq(crew.status, 201, "%s", crew.body.c_str());
  Reply foreign = call(d, "GET", path + "&crew_id=" + json_of(crew)["id"].GetString(), w.owner.token);
  Reply missing = call(d, "GET", path + "&crew_id=nope", w.owner.token);
  cr_assert_eq(foreign.status, 404);
  cr_assert_eq(missing.status, 404);
  auto fj = json_of(foreign), mj = json_of(missing);
  cr_assert_str_eq(fj["detail"].GetString(), mj["detail"].GetString());
}

Test(presence, sweeper_and_heartbeats) {
  TestDaemon d(api_options({"CREWSHIP_PRESENCE_SWEEP_INTERVAL=100ms", "CREWSHIP_PRESENCE_IDLE_TIMEOUT=700ms"}));
  World w = make_world(d, 1);
  const std::string& kept = w.agents_a[0];
  const std::string& idle = w.agents_b[0];
  set_presence(d, d.token, kept, "busy");
  set_presence(d, d.token, idle, "busy");
  // kept heartbeats through a "long task"; idle does not.
  for (int i = 0; i < 12; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    cr_assert_eq(ipc_post(d, "/api/v1/internal/presence/heartbeat", d.token, R"({"agent_ids":[")" + kept + R"("]})").status, 200);
  }
  auto r = roster(d, w);
  std::map<std::string, const rapidjson::Value*> rows;
  for (auto& row : r["rows"].GetArray()) rows[row["agent_id"].GetString()] = &row;
  cr_assert_str_eq((*rows[kept])["status"].GetString(), "busy");
  cr_assert_str_eq((*rows[idle])["status"].GetString(), "offline");
  cr_assert_str_eq((*rows[idle])["details"]["reason"].GetString(), "idle_timeout");
  auto hist = json_of(call(d, "GET", "/api/v1/presence/history?workspace_id=" + w.owner.workspace_id + "&agent_id=" + idle,
                           w.owner.token));
  cr_assert_str_eq(hist["entries"][0]["status"].GetString(), "offline");
  cr_assert_str_eq(hist["entries"][0]["prev"].GetString(), "busy");
  cr_assert(d.log().find("idle agents went offline") != std::string::npos);
}

namespace {

rapidjson::Document history(const TestDaemon& d, const World& w) {
  return json_of(call(d, "GET", "/api/v1/presence/history?limit=100&workspace_id=" + w.owner.workspace_id,
                      w.owner.token));
}

// Polls the journal until it holds n entries or 5 s went by.
rapidjson::Document history_until(const TestDaemon& d, const World& w, size_t n) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    auto h = history(d, w);
    if (h["entries"].Size() == n || std::chrono::steady_clock::now() > until) return h;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

// 1,100 transitions and a cap of 10: the pruner deletes the oldest, 500 at a
// time, and keeps the newest 10 whatever comes after.
Test(presence, journal_keeps_at_most_max_rows, .timeout = 60) {
  TestDaemon d(api_options({"CREWSHIP_JOURNAL_MAX_ROWS=10", "CREWSHIP_JOURNAL_PRUNE_INTERVAL=100ms"}));
  World w = make_world(d, 1);
  const std::string& a = w.agents_a[0];
  for (int i = 0; i < 1100; ++i) {
    Reply r = set_presence(d, d.token, a, i % 2 == 0 ? "busy" : "online");
    cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  }
  set_presence(d, d.token, a, "blocked");
  auto h = history_until(d, w, 10);
  cr_assert_eq(h["entries"].Size(), 10u, "%u entries kept", h["entries"].Size());
  cr_assert_str_eq(h["entries"][0]["status"].GetString(), "blocked", "the newest stays");
  cr_assert_str_eq(h["entries"][0]["prev"].GetString(), "online");
  int64_t newest = h["entries"][0]["id"].GetInt64();
  cr_assert_eq(h["entries"][9]["id"].GetInt64(), newest - 9, "the 10 newest, in a row");
  cr_assert(d.wait_log("entries pruned", 2000), "%s", d.log().c_str());
  set_presence(d, d.token, a, "online");
  set_presence(d, d.token, w.agents_b[0], "busy");
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  h = history(d, w);
  cr_assert_eq(h["entries"].Size(), 10u);
  cr_assert_eq(h["entries"][0]["agent_id"].GetString(), w.agents_b[0]);
  cr_assert_eq(roster(d, w)["count"].GetInt(), 2, "pruning the journal leaves presence alone");
}

Test(presence, journal_entries_expire_after_the_retention) {
  TestDaemon d(api_options({"CREWSHIP_JOURNAL_RETENTION=1s", "CREWSHIP_JOURNAL_PRUNE_INTERVAL=100ms"}));
  World w = make_world(d, 1);
  auto t0 = std::chrono::steady_clock::now();
  set_presence(d, d.token, w.agents_a[0], "busy");
  set_presence(d, d.token, w.agents_a[0], "online");
  set_presence(d, d.token, w.agents_b[0], "busy");
  auto h = history(d, w);
  if (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(800))
    cr_assert_eq(h["entries"].Size(), 3u, "younger than the retention, they stay");
  h = history_until(d, w, 0);
  cr_assert_eq(h["entries"].Size(), 0u, "%s", "expired entries went");
  cr_assert_geq(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900), "not before they expired");
  cr_assert_eq(roster(d, w)["count"].GetInt(), 2);
  set_presence(d, d.token, w.agents_a[0], "blocked");
  cr_assert_eq(history(d, w)["entries"].Size(), 1u, "a new entry is kept");
}

Test(presence, crewship_hook) {
  TestDaemon d(api_options());
  World w = make_world(d, 1);
  std::string token = bound_token(d, "crew", w.crew_a);
  std::vector<std::string> env = {"CREWSHIP_SOCKET=" + d.socket, "CREWSHIP_INTERNAL_TOKEN=" + token};
  std::string out;
  int rc = run({hook_binary(), "presence", "busy", "--agent", w.agents_a[0], "--detail", "current_task_id=T-7",
                "--detail", "note=a \"quoted\" = value"}, env, &out);
  cr_assert_eq(rc, 0, "%s", out.c_str());
  auto r = roster(d, w);
  cr_assert_str_eq(r["rows"][0]["details"]["current_task_id"].GetString(), "T-7");
  cr_assert_str_eq(r["rows"][0]["details"]["note"].GetString(), "a \"quoted\" = value");
  cr_assert_eq(run({hook_binary(), "heartbeat", "--agent", w.agents_a[0]}, env, &out), 0, "%s", out.c_str());

  cr_assert_eq(run({hook_binary(), "presence", "busy", "--agent", w.agents_b[0]}, env, &out), 4, "other crew: %s", out.c_str());
  cr_assert(out.find("403") != std::string::npos, "%s", out.c_str());
  cr_assert_eq(run({hook_binary(), "presence", "busy", "--agent", "nope"}, env, &out), 5, "%s", out.c_str());
  cr_assert_eq(run({hook_binary(), "presence", "sleepy", "--agent", "x"}, env, &out), 2);
  cr_assert_eq(run({hook_binary(), "presence", "busy"}, env, &out), 2);
  cr_assert_eq(run({hook_binary(), "presence", "busy", "--agent", "x"}, {"CREWSHIP_SOCKET=" + d.socket}, &out), 2,
               "no token: %s", out.c_str());
  cr_assert_eq(run({hook_binary(), "presence", "busy", "--agent", w.agents_a[0]},
                   {"CREWSHIP_SOCKET=" + d.dir + "/absent.sock", "CREWSHIP_INTERNAL_TOKEN=" + token}, &out), 3);
  cr_assert_eq(run({hook_binary(), "presence", "busy", "--agent", w.agents_a[0]},
                   {"CREWSHIP_SOCKET=" + d.socket, "CREWSHIP_INTERNAL_TOKEN=" + std::string(64, 'a')}, &out), 4);
}

// crewship-hook heartbeat --every keeps an agent busy through a long task,
// and stops cleanly on SIGTERM.
Test(presence, hook_heartbeat_loop) {
  TestDaemon d(api_options({"CREWSHIP_PRESENCE_SWEEP_INTERVAL=100ms", "CREWSHIP_PRESENCE_IDLE_TIMEOUT=500ms"}));
  World w = make_world(d, 1);
  std::vector<std::string> env = {"CREWSHIP_SOCKET=" + d.socket, "CREWSHIP_INTERNAL_TOKEN=" + d.token};
  std::string out;
  cr_assert_eq(run({hook_binary(), "presence", "busy", "--agent", w.agents_a[0]}, env, &out), 0, "%s", out.c_str());
  // timeout(1) sends SIGTERM after 1.5 s; --preserve-status passes the hook's own exit code on.
  int rc = run({"/usr/bin/timeout", "--preserve-status", "1.5", hook_binary(), "heartbeat", "--agent", w.agents_a[0],
                "--every", "100ms"},
               env, &out);
  cr_assert_eq(rc, 0, "heartbeat loop: %d %s", rc, out.c_str());
  auto r = roster(d, w);
  cr_assert_str_eq(r["rows"][0]["status"].GetString(), "busy", "1.5 s > idle timeout, kept alive by heartbeats");
  std::this_thread::sleep_for(std::chrono::milliseconds(900));
  cr_assert_str_eq(roster(d, w)["rows"][0]["status"].GetString(), "offline", "swept once the heartbeats stopped");
}

// SIGKILL under write load loses no acknowledged write.
Test(presence, crash_safety, .timeout = 180) {
  std::string dir = make_temp_dir();
  DaemonOptions o = api_options();
  o.data_dir = dir;
  std::vector<std::string> agents;
  std::string token;
  {
    TestDaemon d(o);
    World w = make_world(d, 10);
    agents = w.agents_a;
    agents.insert(agents.end(), w.agents_b.begin(), w.agents_b.end());
    token = d.token;
    d.stop();
  }
  const char* statuses[] = {"online", "busy", "blocked", "offline"};
  for (int round = 0; round < 3; ++round) {
    TestDaemon d(o);
    cr_assert_gt(d.port, 0, "restart %d failed: %s", round, d.log().c_str());
    std::mutex mu;
    std::map<std::string, std::string> acked;  // agent -> newest acknowledged since
    std::atomic<bool> go{true};
    std::atomic<int> acks{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
      writers.emplace_back([&, t] {
        for (int i = 0; go; ++i) {
          const std::string& agent = agents[(t * 5 + i) % agents.size()];
          std::string body = R"({"agent_id":")" + agent + R"(","status":")" + statuses[i % 4] + "\"}";
          std::string raw = "POST /api/v1/internal/presence HTTP/1.1\r\nHost: t\r\nX-Internal-Token: " + token +
                            "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
          auto r = request_unix(d.socket, raw, 2000);
          if (!r || r->status != 200) continue;  // killed mid-request: not acknowledged
          rapidjson::Document doc;
          doc.Parse(r->body.c_str());
          std::lock_guard lock(mu);
          std::string& newest = acked[agent];
          if (newest < doc["since"].GetString()) newest = doc["since"].GetString();
          ++acks;
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(600 + 200 * round));
    kill(d.pid, SIGKILL);
    go = false;
    for (auto& t : writers) t.join();
    d.wait_exit(5000);
    cr_assert_gt(acks.load(), 50, "round %d: only %d writes acknowledged", round, acks.load());

    sqlite3* db = nullptr;
    cr_assert_eq(sqlite3_open_v2((dir + "/crewship.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, nullptr);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    cr_assert_str_eq(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "ok");
    sqlite3_finalize(s);
    sqlite3_prepare_v2(db, "SELECT since FROM agent_status WHERE agent_id = ?1", -1, &s, nullptr);
    for (const auto& [agent, since] : acked) {
      sqlite3_reset(s);
      sqlite3_bind_text(s, 1, agent.c_str(), -1, SQLITE_TRANSIENT);
      cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "round %d: acknowledged row of %s lost", round, agent.c_str());
      std::string stored = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
      cr_assert_geq(stored, since, "round %d: %s has %s, older than acknowledged %s", round, agent.c_str(),
                    stored.c_str(), since.c_str());
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
  }
  remove_tree(dir);
  unlink((dir + ".log").c_str());
}

namespace {

int64_t db_bytes(const TestDaemon& d) {
  int64_t total = 0;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    struct stat st;
    if (stat((d.dir + "/crewship.db" + suffix).c_str(), &st) == 0) total += st.st_size;
  }
  return total;
}

std::string presence_request(const std::string& token, const std::string& agent, const std::string& status,
                             const std::string& details) {
  std::string body = R"({"agent_id":")" + agent + R"(","status":")" + status + R"(","details":)" + details + "}";
  return "POST /api/v1/internal/presence HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
         "X-Internal-Token: " + token + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

// A container's token that writes as fast as it can, each write a transition
// with 16 KiB of details (so each would be journaled whole), is held to
// CREWSHIP_IPC_RATE: it gets 429s with Retry-After, the database grows by a
// bounded amount, and another crew's writes still go.
Test(presence, bound_token_writes_are_rate_limited, .timeout = 60) {
  TestDaemon d(api_options({"CREWSHIP_IPC_RATE=20", "CREWSHIP_IPC_AGENT_RATE=10"}));
  World w = make_world(d, 3);
  std::string crew_a = bound_token(d, "crew", w.crew_a);
  std::string crew_b = bound_token(d, "crew", w.crew_b);
  std::string details = R"({"note":")" + std::string(16000, 'x') + R"("})";
  int64_t before = db_bytes(d);

  std::atomic<bool> go{true};
  std::atomic<int> ok{0}, limited{0}, other{0};
  std::atomic<bool> retry_after{true};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      // A refusal from the headers closes the connection without reading
      // the body: the flooder connects again, as a real one would.
      std::unique_ptr<Client> c;
      for (int i = 0; go; ++i) {
        if (!c || !c->ok()) c = std::make_unique<Client>(connect_unix(d.socket));
        const std::string& agent = w.agents_a[(t + i) % w.agents_a.size()];
        auto r = c->send(presence_request(crew_a, agent, i % 2 ? "busy" : "online", details))
                     ? c->read(5000)
                     : std::nullopt;
        if (!r || r->header("Connection") == "close") c.reset();
        if (!r) continue;
        if (r->status == 200) {
          ++ok;
        } else if (r->status == 429) {
          ++limited;
          if (!r->header("Retry-After")) retry_after = false;
        } else {
          ++other;
        }
      }
    });
  }
  const int seconds = 3;
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  Reply b = set_presence(d, crew_b, w.agents_b[0], "busy");
  cr_assert_eq(b.status, 200, "another crew's write during the flood: %d %s", b.status, b.body.c_str());
  std::this_thread::sleep_for(std::chrono::milliseconds(1000 * (seconds - 1)));
  go = false;
  for (auto& t : writers) t.join();
  int64_t grown = db_bytes(d) - before;
  cr_log_info("flood: %d taken, %d refused, database grew by %lld bytes", ok.load(), limited.load(),
              static_cast<long long>(grown));

  cr_assert_gt(limited.load(), 100, "the flood was refused (%d refused, %d taken)", limited.load(), ok.load());
  cr_assert(retry_after.load(), "every 429 carries Retry-After");
  cr_assert_eq(other.load(), 0);
  // A burst of two seconds' worth, then 20/s, plus slack for timing.
  cr_assert_leq(ok.load(), 40 + 20 * (seconds + 1), "writes taken: %d", ok.load());
  cr_assert_lt(grown, 8 << 20, "database grew by %lld bytes", static_cast<long long>(grown));
  Reply h = call(d, "GET", "/api/v1/presence/history?workspace_id=" + w.owner.workspace_id + "&crew_id=" + w.crew_a +
                               "&limit=100", w.owner.token);
  cr_assert_leq(json_of(h)["entries"].Size(), static_cast<rapidjson::SizeType>(ok.load()));

  // One agent is limited on its own: a workspace token flooding it is
  // refused for it, not for the agent next to it.
  std::string ws = bound_token(d, "workspace", w.owner.workspace_id);
  int agent_limited = 0;
  std::string detail;
  for (int i = 0; i < 30; ++i) {
    Reply r = set_presence(d, ws, w.agents_b[1], i % 2 ? "busy" : "online");
    if (r.status == 429) {
      ++agent_limited;
      detail = json_of(r)["detail"].GetString();
    }
  }
  cr_assert_gt(agent_limited, 0);
  cr_assert(detail.find("agent") != std::string::npos, "%s", detail.c_str());
  cr_assert_eq(set_presence(d, ws, w.agents_b[2], "busy").status, 200);

  // The master token (the host's runtime) is not limited.
  for (int i = 0; i < 60; ++i) {
    Reply r = set_presence(d, d.token, w.agents_a[0], i % 2 ? "busy" : "online");
    cr_assert_eq(r.status, 200, "master write %d: %d", i, r.status);
  }
}

// Crew-bound tokens are revocable: POST /api/v1/crews/{id}/rotate-token
// (ADMIN and up) moves the crew's token generation on; the old token gets
// 401, the one the daemon now gives the crew's container works, and other
// crews' tokens are untouched.
Test(presence, rotate_crew_token) {
  TestDaemon d(api_options());
  World w = make_world(d, 1);
  std::string old_a = bound_token(d, "crew", w.crew_a), token_b = bound_token(d, "crew", w.crew_b);
  cr_assert_eq(set_presence(d, old_a, w.agents_a[0], "busy").status, 200);
  std::string rotate = "/api/v1/crews/" + w.crew_a + "/rotate-token?workspace_id=" + w.owner.workspace_id;
  for (const char* role : {"MANAGER", "MEMBER", "VIEWER"}) {
    Session s = member(d, w.owner, std::string(role) + "@example.com", role);
    Reply r = call(d, "POST", rotate, s.token);
    cr_assert_eq(r.status, 403, "%s: %d %s", role, r.status, r.body.c_str());
  }
  cr_assert_eq(set_presence(d, old_a, w.agents_a[0], "online").status, 200, "refused rotations changed nothing");
  cr_assert_eq(call(d, "POST", "/api/v1/crews/nope/rotate-token?workspace_id=" + w.owner.workspace_id, w.owner.token).status,
               404);

  Reply r = call(d, "POST", rotate, w.owner.token);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  cr_assert_str_eq(json_of(r)["id"].GetString(), w.crew_a.c_str());
  cr_assert_eq(json_of(r)["token_generation"].GetInt64(), 1);
  Reply refused = set_presence(d, old_a, w.agents_a[0], "busy");
  cr_assert_eq(refused.status, 401, "the old token: %d %s", refused.status, refused.body.c_str());
  std::string new_a = bound_token(d, "crew", w.crew_a);
  cr_assert_neq(new_a, old_a);
  cr_assert_eq(set_presence(d, new_a, w.agents_a[0], "busy").status, 200);
  cr_assert_eq(set_presence(d, token_b, w.agents_b[0], "busy").status, 200, "another crew's token");
  Session admin = member(d, w.owner, "admin@example.com", "ADMIN");
  cr_assert_eq(call(d, "POST", rotate, admin.token).status, 200);
  cr_assert_eq(set_presence(d, new_a, w.agents_a[0], "online").status, 401);
  cr_assert_eq(set_presence(d, bound_token(d, "crew", w.crew_a), w.agents_a[0], "online").status, 200);
}
