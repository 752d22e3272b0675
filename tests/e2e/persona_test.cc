// Persona layers end to end: resolution (agent layer, crew layer, the
// synthesised stub), the files on disk outside the crew's mount, atomic
// writes under concurrency with an unbroken history chain, the cap in
// bytes, history paging, the roles, agents' tokens, tenancy, and the
// self-learning flag.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "tests/support/api.h"

using namespace crewship::test;

namespace {

struct World {
  Session owner;
  std::string ws, crew, agent;
};

World make_world(const TestDaemon& d) {
  World w;
  w.owner = bootstrap(d);
  w.ws = w.owner.workspace_id;
  w.crew = create_id(d, w.owner.token, "/api/v1/crews?workspace_id=" + w.ws, R"({"name":"Core","slug":"core"})");
  w.agent = create_id(d, w.owner.token, "/api/v1/agents?workspace_id=" + w.ws,
                      R"({"name":"Ann","slug":"ann","role_title":"Senior Developer","crew_id":")" + w.crew + R"("})");
  return w;
}

struct Staff {
  Session admin, manager, viewer;
};
Staff staff(const TestDaemon& d, const World& w) {
  return {member(d, w.owner, "admin@example.com", "ADMIN"), member(d, w.owner, "manager@example.com", "MANAGER"),
          member(d, w.owner, "viewer@example.com", "VIEWER")};
}

std::string agent_path(const World& w, const std::string& tail = "", const std::string& query = "") {
  return "/api/v1/agents/" + w.agent + "/persona" + tail + "?workspace_id=" + w.ws + query;
}
std::string crew_path(const World& w) { return "/api/v1/crews/" + w.crew + "/persona?workspace_id=" + w.ws; }
std::string learning_path(const World& w) { return "/api/v1/agents/" + w.agent + "/learning?workspace_id=" + w.ws; }

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}
std::string content_body(std::string_view content) { return "{\"content\":" + json_string(content) + "}"; }

rapidjson::Document persona(const TestDaemon& d, const World& w, const Session& s) {
  Reply r = call(d, "GET", agent_path(w), s.token);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  return json_of(r);
}

Reply put(const TestDaemon& d, const std::string& path, const Session& s, std::string_view content) {
  return call(d, "PUT", path, s.token, content_body(content));
}

std::string agent_file(const TestDaemon& d, const World& w) {
  return d.dir + "/memory/agents/" + w.agent + "/PERSONA.md";
}

// Files in dir (not below) whose names hold ".tmp-".
std::vector<std::string> temp_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec))
    if (it->path().filename().string().find(".tmp-") != std::string::npos) out.push_back(it->path());
  return out;
}

}  // namespace

TestSuite(persona, .timeout = 120);

Test(persona, layers_resolve_agent_then_crew_then_stub) {
  TestDaemon d(api_options());
  World w = make_world(d);

  auto stub = persona(d, w, w.owner);
  cr_assert_str_eq(stub["agent_id"].GetString(), w.agent.c_str());
  cr_assert_str_eq(stub["layer"].GetString(), "crew", "the stub reports the crew layer");
  cr_assert(stub["from_default"].GetBool());
  std::string text = stub["content"].GetString();
  cr_assert(text.starts_with("You are the Senior Developer"), "%s", text.c_str());
  cr_assert_eq(stub["bytes"].GetInt64(), static_cast<int64_t>(text.size()));
  cr_assert_eq(stub["cap_bytes"].GetInt(), 1500);
  // Resetting layers never written (no directory either) is a 204 too.
  Reply never = call(d, "DELETE", agent_path(w), w.owner.token);
  cr_assert_eq(never.status, 204, "%s", never.body.c_str());
  Reply never_crew = call(d, "DELETE", crew_path(w), w.owner.token);
  cr_assert_eq(never_crew.status, 204, "%s", never_crew.body.c_str());

  Reply crew_put = put(d, crew_path(w), w.owner, "# Core crew\nShip small changes.\n");
  cr_assert_eq(crew_put.status, 200, "%s", crew_put.body.c_str());
  cr_assert_str_eq(json_of(crew_put)["layer"].GetString(), "crew");
  auto crew_get = json_of(call(d, "GET", crew_path(w), w.owner.token));
  cr_assert_str_eq(crew_get["crew_id"].GetString(), w.crew.c_str());
  cr_assert_str_eq(crew_get["content"].GetString(), "# Core crew\nShip small changes.\n");
  cr_assert_not(crew_get["from_default"].GetBool());
  auto via_crew = persona(d, w, w.owner);
  cr_assert_str_eq(via_crew["layer"].GetString(), "crew");
  cr_assert_not(via_crew["from_default"].GetBool());
  cr_assert_str_eq(via_crew["content"].GetString(), "# Core crew\nShip small changes.\n");

  Reply agent_put = put(d, agent_path(w), w.owner, "# Ann\nBackend services.\n");
  cr_assert_eq(agent_put.status, 200, "%s", agent_put.body.c_str());
  auto written = json_of(agent_put);
  cr_assert_str_eq(written["layer"].GetString(), "agent");
  cr_assert_eq(written["bytes"].GetInt(), 24);
  cr_assert(written["updated"].IsString());
  auto own = persona(d, w, w.owner);
  cr_assert_str_eq(own["layer"].GetString(), "agent");
  cr_assert_str_eq(own["content"].GetString(), "# Ann\nBackend services.\n");
  cr_assert_eq(own["bytes"].GetInt(), 24);

  cr_assert_eq(call(d, "DELETE", agent_path(w), w.owner.token).status, 204);
  cr_assert_eq(call(d, "DELETE", agent_path(w), w.owner.token).status, 204, "a reset of nothing is fine");
  cr_assert_str_eq(persona(d, w, w.owner)["layer"].GetString(), "crew");
  cr_assert_eq(call(d, "DELETE", crew_path(w), w.owner.token).status, 204);
  auto back = persona(d, w, w.owner);
  cr_assert(back["from_default"].GetBool());
  cr_assert_str_eq(back["content"].GetString(), text.c_str());
  auto crew_unset = json_of(call(d, "GET", crew_path(w), w.owner.token));
  cr_assert(crew_unset["from_default"].GetBool());
  cr_assert_str_eq(crew_unset["content"].GetString(), "");

  // An agent without a crew, or without a role title, still gets a stub.
  std::string loner = create_id(d, w.owner.token, "/api/v1/agents?workspace_id=" + w.ws, R"({"name":"Lone Wolf","slug":"lone"})");
  auto l = json_of(call(d, "GET", "/api/v1/agents/" + loner + "/persona?workspace_id=" + w.ws, w.owner.token));
  cr_assert(l["from_default"].GetBool());
  cr_assert(std::string(l["content"].GetString()).starts_with("You are the Lone Wolf"));

  auto writes = audit_of(d, w.owner, "persona.write");
  cr_assert_eq(writes.Size(), 2u);
  cr_assert_str_eq(writes[0]["target_type"].GetString(), "agent");
  cr_assert_str_eq(writes[0]["target_id"].GetString(), w.agent.c_str());
  cr_assert_str_eq(writes[0]["actor_user_id"].GetString(), w.owner.user_id.c_str());
  cr_assert_str_eq(writes[1]["target_type"].GetString(), "crew");
  cr_assert_eq(audit_of(d, w.owner, "persona.reset").Size(), 5u);
}

Test(persona, files_live_outside_the_crew_mount_and_writes_are_atomic) {
  TestDaemon d(api_options());
  World w = make_world(d);
  cr_assert_eq(put(d, agent_path(w), w.owner, "first version\n").status, 200);
  cr_assert_eq(read_file(agent_file(d, w)), "first version\n");
  cr_assert(files_holding(d.dir + "/memory", "first version").size() == 1);
  cr_assert(files_holding(d.dir + "/storage", "first version").empty(), "nothing under the crew's /output");

  // Concurrent writers: each answer is 200, the file is one of the bodies
  // whole, no temporary file stays, and the history is one chain whose head
  // is what the file holds.
  constexpr int kWriters = 8;
  std::vector<std::string> bodies;
  for (int i = 0; i < kWriters; ++i) bodies.push_back("writer " + std::to_string(i) + " " + std::string(1000, 'a' + i) + "\n");
  std::vector<int> statuses(kWriters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i)
    threads.emplace_back([&, i] { statuses[i] = put(d, agent_path(w), w.owner, bodies[i]).status; });
  for (auto& t : threads) t.join();
  for (int s : statuses) cr_assert_eq(s, 200);
  std::string now = read_file(agent_file(d, w));
  cr_assert(std::find(bodies.begin(), bodies.end(), now) != bodies.end(), "the file is one whole body");
  cr_assert(temp_files(d.dir + "/memory/agents/" + w.agent).empty());

  auto h = json_of(call(d, "GET", agent_path(w, "/history", "&limit=100"), w.owner.token));
  auto& e = h["entries"];
  cr_assert_eq(e.Size(), static_cast<unsigned>(kWriters + 1));
  cr_assert_eq(std::string(e[0]["sha256"].GetString()), sha256_hex(now), "the newest version is on disk");
  for (unsigned i = 0; i + 1 < e.Size(); ++i)
    cr_assert_str_eq(e[i]["parent_sha"].GetString(), e[i + 1]["sha256"].GetString(), "entry %u's parent", i);
  cr_assert_not(e[e.Size() - 1].HasMember("parent_sha"), "the chain starts with no parent");
  cr_assert_eq(std::string(e[kWriters]["sha256"].GetString()), sha256_hex("first version\n"));
  // The file is private to the daemon.
  cr_assert_eq(std::filesystem::status(agent_file(d, w)).permissions() & std::filesystem::perms::all,
               std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

Test(persona, cap_is_in_bytes_and_bad_input_changes_nothing) {
  TestDaemon d(api_options());
  World w = make_world(d);
  cr_assert_eq(put(d, agent_path(w), w.owner, std::string(1500, 'x')).status, 200, "the cap itself is fine");
  expect_problem(put(d, agent_path(w), w.owner, std::string(1501, 'y')), 413, "1500");
  std::string e_acute = "\xc3\xa9";
  std::string wide;
  for (int i = 0; i < 751; ++i) wide += e_acute;  // 751 characters, 1502 bytes
  expect_problem(put(d, agent_path(w), w.owner, wide), 413, "bytes");
  expect_problem(put(d, crew_path(w), w.owner, std::string(1501, 'z')), 413, "1500");
  expect_problem(call(d, "PUT", agent_path(w), w.owner.token, "{}"), 400, "content");
  expect_problem(call(d, "PUT", agent_path(w), w.owner.token, R"({"content":null})"), 400, "content");
  expect_problem(call(d, "PUT", agent_path(w), w.owner.token, R"({"content":5})"), 400, "content");
  expect_problem(call(d, "PUT", agent_path(w), w.owner.token, R"({"content":""})"), 400, "content");
  expect_problem(call(d, "PUT", agent_path(w), w.owner.token, "{"), 400, "JSON");
  cr_assert_eq(read_file(agent_file(d, w)), std::string(1500, 'x'), "the refused writes left the file");
  auto h = json_of(call(d, "GET", agent_path(w, "/history"), w.owner.token));
  cr_assert_eq(h["entries"].Size(), 1u);
  cr_assert_eq(audit_of(d, w.owner, "persona.write").Size(), 1u);
  cr_assert_not(std::filesystem::exists(d.dir + "/memory/crews/" + w.crew + "/PERSONA.md"));
  cr_assert(temp_files(d.dir + "/memory/agents/" + w.agent).empty());
}

Test(persona, history_pages_newest_first_without_content) {
  TestDaemon d(api_options());
  World w = make_world(d);
  for (int i = 0; i < 25; ++i)
    cr_assert_eq(put(d, agent_path(w), w.owner, "version " + std::to_string(i)).status, 200);
  auto first = json_of(call(d, "GET", agent_path(w, "/history"), w.owner.token));
  auto& page = first["entries"];
  cr_assert_eq(page.Size(), 20u, "20 by default");
  cr_assert_eq(std::string(page[0]["sha256"].GetString()), sha256_hex("version 24"));
  cr_assert_eq(page[0]["bytes"].GetInt(), 10);
  cr_assert_str_eq(page[0]["written_by"].GetString(), w.owner.user_id.c_str());
  cr_assert(page[0]["id"].IsString() && page[0]["written_at"].IsString());
  cr_assert_not(page[0].HasMember("content"));
  auto all = json_of(call(d, "GET", agent_path(w, "/history", "&limit=1000"), w.owner.token));
  cr_assert_eq(all["entries"].Size(), 25u, "a limit over 100 is clamped, not refused");
  auto tail = json_of(call(d, "GET", agent_path(w, "/history", "&limit=10&offset=20"), w.owner.token));
  cr_assert_eq(tail["entries"].Size(), 5u);
  cr_assert_eq(std::string(tail["entries"][4]["sha256"].GetString()), sha256_hex("version 0"));
  cr_assert_not(tail["entries"][4].HasMember("parent_sha"));
  cr_assert_eq(std::string(tail["entries"][3]["parent_sha"].GetString()), sha256_hex("version 0"));
  expect_problem(call(d, "GET", agent_path(w, "/history", "&limit=0"), w.owner.token), 400, "limit");
  expect_problem(call(d, "GET", agent_path(w, "/history", "&offset=-1"), w.owner.token), 400, "offset");
  // Crew layer writes are another file's history.
  cr_assert_eq(put(d, crew_path(w), w.owner, "crew").status, 200);
  cr_assert_eq(json_of(call(d, "GET", agent_path(w, "/history", "&limit=100"), w.owner.token))["entries"].Size(), 25u);
}

Test(persona, roles_agent_tokens_and_tenancy) {
  TestDaemon d(api_options());
  World w = make_world(d);
  auto [admin, manager, viewer] = staff(d, w);
  cr_assert_eq(call(d, "GET", agent_path(w), viewer.token).status, 200);
  cr_assert_eq(call(d, "GET", agent_path(w, "/history"), viewer.token).status, 200);
  cr_assert_eq(call(d, "GET", crew_path(w), viewer.token).status, 200);
  expect_problem(put(d, agent_path(w), manager, "mine"), 403, "ADMIN");
  expect_problem(put(d, agent_path(w), viewer, "mine"), 403, "ADMIN");
  expect_problem(call(d, "DELETE", agent_path(w), manager.token), 403, "ADMIN");
  expect_problem(put(d, crew_path(w), manager, "ours"), 403, "ADMIN");
  expect_problem(call(d, "DELETE", crew_path(w), manager.token), 403, "ADMIN");
  cr_assert_eq(put(d, agent_path(w), admin, "by the admin").status, 200);
  cr_assert_eq(put(d, crew_path(w), admin, "crew by the admin").status, 200);

  // The agent's own token, or any internal token, never writes directly.
  std::string ipc_path = "/api/v1/internal/agents/" + w.agent + "/persona";
  expect_problem(ipc_call(d, "PUT", ipc_path, content_body("I am free"), bound_token(d, "crew", w.crew)), 403, "suggest");
  expect_problem(ipc_call(d, "PUT", ipc_path, content_body("I am free"), bound_token(d, "workspace", w.ws)), 403,
                 "operators");
  expect_problem(ipc_call(d, "PUT", ipc_path, content_body("I am free")), 403, "operators");
  cr_assert_eq(read_file(agent_file(d, w)), "by the admin");
  cr_assert(files_holding(d.dir, "I am free").empty());

  // Another workspace sees nothing of these, and its ids are not found here.
  Session other = signup(d, "other@example.com");
  std::string other_ws = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  std::string other_crew = create_id(d, other.token, "/api/v1/crews?workspace_id=" + other_ws, R"({"name":"Oz","slug":"oz"})");
  std::string mine = "?workspace_id=" + other_ws;
  expect_problem(call(d, "GET", "/api/v1/agents/" + w.agent + "/persona" + mine, other.token), 404, "agent");
  expect_problem(call(d, "PUT", "/api/v1/agents/" + w.agent + "/persona" + mine, other.token, content_body("x")), 404,
                 "agent");
  expect_problem(call(d, "DELETE", "/api/v1/agents/" + w.agent + "/persona" + mine, other.token), 404, "agent");
  expect_problem(call(d, "GET", "/api/v1/agents/" + w.agent + "/persona/history" + mine, other.token), 404, "agent");
  expect_problem(call(d, "GET", "/api/v1/crews/" + w.crew + "/persona" + mine, other.token), 404, "crew");
  expect_problem(call(d, "PUT", "/api/v1/crews/" + w.crew + "/persona" + mine, other.token, content_body("x")), 404,
                 "crew");
  expect_problem(call(d, "GET", "/api/v1/crews/" + other_crew + "/persona?workspace_id=" + w.ws, w.owner.token), 404,
                 "crew");
  expect_problem(call(d, "GET", agent_path(w), other.token), 403, "member");
  expect_problem(call(d, "GET", "/api/v1/agents/nope/persona?workspace_id=" + w.ws, w.owner.token), 404, "agent");
  cr_assert_eq(read_file(agent_file(d, w)), "by the admin");
}

Test(persona, self_learning_flag) {
  TestDaemon d(api_options());
  World w = make_world(d);
  auto [admin, manager, viewer] = staff(d, w);

  Reply fresh = call(d, "GET", learning_path(w), viewer.token);
  cr_assert_eq(fresh.status, 200, "%s", fresh.body.c_str());
  auto f = json_of(fresh);
  cr_assert_str_eq(f["agent_id"].GetString(), w.agent.c_str());
  cr_assert_not(f["enabled"].GetBool(), "off by default");
  cr_assert_not(f.HasMember("set_by_user_id") || f.HasMember("set_at") || f.HasMember("reason"));

  for (const char* body : {R"({"reason":"why not"})", R"({"enabled":null,"reason":"why not"})",
                           R"({"enabled":"yes","reason":"why not"})"})
    expect_problem(call(d, "PATCH", learning_path(w), admin.token, body), 400, "enabled");
  for (const char* body : {R"({"enabled":true})", R"({"enabled":true,"reason":"  \t "})", R"({"enabled":true,"reason":null})"})
    expect_problem(call(d, "PATCH", learning_path(w), admin.token, body), 400, "reason");
  expect_problem(call(d, "PATCH", learning_path(w), manager.token, R"({"enabled":true,"reason":"trust"})"), 403, "ADMIN");
  expect_problem(call(d, "PATCH", learning_path(w), viewer.token, R"({"enabled":true,"reason":"trust"})"), 403, "ADMIN");
  cr_assert_not(json_of(call(d, "GET", learning_path(w), viewer.token)).HasMember("set_at"), "refusals changed nothing");

  Reply on = call(d, "PATCH", learning_path(w), admin.token, R"({"enabled":true,"reason":"  cleared 50 approvals  "})");
  cr_assert_eq(on.status, 200, "%s", on.body.c_str());
  auto o = json_of(on);
  cr_assert(o["enabled"].GetBool());
  cr_assert_str_eq(o["set_by_user_id"].GetString(), admin.user_id.c_str());
  cr_assert_str_eq(o["reason"].GetString(), "cleared 50 approvals");
  cr_assert(o["set_at"].IsString());
  auto g = json_of(call(d, "GET", learning_path(w), viewer.token));
  cr_assert(g["enabled"].GetBool());
  cr_assert_str_eq(g["set_at"].GetString(), o["set_at"].GetString());
  cr_assert_eq(sql_column(d, "SELECT self_learning_enabled FROM agents WHERE id = '" + w.agent + "'")[0], "1");

  Reply off = call(d, "PATCH", learning_path(w), w.owner.token, R"({"enabled":false,"reason":"too eager"})");
  cr_assert_eq(off.status, 200, "%s", off.body.c_str());
  cr_assert_not(json_of(off)["enabled"].GetBool());
  cr_assert_str_eq(json_of(off)["set_by_user_id"].GetString(), w.owner.user_id.c_str());
  auto sets = audit_of(d, w.owner, "learning.set");
  cr_assert_eq(sets.Size(), 2u);
  cr_assert_str_eq(sets[1]["actor_user_id"].GetString(), admin.user_id.c_str());
  cr_assert_str_eq(sets[1]["target_id"].GetString(), w.agent.c_str());

  Session other = signup(d, "other@example.com");
  std::string other_ws = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  std::string foreign = "/api/v1/agents/" + w.agent + "/learning?workspace_id=" + other_ws;
  expect_problem(call(d, "GET", foreign, other.token), 404, "agent");
  expect_problem(call(d, "PATCH", foreign, other.token, R"({"enabled":true,"reason":"mine now"})"), 404, "agent");
  expect_problem(call(d, "PATCH", "/api/v1/agents/nope/learning?workspace_id=" + w.ws, w.owner.token,
                      R"({"enabled":true,"reason":"x"})"),
                 404, "agent");
  cr_assert_not(json_of(call(d, "GET", learning_path(w), w.owner.token))["enabled"].GetBool());
}

namespace {

std::string suggest_path(const World& w) { return agent_path(w, "/suggest"); }

void set_autonomy(const TestDaemon& d, const World& w, const std::string& level) {
  Reply r = call(d, "PATCH", "/api/v1/crews/" + w.crew + "?workspace_id=" + w.ws, w.owner.token,
                 R"({"autonomy_level":")" + level + R"("})");
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
}

void set_self_learning(const TestDaemon& d, const World& w, bool on) {
  Reply r = call(d, "PATCH", learning_path(w), w.owner.token,
                 std::string(R"({"enabled":)") + (on ? "true" : "false") + R"(,"reason":"test"})");
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
}

std::string suggestion(std::string_view content, std::string_view rationale) {
  return "{\"content\":" + json_string(content) + ",\"rationale\":" + json_string(rationale) + "}";
}

// Asserts a queued answer for content.
void expect_queued(const Reply& r, const World& w, std::string_view content, bool gated_off) {
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  auto j = json_of(r);
  cr_assert_str_eq(j["agent_id"].GetString(), w.agent.c_str());
  cr_assert_str_eq(j["decision"].GetString(), "inbox_approve");
  cr_assert(j["pending"].GetBool());
  cr_assert_not(j["applied"].GetBool());
  cr_assert_eq(j["bytes"].GetInt64(), static_cast<int64_t>(content.size()));
  cr_assert(j["timestamp"].IsString());
  cr_assert_not(j.HasMember("inbox_id") || j.HasMember("inbox_item_id"), "no inbox id in the answer");
  if (gated_off) {
    cr_assert_str_eq(j["self_learning_gate"].GetString(), "off");
  } else {
    cr_assert_not(j.HasMember("self_learning_gate"));
  }
}

std::vector<std::string> inbox_rows(const TestDaemon& d, const World& w) {
  return sql_column(d, "SELECT kind || ' ' || status || ' ' || blocking || ' ' || json_extract(payload, '$.content')"
                       " FROM inbox_items WHERE agent_id = '" + w.agent + "' ORDER BY created_at, rowid");
}

}  // namespace

Test(persona, suggestions_follow_the_crews_autonomy) {
  TestDaemon d(api_options());
  World w = make_world(d);
  auto [admin, manager, viewer] = staff(d, w);
  for (const char* level : {"strict", "guided", "trusted"}) {
    set_autonomy(d, w, level);
    std::string content = std::string("# Proposal under ") + level;
    Reply r = call(d, "POST", suggest_path(w), manager.token, suggestion(content, "on-call rotation"));
    expect_queued(r, w, content, false);
    cr_assert_str_eq(json_of(r)["rationale"].GetString(), "on-call rotation");
  }
  cr_assert(persona(d, w, w.owner)["from_default"].GetBool(), "nothing applied");
  cr_assert_not(std::filesystem::exists(agent_file(d, w)));
  auto rows = inbox_rows(d, w);
  cr_assert_eq(rows.size(), 3u);
  cr_assert_str_eq(rows[0].c_str(), "persona_suggestion open 0 # Proposal under strict");
  cr_assert_str_eq(rows[2].c_str(), "persona_suggestion open 0 # Proposal under trusted");
  auto pending = audit_of(d, w.owner, "persona.suggest_pending");
  cr_assert_eq(pending.Size(), 3u);
  cr_assert_str_eq(pending[0]["target_id"].GetString(), w.agent.c_str());
  cr_assert_str_eq(pending[0]["actor_user_id"].GetString(), manager.user_id.c_str());
  auto ids = sql_column(d, "SELECT id FROM inbox_items WHERE agent_id = '" + w.agent + "' ORDER BY created_at, rowid");
  cr_assert_eq(std::string(pending[0]["details"]["inbox_item_id"].GetString()), ids[2],
               "the audit row names the inbox item");
  cr_assert_str_eq(pending[0]["details"]["decision"].GetString(), "inbox_approve");

  // Full autonomy applies, but only with self-learning on.
  set_autonomy(d, w, "full");
  expect_queued(call(d, "POST", suggest_path(w), manager.token, suggestion("# Gated", "x")), w, "# Gated", true);
  cr_assert_eq(inbox_rows(d, w).size(), 4u);
  cr_assert_not(std::filesystem::exists(agent_file(d, w)));
  set_self_learning(d, w, true);
  // A MANAGER may not PUT the persona, so its suggestion waits even now.
  expect_queued(call(d, "POST", suggest_path(w), manager.token, suggestion("# By a manager", "x")), w,
                "# By a manager", false);
  cr_assert_eq(inbox_rows(d, w).size(), 5u);
  Reply applied = call(d, "POST", suggest_path(w), w.owner.token, suggestion("# Applied\n", "learned"));
  cr_assert_eq(applied.status, 200, "%s", applied.body.c_str());
  auto a = json_of(applied);
  cr_assert_str_eq(a["decision"].GetString(), "auto_journal");
  cr_assert(a["applied"].GetBool());
  cr_assert_not(a.HasMember("pending") && a["pending"].GetBool());
  cr_assert_not(a.HasMember("self_learning_gate"));
  auto now = persona(d, w, w.owner);
  cr_assert_str_eq(now["layer"].GetString(), "agent");
  cr_assert_str_eq(now["content"].GetString(), "# Applied\n");
  cr_assert_eq(inbox_rows(d, w).size(), 5u, "no inbox item for an applied one");
  auto h = json_of(call(d, "GET", agent_path(w, "/history"), w.owner.token));
  cr_assert_eq(h["entries"].Size(), 1u);
  cr_assert_str_eq(h["entries"][0]["written_by"].GetString(), w.owner.user_id.c_str());
  cr_assert_eq(audit_of(d, w.owner, "persona.suggest_applied").Size(), 1u);
  cr_assert_eq(audit_of(d, w.owner, "persona.write").Size(), 0u, "a suggestion is no direct write");

  // Bad input and roles change nothing.
  expect_problem(call(d, "POST", suggest_path(w), manager.token, "{}"), 400, "content");
  expect_problem(call(d, "POST", suggest_path(w), manager.token, R"({"content":""})"), 400, "content");
  expect_problem(call(d, "POST", suggest_path(w), manager.token, suggestion(std::string(1501, 'x'), "big")), 413, "1500");
  expect_problem(call(d, "POST", suggest_path(w), manager.token, R"({"content":"ok","rationale":7})"), 400, "rationale");
  expect_problem(call(d, "POST", suggest_path(w), viewer.token, suggestion("mine", "x")), 403, "MANAGER");
  Session other = signup(d, "other@example.com");
  std::string other_ws = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  expect_problem(call(d, "POST", "/api/v1/agents/" + w.agent + "/persona/suggest?workspace_id=" + other_ws, other.token,
                      suggestion("hijack", "x")),
                 404, "agent");
  cr_assert_str_eq(persona(d, w, w.owner)["content"].GetString(), "# Applied\n");
  cr_assert_eq(inbox_rows(d, w).size(), 5u);
}

// What a killed daemon staged and never placed is removed at the next start;
// the layers themselves, and files of other names, stay.
Test(persona, staged_files_a_killed_daemon_left_are_removed_at_start) {
  std::string dir = make_temp_dir();
  std::string agent_dir = dir + "/memory/agents/a1", peers = agent_dir + "/peers";
  std::filesystem::create_directories(peers);
  { std::ofstream(agent_dir + "/PERSONA.md") << "kept\n"; }
  { std::ofstream(agent_dir + "/.PERSONA.md.tmp-0123abcd") << "half a write\n"; }
  { std::ofstream(peers + "/.u1.md.tmp-89abcdef") << "half a card\n"; }
  { std::ofstream(peers + "/notes.tmp-1") << "not ours\n"; }
  DaemonOptions o = api_options();
  o.data_dir = dir;
  {
    TestDaemon d(o);
    cr_assert(d.started());
    cr_assert(temp_files(agent_dir).empty(), "staged persona left");
    cr_assert_not(std::filesystem::exists(peers + "/.u1.md.tmp-89abcdef"), "staged peer card left");
    cr_assert_eq(read_file(agent_dir + "/PERSONA.md"), "kept\n");
    cr_assert(std::filesystem::exists(peers + "/notes.tmp-1"), "a file of another name is not swept");
  }
  remove_tree(dir);
}

// The policy is read once to decide and again inside the write: a crew made
// stricter in between lets nothing through. The test holds the database's
// write lock, so the decision is taken (readers still see "full") while the
// write waits, and commits the stricter policy before letting it go.
Test(persona, a_policy_made_stricter_before_the_write_applies_nothing) {
  TestDaemon d(api_options());
  World w = make_world(d);
  set_autonomy(d, w, "full");
  set_self_learning(d, w, true);
  sqlite3* db = nullptr;
  cr_assert_eq(sqlite3_open_v2((d.dir + "/crewship.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  std::string hold = "BEGIN IMMEDIATE; UPDATE crews SET autonomy_level = 'strict' WHERE id = '" + w.crew + "';";
  cr_assert_eq(sqlite3_exec(db, hold.c_str(), nullptr, nullptr, nullptr), SQLITE_OK, "%s", sqlite3_errmsg(db));
  Reply r;
  std::thread proposer([&] { r = call(d, "POST", suggest_path(w), w.owner.token, suggestion("# Too late\n", "x")); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  cr_assert_eq(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK, "%s", sqlite3_errmsg(db));
  proposer.join();
  sqlite3_close(db);
  expect_problem(r, 409, "autonomy");
  cr_assert(persona(d, w, w.owner)["from_default"].GetBool(), "nothing applied");
  cr_assert_not(std::filesystem::exists(agent_file(d, w)));
  cr_assert(files_holding(d.dir + "/memory", "Too late").empty(), "no staged file left behind");
  cr_assert_eq(json_of(call(d, "GET", agent_path(w, "/history"), w.owner.token))["entries"].Size(), 0u);
  cr_assert_eq(audit_of(d, w.owner, "persona.suggest_applied").Size(), 0u);
  // Sent again, it is queued under the new policy.
  expect_queued(call(d, "POST", suggest_path(w), w.owner.token, suggestion("# Too late\n", "x")), w, "# Too late\n",
                false);
}

Test(persona, agents_suggest_over_ipc_with_their_crew_token) {
  TestDaemon d(api_options());
  World w = make_world(d);
  std::string token = bound_token(d, "crew", w.crew);
  std::string ipc_path = "/api/v1/internal/agents/" + w.agent + "/persona/suggest";
  expect_queued(ipc_call(d, "POST", ipc_path, suggestion("# From the agent", "I learned"), token), w,
                "# From the agent", false);
  auto pending = audit_of(d, w.owner, "persona.suggest_pending");
  cr_assert_eq(pending.Size(), 1u);
  cr_assert(pending[0]["actor_user_id"].IsNull(), "no user: the agent proposed");
  cr_assert_str_eq(json_of(call(d, "GET", "/api/v1/audit?workspace_id=" + w.ws, w.owner.token))[0]["action"].GetString(),
                   "persona.suggest_pending");

  // Another crew's token, or another crew's agent, is refused.
  std::string crew_b = create_id(d, w.owner.token, "/api/v1/crews?workspace_id=" + w.ws, R"({"name":"Bee","slug":"bee"})");
  std::string agent_b = create_id(d, w.owner.token, "/api/v1/agents?workspace_id=" + w.ws,
                                  R"({"name":"Bob","slug":"bob","crew_id":")" + crew_b + R"("})");
  expect_problem(ipc_call(d, "POST", ipc_path, suggestion("x", "y"), bound_token(d, "crew", crew_b)), 403, "may not");
  expect_problem(ipc_call(d, "POST", "/api/v1/internal/agents/" + agent_b + "/persona/suggest", suggestion("x", "y"), token),
                 403, "may not");
  expect_problem(ipc_call(d, "POST", ipc_path, "{}", token), 400, "content");
  expect_problem(ipc_call(d, "POST", ipc_path, suggestion(std::string(1501, 'x'), "y"), token), 413, "1500");
  cr_assert_eq(inbox_rows(d, w).size(), 1u, "the refusals queued nothing");

  // With full autonomy and self-learning on, the agent's own proposal lands,
  // written by the agent.
  set_autonomy(d, w, "full");
  set_self_learning(d, w, true);
  Reply applied = ipc_call(d, "POST", ipc_path, suggestion("# Learned\n", "three reviews said so"), token);
  cr_assert_eq(applied.status, 200, "%s", applied.body.c_str());
  cr_assert(json_of(applied)["applied"].GetBool());
  cr_assert_eq(read_file(agent_file(d, w)), "# Learned\n");
  auto h = json_of(call(d, "GET", agent_path(w, "/history"), w.owner.token));
  cr_assert_str_eq(h["entries"][0]["written_by"].GetString(), w.agent.c_str());
  auto applied_rows = audit_of(d, w.owner, "persona.suggest_applied");
  cr_assert_eq(applied_rows.Size(), 1u);
  cr_assert(applied_rows[0]["actor_user_id"].IsNull());
  // The direct write stays closed to the same token.
  expect_problem(ipc_call(d, "PUT", "/api/v1/internal/agents/" + w.agent + "/persona", content_body("# Mine"), token), 403,
                 "suggest");
  cr_assert_eq(read_file(agent_file(d, w)), "# Learned\n");
}
