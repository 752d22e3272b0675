// Agents end to end: the agent object's shape, create/get/list/update/soft
// delete, the role each route needs and the per-agent edit gate, LEAD and
// slug rules, bad input, tenancy between two workspaces, pagination, and the
// crews-status and agent-load aggregates, and the agent's log across a crew change.
#include <algorithm>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "daemon/dirs.h"
#include "tests/support/api.h"

using namespace crewship::test;

namespace {

std::string q(const std::string& ws) { return "?workspace_id=" + ws; }
std::string agents_of(const std::string& ws, const std::string& extra = "") {
  return "/api/v1/agents" + q(ws) + extra;
}
std::string agent_of(const std::string& ws, const std::string& id) {
  return "/api/v1/agents/" + id + q(ws);
}

std::vector<std::string> ids_of(const rapidjson::Document& list) { return members_of(list, "id"); }

size_t count_agents(const TestDaemon& d, const Session& s, const std::string& ws) {
  return list_of(d, agents_of(ws, "&limit=100"), s.token).Size();
}

std::string make_crew(const TestDaemon& d, const Session& s, const std::string& ws,
                      const std::string& slug, const std::string& extra = "") {
  Reply r = call(d, "POST", "/api/v1/crews" + q(ws), s.token,
                 R"({"name":"Crew )" + slug + R"(","slug":")" + slug + "\"" + extra + "}");
  cr_assert_eq(r.status, 201, "create crew %s: %d %s", slug.c_str(), r.status, r.body.c_str());
  return json_of(r)["id"].GetString();
}

// POST /api/v1/agents {name, slug, ...extra}.
Reply post_agent(const TestDaemon& d, const Session& s, const std::string& ws,
                 const std::string& slug, const std::string& extra = "") {
  return call(d, "POST", agents_of(ws), s.token,
              R"({"name":"Agent )" + slug + R"(","slug":")" + slug + "\"" + extra + "}");
}

std::string make_agent(const TestDaemon& d, const Session& s, const std::string& ws,
                       const std::string& slug, const std::string& extra = "") {
  Reply r = post_agent(d, s, ws, slug, extra);
  cr_assert_eq(r.status, 201, "create agent %s: %d %s", slug.c_str(), r.status, r.body.c_str());
  return json_of(r)["id"].GetString();
}

rapidjson::Document get_agent(const TestDaemon& d, const Session& s, const std::string& ws,
                              const std::string& id) {
  Reply r = call(d, "GET", agent_of(ws, id), s.token);
  cr_assert_eq(r.status, 200, "get %s: %d %s", id.c_str(), r.status, r.body.c_str());
  return json_of(r);
}

Reply patch(const TestDaemon& d, const Session& s, const std::string& ws, const std::string& id,
            const std::string& body) {
  return call(d, "PATCH", agent_of(ws, id), s.token, body);
}

std::string str(const rapidjson::Value& v, const char* key) {
  cr_assert(v.HasMember(key) && v[key].IsString(), "%s should be a string", key);
  return v[key].GetString();
}

// Presence write over IPC, the way the runtime moves an agent's status:
// busy/blocked -> RUNNING, an "error" in details -> ERROR.
void presence(const TestDaemon& d, const std::string& agent, const std::string& status,
              const std::string& details = "") {
  std::string body = R"({"agent_id":")" + agent + R"(","status":")" + status + "\"" +
                     (details.empty() ? "" : ",\"details\":" + details) + "}";
  std::string raw = "POST /api/v1/internal/presence HTTP/1.1\r\nHost: test\r\nX-Internal-Token: " +
                    d.token + "\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  auto r = request_unix(d.socket, raw);
  cr_assert(r.has_value(), "no answer from the IPC socket");
  cr_assert_eq(r->status, 200, "presence %s: %d %s", status.c_str(), r->status, r->body.c_str());
}

// A second workspace owned by s; returns its id.
std::string second_workspace(const TestDaemon& d, const Session& s) {
  Reply r = call(d, "POST", "/api/v1/workspaces", s.token, R"({"name":"Other"})");
  cr_assert_eq(r.status, 201, "%s", r.body.c_str());
  return json_of(r)["id"].GetString();
}

void expect_int(const rapidjson::Value& v, const char* key, int64_t want) {
  cr_assert(v.HasMember(key), "%s missing", key);
  cr_assert(v[key].IsInt64(), "%s should be an integer", key);
  cr_assert_eq(v[key].GetInt64(), want, "%s: want %lld, got %lld", key,
               static_cast<long long>(want), static_cast<long long>(v[key].GetInt64()));
}

void expect_utilization(const rapidjson::Value& v, double want) {
  cr_assert(v.HasMember("utilization") && v["utilization"].IsNumber(), "utilization");
  double got = v["utilization"].GetDouble();
  cr_assert(got > want - 1e-9 && got < want + 1e-9, "utilization: want %f, got %f", want, got);
}

}  // namespace

TestSuite(agents, .timeout = 120);

// The full object, field by field, in the seed's order, and its omitempty rules.
Test(agents, object_shape) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  const std::string& ws = owner.workspace_id;
  std::string crew = make_crew(d, owner, ws, "engineering",
                               R"(,"color":"blue","avatar_style":"bottts")");
  Reply created = call(d, "POST", agents_of(ws), owner.token,
                       R"({"name":"Backend Dev","slug":"backend-dev","crew_id":")" + crew +
                           R"(","description":"Go backend developer","role_title":"Senior Developer",)"
                           R"("agent_role":"AGENT","cli_adapter":"CODEX_CLI","llm_provider":"ANTHROPIC",)"
                           R"("llm_model":"claude-sonnet-4-20250514","system_prompt":"You are a Go dev",)"
                           R"("avatar_seed":"backend-dev","avatar_style":"pixel-art","timeout_seconds":600,)"
                           R"("tool_profile":"FULL","memory_enabled":true})");
  cr_assert_eq(created.status, 201, "%s", created.body.c_str());
  cr_assert_eq(created.header("Content-Type").value_or(""), "application/json");
  auto a = json_of(created);

  const std::vector<std::string> order = {
      "id", "crew_id", "workspace_id", "name", "slug", "description", "role_title", "agent_role",
      "lead_mode", "status", "cli_adapter", "llm_provider", "llm_model", "system_prompt",
      "avatar_seed", "avatar_style", "timeout_seconds", "tool_profile", "memory_enabled",
      "cli_tools", "schedule_cron", "schedule_prompt", "schedule_enabled", "schedule_last_run",
      "schedule_next_run", "created_at", "updated_at", "crew", "_count", "created_by_user_id",
      "ephemeral", "expires_at", "expired_at", "parent_lead_id", "hire_reason"};
  std::vector<std::string> keys;
  for (auto& m : a.GetObject()) keys.emplace_back(m.name.GetString());
  cr_assert(keys == order, "fields in the seed's order, mcp_config_json omitted: %s",
            created.body.c_str());

  std::string id = str(a, "id");
  cr_assert_eq(id.size(), 25u, "CUID-style id: %s", id.c_str());
  cr_assert_eq(str(a, "crew_id"), crew);
  cr_assert_eq(str(a, "workspace_id"), ws);
  cr_assert_eq(str(a, "name"), "Backend Dev");
  cr_assert_eq(str(a, "slug"), "backend-dev");
  cr_assert_eq(str(a, "description"), "Go backend developer");
  cr_assert_eq(str(a, "role_title"), "Senior Developer");
  cr_assert_eq(str(a, "agent_role"), "AGENT");
  cr_assert(a["lead_mode"].IsNull());
  cr_assert_eq(str(a, "status"), "IDLE");
  cr_assert_eq(str(a, "cli_adapter"), "CODEX_CLI");
  cr_assert_eq(str(a, "llm_provider"), "ANTHROPIC");
  cr_assert_eq(str(a, "llm_model"), "claude-sonnet-4-20250514");
  cr_assert_eq(str(a, "system_prompt"), "You are a Go dev");
  cr_assert_eq(str(a, "avatar_seed"), "backend-dev");
  cr_assert_eq(str(a, "avatar_style"), "pixel-art");
  expect_int(a, "timeout_seconds", 600);
  cr_assert_eq(str(a, "tool_profile"), "FULL");
  cr_assert(a["memory_enabled"].IsBool() && a["memory_enabled"].GetBool());
  for (const char* k : {"cli_tools", "schedule_cron", "schedule_prompt", "schedule_last_run",
                        "schedule_next_run", "expires_at", "expired_at", "parent_lead_id", "hire_reason"})
    cr_assert(a[k].IsNull(), "%s is null", k);
  cr_assert(a["schedule_enabled"].IsBool() && !a["schedule_enabled"].GetBool());
  cr_assert(a["ephemeral"].IsBool() && !a["ephemeral"].GetBool());
  std::string created_at = str(a, "created_at");
  cr_assert_eq(created_at.size(), 20u, "RFC 3339 seconds: %s", created_at.c_str());
  cr_assert_eq(created_at.back(), 'Z');
  cr_assert_eq(str(a, "updated_at"), created_at);
  cr_assert(a["crew"].IsObject());
  cr_assert_eq(a["crew"].MemberCount(), 4u);
  cr_assert_eq(str(a["crew"], "name"), "Crew engineering");
  cr_assert_eq(str(a["crew"], "slug"), "engineering");
  cr_assert_eq(str(a["crew"], "color"), "blue");
  cr_assert_eq(str(a["crew"], "avatar_style"), "bottts");
  cr_assert_eq(a["_count"].MemberCount(), 3u);
  expect_int(a["_count"], "skills", 0);
  expect_int(a["_count"], "credentials", 0);
  expect_int(a["_count"], "chats", 0);
  cr_assert_eq(str(a, "created_by_user_id"), owner.user_id);

  // GET and the list answer the very same object.
  Reply got = call(d, "GET", agent_of(ws, id), owner.token);
  cr_assert_eq(got.status, 200);
  cr_assert_eq(got.body, created.body);
  Reply listed = call(d, "GET", agents_of(ws), owner.token);
  cr_assert_eq(listed.status, 200);
  cr_assert_eq(listed.body, "[" + created.body + "]");

  // Defaults, and an agent without a crew.
  auto m = json_of(post_agent(d, owner, ws, "minimal"));
  cr_assert(m["crew_id"].IsNull());
  cr_assert(m["crew"].IsNull());
  cr_assert_eq(str(m, "agent_role"), "AGENT");
  cr_assert(m["lead_mode"].IsNull());
  cr_assert_eq(str(m, "status"), "IDLE");
  cr_assert_eq(str(m, "cli_adapter"), "CLAUDE_CODE");
  cr_assert_eq(str(m, "tool_profile"), "CODING");
  expect_int(m, "timeout_seconds", 1800);
  cr_assert(!m["memory_enabled"].GetBool());
  for (const char* k : {"description", "role_title", "llm_provider", "llm_model", "system_prompt",
                        "avatar_seed", "avatar_style"})
    cr_assert(m[k].IsNull(), "%s defaults to null", k);
  cr_assert(!m.HasMember("mcp_config_json"));
  std::string minimal = str(m, "id");

  // The fields only PATCH documents; mcp_config_json appears once set.
  std::string mcp = R"({\"mcpServers\":{\"fs\":{\"command\":\"mcp-fs\",\"args\":[\"/tmp\"]}}})";
  Reply p = patch(d, owner, ws, id,
                  R"({"cli_tools":"git,rg","schedule_cron":"0 9 * * 1-5","schedule_prompt":"Triage",)"
                  R"("schedule_enabled":true,"mcp_config_json":")" + mcp + "\"}");
  cr_assert_eq(p.status, 200, "%s", p.body.c_str());
  auto u = json_of(p);
  cr_assert_eq(str(u, "cli_tools"), "git,rg");
  cr_assert_eq(str(u, "schedule_cron"), "0 9 * * 1-5");
  cr_assert_eq(str(u, "schedule_prompt"), "Triage");
  cr_assert(u["schedule_enabled"].GetBool());
  cr_assert_eq(str(u, "mcp_config_json"), R"({"mcpServers":{"fs":{"command":"mcp-fs","args":["/tmp"]}}})");
  cr_assert_eq(str(u, "name"), "Backend Dev", "fields not given stay");
  cr_assert_eq(str(u, "created_at"), created_at);
  cr_assert(str(u, "updated_at") >= created_at);
  keys.clear();
  for (auto& mem : u.GetObject()) keys.emplace_back(mem.name.GetString());
  auto after = std::find(keys.begin(), keys.end(), "schedule_next_run");
  cr_assert(after != keys.end() && *(after + 1) == "mcp_config_json" && *(after + 2) == "created_at",
            "mcp_config_json sits between schedule_next_run and created_at");
  auto reread = get_agent(d, owner, ws, id);
  cr_assert_eq(str(reread, "mcp_config_json"), str(u, "mcp_config_json"));
  // "" and null both clear it, and it disappears again.
  p = patch(d, owner, ws, id, R"({"mcp_config_json":""})");
  cr_assert_eq(p.status, 200, "%s", p.body.c_str());
  cr_assert(!json_of(p).HasMember("mcp_config_json"));
  p = patch(d, owner, ws, id, R"({"mcp_config_json":")" + mcp + "\"}");
  cr_assert(json_of(p).HasMember("mcp_config_json"));
  p = patch(d, owner, ws, id, R"({"mcp_config_json":null})");
  cr_assert(!json_of(p).HasMember("mcp_config_json"));
  // Nullable text clears with null.
  p = patch(d, owner, ws, id, R"({"description":null,"schedule_enabled":false,"schedule_cron":null})");
  cr_assert_eq(p.status, 200, "%s", p.body.c_str());
  cr_assert(json_of(p)["description"].IsNull());
  cr_assert(json_of(p)["schedule_cron"].IsNull());

  // _count comes from the assignment tables (credentials that are not
  // deleted); a legacy row without a creator
  // omits created_by_user_id in GET and in the list.
  sql(d, "INSERT INTO agent_skills(id, agent_id, skill_id, created_at) VALUES"
         " ('s1','" + id + "','sk1','2024-01-01T00:00:00Z'), ('s2','" + id + "','sk2','2024-01-01T00:00:00Z');"
         "INSERT INTO credentials(id, workspace_id, name, provider, type, sealed, hint, created_at, updated_at)"
         " VALUES ('cr1','" + ws + "','Key','OPENAI','API_KEY',x'00','','t','t'),"
         " ('cr2','" + ws + "','Gone','OPENAI','API_KEY',x'00','','t','t');"
         "UPDATE credentials SET deleted_at = 't' WHERE id = 'cr2';"
         "INSERT INTO agent_credentials(id, agent_id, credential_id, env_var_name, created_at) VALUES"
         " ('k1','" + id + "','cr1','API_KEY','2024-01-01T00:00:00Z'),"
         " ('k2','" + id + "','cr2','OTHER_KEY','2024-01-01T00:00:00Z');"
         "INSERT INTO chats(id, agent_id, workspace_id, created_at) VALUES"
         " ('h1','" + id + "','" + ws + "','2024-01-01T00:00:00Z'), ('h2','" + id + "','" + ws +
         "','2024-01-01T00:00:00Z'), ('h3','" + id + "','" + ws + "','2024-01-01T00:00:00Z');"
         "UPDATE agents SET created_by_user_id = NULL WHERE id = '" + minimal + "';");
  auto counted = get_agent(d, owner, ws, id);
  expect_int(counted["_count"], "skills", 2);
  expect_int(counted["_count"], "credentials", 1);
  expect_int(counted["_count"], "chats", 3);
  auto legacy = get_agent(d, owner, ws, minimal);
  cr_assert(!legacy.HasMember("created_by_user_id"), "omitted when null");
  auto list = list_of(d, agents_of(ws), owner.token);
  cr_assert_eq(list.Size(), 2u);
  for (const auto& row : list.GetArray()) {
    if (std::string(row["id"].GetString()) == minimal) {
      cr_assert(!row.HasMember("created_by_user_id"));
    } else {
      expect_int(row["_count"], "skills", 2);
      expect_int(row["_count"], "chats", 3);
    }
  }
}

// 5 roles x read/create/edit/delete, and the MANAGER's per-agent edit gate.
Test(agents, role_matrix) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  const std::string& ws = owner.workspace_id;
  Session admin = member(d, owner, "admin@example.com", "ADMIN");
  Session manager = member(d, owner, "manager@example.com", "MANAGER");
  Session memb = member(d, owner, "member@example.com", "MEMBER");
  Session viewer = member(d, owner, "viewer@example.com", "VIEWER");
  struct Caller {
    const char* role;
    const Session* s;
    bool creates, edits_any;
  };
  const Caller everyone[] = {{"OWNER", &owner, true, true},
                             {"ADMIN", &admin, true, true},
                             {"MANAGER", &manager, true, false},
                             {"MEMBER", &memb, false, false},
                             {"VIEWER", &viewer, false, false}};

  std::string crew_admin = make_crew(d, owner, ws, "managed");    // manager is crew ADMIN
  std::string crew_member = make_crew(d, owner, ws, "visited");   // manager is crew MEMBER
  Reply r = call(d, "POST", "/api/v1/crews/" + crew_admin + "/members" + q(ws), owner.token,
                 R"({"user_id":")" + manager.user_id + R"(","role":"ADMIN"})");
  cr_assert_eq(r.status, 201, "%s", r.body.c_str());
  r = call(d, "POST", "/api/v1/crews/" + crew_member + "/members" + q(ws), owner.token,
           R"({"user_id":")" + manager.user_id + R"(","role":"MEMBER"})");
  cr_assert_eq(r.status, 201, "%s", r.body.c_str());

  std::string owners = make_agent(d, owner, ws, "owners");
  // Read: every role.
  for (const Caller& c : everyone) {
    cr_assert_eq(call(d, "GET", agents_of(ws), c.s->token).status, 200, "%s lists", c.role);
    cr_assert_eq(call(d, "GET", agent_of(ws, owners), c.s->token).status, 200, "%s gets", c.role);
    cr_assert_eq(call(d, "GET", "/api/v1/agents/crews-status" + q(ws), c.s->token).status, 200, "%s", c.role);
    cr_assert_eq(call(d, "GET", "/api/v1/agent-load" + q(ws), c.s->token).status, 200, "%s", c.role);
  }
  // Create: OWNER, ADMIN, MANAGER.
  std::string by_admin, by_manager;
  for (const Caller& c : everyone) {
    std::string slug = "made-by-" + std::string(c.role);
    for (char& ch : slug) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    Reply r = post_agent(d, *c.s, ws, slug);
    if (c.creates) {
      cr_assert_eq(r.status, 201, "%s creates: %s", c.role, r.body.c_str());
      cr_assert_eq(str(json_of(r), "created_by_user_id"), c.s->user_id);
      if (c.s == &admin) by_admin = str(json_of(r), "id");
      if (c.s == &manager) by_manager = str(json_of(r), "id");
    } else {
      expect_problem(r, 403, "MANAGER");
    }
  }
  cr_assert_eq(count_agents(d, owner, ws), 4u, "refused creates wrote nothing");

  // Edit an agent the OWNER made, outside any crew: OWNER and ADMIN only;
  // the others may not delete it either.
  for (const Caller& c : everyone) {
    Reply p = patch(d, *c.s, ws, owners, R"({"description":"edited by )" + std::string(c.role) + "\"}");
    if (c.edits_any) {
      cr_assert_eq(p.status, 200, "%s edits any agent: %s", c.role, p.body.c_str());
    } else {
      expect_problem(p, 403, "MANAGER");
      expect_problem(call(d, "DELETE", agent_of(ws, owners), c.s->token), 403, "MANAGER");
    }
  }
  cr_assert_eq(str(get_agent(d, owner, ws, owners), "description"), "edited by ADMIN");

  // MANAGER: own agent yes, another's no.
  cr_assert_eq(patch(d, manager, ws, by_manager, R"({"role_title":"Mine"})").status, 200);
  expect_problem(patch(d, manager, ws, by_admin, R"({"role_title":"Theirs"})"), 403, "MANAGER");
  expect_problem(call(d, "DELETE", agent_of(ws, by_admin), manager.token), 403, "MANAGER");
  cr_assert(get_agent(d, owner, ws, by_admin)["role_title"].IsNull(), "the refused edit changed nothing");

  // MANAGER: agents in a crew they administer yes, in a crew they only belong to no.
  std::string in_managed = make_agent(d, owner, ws, "in-managed", R"(,"crew_id":")" + crew_admin + "\"");
  std::string in_visited = make_agent(d, owner, ws, "in-visited", R"(,"crew_id":")" + crew_member + "\"");
  cr_assert_eq(patch(d, manager, ws, in_managed, R"({"name":"Renamed"})").status, 200);
  cr_assert_eq(str(get_agent(d, owner, ws, in_managed), "name"), "Renamed");
  expect_problem(patch(d, manager, ws, in_visited, R"({"name":"Renamed"})"), 403, "MANAGER");
  expect_problem(call(d, "DELETE", agent_of(ws, in_visited), manager.token), 403, "MANAGER");
  Reply del = call(d, "DELETE", agent_of(ws, in_managed), manager.token);
  cr_assert_eq(del.status, 200, "%s", del.body.c_str());
  del = call(d, "DELETE", agent_of(ws, by_manager), manager.token);
  cr_assert_eq(del.status, 200, "%s", del.body.c_str());

  // ADMIN deletes anyone's; OWNER likewise; MEMBER and VIEWER nothing.
  expect_problem(call(d, "DELETE", agent_of(ws, in_visited), memb.token), 403, "MANAGER");
  expect_problem(call(d, "DELETE", agent_of(ws, in_visited), viewer.token), 403, "MANAGER");
  cr_assert_eq(call(d, "DELETE", agent_of(ws, in_visited), admin.token).status, 200);
  cr_assert_eq(call(d, "DELETE", agent_of(ws, by_admin), owner.token).status, 200);
  cr_assert_eq(call(d, "DELETE", agent_of(ws, owners), admin.token).status, 200);

  // Outside the workspace, unauthenticated, or without a workspace.
  Session outsider = signup(d, "outsider@example.com");
  expect_problem(call(d, "GET", agents_of(ws), outsider.token), 403, "member");
  expect_problem(call(d, "POST", agents_of(ws), outsider.token, R"({"name":"xx","slug":"xx"})"), 403, "member");
  expect_problem(call(d, "GET", "/api/v1/agents/crews-status" + q(ws), outsider.token), 403, "member");
  expect_problem(call(d, "GET", agents_of(ws)), 401, "authentication");
  expect_problem(call(d, "GET", "/api/v1/agents", owner.token), 400, "workspace_id");
  expect_problem(call(d, "GET", "/api/v1/agent-load", owner.token), 400, "workspace_id");
}

// Another workspace's agents and crews answer 404 exactly like missing ones.
Test(agents, cross_tenant) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  const std::string& w1 = owner.workspace_id;
  std::string w2 = second_workspace(d, owner);
  std::string crew1 = make_crew(d, owner, w1, "one");
  std::string crew2 = make_crew(d, owner, w2, "two");
  std::string a1 = make_agent(d, owner, w1, "alpha", R"(,"crew_id":")" + crew1 + "\"");
  std::string a2 = make_agent(d, owner, w2, "beta");

  auto same_as_missing = [&](const char* method, const std::string& body) {
    Reply theirs = call(d, method, agent_of(w2, a1), owner.token, body);
    Reply missing = call(d, method, agent_of(w2, "c000000000000000000000000"), owner.token, body);
    expect_problem(theirs, 404, "agent not found");
    expect_problem(missing, 404, "agent not found");
    auto t = json_of(theirs), m = json_of(missing);
    cr_assert_eq(std::string(t["detail"].GetString()), m["detail"].GetString());
    cr_assert_eq(std::string(t["title"].GetString()), m["title"].GetString());
  };
  same_as_missing("GET", "");
  same_as_missing("PATCH", R"({"name":"Hijacked"})");
  same_as_missing("DELETE", "");
  auto a = get_agent(d, owner, w1, a1);
  cr_assert_eq(str(a, "name"), "Agent alpha", "untouched by the other workspace");

  // The workspace may come from X-Workspace-ID too; the same rules hold.
  cr_assert_eq(call(d, "GET", "/api/v1/agents/" + a1, owner.token, "", "X-Workspace-ID: " + w2 + "\r\n").status, 404);
  cr_assert_eq(call(d, "GET", "/api/v1/agents/" + a1, owner.token, "", "X-Workspace-ID: " + w1 + "\r\n").status, 200);

  // crew_id filters and references.
  expect_problem(call(d, "GET", agents_of(w2, "&crew_id=" + crew1), owner.token), 404, "crew not found");
  expect_problem(call(d, "GET", agents_of(w1, "&crew_id=nope"), owner.token), 404, "crew not found");
  auto filtered = list_of(d, agents_of(w1, "&crew_id=" + crew1), owner.token);
  cr_assert(ids_of(filtered) == std::vector<std::string>{a1});
  cr_assert_eq(list_of(d, agents_of(w1, "&crew_id=" + crew1 + "&limit=1"), owner.token).Size(), 1u);
  cr_assert_eq(list_of(d, agents_of(w2, "&crew_id=" + crew2), owner.token).Size(), 0u);
  cr_assert(ids_of(list_of(d, agents_of(w2), owner.token)) == std::vector<std::string>{a2});
  cr_assert_eq(list_of(d, agents_of(w1, "&crew_id="), owner.token).Size(), 1u, "empty crew_id: no filter");
  expect_problem(post_agent(d, owner, w2, "gamma", R"(,"crew_id":")" + crew1 + "\""), 404, "crew not found");
  expect_problem(post_agent(d, owner, w2, "gamma", R"(,"agent_role":"LEAD","crew_id":")" + crew1 + "\""), 404,
                 "crew not found");
  expect_problem(patch(d, owner, w2, a2, R"({"crew_id":")" + crew1 + "\"}"), 404, "crew not found");
  cr_assert_eq(count_agents(d, owner, w2), 1u, "nothing written");
  cr_assert(get_agent(d, owner, w2, a2)["crew_id"].IsNull());

  // A soft-deleted crew is gone too.
  std::string gone = make_crew(d, owner, w1, "gone");
  cr_assert_eq(call(d, "DELETE", "/api/v1/crews/" + gone + q(w1), owner.token).status, 204);
  expect_problem(call(d, "GET", agents_of(w1, "&crew_id=" + gone), owner.token), 404, "crew not found");
  expect_problem(post_agent(d, owner, w1, "late", R"(,"crew_id":")" + gone + "\""), 404, "crew not found");

  // Aggregates count only their own workspace.
  auto st = json_of(call(d, "GET", "/api/v1/agents/crews-status" + q(w2), owner.token));
  expect_int(st, "total", 1);
  auto load = json_of(call(d, "GET", "/api/v1/agent-load" + q(w2), owner.token));
  expect_int(load, "total", 1);
  cr_assert_eq(load["crews"].Size(), 1u);
  cr_assert_eq(str(load["crews"][0], "crew_id"), crew2);
}

// A LEAD needs a crew; a crew has at most one live LEAD; lead_mode is a LEAD's.
Test(agents, lead_rules) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  const std::string& ws = owner.workspace_id;
  std::string crew1 = make_crew(d, owner, ws, "one");
  std::string crew2 = make_crew(d, owner, ws, "two");
  auto in = [](const std::string& crew) { return R"(,"crew_id":")" + crew + "\""; };
  const std::string lead = R"(,"agent_role":"LEAD")";

  expect_problem(post_agent(d, owner, ws, "lead-x", lead), 400, "crew_id");
  expect_problem(post_agent(d, owner, ws, "lead-x", lead + R"(,"crew_id":null)"), 400, "crew_id");
  expect_problem(post_agent(d, owner, ws, "lead-x", lead + R"(,"crew_id":"")"), 400, "crew_id");
  expect_problem(post_agent(d, owner, ws, "lead-x", lead + R"(,"crew_id":"missing")"), 404, "crew not found");

  Reply r = post_agent(d, owner, ws, "lead-one", lead + in(crew1));
  cr_assert_eq(r.status, 201, "%s", r.body.c_str());
  std::string lead1 = str(json_of(r), "id");
  cr_assert_eq(str(json_of(r), "agent_role"), "LEAD");
  cr_assert_eq(str(json_of(r), "lead_mode"), "active", "default lead_mode");
  expect_problem(post_agent(d, owner, ws, "lead-dup", lead + in(crew1)), 409, "LEAD");
  r = post_agent(d, owner, ws, "lead-two", lead + in(crew2) + R"(,"lead_mode":"passive")");
  cr_assert_eq(r.status, 201, "%s", r.body.c_str());
  std::string lead2 = str(json_of(r), "id");
  cr_assert_eq(str(json_of(r), "lead_mode"), "passive");

  // Issue: a form that always sends lead_mode broke for AGENTs. It is
  // ignored for them and kept only for a LEAD.
  r = post_agent(d, owner, ws, "worker-x", in(crew1) + R"(,"lead_mode":"active")");
  cr_assert_eq(r.status, 201, "%s", r.body.c_str());
  cr_assert(json_of(r)["lead_mode"].IsNull());
  std::string worker_x = str(json_of(r), "id");
  r = patch(d, owner, ws, worker_x, R"({"agent_role":"AGENT","lead_mode":"passive"})");
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  cr_assert(json_of(r)["lead_mode"].IsNull());
  cr_assert_eq(call(d, "DELETE", agent_of(ws, worker_x), owner.token).status, 200);
  r = post_agent(d, owner, ws, "worker", in(crew1) + R"(,"lead_mode":null)");
  cr_assert_eq(r.status, 201, "%s", r.body.c_str());
  std::string worker = str(json_of(r), "id");
  std::string loner = make_agent(d, owner, ws, "loner");
  cr_assert_eq(count_agents(d, owner, ws), 4u);

  // Promotions and moves keep the rules.
  expect_problem(patch(d, owner, ws, worker, R"({"agent_role":"LEAD"})"), 409, "LEAD");
  cr_assert_eq(str(get_agent(d, owner, ws, worker), "agent_role"), "AGENT");
  expect_problem(patch(d, owner, ws, lead1, R"({"crew_id":null})"), 400, "crew_id");
  expect_problem(patch(d, owner, ws, lead1, R"({"crew_id":")" + crew2 + "\"}"), 409, "LEAD");
  expect_problem(patch(d, owner, ws, loner, R"({"agent_role":"LEAD"})"), 400, "crew_id");
  for (const std::string& agent : {loner, worker}) {
    r = patch(d, owner, ws, agent, R"({"lead_mode":"active"})");
    cr_assert_eq(r.status, 200, "an AGENT's lead_mode is dropped: %s", r.body.c_str());
    cr_assert(json_of(r)["lead_mode"].IsNull());
  }
  cr_assert_eq(str(get_agent(d, owner, ws, lead1), "crew_id"), crew1, "the refused move changed nothing");

  r = patch(d, owner, ws, lead1, R"({"lead_mode":"passive"})");
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  cr_assert_eq(str(json_of(r), "lead_mode"), "passive");
  r = patch(d, owner, ws, lead1, R"({"agent_role":"AGENT"})");
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  cr_assert(json_of(r)["lead_mode"].IsNull(), "an AGENT has no lead_mode");
  r = patch(d, owner, ws, worker, R"({"agent_role":"LEAD"})");
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  cr_assert_eq(str(json_of(r), "lead_mode"), "active");
  expect_problem(patch(d, owner, ws, loner, R"({"agent_role":"LEAD","crew_id":")" + crew1 + "\"}"), 409, "LEAD");
  // Demoting to AGENT may leave the crew.
  r = patch(d, owner, ws, lead1, R"({"crew_id":null})");
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  cr_assert(json_of(r)["crew"].IsNull());

  // A deleted LEAD frees its crew's slot.
  cr_assert_eq(call(d, "DELETE", agent_of(ws, lead2), owner.token).status, 200);
  r = patch(d, owner, ws, loner, R"({"agent_role":"LEAD","lead_mode":"passive","crew_id":")" + crew2 + "\"}");
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  auto l = json_of(r);
  cr_assert_eq(str(l, "crew_id"), crew2);
  cr_assert_eq(str(l["crew"], "slug"), "two");
  cr_assert_eq(str(l, "lead_mode"), "passive");
}

Test(agents, slug_rules) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  const std::string& ws = owner.workspace_id;
  std::string w2 = second_workspace(d, owner);

  for (const std::string& bad : std::vector<std::string>{"A", "a", "Backend", "-lead", "_lead", "has space",
                                                         "dot.ted", "sl/ash", "\xc3\xbc" "ber", "tab\\tbed",
                                                         std::string(51, 'a')})
    expect_problem(post_agent(d, owner, ws, bad), 400, "slug");
  expect_problem(call(d, "POST", agents_of(ws), owner.token, R"({"name":"Slugless","slug":""})"), 400, "slug");
  expect_problem(call(d, "POST", agents_of(ws), owner.token, R"({"name":"Slugless","slug":12})"), 400, "slug");
  cr_assert_eq(count_agents(d, owner, ws), 0u);

  for (const std::string& good : std::vector<std::string>{"a1", "0-x_y", "x--", std::string(50, 'z')})
    make_agent(d, owner, ws, good);
  std::string dup = make_agent(d, owner, ws, "dup");
  expect_problem(post_agent(d, owner, ws, "dup"), 409, "slug");
  make_agent(d, owner, w2, "dup");  // slugs are unique per workspace

  std::string other = make_agent(d, owner, ws, "other");
  expect_problem(patch(d, owner, ws, other, R"({"slug":"dup"})"), 409, "slug");
  expect_problem(patch(d, owner, ws, other, R"({"slug":"Not Valid"})"), 400, "slug");
  expect_problem(patch(d, owner, ws, other, R"({"slug":null})"), 400, "slug");
  cr_assert_eq(patch(d, owner, ws, other, R"({"slug":"other"})").status, 200, "its own slug");
  Reply r = patch(d, owner, ws, other, R"({"slug":"renamed"})");
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  cr_assert_eq(str(json_of(r), "slug"), "renamed");
  make_agent(d, owner, ws, "other");  // the old slug is free again

  // A deleted agent's slug is reusable; the new agent is a new row.
  cr_assert_eq(call(d, "DELETE", agent_of(ws, dup), owner.token).status, 200);
  std::string again = make_agent(d, owner, ws, "dup");
  cr_assert_neq(again, dup);
  expect_problem(call(d, "GET", agent_of(ws, dup), owner.token), 404, "agent not found");
}

// Issue: a UI form sends back the whole agent it read, and PATCH answered
// 400 for one read-only member per try. Read-only members (status, id, crew,
// _count, ...) are ignored on create and update and never change; writable
// ones are still checked.
Test(agents, read_only_members_ignored) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  const std::string& ws = owner.workspace_id;
  Reply made = post_agent(d, owner, ws, "runner", R"(,"status":"RUNNING","id":"mine","ephemeral":true)");
  cr_assert_eq(made.status, 201, "%s", made.body.c_str());
  auto created = json_of(made);
  std::string id = str(created, "id");
  cr_assert_neq(id, "mine");
  cr_assert_eq(str(created, "status"), "IDLE");
  cr_assert(!created["ephemeral"].GetBool());

  // The whole object read back, with the name changed: 200, only the name moves.
  Reply before = call(d, "GET", agent_of(ws, id), owner.token);
  std::string whole = before.body;
  size_t at = whole.find(R"("name":")");
  cr_assert(at != std::string::npos);
  whole.replace(at, whole.find('"', at + 8) - at + 1, R"("name":"Renamed")");
  std::string tampered = whole;
  size_t st = tampered.find(R"("status":"IDLE")");
  cr_assert(st != std::string::npos);
  tampered.replace(st, 15, R"("status":"ERROR")");
  Reply r = patch(d, owner, ws, id, tampered);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  auto after = json_of(r);
  cr_assert_eq(str(after, "name"), "Renamed");
  cr_assert_eq(str(after, "status"), "IDLE", "status never changes through PATCH");
  cr_assert_eq(str(after, "id"), id);
  cr_assert_eq(str(after, "created_at"), str(json_of(before), "created_at"));
  for (const char* field : {"workspace_id", "created_by_user_id", "expires_at", "hire_reason", "created_at"})
    cr_assert_eq(patch(d, owner, ws, id, std::string(R"({")") + field + R"(":"x"})").status, 200, "%s", field);
  cr_assert_eq(str(get_agent(d, owner, ws, id), "workspace_id"), ws);
  // Writable members are still validated, naming the field.
  expect_problem(patch(d, owner, ws, id, R"({"status":"ERROR","timeout_seconds":0})"), 400, "timeout_seconds");
  cr_assert_eq(count_agents(d, owner, ws), 1u);
}

// Every field's bad values answer 400 naming the field and write nothing.
Test(agents, bad_input) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  const std::string& ws = owner.workspace_id;
  std::string crew = make_crew(d, owner, ws, "crew");
  const std::string base = R"("name":"Valid Name","slug":"valid-slug")";
  auto big = [](size_t n) { return std::string(n, 'x'); };

  std::vector<std::pair<std::string, std::string>> bodies = {
      {R"({"slug":"valid-slug"})", "name"},
      {R"({"name":"Valid Name"})", "slug"},
      {R"({"name":null,"slug":"valid-slug"})", "name"},
      {R"({"name":5,"slug":"valid-slug"})", "name"},
      {R"({"name":"x","slug":"valid-slug"})", "name"},
      {R"({"name":"   ","slug":"valid-slug"})", "name"},
      {R"({"name":")" + big(101) + R"(","slug":"valid-slug"})", "name"},
      {R"({"name":"a\u0000b","slug":"valid-slug"})", "name"},
      {"{" + base + R"(,"crew_id":7})", "crew_id"},
      {"{" + base + R"(,"crew_id":")" + big(129) + "\"}", "crew_id"},
      {"{" + base + R"(,"agent_role":"BOSS"})", "agent_role"},
      {"{" + base + R"(,"agent_role":"agent"})", "agent_role"},
      {"{" + base + R"(,"agent_role":null})", "agent_role"},
      {"{" + base + R"(,"agent_role":1})", "agent_role"},
      {"{" + base + R"(,"agent_role":"LEAD","crew_id":")" + crew + R"(","lead_mode":"ACTIVE"})", "lead_mode"},
      {"{" + base + R"(,"agent_role":"LEAD","crew_id":")" + crew + R"(","lead_mode":true})", "lead_mode"},
      {"{" + base + R"(,"cli_adapter":"VIM"})", "cli_adapter"},
      {"{" + base + R"(,"cli_adapter":null})", "cli_adapter"},
      {"{" + base + R"(,"cli_adapter":["CLAUDE_CODE"]})", "cli_adapter"},
      {"{" + base + R"(,"tool_profile":"ALL"})", "tool_profile"},
      {"{" + base + R"(,"tool_profile":{}})", "tool_profile"},
      {"{" + base + R"(,"timeout_seconds":"1800"})", "timeout_seconds"},
      {"{" + base + R"(,"timeout_seconds":1.5})", "timeout_seconds"},
      {"{" + base + R"(,"timeout_seconds":0})", "timeout_seconds"},
      {"{" + base + R"(,"timeout_seconds":-1})", "timeout_seconds"},
      {"{" + base + R"(,"timeout_seconds":86401})", "timeout_seconds"},
      {"{" + base + R"(,"timeout_seconds":99999999999999999999})", "timeout_seconds"},
      {"{" + base + R"(,"timeout_seconds":null})", "timeout_seconds"},
      {"{" + base + R"(,"memory_enabled":"true"})", "memory_enabled"},
      {"{" + base + R"(,"memory_enabled":1})", "memory_enabled"},
      {"{" + base + R"(,"memory_enabled":null})", "memory_enabled"},
      {"{" + base + R"(,"schedule_enabled":"yes"})", "schedule_enabled"},
      {"{" + base + R"(,"schedule_enabled":true})", "schedule_enabled"},  // no cron
      {"{" + base + R"(,"description":5})", "description"},
      {"{" + base + R"(,"description":")" + big(2001) + "\"}", "description"},
      {"{" + base + R"(,"role_title":")" + big(101) + "\"}", "role_title"},
      {"{" + base + R"(,"llm_provider":")" + big(65) + "\"}", "llm_provider"},
      {"{" + base + R"(,"llm_model":")" + big(129) + "\"}", "llm_model"},
      {"{" + base + R"(,"llm_model":false})", "llm_model"},
      {"{" + base + R"(,"system_prompt":")" + big(100001) + "\"}", "system_prompt"},
      {"{" + base + R"(,"system_prompt":{"text":"hi"}})", "system_prompt"},
      {"{" + base + R"(,"avatar_seed":")" + big(129) + "\"}", "avatar_seed"},
      {"{" + base + R"(,"avatar_style":")" + big(65) + "\"}", "avatar_style"},
      {"{" + base + R"(,"cli_tools":[]})", "cli_tools"},
      {"{" + base + R"(,"cli_tools":")" + big(2001) + "\"}", "cli_tools"},
      {"{" + base + R"(,"avatar_seed":{}})", "avatar_seed"},
      {"{" + base + R"(,"schedule_cron":"every day"})", "schedule_cron"},
      {"{" + base + R"(,"schedule_cron":"* * *"})", "schedule_cron"},
      {"{" + base + R"(,"schedule_prompt":")" + big(10001) + "\"}", "schedule_prompt"},
      {"{" + base + R"(,"mcp_config_json":"nope"})", "mcp_config_json"},
      {"{" + base + R"(,"mcp_config_json":{"mcpServers":{}}})", "mcp_config_json"},
  };
  for (auto& [body, field] : bodies) {
    Reply r = call(d, "POST", agents_of(ws), owner.token, body);
    expect_problem(r, 400, field);
  }
  // Not a JSON object at all.
  for (std::string body : {"", "{", "[]", "null", "\"agent\"", "{\"name\":\"Valid\",\"slug\":\"va\"} x",
                           "{\"name\":\"\xff\xfe\",\"slug\":\"va\"}", "{'name':'x'}"}) {
    Reply r = call(d, "POST", agents_of(ws), owner.token, body);
    cr_assert_eq(r.status, 400, "%s -> %d %s", body.c_str(), r.status, r.body.c_str());
    cr_assert_eq(r.header("Content-Type").value_or(""), "application/problem+json");
  }
  cr_assert_eq(count_agents(d, owner, ws), 0u, "nothing written");

  // The bounds themselves are fine; lengths count characters, not bytes.
  std::string e100;
  for (int i = 0; i < 100; ++i) e100 += "\xc3\xa9";
  Reply ok = call(d, "POST", agents_of(ws), owner.token,
                  R"({"name":")" + e100 + R"(","slug":"bounds","timeout_seconds":86400,"description":")" +
                      big(2000) + R"(","system_prompt":")" + big(100000) + R"("})");
  cr_assert_eq(ok.status, 201, "%d %s", ok.status, ok.body.c_str());
  cr_assert_eq(str(json_of(ok), "name"), e100);
  std::string id = make_agent(d, owner, ws, "low", R"(,"timeout_seconds":1,"description":"")");
  auto low = get_agent(d, owner, ws, id);
  expect_int(low, "timeout_seconds", 1);
  cr_assert(low["description"].IsNull(), "an empty optional string is stored as null");

  // PATCH: the same checks, plus mcp_config_json's shape; nothing changes.
  Reply before = call(d, "GET", agent_of(ws, id), owner.token);
  std::vector<std::pair<std::string, std::string>> patches = {
      {R"({"name":null})", "name"},
      {R"({"name":"x"})", "name"},
      {R"({"slug":5})", "slug"},
      {R"({"agent_role":"OWNER"})", "agent_role"},
      {R"({"cli_adapter":"EMACS"})", "cli_adapter"},
      {R"({"tool_profile":null})", "tool_profile"},
      {R"({"timeout_seconds":86401})", "timeout_seconds"},
      {R"({"memory_enabled":"false"})", "memory_enabled"},
      {R"({"schedule_enabled":null})", "schedule_enabled"},
      {R"({"schedule_enabled":true})", "schedule_enabled"},
      {R"({"schedule_enabled":true,"schedule_cron":""})", "schedule_enabled"},
      {R"({"schedule_cron":"61 25"})", "schedule_cron"},
      {R"({"cli_tools":1})", "cli_tools"},
      {R"({"description":")" + big(2001) + "\"}", "description"},
      {R"({"mcp_config_json":"not json"})", "mcp_config_json"},
      {R"({"mcp_config_json":"[]"})", "mcp_config_json"},
      {R"({"mcp_config_json":"{}"})", "mcp_config_json"},
      {R"({"mcp_config_json":"{\"mcpServers\":[]}"})", "mcp_config_json"},
      {R"({"mcp_config_json":"{\"mcpServers\":1}"})", "mcp_config_json"},
      {R"({"mcp_config_json":"{\"mcpServers\":{}} trailing"})", "mcp_config_json"},
      {R"({"mcp_config_json":5})", "mcp_config_json"},
      {R"({"mcp_config_json":{"mcpServers":{}}})", "mcp_config_json"},
  };
  for (auto& [body, field] : patches) expect_problem(patch(d, owner, ws, id, body), 400, field);
  cr_assert_eq(patch(d, owner, ws, id, "{").status, 400);
  cr_assert_eq(patch(d, owner, ws, id, "").status, 400);
  cr_assert_eq(patch(d, owner, ws, id, "[1]").status, 400);
  cr_assert_eq(call(d, "GET", agent_of(ws, id), owner.token).body, before.body, "nothing changed");
  // An empty object changes nothing and answers the agent.
  Reply same = patch(d, owner, ws, id, "{}");
  cr_assert_eq(same.status, 200);
  cr_assert_eq(same.body, before.body);
  // Cron descriptors and six-field expressions pass.
  cr_assert_eq(patch(d, owner, ws, id, R"({"schedule_cron":"@daily","schedule_enabled":true})").status, 200);
  cr_assert_eq(patch(d, owner, ws, id, R"({"schedule_cron":"0 */5 * * * MON-FRI"})").status, 200);
  cr_assert_eq(patch(d, owner, ws, id, R"({"schedule_cron":"@every 1h30m"})").status, 200);
  expect_problem(patch(d, owner, ws, id, R"({"schedule_cron":null})"), 400, "schedule_enabled");
}

// Quotes, comment markers and LIKE wildcards are data, stored and answered verbatim.
Test(agents, sql_metacharacters_verbatim) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  const std::string& ws = owner.workspace_id;
  const std::string name = R"(Robert'); DROP TABLE agents;--)";
  const std::string description = R"(50% off_ \\ \" ' ; -- /* */ %s %n)";
  const std::string stored_description = R"(50% off_ \ " ' ; -- /* */ %s %n)";
  const std::string prompt = "\\u65e5\\u672c\\u8a9e \\ud83d\\ude80\\nline two\\t'tab'";
  const std::string stored_prompt = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x9a\x80\nline two\t'tab'";
  Reply r = call(d, "POST", agents_of(ws), owner.token,
                 R"({"name":")" + name + R"(","slug":"bobby-tables","description":")" + description +
                     R"(","system_prompt":")" + prompt + R"(","cli_tools":"' OR 1=1 --"})");
  cr_assert_eq(r.status, 201, "%s", r.body.c_str());
  std::string id = str(json_of(r), "id");
  auto a = get_agent(d, owner, ws, id);
  cr_assert_eq(str(a, "name"), name);
  cr_assert_eq(str(a, "description"), stored_description);
  cr_assert_eq(str(a, "system_prompt"), stored_prompt);
  cr_assert_eq(str(a, "cli_tools"), "' OR 1=1 --");
  auto list = list_of(d, agents_of(ws), owner.token);
  cr_assert_eq(list.Size(), 1u, "the table is still there");
  cr_assert_eq(str(list[0], "name"), name);

  r = patch(d, owner, ws, id, R"({"name":"x' WHERE 1=1; --","role_title":"%_%"})");
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  cr_assert_eq(str(json_of(r), "name"), "x' WHERE 1=1; --");
  cr_assert_eq(str(json_of(r), "role_title"), "%_%");

  make_agent(d, owner, ws, "another");
  expect_problem(call(d, "GET", agents_of(ws, "&crew_id=%27%20OR%20%271%27%3D%271"), owner.token), 404, "crew not found");
  expect_problem(call(d, "GET", agents_of(ws, "&crew_id=%25"), owner.token), 404, "crew not found");
  expect_problem(call(d, "GET", "/api/v1/agents/x'%20OR%20'1'='1" + q(ws), owner.token), 404, "agent not found");
  expect_problem(call(d, "GET", "/api/v1/agents/%25" + q(ws), owner.token), 404, "agent not found");
  expect_problem(call(d, "DELETE", "/api/v1/agents/'%20OR%201=1--" + q(ws), owner.token), 404, "agent not found");
  cr_assert_eq(count_agents(d, owner, ws), 2u);
}

Test(agents, pagination) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  const std::string& ws = owner.workspace_id;
  for (int i = 0; i < 51; ++i) make_agent(d, owner, ws, "agent-" + std::to_string(i));

  auto all = list_of(d, agents_of(ws, "&limit=100"), owner.token);
  cr_assert_eq(all.Size(), 51u);
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& a : all.GetArray()) keys.emplace_back(a["created_at"].GetString(), a["id"].GetString());
  cr_assert(std::is_sorted(keys.begin(), keys.end()), "ordered by created_at, id");
  cr_assert_eq(list_of(d, agents_of(ws), owner.token).Size(), 50u, "default limit 50");

  std::vector<std::string> paged;
  for (int offset = 0; offset < 51; offset += 7) {
    auto page = list_of(d, agents_of(ws, "&limit=7&offset=" + std::to_string(offset)), owner.token);
    cr_assert_eq(page.Size(), offset + 7 <= 51 ? 7u : static_cast<unsigned>(51 - offset));
    for (auto& id : ids_of(page)) paged.push_back(id);
  }
  cr_assert(paged == ids_of(all), "pages tile the list in order");
  cr_assert_eq(list_of(d, agents_of(ws, "&offset=51"), owner.token).Size(), 0u);
  cr_assert_eq(list_of(d, agents_of(ws, "&offset=100000"), owner.token).Size(), 0u);
  cr_assert_eq(list_of(d, agents_of(ws, "&limit=1&offset=50"), owner.token).Size(), 1u);

  // Issue: a limit above the maximum answered 400; it is clamped.
  cr_assert_eq(list_of(d, agents_of(ws, "&limit=101"), owner.token).Size(), 51u);
  cr_assert_eq(list_of(d, agents_of(ws, "&limit=99999999999999999999"), owner.token).Size(), 51u);
  cr_assert_eq(list_of(d, agents_of(ws, "&limit=1000&offset=50"), owner.token).Size(), 1u);
  cr_assert_eq(list_of(d, agents_of(ws, "&limit=0000000000000000000005"), owner.token).Size(), 5u, "zeros in front");
  for (const char* bad : {"&limit=0", "&limit=00", "&limit=-1", "&limit=abc", "&limit=1.5", "&limit="})
    expect_problem(call(d, "GET", agents_of(ws, bad), owner.token), 400, "limit");
  for (const char* bad : {"&offset=-1", "&offset=x", "&offset="})
    expect_problem(call(d, "GET", agents_of(ws, bad), owner.token), 400, "offset");
}

// Soft delete: 200 {id, deleted}; gone from every read; idempotence is 404.
Test(agents, soft_delete) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  const std::string& ws = owner.workspace_id;
  std::string crew = make_crew(d, owner, ws, "crew");
  std::string id = make_agent(d, owner, ws, "doomed", R"(,"crew_id":")" + crew + "\"");
  std::string keep = make_agent(d, owner, ws, "keeper");

  Reply r = call(d, "DELETE", agent_of(ws, id), owner.token);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  // Both shapes: this API's {"id","deleted"} and the older page's {"success": true}.
  cr_assert_eq(r.body, R"({"id":")" + id + R"(","deleted":true,"success":true})");
  expect_problem(call(d, "GET", agent_of(ws, id), owner.token), 404, "agent not found");
  expect_problem(call(d, "DELETE", agent_of(ws, id), owner.token), 404, "agent not found");
  expect_problem(patch(d, owner, ws, id, R"({"name":"Zombie"})"), 404, "agent not found");
  expect_problem(call(d, "DELETE", agent_of(ws, "unknown"), owner.token), 404, "agent not found");
  cr_assert(ids_of(list_of(d, agents_of(ws), owner.token)) == std::vector<std::string>{keep});
  cr_assert_eq(list_of(d, agents_of(ws, "&crew_id=" + crew), owner.token).Size(), 0u);
  expect_int(json_of(call(d, "GET", "/api/v1/agents/crews-status" + q(ws), owner.token)), "total", 1);
  // Its crew holds no live agent any more, so the crew can go.
  cr_assert_eq(call(d, "DELETE", "/api/v1/crews/" + crew + q(ws), owner.token).status, 204);
  cr_assert_eq(str(get_agent(d, owner, ws, keep), "slug"), "keeper");
}

// crews-status and agent-load: every bucket present, statuses folded, only
// live agents of the workspace, queued from assignments.
Test(agents, status_aggregates) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  const std::string& ws = owner.workspace_id;
  const std::string status_url = "/api/v1/agents/crews-status" + q(ws);
  const std::string load_url = "/api/v1/agent-load" + q(ws);

  Reply r = call(d, "GET", status_url, owner.token);
  cr_assert_eq(r.status, 200);
  cr_assert_eq(r.body, R"({"total":0,"running":0,"error":0,"idle":0,"queued":0})", "zeros are present");
  auto load = json_of(call(d, "GET", load_url, owner.token));
  for (const char* k : {"total", "running", "idle", "error", "queued"}) expect_int(load, k, 0);
  expect_utilization(load, 0);
  cr_assert(load["crews"].IsArray() && load["crews"].Empty());
  for (const char* k : {"total", "running", "idle", "error"}) expect_int(load["unassigned"], k, 0);
  expect_utilization(load["unassigned"], 0);

  std::string busy_crew = make_crew(d, owner, ws, "busy");
  std::string empty_crew = make_crew(d, owner, ws, "empty");
  auto in = R"(,"crew_id":")" + busy_crew + "\"";
  std::string runner = make_agent(d, owner, ws, "runner", in);
  std::string failer = make_agent(d, owner, ws, "failer", in);
  std::string reviewer = make_agent(d, owner, ws, "reviewer", in);
  std::string blocked = make_agent(d, owner, ws, "blocked");
  std::string stopped = make_agent(d, owner, ws, "stopped");
  std::string doomed = make_agent(d, owner, ws, "doomed", in);
  std::string w2 = second_workspace(d, owner);
  std::string elsewhere = make_agent(d, owner, w2, "elsewhere");

  r = call(d, "GET", status_url, owner.token);
  cr_assert_eq(r.body, R"({"total":6,"running":0,"error":0,"idle":6,"queued":0})", "%s", r.body.c_str());

  // Statuses move through presence, as the runtime moves them.
  presence(d, runner, "busy");
  presence(d, failer, "online", R"({"error":"exit 1"})");
  presence(d, blocked, "blocked");
  presence(d, doomed, "busy");
  presence(d, elsewhere, "busy");
  cr_assert_eq(str(get_agent(d, owner, ws, runner), "status"), "RUNNING");
  cr_assert_eq(str(get_agent(d, owner, ws, failer), "status"), "ERROR");
  cr_assert_eq(call(d, "DELETE", agent_of(ws, doomed), owner.token).status, 200);
  // No public endpoint sets these yet: other statuses fold into idle, and
  // queued counts QUEUED assignments of this workspace only.
  sql(d, "UPDATE agents SET status = 'PENDING_REVIEW' WHERE id = '" + reviewer + "';"
         "UPDATE agents SET status = 'STOPPED' WHERE id = '" + stopped + "';"
         "INSERT INTO assignments(id, workspace_id, agent_id, status, created_at) VALUES"
         " ('q1','" + ws + "','" + runner + "','QUEUED','2024-01-01T00:00:00Z'),"
         " ('q2','" + ws + "',NULL,'QUEUED','2024-01-01T00:00:00Z'),"
         " ('q3','" + ws + "','" + runner + "','RUNNING','2024-01-01T00:00:00Z'),"
         " ('q4','" + w2 + "',NULL,'QUEUED','2024-01-01T00:00:00Z');");
  cr_assert_eq(str(get_agent(d, owner, ws, stopped), "status"), "STOPPED");

  r = call(d, "GET", status_url, owner.token);
  cr_assert_eq(r.body, R"({"total":5,"running":2,"error":1,"idle":2,"queued":2})", "%s", r.body.c_str());
  r = call(d, "GET", "/api/v1/agents/crews-status" + q(w2), owner.token);
  cr_assert_eq(r.body, R"({"total":1,"running":1,"error":0,"idle":0,"queued":1})", "%s", r.body.c_str());

  load = json_of(call(d, "GET", load_url, owner.token));
  expect_int(load, "total", 5);
  expect_int(load, "running", 2);
  expect_int(load, "idle", 2);
  expect_int(load, "error", 1);
  expect_int(load, "queued", 2);
  expect_utilization(load, 0.4);
  cr_assert_eq(load["crews"].Size(), 2u, "every live crew, empty ones too");
  // Crews made in the same second order by id, so find them by id.
  bool busy_first = str(load["crews"][0], "crew_id") == busy_crew;
  const auto& busy = load["crews"][busy_first ? 0 : 1];
  const auto& empty = load["crews"][busy_first ? 1 : 0];
  cr_assert_eq(str(busy, "crew_id"), busy_crew);
  cr_assert_eq(str(busy, "name"), "Crew busy");
  cr_assert_eq(str(busy, "slug"), "busy");
  expect_int(busy, "total", 3);
  expect_int(busy, "running", 1);
  expect_int(busy, "error", 1);
  expect_int(busy, "idle", 1);
  expect_utilization(busy, 1.0 / 3.0);
  cr_assert_eq(str(empty, "crew_id"), empty_crew);
  for (const char* k : {"total", "running", "idle", "error"}) expect_int(empty, k, 0);
  expect_utilization(empty, 0);
  expect_int(load["unassigned"], "total", 2);
  expect_int(load["unassigned"], "running", 1);
  expect_int(load["unassigned"], "idle", 1);
  expect_int(load["unassigned"], "error", 0);
  expect_utilization(load["unassigned"], 0.5);

  // Back to online: idle again.
  presence(d, runner, "online");
  r = call(d, "GET", status_url, owner.token);
  cr_assert_eq(r.body, R"({"total":5,"running":1,"error":1,"idle":3,"queued":2})", "%s", r.body.c_str());
}

// Racing creates: the unique indexes let exactly one of them win.
Test(agents, racing_creates_one_winner) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  const std::string& ws = owner.workspace_id;
  std::string crew = make_crew(d, owner, ws, "race");
  auto race = [&](auto body_of) {
    constexpr int kRacers = 8;
    std::vector<int> statuses(kRacers, 0);
    std::vector<std::thread> threads;
    for (int i = 0; i < kRacers; ++i) {
      std::string body = body_of(i);
      std::string raw = "POST " + agents_of(ws) + " HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " +
                        owner.token + "\r\nContent-Type: application/json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      // No assertions off the test's thread: collect, then check.
      threads.emplace_back([&statuses, i, raw, port = d.port] {
        auto r = request_tcp(port, raw, 20000);
        statuses[i] = r ? r->status : -1;
      });
    }
    for (auto& t : threads) t.join();
    int created = 0, conflicts = 0;
    for (int st : statuses) {
      created += st == 201;
      conflicts += st == 409;
    }
    cr_assert_eq(created, 1, "exactly one winner");
    cr_assert_eq(conflicts, kRacers - 1, "the others conflict");
  };
  race([](int) { return std::string(R"({"name":"Same","slug":"same-slug"})"); });
  race([&](int i) {
    return R"({"name":"Lead","slug":"lead-)" + std::to_string(i) + R"(","agent_role":"LEAD","crew_id":")" +
           crew + "\"}";
  });
  cr_assert_eq(count_agents(d, owner, ws), 2u);
  auto leads = list_of(d, agents_of(ws, "&crew_id=" + crew), owner.token);
  cr_assert_eq(leads.Size(), 1u);
  cr_assert_eq(str(leads[0], "agent_role"), "LEAD");
}

// "hire" is a literal of the API (POST /api/v1/agents/hire), never an agent
// id, whatever the method: a hire (here of an unknown crew), not a 405 that
// offers the methods of /api/v1/agents/{agentId}.
Test(agents, hire_is_not_an_agent_id) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  const std::string& ws = owner.workspace_id;
  Reply r = call(d, "POST", "/api/v1/agents/hire" + q(ws), owner.token,
                 R"({"crew_id":"c","template_slug":"reviewer","reason":"r"})");
  expect_problem(r, 404, "crew not found");
  cr_assert_not(r.header("Allow").has_value(), "Allow: %s", r.header("Allow").value_or("").c_str());
  expect_problem(call(d, "POST", "/api/v1/agents/hire" + q(ws), "", "{}"), 401, "");
  // Any other segment is still an agent id, with its methods.
  std::string id = make_agent(d, owner, ws, "hired-hand");
  Reply wrong = call(d, "POST", agent_of(ws, id), owner.token, "{}");
  expect_problem(wrong, 405, "method not allowed");
  cr_assert_eq(wrong.header("Allow").value_or(""), "GET, HEAD, PATCH, DELETE");
  cr_assert_eq(call(d, "GET", agent_of(ws, id), owner.token).status, 200);
}

// An agent's log is kept by the agent, not its crew: a log an older version
// kept under the crew is taken over, and a move to another crew keeps it.
Test(agents, logs_stay_readable_across_a_crew_change) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  const std::string& ws = owner.workspace_id;
  std::string crew_a = make_crew(d, owner, ws, "crew-a"), crew_b = make_crew(d, owner, ws, "crew-b");
  std::string id = make_agent(d, owner, ws, "mover", R"(,"crew_id":")" + crew_a + "\"");
  std::string old_dir = d.dir + "/logs/crews/" + crew_a + "/agents/" + id;
  cr_assert_eq(crewship::make_dirs(old_dir, 0700), 0);
  std::string lines;
  for (int i = 0; i < 3; ++i)
    lines += R"({"ts":"2026-01-01T00:00:00.000000000Z","stream":"stdout","content":"old)" + std::to_string(i) + "\"}\n";
  FILE* f = fopen((old_dir + "/current.jsonl").c_str(), "w");
  cr_assert(f != nullptr);
  fputs(lines.c_str(), f);
  fclose(f);

  cr_assert_eq(patch(d, owner, ws, id, R"({"crew_id":")" + crew_b + "\"}").status, 200);
  Reply r = call(d, "GET", "/api/v1/agents/" + id + "/logs" + q(ws), owner.token);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  auto logs = json_of(r);
  cr_assert_eq(logs.Size(), 3u, "%s", r.body.c_str());
  cr_assert_str_eq(logs[2]["content"].GetString(), "old2");
  cr_assert_not(r.header("X-Log-Truncated").has_value());
  auto one = json_of(call(d, "GET", "/api/v1/agents/" + id + "/logs" + q(ws) + "&offset=1&limit=1", owner.token));
  cr_assert_eq(one.Size(), 1u);
  cr_assert_str_eq(one[0]["content"].GetString(), "old1");
  struct stat st;
  cr_assert_eq(stat((d.dir + "/logs/agents/" + id + "/00000000000000000000.jsonl").c_str(), &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600u);
  cr_assert_neq(stat((old_dir + "/current.jsonl").c_str(), &st), 0, "moved, not copied");
}
