// Crews end to end: create, list, get, update, soft delete, crew members,
// the role each route needs, bad input, and tenancy between two workspaces.
#include <cctype>
#include <string>
#include <vector>

#include <criterion/criterion.h>

#include "tests/support/api.h"

using namespace crewship::test;

namespace {

std::string crews_of(const std::string& ws) { return "/api/v1/crews?workspace_id=" + ws; }
std::string crew_of(const std::string& ws, const std::string& id, const std::string& tail = "") {
  return "/api/v1/crews/" + id + tail + "?workspace_id=" + ws;
}

std::string create(const TestDaemon& d, const Session& s, const std::string& ws, const std::string& body) {
  Reply r = call(d, "POST", crews_of(ws), s.token, body);
  cr_assert_eq(r.status, 201, "create %s: %s", body.c_str(), r.body.c_str());
  return json_of(r)["id"].GetString();
}

// A problem body without its instance (the path, which names the id).
std::string without_instance(const Reply& r) {
  auto doc = json_of(r);
  cr_assert(doc.HasMember("instance"), "%s", r.body.c_str());
  doc.RemoveMember("instance");
  std::string out;
  for (auto& m : doc.GetObject()) {
    out += m.name.GetString();
    out += "=";
    out += m.value.IsString() ? m.value.GetString() : std::to_string(m.value.GetInt());
    out += ";";
  }
  return out;
}

}  // namespace

TestSuite(crews, .timeout = 120);

Test(crews, create_get_list_update_delete) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;

  Reply made = call(d, "POST", crews_of(ws), owner.token,
                    R"({"name":"Backend","slug":"backend","description":"APIs","color":"#ff8800",)"
                    R"("avatar_style":"bottts","autonomy_level":"trusted","max_ephemeral_agents":7,)"
                    R"("container_memory_mb":8192,"container_cpus":3.5})");
  cr_assert_eq(made.status, 201, "%s", made.body.c_str());
  auto c = json_of(made);
  std::string id = c["id"].GetString();
  cr_assert_str_eq(c["workspace_id"].GetString(), ws.c_str());
  cr_assert_str_eq(c["name"].GetString(), "Backend");
  cr_assert_str_eq(c["slug"].GetString(), "backend");
  cr_assert_str_eq(c["description"].GetString(), "APIs");
  cr_assert_str_eq(c["color"].GetString(), "#ff8800");
  cr_assert_str_eq(c["avatar_style"].GetString(), "bottts");
  cr_assert_str_eq(c["autonomy_level"].GetString(), "trusted");
  cr_assert_eq(c["max_ephemeral_agents"].GetInt64(), 7);
  cr_assert_eq(c["container_memory_mb"].GetInt64(), 8192);
  cr_assert_float_eq(c["container_cpus"].GetDouble(), 3.5, 1e-9);
  cr_assert_str_eq(c["created_by_user_id"].GetString(), owner.user_id.c_str());
  cr_assert_str_eq(c["created_at"].GetString(), c["updated_at"].GetString());
  cr_assert_eq(c["_count"]["agents"].GetInt64(), 0);
  cr_assert_eq(c["_count"]["members"].GetInt64(), 1, "the creator is the crew's OWNER");

  Reply got = call(d, "GET", crew_of(ws, id), owner.token);
  cr_assert_eq(got.status, 200, "%s", got.body.c_str());
  cr_assert_eq(got.body, made.body, "GET answers what POST did");
  auto members = list_of(d, crew_of(ws, id, "/members"), owner.token);
  cr_assert_eq(members.Size(), 1u);
  cr_assert_str_eq(members[0]["user_id"].GetString(), owner.user_id.c_str());
  cr_assert_str_eq(members[0]["role"].GetString(), "OWNER");

  // Defaults, and nullable strings as null.
  Reply plain = call(d, "POST", crews_of(ws), owner.token, R"({"name":"Web","slug":"web"})");
  cr_assert_eq(plain.status, 201, "%s", plain.body.c_str());
  auto p = json_of(plain);
  std::string web = p["id"].GetString();
  cr_assert(p["description"].IsNull() && p["color"].IsNull() && p["avatar_style"].IsNull());
  cr_assert_str_eq(p["autonomy_level"].GetString(), "guided");
  cr_assert_eq(p["max_ephemeral_agents"].GetInt64(), 3);
  cr_assert_eq(p["container_memory_mb"].GetInt64(), 4096);
  cr_assert_float_eq(p["container_cpus"].GetDouble(), 2.0, 1e-9);
  // Bounds are inclusive.
  Reply edges = call(d, "POST", crews_of(ws), owner.token,
                     R"({"name":"Ed","slug":"ed","max_ephemeral_agents":0,"container_memory_mb":262144,)"
                     R"("container_cpus":0.1,"autonomy_level":"strict","description":""})");
  cr_assert_eq(edges.status, 201, "%s", edges.body.c_str());
  cr_assert_str_eq(json_of(edges)["description"].GetString(), "");

  expect_problem(call(d, "POST", crews_of(ws), owner.token, R"({"name":"Again","slug":"web"})"), 409, "slug");

  auto list = list_of(d, crews_of(ws), owner.token);
  cr_assert_eq(list.Size(), 3u);
  for (rapidjson::SizeType i = 1; i < list.Size(); ++i) {
    std::string a = std::string(list[i - 1]["created_at"].GetString()) + list[i - 1]["id"].GetString();
    std::string b = std::string(list[i]["created_at"].GetString()) + list[i]["id"].GetString();
    cr_assert_lt(a, b, "ordered by created_at, then id");
  }

  // Update: only what is given changes; null clears a nullable field.
  Reply patched = call(d, "PATCH", crew_of(ws, id), owner.token,
                       R"({"description":null,"color":"teal","container_cpus":0.5,"autonomy_level":"full"})");
  cr_assert_eq(patched.status, 200, "%s", patched.body.c_str());
  auto u = json_of(patched);
  cr_assert(u["description"].IsNull());
  cr_assert_str_eq(u["color"].GetString(), "teal");
  cr_assert_float_eq(u["container_cpus"].GetDouble(), 0.5, 1e-9);
  cr_assert_str_eq(u["autonomy_level"].GetString(), "full");
  cr_assert_str_eq(u["name"].GetString(), "Backend");
  cr_assert_str_eq(u["avatar_style"].GetString(), "bottts");
  cr_assert_eq(u["max_ephemeral_agents"].GetInt64(), 7);
  cr_assert_geq(std::string(u["updated_at"].GetString()), std::string(c["updated_at"].GetString()));
  Reply renamed = call(d, "PATCH", crew_of(ws, id), owner.token, R"({"name":"Backend Team","slug":"be"})");
  cr_assert_eq(renamed.status, 200, "%s", renamed.body.c_str());
  cr_assert_str_eq(json_of(renamed)["slug"].GetString(), "be");
  cr_assert_eq(call(d, "PATCH", crew_of(ws, id), owner.token, R"({"slug":"be"})").status, 200,
               "keeping its own slug is no conflict");

  std::string before = call(d, "GET", crew_of(ws, id), owner.token).body;
  expect_problem(call(d, "PATCH", crew_of(ws, id), owner.token, R"({"slug":"web"})"), 409, "slug");
  expect_problem(call(d, "PATCH", crew_of(ws, id), owner.token, R"({"name":null})"), 400, "name");
  expect_problem(call(d, "PATCH", crew_of(ws, id), owner.token, R"({"autonomy_level":null})"), 400, "autonomy_level");
  expect_problem(call(d, "PATCH", crew_of(ws, id), owner.token, R"({"color":"x","autonomy_level":"yolo"})"), 400,
                 "autonomy_level");
  expect_problem(call(d, "PATCH", crew_of(ws, id), owner.token, R"({"container_memory_mb":1})"), 400,
                 "container_memory_mb");
  expect_problem(call(d, "PATCH", crew_of(ws, id), owner.token, R"({"slug":"Bad"})"), 400, "slug");
  expect_problem(call(d, "PATCH", crew_of(ws, id), owner.token, "{"), 400, "JSON");
  cr_assert_eq(call(d, "GET", crew_of(ws, id), owner.token).body, before, "failed updates wrote nothing");
  Reply empty = call(d, "PATCH", crew_of(ws, id), owner.token, "{}");
  cr_assert_eq(empty.status, 200);
  cr_assert_eq(empty.body, before, "an empty update changes nothing");
  expect_problem(call(d, "PATCH", crew_of(ws, "nope"), owner.token, R"({"name":"Ghost"})"), 404, "crew");

  // Soft delete: gone from every read, the slug free again.
  cr_assert_eq(call(d, "DELETE", crew_of(ws, web), owner.token).status, 204);
  expect_problem(call(d, "GET", crew_of(ws, web), owner.token), 404, "crew");
  expect_problem(call(d, "DELETE", crew_of(ws, web), owner.token), 404, "crew");
  expect_problem(call(d, "PATCH", crew_of(ws, web), owner.token, R"({"name":"Back"})"), 404, "crew");
  expect_problem(call(d, "GET", crew_of(ws, web, "/members"), owner.token), 404, "crew");
  expect_problem(call(d, "POST", crew_of(ws, web, "/members"), owner.token,
                      "{\"user_id\":\"" + owner.user_id + "\",\"role\":\"ADMIN\"}"),
                 404, "crew");
  expect_problem(call(d, "DELETE", crew_of(ws, web, "/members/" + owner.user_id), owner.token), 404, "crew");
  list = list_of(d, crews_of(ws), owner.token);
  cr_assert_eq(list.Size(), 2u);
  for (auto& crew : list.GetArray()) cr_assert_str_neq(crew["id"].GetString(), web.c_str());
  std::string reborn = create(d, owner, ws, R"({"name":"Web 2","slug":"web"})");
  cr_assert_str_neq(reborn.c_str(), web.c_str());
  auto counts = json_of(call(d, "GET", "/api/v1/workspaces/" + ws, owner.token));
  cr_assert_eq(counts["_count"]["crews"].GetInt64(), 3);
}

Test(crews, bad_input_writes_nothing) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  auto with = [](const std::string& extra) { return R"({"name":"Good","slug":"good",)" + extra + "}"; };
  struct Case {
    std::string body, field;
  } cases[] = {
      {"{", "malformed JSON"},
      {"[1]", "object"},
      {"", "object"},
      {R"({"name":"Good","slug":"good"}{})", "after"},
      {"{}", "name is required"},
      {R"({"name":"Good"})", "slug is required"},
      {R"({"slug":"good"})", "name is required"},
      {R"({"name":"G","slug":"good"})", "name must be 2-100"},
      {R"({"name":")" + std::string(101, 'n') + R"(","slug":"good"})", "name must be 2-100"},
      {R"({"name":"   ","slug":"good"})", "name"},
      {R"({"name":5,"slug":"good"})", "name must be a string"},
      {R"({"name":null,"slug":"good"})", "name"},
      {R"({"name":"Good","slug":"Good"})", "slug"},
      {R"({"name":"Good","slug":"_good"})", "slug"},
      {R"({"name":"Good","slug":"go od"})", "slug"},
      {R"({"name":"Good","slug":")" + std::string(51, 's') + R"("})", "slug"},
      {R"({"name":"Good","slug":null})", "slug"},
      {with(R"("description":")" + std::string(2001, 'd') + R"(")"), "description"},
      {with(R"("description":7)"), "description"},
      {with(R"("color":")" + std::string(33, 'c') + R"(")"), "color"},
      {with(R"("avatar_style":")" + std::string(65, 'a') + R"(")"), "avatar_style"},
      {with(R"("autonomy_level":"yolo")"), "autonomy_level must be one of"},
      {with(R"("autonomy_level":"GUIDED")"), "autonomy_level"},
      {with(R"("autonomy_level":1)"), "autonomy_level"},
      {with(R"("max_ephemeral_agents":101)"), "max_ephemeral_agents"},
      {with(R"("max_ephemeral_agents":-1)"), "max_ephemeral_agents"},
      {with(R"("max_ephemeral_agents":"3")"), "max_ephemeral_agents"},
      {with(R"("max_ephemeral_agents":1.5)"), "max_ephemeral_agents"},
      {with(R"("container_memory_mb":255)"), "container_memory_mb"},
      {with(R"("container_memory_mb":262145)"), "container_memory_mb"},
      {with(R"("container_memory_mb":null)"), "container_memory_mb"},
      {with(R"("container_cpus":0.05)"), "container_cpus"},
      {with(R"("container_cpus":64.5)"), "container_cpus"},
      {with(R"("container_cpus":"2")"), "container_cpus"},
      {with(R"("container_cpus":1e999)"), "JSON"},
  };
  for (const Case& c : cases) expect_problem(call(d, "POST", crews_of(ws), owner.token, c.body), 400, c.field);
  cr_assert_eq(list_of(d, crews_of(ws), owner.token).Size(), 0u, "nothing written");
  auto counts = json_of(call(d, "GET", "/api/v1/workspaces/" + ws, owner.token));
  cr_assert_eq(counts["_count"]["crews"].GetInt64(), 0);
  // The same body without the fault is accepted: the cases failed for their fault.
  cr_assert_eq(call(d, "POST", crews_of(ws), owner.token, with(R"("description":")" + std::string(2000, 'd') + R"(")")).status,
               201);
}

Test(crews, stored_verbatim) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  const char* name = "'; DROP TABLE crews; --";
  const char* description = "Robert'); DELETE FROM crew_members; -- \"quoted\" \\ back % _ ünïcødé 中文 🚀";
  std::string body = R"({"name":"'; DROP TABLE crews; --","slug":"bobby-tables",)"
                     R"("description":"Robert'); DELETE FROM crew_members; -- \"quoted\" \\ back % _ ünïcødé 中文 🚀",)"
                     R"("color":"<script>alert(1)</script>","avatar_style":"\u00e9\ud83d\ude80"})";
  Reply made = call(d, "POST", crews_of(ws), owner.token, body);
  cr_assert_eq(made.status, 201, "%s", made.body.c_str());
  std::string id = json_of(made)["id"].GetString();
  auto got = json_of(call(d, "GET", crew_of(ws, id), owner.token));
  cr_assert_str_eq(got["name"].GetString(), name);
  cr_assert_str_eq(got["description"].GetString(), description);
  cr_assert_str_eq(got["color"].GetString(), "<script>alert(1)</script>");
  cr_assert_str_eq(got["avatar_style"].GetString(), "é🚀");
  cr_assert_eq(got["_count"]["members"].GetInt64(), 1, "crew_members intact");
  // Length counts characters, not bytes: 100 two-byte letters fit.
  std::string wide;
  for (int i = 0; i < 100; ++i) wide += "é";
  Reply w = call(d, "POST", crews_of(ws), owner.token, R"({"slug":"wide","name":")" + wide + R"("})");
  cr_assert_eq(w.status, 201, "%s", w.body.c_str());
  cr_assert_str_eq(json_of(w)["name"].GetString(), wide.c_str());
  auto list = list_of(d, crews_of(ws), owner.token);
  cr_assert_eq(list.Size(), 2u, "the table is still there");

  // Metacharacters in ids and the workspace id find nothing.
  expect_problem(call(d, "GET", crew_of(ws, "x'%20OR%20'1'='1"), owner.token), 404, "crew");
  expect_problem(call(d, "GET", crew_of(ws, "%27%3B%20DROP%20TABLE%20crews%3B--"), owner.token), 404, "crew");
  expect_problem(call(d, "GET", "/api/v1/crews?workspace_id=%27%20OR%201%3D1%20--", owner.token), 403, "member");
  cr_assert_eq(list_of(d, crews_of(ws), owner.token).Size(), 2u);
}

Test(crews, pagination) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  std::vector<std::string> ids;
  for (int i = 0; i < 51; ++i) {
    std::string n = std::to_string(i);
    ids.push_back(create(d, owner, ws, R"({"name":"Crew )" + n + R"(","slug":"crew-)" + n + R"("})"));
  }
  auto all = list_of(d, crews_of(ws), owner.token);
  cr_assert_eq(all.Size(), 50u, "the default page is 50");
  auto full = list_of(d, crews_of(ws) + "&limit=100", owner.token);
  cr_assert_eq(full.Size(), 51u);
  auto page = list_of(d, crews_of(ws) + "&limit=2&offset=1", owner.token);
  cr_assert_eq(page.Size(), 2u);
  cr_assert_str_eq(page[0]["id"].GetString(), full[1]["id"].GetString());
  cr_assert_str_eq(page[1]["id"].GetString(), full[2]["id"].GetString());
  auto tail = list_of(d, crews_of(ws) + "&limit=10&offset=50", owner.token);
  cr_assert_eq(tail.Size(), 1u);
  cr_assert_str_eq(tail[0]["id"].GetString(), full[50]["id"].GetString());
  cr_assert_eq(list_of(d, crews_of(ws) + "&offset=51", owner.token).Size(), 0u);
  cr_assert_eq(list_of(d, crews_of(ws) + "&limit=101", owner.token).Size(), full.Size(), "clamped to 100");
  for (const char* bad : {"limit=0", "limit=-1", "limit=abc", "limit=1.5", "limit="})
    expect_problem(call(d, "GET", crews_of(ws) + "&" + bad, owner.token), 400, "limit");
  for (const char* bad : {"offset=-1", "offset=abc"})
    expect_problem(call(d, "GET", crews_of(ws) + "&" + bad, owner.token), 400, "offset");
  expect_problem(call(d, "GET", crew_of(ws, ids[0], "/members") + "&limit=0", owner.token), 400, "limit");
  cr_assert_eq(list_of(d, crew_of(ws, ids[0], "/members") + "&limit=1", owner.token).Size(), 1u);
  cr_assert_eq(list_of(d, crew_of(ws, ids[0], "/members") + "&offset=1", owner.token).Size(), 0u);
}

Test(crews, members) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  Session mate = member(d, owner, "mate@example.com", "MEMBER");
  Session stranger = signup(d, "stranger@example.com");
  std::string ws = owner.workspace_id;
  std::string id = create(d, owner, ws, R"({"name":"Core","slug":"core"})");
  std::string path = crew_of(ws, id, "/members");

  // Bad requests write nothing.
  expect_problem(call(d, "POST", path, owner.token, R"({"role":"MEMBER"})"), 400, "user_id or email");
  expect_problem(call(d, "POST", path, owner.token,
                      "{\"user_id\":\"" + mate.user_id + "\",\"email\":\"mate@example.com\",\"role\":\"MEMBER\"}"),
                 400, "not both");
  expect_problem(call(d, "POST", path, owner.token, R"({"email":"mate@example.com"})"), 400, "role");
  expect_problem(call(d, "POST", path, owner.token, R"({"email":"mate@example.com","role":"MANAGER"})"), 400, "role");
  expect_problem(call(d, "POST", path, owner.token, R"({"email":"mate@example.com","role":null})"), 400, "role");
  expect_problem(call(d, "POST", path, owner.token, R"({"user_id":7,"role":"MEMBER"})"), 400, "user_id");
  expect_problem(call(d, "POST", path, owner.token, "]"), 400, "JSON");
  // Only members of the workspace can join its crews.
  expect_problem(call(d, "POST", path, owner.token, R"({"email":"stranger@example.com","role":"MEMBER"})"), 404,
                 "user");
  expect_problem(call(d, "POST", path, owner.token, "{\"user_id\":\"" + stranger.user_id + "\",\"role\":\"MEMBER\"}"),
                 404, "user");
  expect_problem(call(d, "POST", path, owner.token, R"({"user_id":"no-such-user","role":"MEMBER"})"), 404, "user");
  expect_problem(call(d, "POST", path, owner.token, R"({"email":"ghost@example.com","role":"MEMBER"})"), 404, "user");
  cr_assert_eq(list_of(d, path, owner.token).Size(), 1u);

  Reply added = call(d, "POST", path, owner.token, R"({"email":"MATE@example.com","role":"ADMIN"})");
  cr_assert_eq(added.status, 201, "%s", added.body.c_str());
  auto m = json_of(added);
  cr_assert_str_eq(m["user_id"].GetString(), mate.user_id.c_str());
  cr_assert_str_eq(m["email"].GetString(), "mate@example.com");
  cr_assert_str_eq(m["name"].GetString(), "User");
  cr_assert_str_eq(m["role"].GetString(), "ADMIN");
  cr_assert(m["created_at"].IsString());
  // Already a member: 409, and the role stays as it was.
  expect_problem(call(d, "POST", path, owner.token, "{\"user_id\":\"" + mate.user_id + "\",\"role\":\"MEMBER\"}"),
                 409, "already");
  auto list = list_of(d, path, mate.token);
  cr_assert_eq(list.Size(), 2u);
  bool found = false;
  for (auto& e : list.GetArray()) {
    if (mate.user_id != e["user_id"].GetString()) continue;
    found = true;
    cr_assert_str_eq(e["role"].GetString(), "ADMIN");
    cr_assert_str_eq(e["email"].GetString(), "mate@example.com");
  }
  cr_assert(found);
  cr_assert_eq(json_of(call(d, "GET", crew_of(ws, id), owner.token))["_count"]["members"].GetInt64(), 2);

  cr_assert_eq(call(d, "DELETE", crew_of(ws, id, "/members/" + mate.user_id), owner.token).status, 204);
  expect_problem(call(d, "DELETE", crew_of(ws, id, "/members/" + mate.user_id), owner.token), 404, "member");
  expect_problem(call(d, "DELETE", crew_of(ws, id, "/members/" + stranger.user_id), owner.token), 404, "member");
  cr_assert_eq(list_of(d, path, owner.token).Size(), 1u);
  cr_assert_eq(call(d, "POST", path, owner.token, "{\"user_id\":\"" + mate.user_id + "\",\"role\":\"OWNER\"}").status,
               201, "re-adding after removal works");
  cr_assert_eq(json_of(call(d, "GET", crew_of(ws, id), owner.token))["_count"]["members"].GetInt64(), 2);
}

Test(crews, delete_refused_while_agents_live) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  std::string id = create(d, owner, ws, R"({"name":"Busy","slug":"busy"})");
  Reply hired = call(d, "POST", "/api/v1/agents?workspace_id=" + ws, owner.token,
                     R"({"name":"Ada","slug":"ada","crew_id":")" + id + R"("})");
  cr_assert(hired.status == 200 || hired.status == 201, "%d %s", hired.status, hired.body.c_str());
  std::string agent = json_of(hired)["id"].GetString();
  cr_assert_eq(json_of(call(d, "GET", crew_of(ws, id), owner.token))["_count"]["agents"].GetInt64(), 1);
  cr_assert_eq(json_of(call(d, "GET", "/api/v1/workspaces/" + ws, owner.token))["_count"]["agents"].GetInt64(), 1);
  expect_problem(call(d, "DELETE", crew_of(ws, id), owner.token), 409, "agents");
  cr_assert_eq(call(d, "GET", crew_of(ws, id), owner.token).status, 200, "still there");
  // A deleted agent no longer holds the crew.
  Reply fired = call(d, "DELETE", "/api/v1/agents/" + agent + "?workspace_id=" + ws, owner.token);
  cr_assert(fired.status == 200 || fired.status == 204, "%d %s", fired.status, fired.body.c_str());
  cr_assert_eq(json_of(call(d, "GET", crew_of(ws, id), owner.token))["_count"]["agents"].GetInt64(), 0);
  cr_assert_eq(json_of(call(d, "GET", "/api/v1/workspaces/" + ws, owner.token))["_count"]["agents"].GetInt64(), 0);
  cr_assert_eq(call(d, "DELETE", crew_of(ws, id), owner.token).status, 204);
  cr_assert_eq(call(d, "GET", crew_of(ws, id), owner.token).status, 404);
}

// OWNER, ADMIN, MANAGER, MEMBER, VIEWER against read (list, get, members),
// create (POST crew, PATCH crew) and manage (DELETE crew, add and remove
// crew members) routes.
Test(crews, role_matrix) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  struct Actor {
    const char* role;
    Session s;
    bool create, manage;
  } actors[] = {
      {"OWNER", owner, true, true},
      {"ADMIN", member(d, owner, "admin@example.com", "ADMIN"), true, true},
      {"MANAGER", member(d, owner, "manager@example.com", "MANAGER"), true, false},
      {"MEMBER", member(d, owner, "member@example.com", "MEMBER"), false, false},
      {"VIEWER", member(d, owner, "viewer@example.com", "VIEWER"), false, false},
  };
  std::string base = create(d, owner, ws, R"({"name":"Base","slug":"base"})");
  std::string viewer_id = actors[4].s.user_id;
  int live = 1;
  for (Actor& a : actors) {
    std::string r = a.role;
    cr_assert_eq(list_of(d, crews_of(ws), a.s.token).Size(), static_cast<size_t>(live), "%s list", a.role);
    cr_assert_eq(call(d, "GET", crew_of(ws, base), a.s.token).status, 200, "%s get", a.role);
    cr_assert_eq(call(d, "GET", crew_of(ws, base, "/members"), a.s.token).status, 200, "%s members", a.role);

    // create: POST and PATCH (a MANAGER only on crews of their own).
    std::string slug = "by-" + r;
    for (auto& ch : slug) ch = static_cast<char>(tolower(ch));
    Reply made = call(d, "POST", crews_of(ws), a.s.token, R"({"name":"Mine","slug":")" + slug + R"("})");
    cr_assert_eq(made.status, a.create ? 201 : 403, "%s create: %s", a.role, made.body.c_str());
    bool edits_any = a.manage;
    Reply patched = call(d, "PATCH", crew_of(ws, base), a.s.token, R"({"description":")" + r + R"("})");
    cr_assert_eq(patched.status, edits_any ? 200 : 403, "%s patch: %s", a.role, patched.body.c_str());
    auto now = json_of(call(d, "GET", crew_of(ws, base), owner.token));
    cr_assert_eq(now["description"].IsString() && r == now["description"].GetString(), edits_any,
                 "%s: the edit applied only when allowed", a.role);
    if (!a.create) {
      cr_assert_eq(list_of(d, crews_of(ws), owner.token).Size(), static_cast<size_t>(live), "%s wrote nothing", a.role);
    } else {
      ++live;
      std::string mine = json_of(made)["id"].GetString();
      cr_assert_eq(call(d, "PATCH", crew_of(ws, mine), a.s.token, R"({"name":"Mine, edited"})").status, 200,
                   "%s edits a crew of their own", a.role);
      // manage: delete; a MANAGER cannot even delete their own crew.
      Reply deleted = call(d, "DELETE", crew_of(ws, mine), a.s.token);
      cr_assert_eq(deleted.status, a.manage ? 204 : 403, "%s delete: %s", a.role, deleted.body.c_str());
      if (a.manage) --live;
    }
    if (!a.manage) {
      cr_assert_eq(call(d, "DELETE", crew_of(ws, base), a.s.token).status, 403, "%s delete base", a.role);
    }

    // manage: crew members.
    Reply added = call(d, "POST", crew_of(ws, base, "/members"), a.s.token,
                       "{\"user_id\":\"" + viewer_id + "\",\"role\":\"MEMBER\"}");
    cr_assert_eq(added.status, a.manage ? 201 : 403, "%s add crew member: %s", a.role, added.body.c_str());
    Reply removed = call(d, "DELETE", crew_of(ws, base, "/members/" + (a.manage ? viewer_id : owner.user_id)),
                         a.s.token);
    cr_assert_eq(removed.status, a.manage ? 204 : 403, "%s remove crew member: %s", a.role, removed.body.c_str());
    cr_assert_eq(list_of(d, crew_of(ws, base, "/members"), owner.token).Size(), 1u, "%s", a.role);
  }
  cr_assert_eq(call(d, "GET", crew_of(ws, base), owner.token).status, 200, "base survived");

  // A MANAGER who administers the crew may edit it; a plain crew MEMBER not.
  const Session& manager = actors[2].s;
  std::string add = "{\"user_id\":\"" + manager.user_id + "\",\"role\":\"MEMBER\"}";
  cr_assert_eq(call(d, "POST", crew_of(ws, base, "/members"), owner.token, add).status, 201);
  cr_assert_eq(call(d, "PATCH", crew_of(ws, base), manager.token, R"({"color":"red"})").status, 403);
  cr_assert_eq(call(d, "DELETE", crew_of(ws, base, "/members/" + manager.user_id), owner.token).status, 204);
  add = "{\"user_id\":\"" + manager.user_id + "\",\"role\":\"ADMIN\"}";
  cr_assert_eq(call(d, "POST", crew_of(ws, base, "/members"), owner.token, add).status, 201);
  Reply ok = call(d, "PATCH", crew_of(ws, base), manager.token, R"({"color":"red"})");
  cr_assert_eq(ok.status, 200, "%s", ok.body.c_str());
  cr_assert_str_eq(json_of(ok)["color"].GetString(), "red");
  // Bad input from a MANAGER is still a 400, not a write.
  expect_problem(call(d, "PATCH", crew_of(ws, base), manager.token, R"({"color":7})"), 400, "color");
}

Test(crews, tenancy) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  Session other = signup(d, "other@example.com");
  std::string ws = owner.workspace_id;
  std::string mine = create(d, owner, ws, R"({"name":"Core","slug":"core","description":"ours"})");
  Reply made = call(d, "POST", "/api/v1/workspaces", other.token, R"({"name":"Other Co"})");
  cr_assert_eq(made.status, 201, "%s", made.body.c_str());
  std::string theirs_ws = json_of(made)["id"].GetString();
  // Slugs are unique per workspace, not across them.
  std::string theirs = create(d, other, theirs_ws, R"({"name":"Core","slug":"core"})");

  // Every id-taking route answers for a crew of another workspace exactly as
  // for one that does not exist.
  std::string user_body = "{\"email\":\"other@example.com\",\"role\":\"MEMBER\"}";
  struct Route {
    const char* method;
    std::string tail, body;
  } routes[] = {
      {"GET", "", ""},
      {"PATCH", "", R"({"name":"Hijacked"})"},
      {"DELETE", "", ""},
      {"GET", "/members", ""},
      {"POST", "/members", user_body},
      {"DELETE", "/members/" + owner.user_id, ""},
  };
  for (const Route& r : routes) {
    Reply foreign = call(d, r.method, crew_of(theirs_ws, mine, r.tail), other.token, r.body);
    Reply missing = call(d, r.method, crew_of(theirs_ws, "c000000000000000000000000", r.tail), other.token, r.body);
    cr_assert_eq(foreign.status, 404, "%s %s: %s", r.method, r.tail.c_str(), foreign.body.c_str());
    cr_assert_eq(missing.status, 404, "%s %s: %s", r.method, r.tail.c_str(), missing.body.c_str());
    cr_assert_eq(without_instance(foreign), without_instance(missing), "%s %s", r.method, r.tail.c_str());
    cr_assert_eq(foreign.header("Content-Type"), missing.header("Content-Type"));
  }
  auto ours = json_of(call(d, "GET", crew_of(ws, mine), owner.token));
  cr_assert_str_eq(ours["name"].GetString(), "Core", "untouched");
  cr_assert_str_eq(ours["description"].GetString(), "ours");
  cr_assert_eq(ours["_count"]["members"].GetInt64(), 1);
  cr_assert_eq(list_of(d, crews_of(theirs_ws), other.token).Size(), 1u);
  auto listed = list_of(d, crews_of(ws), owner.token);
  cr_assert_eq(listed.Size(), 1u, "each workspace lists only its own");
  cr_assert_str_eq(listed[0]["id"].GetString(), mine.c_str());
  cr_assert_str_neq(mine.c_str(), theirs.c_str());
  // A user of another workspace cannot be added to our crew.
  expect_problem(call(d, "POST", crew_of(ws, mine, "/members"), owner.token,
                      "{\"user_id\":\"" + other.user_id + "\",\"role\":\"MEMBER\"}"),
                 404, "user");

  // Scope: no workspace → 400, not a member → 403, no token → 401.
  expect_problem(call(d, "GET", "/api/v1/crews", owner.token), 400, "workspace_id");
  expect_problem(call(d, "GET", "/api/v1/crews/" + mine, owner.token), 400, "workspace_id");
  expect_problem(call(d, "POST", "/api/v1/crews", owner.token, R"({"name":"No","slug":"no"})"), 400, "workspace_id");
  expect_problem(call(d, "GET", crews_of(ws), other.token), 403, "member");
  expect_problem(call(d, "GET", crew_of(ws, mine), other.token), 403, "member");
  expect_problem(call(d, "POST", crews_of(ws), other.token, R"({"name":"Sneaky","slug":"sneaky"})"), 403, "member");
  expect_problem(call(d, "DELETE", crew_of(ws, mine), other.token), 403, "member");
  expect_problem(call(d, "GET", crews_of(ws)), 401, "authentication");
  expect_problem(call(d, "POST", crews_of(ws), "", R"({"name":"Anon","slug":"anon"})"), 401, "authentication");
  expect_problem(call(d, "DELETE", crew_of(ws, mine), "garbage"), 401, "authentication");
  cr_assert_eq(list_of(d, crews_of(ws), owner.token).Size(), 1u, "nothing written");
  // The workspace may come from X-Workspace-ID instead of the query.
  Reply by_header = call(d, "GET", "/api/v1/crews/" + mine, owner.token, "", "X-Workspace-ID: " + ws + "\r\n");
  cr_assert_eq(by_header.status, 200, "%s", by_header.body.c_str());
  cr_assert_eq(call(d, "GET", "/api/v1/crews/" + mine, other.token, "", "X-Workspace-ID: " + theirs_ws + "\r\n").status,
               404);
}

// Issue: a UI form sends back the whole crew it read. Read-only members are
// ignored and never change; writable ones still answer 400 naming the field.
Test(crews, patch_with_the_whole_object_read) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  std::string id = create(d, owner, ws, R"({"name":"Backend","slug":"backend"})");
  Reply read = call(d, "GET", crew_of(ws, id), owner.token);
  cr_assert_eq(read.status, 200);
  std::string whole = read.body;
  whole.replace(whole.find(R"("name":"Backend")"), 16, R"("name":"Backend Two")");
  whole.replace(whole.find(R"("id":")" + id), 6 + id.size(), R"("id":"another)");
  Reply r = call(d, "PATCH", crew_of(ws, id), owner.token, whole);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  auto doc = json_of(r);
  cr_assert_str_eq(doc["name"].GetString(), "Backend Two");
  cr_assert_str_eq(doc["id"].GetString(), id.c_str());
  cr_assert_str_eq(doc["workspace_id"].GetString(), ws.c_str());
  cr_assert_eq(call(d, "PATCH", crew_of(ws, id), owner.token, R"({"_count":{"agents":9},"created_at":"x"})").status, 200);
  cr_assert_eq(json_of(call(d, "GET", crew_of(ws, id), owner.token))["_count"]["agents"].GetInt(), 0);
  Reply bad = call(d, "PATCH", crew_of(ws, id), owner.token, R"({"id":"x","autonomy_level":"reckless"})");
  cr_assert_eq(bad.status, 400, "%s", bad.body.c_str());
  cr_assert(bad.body.find("autonomy_level") != std::string::npos, "%s", bad.body.c_str());
}
