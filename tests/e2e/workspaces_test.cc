// Workspaces end to end: create, list, get, update, members, the role each
// route needs, and tenancy between two workspaces.
#include <string>

#include <criterion/criterion.h>

#include "tests/support/api.h"

using namespace crewship::test;

namespace {

std::string ws_path(const std::string& id) { return "/api/v1/workspaces/" + id; }


// A 4xx problem whose detail mentions what.
size_t list_size(const TestDaemon& d, const std::string& path, const std::string& token) {
  Reply r = call(d, "GET", path, token);
  cr_assert_eq(r.status, 200, "%s: %s", path.c_str(), r.body.c_str());
  auto doc = json_of(r);
  cr_assert(doc.IsArray(), "%s", r.body.c_str());
  return doc.Size();
}

// The member id of user_id in workspace, from the members list.
std::string member_id(const TestDaemon& d, const Session& as, const std::string& workspace,
                      const std::string& user_id) {
  Reply r = call(d, "GET", ws_path(workspace) + "/members", as.token);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  auto doc = json_of(r);
  for (auto& m : doc.GetArray())
    if (user_id == m["user_id"].GetString()) return m["id"].GetString();
  cr_assert_fail("user %s is not a member", user_id.c_str());
  return {};
}

}  // namespace

TestSuite(workspaces, .timeout = 120);

Test(workspaces, create_list_get_update) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  cr_assert_eq(call(d, "GET", "/api/v1/workspaces").status, 401);
  cr_assert_eq(call(d, "POST", "/api/v1/workspaces", "", R"({"name":"Nope"})").status, 401);

  Reply listed = call(d, "GET", "/api/v1/workspaces", owner.token);
  cr_assert_eq(listed.status, 200, "%s", listed.body.c_str());
  auto list = json_of(listed);
  cr_assert(list.IsArray());
  cr_assert_eq(list.Size(), 1u);
  cr_assert_str_eq(list[0]["id"].GetString(), owner.workspace_id.c_str());
  cr_assert_str_eq(list[0]["name"].GetString(), "Acme");
  cr_assert_str_eq(list[0]["slug"].GetString(), "acme");
  cr_assert_str_eq(list[0]["role"].GetString(), "OWNER");
  cr_assert(list[0]["created_at"].IsString() && list[0]["updated_at"].IsString());

  Reply made = call(d, "POST", "/api/v1/workspaces", owner.token, R"({"name":"Side Project!"})");
  cr_assert_eq(made.status, 201, "%s", made.body.c_str());
  auto side = json_of(made);
  std::string side_id = side["id"].GetString();
  cr_assert_str_eq(side["name"].GetString(), "Side Project!");
  cr_assert_str_eq(side["slug"].GetString(), "side-project");
  cr_assert_str_eq(side["role"].GetString(), "OWNER");
  cr_assert_str_eq(side["created_at"].GetString(), side["updated_at"].GetString());

  // The same name again: the derived slug gets a suffix instead of failing.
  Reply twin = call(d, "POST", "/api/v1/workspaces", owner.token, R"({"name":"Side Project"})");
  cr_assert_eq(twin.status, 201, "%s", twin.body.c_str());
  std::string twin_slug = json_of(twin)["slug"].GetString();
  cr_assert(twin_slug.rfind("side-project-", 0) == 0 && twin_slug.size() <= 50, "%s", twin_slug.c_str());

  Reply own_slug = call(d, "POST", "/api/v1/workspaces", owner.token, R"({"name":"Mine","slug":"my_space-2"})");
  cr_assert_eq(own_slug.status, 201, "%s", own_slug.body.c_str());
  cr_assert_str_eq(json_of(own_slug)["slug"].GetString(), "my_space-2");
  expect_problem(call(d, "POST", "/api/v1/workspaces", owner.token, R"({"name":"Dup","slug":"side-project"})"),
                 409, "slug");

  list = json_of(call(d, "GET", "/api/v1/workspaces", owner.token));
  cr_assert_eq(list.Size(), 4u);
  cr_assert_str_eq(list[0]["id"].GetString(), owner.workspace_id.c_str(), "in creation order");
  cr_assert_str_eq(list[1]["id"].GetString(), side_id.c_str());
  cr_assert_str_eq(list[3]["slug"].GetString(), "my_space-2");
  for (auto& w : list.GetArray()) cr_assert_str_eq(w["role"].GetString(), "OWNER");

  // Paging.
  auto page = json_of(call(d, "GET", "/api/v1/workspaces?limit=1&offset=0", owner.token));
  cr_assert_eq(page.Size(), 1u);
  cr_assert_str_eq(page[0]["id"].GetString(), owner.workspace_id.c_str());
  page = json_of(call(d, "GET", "/api/v1/workspaces?limit=2&offset=3", owner.token));
  cr_assert_eq(page.Size(), 1u);
  cr_assert_eq(list_size(d, "/api/v1/workspaces?offset=4", owner.token), 0u);
  cr_assert_eq(list_size(d, "/api/v1/workspaces?limit=100", owner.token), 4u);
  cr_assert_eq(list_size(d, "/api/v1/workspaces?limit=101", owner.token), 4u, "clamped");
  for (const char* bad : {"limit=0", "limit=-1", "limit=abc", "limit="})
    expect_problem(call(d, "GET", std::string("/api/v1/workspaces?") + bad, owner.token), 400, "limit");
  for (const char* bad : {"offset=-1", "offset=x"})
    expect_problem(call(d, "GET", std::string("/api/v1/workspaces?") + bad, owner.token), 400, "offset");

  // Get: the caller's role and live counts.
  Reply got = call(d, "GET", ws_path(owner.workspace_id), owner.token);
  cr_assert_eq(got.status, 200, "%s", got.body.c_str());
  auto ws = json_of(got);
  cr_assert_str_eq(ws["id"].GetString(), owner.workspace_id.c_str());
  cr_assert_str_eq(ws["name"].GetString(), "Acme");
  cr_assert_str_eq(ws["role"].GetString(), "OWNER");
  cr_assert_eq(ws["_count"]["members"].GetInt64(), 1);
  cr_assert_eq(ws["_count"]["crews"].GetInt64(), 0);
  cr_assert_eq(ws["_count"]["agents"].GetInt64(), 0);
  std::string crews = "/api/v1/crews?workspace_id=" + owner.workspace_id;
  Reply crew = call(d, "POST", crews, owner.token, R"({"name":"Core","slug":"core"})");
  cr_assert_eq(crew.status, 201, "%s", crew.body.c_str());
  Reply gone = call(d, "POST", crews, owner.token, R"({"name":"Gone","slug":"gone"})");
  std::string gone_id = json_of(gone)["id"].GetString();
  cr_assert_eq(call(d, "DELETE", "/api/v1/crews/" + gone_id + "?workspace_id=" + owner.workspace_id,
                    owner.token).status, 204);
  ws = json_of(call(d, "GET", ws_path(owner.workspace_id), owner.token));
  cr_assert_eq(ws["_count"]["crews"].GetInt64(), 1, "deleted crews are not counted");

  // Update.
  Reply renamed = call(d, "PATCH", ws_path(owner.workspace_id), owner.token, R"({"name":"Acme Two"})");
  cr_assert_eq(renamed.status, 200, "%s", renamed.body.c_str());
  ws = json_of(renamed);
  cr_assert_str_eq(ws["name"].GetString(), "Acme Two");
  cr_assert_str_eq(ws["slug"].GetString(), "acme", "slug untouched");
  cr_assert_str_eq(ws["role"].GetString(), "OWNER");
  expect_problem(call(d, "PATCH", ws_path(owner.workspace_id), owner.token, R"({"slug":"side-project"})"), 409,
                 "slug");
  expect_problem(call(d, "PATCH", ws_path(owner.workspace_id), owner.token, R"({"slug":"Not A Slug"})"), 400,
                 "slug");
  expect_problem(call(d, "PATCH", ws_path(owner.workspace_id), owner.token, R"({"name":null})"), 400, "name");
  expect_problem(call(d, "PATCH", ws_path(owner.workspace_id), owner.token, R"({"name":""})"), 400, "name");
  expect_problem(call(d, "PATCH", ws_path(owner.workspace_id), owner.token, R"({"name":7})"), 400, "name");
  expect_problem(call(d, "PATCH", ws_path(owner.workspace_id), owner.token, R"({"name":"ok","slug":7})"), 400,
                 "slug");
  expect_problem(call(d, "PATCH", ws_path(owner.workspace_id), owner.token, "{\"name\":"), 400, "JSON");
  ws = json_of(call(d, "GET", ws_path(owner.workspace_id), owner.token));
  cr_assert_str_eq(ws["name"].GetString(), "Acme Two", "failed updates wrote nothing");
  cr_assert_str_eq(ws["slug"].GetString(), "acme");
  Reply reslug = call(d, "PATCH", ws_path(owner.workspace_id), owner.token, R"({"slug":"acme-2","name":"A2"})");
  cr_assert_eq(reslug.status, 200, "%s", reslug.body.c_str());
  cr_assert_str_eq(json_of(reslug)["slug"].GetString(), "acme-2");
  cr_assert_str_eq(json_of(reslug)["name"].GetString(), "A2");
  Reply same = call(d, "PATCH", ws_path(owner.workspace_id), owner.token, "{}");
  cr_assert_eq(same.status, 200);
  cr_assert_str_eq(json_of(same)["slug"].GetString(), "acme-2");
  cr_assert_eq(call(d, "GET", ws_path("nope"), owner.token).status, 403, "not a member of an unknown id");
}

Test(workspaces, create_rejects_bad_input) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string long_name(101, 'n');
  struct Case {
    std::string body, field;
  } cases[] = {
      {"{", "JSON"},
      {"[]", "object"},
      {R"({"name":"a"} x)", "after"},
      {"{}", "name is required"},
      {R"({"name":""})", "name"},
      {R"({"name":"   "})", "name"},
      {R"({"name":42})", "name must be a string"},
      {R"({"name":null})", "name"},
      {R"({"name":")" + long_name + R"("})", "name"},
      {R"({"name":"ok","slug":"UPPER"})", "slug"},
      {R"({"name":"ok","slug":"-lead"})", "slug"},
      {R"({"name":"ok","slug":"a"})", "slug"},
      {R"({"name":"ok","slug":")" + std::string(51, 's') + R"("})", "slug"},
      {R"({"name":"ok","slug":["x"]})", "slug"},
  };
  for (const Case& c : cases)
    expect_problem(call(d, "POST", "/api/v1/workspaces", owner.token, c.body), 400, c.field);
  cr_assert_eq(list_size(d, "/api/v1/workspaces", owner.token), 1u, "nothing written");
}

Test(workspaces, names_are_stored_verbatim) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  const char* body = R"({"name":"'; DROP TABLE workspaces; -- \"q\" \\ Ünïcødé 🚀"})";
  Reply made = call(d, "POST", "/api/v1/workspaces", owner.token, body);
  cr_assert_eq(made.status, 201, "%s", made.body.c_str());
  auto doc = json_of(made);
  const char* want = "'; DROP TABLE workspaces; -- \"q\" \\ Ünïcødé 🚀";
  cr_assert_str_eq(doc["name"].GetString(), want);
  std::string slug = doc["slug"].GetString();
  cr_assert(slug.rfind("drop-table-workspaces-q", 0) == 0 && slug.size() <= 50, "%s", slug.c_str());
  auto got = json_of(call(d, "GET", ws_path(doc["id"].GetString()), owner.token));
  cr_assert_str_eq(got["name"].GetString(), want);
  cr_assert_eq(list_size(d, "/api/v1/workspaces", owner.token), 2u, "the table is still there");
  // A name without one letter or digit still gets a valid slug.
  Reply symbols = call(d, "POST", "/api/v1/workspaces", owner.token, R"({"name":"日本"})");
  cr_assert_eq(symbols.status, 201, "%s", symbols.body.c_str());
  std::string s2 = json_of(symbols)["slug"].GetString();
  cr_assert_geq(s2.size(), 2u);
}

Test(workspaces, members) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  Session admin = member(d, owner, "admin@example.com", "ADMIN");
  Session outsider = signup(d, "outsider@example.com");
  std::string members = ws_path(owner.workspace_id) + "/members";

  Reply listed = call(d, "GET", members, owner.token);
  cr_assert_eq(listed.status, 200, "%s", listed.body.c_str());
  auto list = json_of(listed);
  cr_assert_eq(list.Size(), 2u);
  cr_assert_str_eq(list[0]["user_id"].GetString(), owner.user_id.c_str());
  cr_assert_str_eq(list[0]["email"].GetString(), "owner@example.com");
  cr_assert_str_eq(list[0]["name"].GetString(), "Owner");
  cr_assert_str_eq(list[0]["role"].GetString(), "OWNER");
  cr_assert(list[0]["id"].IsString() && list[0]["created_at"].IsString());
  cr_assert_str_eq(list[1]["role"].GetString(), "ADMIN");
  cr_assert_eq(list_size(d, members + "?limit=1", owner.token), 1u);
  cr_assert_eq(list_size(d, members + "?offset=2", owner.token), 0u);
  cr_assert_eq(list_size(d, members + "?limit=101", owner.token), 2u, "clamped");
  expect_problem(call(d, "GET", members + "?limit=0", owner.token), 400, "limit");

  // Bad requests write nothing.
  expect_problem(call(d, "POST", members, owner.token, R"({"email":"ghost@example.com","role":"MEMBER"})"), 404,
                 "email");
  expect_problem(call(d, "POST", members, owner.token, R"({"email":"outsider@example.com","role":"KING"})"), 400,
                 "role");
  expect_problem(call(d, "POST", members, owner.token, R"({"email":"outsider@example.com"})"), 400, "role");
  expect_problem(call(d, "POST", members, owner.token, R"({"role":"MEMBER"})"), 400, "email");
  expect_problem(call(d, "POST", members, owner.token, R"({"email":1,"role":"MEMBER"})"), 400, "email");
  expect_problem(call(d, "POST", members, owner.token, "nope"), 400, "JSON");
  expect_problem(call(d, "POST", members, owner.token, R"({"email":"admin@example.com","role":"VIEWER"})"), 409,
                 "already");
  // Only an OWNER grants OWNER.
  expect_problem(call(d, "POST", members, admin.token, R"({"email":"outsider@example.com","role":"OWNER"})"), 403,
                 "OWNER");
  cr_assert_eq(list_size(d, members, owner.token), 2u);
  cr_assert_eq(call(d, "GET", ws_path(owner.workspace_id), outsider.token).status, 403);

  // The email matches case-insensitively; the stored address comes back.
  Reply added = call(d, "POST", members, admin.token, R"({"email":"OUTSIDER@example.com","role":"MANAGER"})");
  cr_assert_eq(added.status, 201, "%s", added.body.c_str());
  auto m = json_of(added);
  cr_assert_str_eq(m["user_id"].GetString(), outsider.user_id.c_str());
  cr_assert_str_eq(m["email"].GetString(), "outsider@example.com");
  cr_assert_str_eq(m["name"].GetString(), "User");
  cr_assert_str_eq(m["role"].GetString(), "MANAGER");
  std::string outsider_member = m["id"].GetString();
  cr_assert_eq(member_id(d, owner, owner.workspace_id, outsider.user_id), outsider_member);
  auto seen = json_of(call(d, "GET", ws_path(owner.workspace_id), outsider.token));
  cr_assert_str_eq(seen["role"].GetString(), "MANAGER");
  cr_assert_eq(seen["_count"]["members"].GetInt64(), 3);

  // Removing a member also ends their crew memberships here.
  std::string crews = "/api/v1/crews?workspace_id=" + owner.workspace_id;
  std::string crew_id = json_of(call(d, "POST", crews, owner.token, R"({"name":"Core","slug":"core"})"))["id"].GetString();
  std::string crew_members = "/api/v1/crews/" + crew_id + "/members?workspace_id=" + owner.workspace_id;
  cr_assert_eq(call(d, "POST", crew_members, owner.token, "{\"user_id\":\"" + outsider.user_id + "\",\"role\":\"ADMIN\"}").status, 201);
  cr_assert_eq(list_size(d, crew_members, owner.token), 2u);
  cr_assert_eq(call(d, "DELETE", members + "/" + outsider_member, admin.token).status, 204);
  cr_assert_eq(list_size(d, crew_members, owner.token), 1u, "crew membership went with the workspace one");
  cr_assert_eq(call(d, "GET", ws_path(owner.workspace_id), outsider.token).status, 403);
  expect_problem(call(d, "DELETE", members + "/" + outsider_member, admin.token), 404, "member");
  expect_problem(call(d, "DELETE", members + "/no-such-member", admin.token), 404, "member");

  // A member id of another workspace is unknown here.
  Reply theirs = call(d, "POST", "/api/v1/workspaces", outsider.token, R"({"name":"Elsewhere"})");
  cr_assert_eq(theirs.status, 201);
  std::string other_ws = json_of(theirs)["id"].GetString();
  std::string foreign = member_id(d, outsider, other_ws, outsider.user_id);
  expect_problem(call(d, "DELETE", members + "/" + foreign, owner.token), 404, "member");
  cr_assert_eq(list_size(d, ws_path(other_ws) + "/members", outsider.token), 1u, "untouched");

  // Owners: only an OWNER removes one, and the last one stays.
  cr_assert_eq(call(d, "POST", members, owner.token, R"({"email":"outsider@example.com","role":"OWNER"})").status, 201);
  std::string second_owner = member_id(d, owner, owner.workspace_id, outsider.user_id);
  std::string first_owner = member_id(d, owner, owner.workspace_id, owner.user_id);
  expect_problem(call(d, "DELETE", members + "/" + first_owner, admin.token), 403, "OWNER");
  cr_assert_eq(call(d, "DELETE", members + "/" + second_owner, owner.token).status, 204);
  expect_problem(call(d, "DELETE", members + "/" + first_owner, owner.token), 409, "last OWNER");
  cr_assert_eq(list_size(d, members, owner.token), 2u);
  // An ADMIN may remove another ADMIN (here: themselves).
  cr_assert_eq(call(d, "DELETE", members + "/" + member_id(d, owner, owner.workspace_id, admin.user_id),
                    admin.token).status, 204);
  cr_assert_eq(list_size(d, members, owner.token), 1u);
}

// OWNER, ADMIN, MANAGER, MEMBER, VIEWER against read (get, members),
// manage (update, add member, remove member) routes of a workspace.
Test(workspaces, role_matrix) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  struct Actor {
    const char* role;
    Session s;
    bool manage;
  } actors[] = {
      {"OWNER", owner, true},
      {"ADMIN", member(d, owner, "admin@example.com", "ADMIN"), true},
      {"MANAGER", member(d, owner, "manager@example.com", "MANAGER"), false},
      {"MEMBER", member(d, owner, "member@example.com", "MEMBER"), false},
      {"VIEWER", member(d, owner, "viewer@example.com", "VIEWER"), false},
  };
  signup(d, "spare@example.com");
  std::string ws = ws_path(owner.workspace_id);
  for (Actor& a : actors) {
    Reply got = call(d, "GET", ws, a.s.token);
    cr_assert_eq(got.status, 200, "%s get: %s", a.role, got.body.c_str());
    cr_assert_str_eq(json_of(got)["role"].GetString(), a.role);
    cr_assert_eq(call(d, "GET", ws + "/members", a.s.token).status, 200, "%s members", a.role);
    cr_assert_eq(call(d, "GET", "/api/v1/workspaces", a.s.token).status, 200, "%s list", a.role);

    std::string name = std::string("Renamed by ") + a.role;
    Reply patched = call(d, "PATCH", ws, a.s.token, "{\"name\":\"" + name + "\"}");
    cr_assert_eq(patched.status, a.manage ? 200 : 403, "%s patch: %s", a.role, patched.body.c_str());
    auto now = json_of(call(d, "GET", ws, owner.token));
    cr_assert_eq(name == now["name"].GetString(), a.manage, "%s rename applied only when allowed", a.role);

    Reply added = call(d, "POST", ws + "/members", a.s.token, R"({"email":"spare@example.com","role":"VIEWER"})");
    cr_assert_eq(added.status, a.manage ? 201 : 403, "%s add: %s", a.role, added.body.c_str());
    if (!a.manage) {
      cr_assert_eq(list_size(d, ws + "/members", owner.token), 5u);
      continue;
    }
    std::string id = json_of(added)["id"].GetString();
    cr_assert_eq(call(d, "DELETE", ws + "/members/" + id, a.s.token).status, 204, "%s remove", a.role);
  }
  // Those without manage cannot remove anyone, not even a VIEWER.
  std::string viewer = member_id(d, owner, owner.workspace_id, actors[4].s.user_id);
  for (int i = 2; i < 5; ++i)
    expect_problem(call(d, "DELETE", ws + "/members/" + viewer, actors[i].s.token), 403, "ADMIN");
  cr_assert_eq(list_size(d, ws + "/members", owner.token), 5u);
}

Test(workspaces, tenancy) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  Session other = signup(d, "other@example.com");
  cr_assert_eq(list_size(d, "/api/v1/workspaces", other.token), 0u, "a new user belongs nowhere");
  Reply made = call(d, "POST", "/api/v1/workspaces", other.token, R"({"name":"Other Co"})");
  cr_assert_eq(made.status, 201, "%s", made.body.c_str());
  std::string theirs = json_of(made)["id"].GetString();

  auto mine = json_of(call(d, "GET", "/api/v1/workspaces", owner.token));
  cr_assert_eq(mine.Size(), 1u);
  cr_assert_str_eq(mine[0]["id"].GetString(), owner.workspace_id.c_str());
  auto their_list = json_of(call(d, "GET", "/api/v1/workspaces", other.token));
  cr_assert_eq(their_list.Size(), 1u);
  cr_assert_str_eq(their_list[0]["id"].GetString(), theirs.c_str());

  std::string ws = ws_path(owner.workspace_id);
  expect_problem(call(d, "GET", ws, other.token), 403, "member");
  expect_problem(call(d, "GET", ws + "/members", other.token), 403, "member");
  expect_problem(call(d, "PATCH", ws, other.token, R"({"name":"Taken over"})"), 403, "member");
  expect_problem(call(d, "POST", ws + "/members", other.token, R"({"email":"other@example.com","role":"OWNER"})"),
                 403, "member");
  // Naming their own workspace in the query or header must not unlock ours.
  std::string q = "?workspace_id=" + theirs;
  cr_assert_eq(call(d, "GET", ws + q, other.token).status, 400);
  cr_assert_eq(call(d, "GET", ws + "/members" + q, other.token).status, 400);
  cr_assert_eq(call(d, "PATCH", ws + q, other.token, R"({"name":"Taken over"})").status, 400);
  cr_assert_eq(call(d, "POST", ws + "/members" + q, other.token, R"({"email":"other@example.com","role":"OWNER"})").status,
               400);
  std::string owner_member = member_id(d, owner, owner.workspace_id, owner.user_id);
  cr_assert_eq(call(d, "DELETE", ws + "/members/" + owner_member + q, other.token).status, 400);
  cr_assert_eq(call(d, "GET", ws, other.token, "", "X-Workspace-ID: " + theirs + "\r\n").status, 400);
  auto still = json_of(call(d, "GET", ws, owner.token));
  cr_assert_str_eq(still["name"].GetString(), "Acme");
  cr_assert_eq(still["_count"]["members"].GetInt64(), 1);
  cr_assert_eq(call(d, "GET", ws, "").status, 401);
  cr_assert_eq(call(d, "GET", ws, "bogus-token").status, 401);
}

// Issue: a UI form sends back the whole workspace it read. Read-only members
// are ignored and never change.
Test(workspaces, patch_with_the_whole_object_read) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  Reply read = call(d, "GET", ws_path(owner.workspace_id), owner.token);
  cr_assert_eq(read.status, 200);
  std::string whole = read.body;
  size_t at = whole.find(R"("name":")");
  whole.replace(at, whole.find('"', at + 8) - at + 1, R"("name":"Renamed")");
  Reply r = call(d, "PATCH", ws_path(owner.workspace_id), owner.token, whole);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  auto doc = json_of(r);
  cr_assert_str_eq(doc["name"].GetString(), "Renamed");
  cr_assert_str_eq(doc["id"].GetString(), owner.workspace_id.c_str());
  Reply again = call(d, "PATCH", ws_path(owner.workspace_id), owner.token, R"({"id":"other","created_at":"x"})");
  cr_assert_eq(again.status, 200, "%s", again.body.c_str());
  cr_assert_str_eq(json_of(again)["id"].GetString(), owner.workspace_id.c_str());
}
