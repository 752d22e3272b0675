// Invitations end to end: the token shown once and kept hashed, 7 days of
// validity, one acceptance, 410 after, the role each route needs, bad input
// and tenancy between two workspaces.
#include <algorithm>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include <criterion/criterion.h>

#include "tests/support/api.h"

using namespace crewship::test;

namespace {

std::string invitations(const Session& s) {
  return "/api/v1/workspaces/" + s.workspace_id + "/invitations";
}

std::string accept_path(const std::string& token) { return "/api/v1/invitations/" + token + "/accept"; }

// POSTs an invitation as s, asserts 201 and returns the answer.
rapidjson::Document invite(const TestDaemon& d, const Session& s, const std::string& email,
                           const std::string& role) {
  Reply r = call(d, "POST", invitations(s), s.token,
                 "{\"email\":\"" + email + "\",\"role\":\"" + role + "\"}");
  cr_assert_eq(r.status, 201, "%s", r.body.c_str());
  return json_of(r);
}

time_t parse_utc(const char* t) {
  struct tm tm {};
  cr_assert_not_null(strptime(t, "%Y-%m-%dT%H:%M:%SZ", &tm), "%s", t);
  return timegm(&tm);
}

}  // namespace

TestSuite(invitations, .timeout = 120);

Test(invitations, create_list_accept_once) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  Session invitee = signup(d, "invitee@example.com");
  expect_problem(call(d, "GET", "/api/v1/workspaces/" + owner.workspace_id, invitee.token), 403, "member");

  Reply made = call(d, "POST", invitations(owner), owner.token,
                    R"({"email":"Invitee@Example.com","role":"MANAGER"})");
  cr_assert_eq(made.status, 201, "%s", made.body.c_str());
  cr_assert_eq(made.header("Cache-Control").value_or(""), "no-store");
  auto inv = json_of(made);
  std::string id = inv["id"].GetString(), token = inv["token"].GetString();
  cr_assert_str_eq(inv["email"].GetString(), "Invitee@Example.com");
  cr_assert_str_eq(inv["role"].GetString(), "MANAGER");
  cr_assert(token.starts_with("crewship_inv_") && token.size() == 13 + 64, "%s", token.c_str());
  time_t expires = parse_utc(inv["expires_at"].GetString());
  time_t week = time(nullptr) + 7 * 24 * 3600;
  cr_assert(expires <= week + 2 && expires >= week - 60, "expires_at %s", inv["expires_at"].GetString());

  // The token is never shown again nor kept as it is.
  Reply listed = call(d, "GET", invitations(owner), owner.token);
  cr_assert_eq(listed.status, 200, "%s", listed.body.c_str());
  cr_assert(listed.body.find(token) == std::string::npos);
  auto list = json_of(listed);
  cr_assert_eq(list.Size(), 1u);
  cr_assert_str_eq(list[0]["id"].GetString(), id.c_str());
  cr_assert_str_eq(list[0]["status"].GetString(), "pending");
  cr_assert_str_eq(list[0]["invited_by_user_id"].GetString(), owner.user_id.c_str());
  cr_assert(list[0]["accepted_at"].IsNull() && !list[0].HasMember("token"));
  cr_assert(files_holding(d.dir, token.substr(13)).empty(), "the token is stored only hashed");

  Reply accepted = call(d, "POST", accept_path(token), invitee.token);
  cr_assert_eq(accepted.status, 200, "%s", accepted.body.c_str());
  auto m = json_of(accepted);
  cr_assert_str_eq(m["workspace_id"].GetString(), owner.workspace_id.c_str());
  cr_assert_str_eq(m["user_id"].GetString(), invitee.user_id.c_str());
  cr_assert_str_eq(m["role"].GetString(), "MANAGER");
  cr_assert(m["id"].IsString() && m["created_at"].IsString());
  Reply ws = call(d, "GET", "/api/v1/workspaces/" + owner.workspace_id, invitee.token);
  cr_assert_eq(ws.status, 200, "%s", ws.body.c_str());
  cr_assert_str_eq(json_of(ws)["role"].GetString(), "MANAGER");

  // Once only.
  expect_problem(call(d, "POST", accept_path(token), invitee.token), 410, "accepted");
  auto after = list_of(d, invitations(owner), owner.token);
  cr_assert_str_eq(after[0]["status"].GetString(), "accepted");
  cr_assert(after[0]["accepted_at"].IsString());
  // A member now: inviting them again is a conflict.
  expect_problem(call(d, "POST", invitations(owner), owner.token,
                      R"({"email":"invitee@example.com","role":"VIEWER"})"),
                 409, "member");

  auto created = audit_of(d, owner, "invitation.create");
  cr_assert_eq(created.Size(), 1u);
  cr_assert_str_eq(created[0]["target_id"].GetString(), id.c_str());
  cr_assert_str_eq(created[0]["actor_user_id"].GetString(), owner.user_id.c_str());
  auto joined = audit_of(d, owner, "invitation.accept");
  cr_assert_eq(joined.Size(), 1u);
  cr_assert_str_eq(joined[0]["actor_user_id"].GetString(), invitee.user_id.c_str());
  cr_assert_str_eq(joined[0]["target_id"].GetString(), id.c_str());
  cr_assert(audit_of(d, owner).Size() > 0);
  std::string all = call(d, "GET", "/api/v1/audit?workspace_id=" + owner.workspace_id, owner.token).body;
  cr_assert(all.find(token) == std::string::npos, "no token in the audit log");
}

Test(invitations, bad_input_and_conflicts) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  Session admin = member(d, owner, "admin@example.com", "ADMIN");
  std::string path = invitations(owner);
  for (const char* body : {R"({"email":"nope","role":"MEMBER"})", R"({"email":"a@b","role":"MEMBER"})",
                           R"({"email":"a b@example.com","role":"MEMBER"})"})
    expect_problem(call(d, "POST", path, owner.token, body), 400, "email");
  expect_problem(call(d, "POST", path, owner.token, R"({"email":"x@example.com","role":"KING"})"), 400, "role");
  expect_problem(call(d, "POST", path, owner.token, R"({"email":"x@example.com"})"), 400, "role");
  expect_problem(call(d, "POST", path, owner.token, R"({"role":"MEMBER"})"), 400, "email");
  expect_problem(call(d, "POST", path, owner.token, R"({"email":7,"role":"MEMBER"})"), 400, "email");
  expect_problem(call(d, "POST", path, owner.token, "{"), 400, "JSON");
  expect_problem(call(d, "GET", path + "?limit=0", owner.token), 400, "limit");
  // Only an OWNER invites an OWNER.
  expect_problem(call(d, "POST", path, admin.token, R"({"email":"x@example.com","role":"OWNER"})"), 403, "OWNER");
  invite(d, owner, "boss@example.com", "OWNER");
  // One pending invitation per email, whatever its case; members are not invited.
  invite(d, admin, "x@example.com", "MEMBER");
  expect_problem(call(d, "POST", path, owner.token, R"({"email":"X@EXAMPLE.com","role":"ADMIN"})"), 409, "pending");
  expect_problem(call(d, "POST", path, owner.token, R"({"email":"admin@example.com","role":"VIEWER"})"), 409, "member");
  auto list = list_of(d, path, owner.token);
  cr_assert_eq(list.Size(), 2u);
  cr_assert_str_eq(list[0]["email"].GetString(), "x@example.com", "newest first");
  cr_assert_eq(list_of(d, path + "?limit=1", owner.token).Size(), 1u);
  cr_assert_eq(list_of(d, path + "?offset=1", owner.token).Size(), 1u);

  // Tokens that are not ours, or too long, are simply not found.
  Session someone = signup(d, "someone@example.com");
  expect_problem(call(d, "POST", accept_path("crewship_inv_" + std::string(64, '0')), someone.token), 404, "invitation");
  expect_problem(call(d, "POST", accept_path("garbage"), someone.token), 404, "invitation");
  expect_problem(call(d, "POST", accept_path("crewship_inv_" + std::string(400, 'a')), someone.token), 404, "invitation");
  cr_assert_eq(call(d, "GET", "/api/health").status, 200, "still serving");
}

Test(invitations, role_gate) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string id = invite(d, owner, "x@example.com", "MEMBER")["id"].GetString();
  std::string path = invitations(owner);
  for (const char* role : {"MANAGER", "MEMBER", "VIEWER"}) {
    Session s = member(d, owner, std::string(role) + "@example.com", role);
    expect_problem(call(d, "GET", path, s.token), 403, "role");
    expect_problem(call(d, "POST", path, s.token, R"({"email":"y@example.com","role":"VIEWER"})"), 403, "role");
    expect_problem(call(d, "DELETE", path + "/" + id, s.token), 403, "role");
  }
  cr_assert_eq(call(d, "GET", path).status, 401);
  cr_assert_eq(call(d, "POST", accept_path("crewship_inv_" + std::string(64, '0'))).status, 401);
  Session admin = member(d, owner, "admin@example.com", "ADMIN");
  cr_assert_eq(list_of(d, path, admin.token).Size(), 1u);
  cr_assert_eq(call(d, "DELETE", path + "/" + id, admin.token).status, 204);
}

Test(invitations, expiry_revocation_and_wrong_user) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  Session invitee = signup(d, "invitee@example.com");
  Session other = signup(d, "other@example.com");
  std::string path = invitations(owner);

  auto first = invite(d, owner, "invitee@example.com", "VIEWER");
  std::string token = first["token"].GetString();
  // Someone else holding the token cannot use it, nor use it up.
  expect_problem(call(d, "POST", accept_path(token), other.token), 403, "email");

  sql(d, "UPDATE invitations SET expires_at = '2000-01-01T00:00:00Z'");
  expect_problem(call(d, "POST", accept_path(token), invitee.token), 410, "expired");
  cr_assert_str_eq(list_of(d, path, owner.token)[0]["status"].GetString(), "expired");
  expect_problem(call(d, "DELETE", path + "/" + first["id"].GetString(), owner.token), 409, "expired");

  // An expired invitation does not block a new one; a revoked one is gone.
  auto second = invite(d, owner, "invitee@example.com", "ADMIN");
  std::string second_path = path + "/" + second["id"].GetString();
  cr_assert_eq(call(d, "DELETE", second_path, owner.token).status, 204);
  expect_problem(call(d, "DELETE", second_path, owner.token), 409, "revoked");
  expect_problem(call(d, "POST", accept_path(second["token"].GetString()), invitee.token), 410, "revoked");
  expect_problem(call(d, "DELETE", path + "/no-such-id", owner.token), 404, "invitation");
  auto revoked = audit_of(d, owner, "invitation.revoke");
  cr_assert_eq(revoked.Size(), 1u);
  cr_assert_str_eq(revoked[0]["target_id"].GetString(), second["id"].GetString());
  expect_problem(call(d, "GET", "/api/v1/workspaces/" + owner.workspace_id, invitee.token), 403, "member");

  // The third one works.
  auto third = invite(d, owner, "invitee@example.com", "MEMBER");
  cr_assert_eq(call(d, "POST", accept_path(third["token"].GetString()), invitee.token).status, 200);
}

Test(invitations, tenancy) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  Session other = signup(d, "other@example.com");
  Reply made = call(d, "POST", "/api/v1/workspaces", other.token, R"({"name":"Other Co"})");
  cr_assert_eq(made.status, 201, "%s", made.body.c_str());
  other.workspace_id = json_of(made)["id"].GetString();

  std::string mine = invite(d, owner, "x@example.com", "MEMBER")["id"].GetString();
  invite(d, other, "x@example.com", "VIEWER");  // each workspace has its own
  auto theirs = list_of(d, invitations(other), other.token);
  cr_assert_eq(theirs.Size(), 1u);
  cr_assert_str_eq(theirs[0]["role"].GetString(), "VIEWER");
  expect_problem(call(d, "DELETE", invitations(other) + "/" + mine, other.token), 404, "invitation");
  expect_problem(call(d, "GET", invitations(owner), other.token), 403, "member");
  cr_assert_str_eq(list_of(d, invitations(owner), owner.token)[0]["status"].GetString(), "pending");
}

// Check and write are one writer job: of concurrent invitations to one email
// one is made, and of concurrent acceptances of one token one succeeds.
Test(invitations, concurrent_create_and_accept) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  constexpr int kCallers = 8;
  auto race = [&](auto one) {
    std::vector<int> statuses(kCallers);
    std::vector<std::thread> threads;
    for (int i = 0; i < kCallers; ++i) threads.emplace_back([&, i] { statuses[i] = one(); });
    for (auto& t : threads) t.join();
    return statuses;
  };
  auto made = race([&] {
    return call(d, "POST", invitations(owner), owner.token, R"({"email":"invitee@example.com","role":"MEMBER"})").status;
  });
  cr_assert_eq(std::count(made.begin(), made.end(), 201), 1);
  cr_assert_eq(std::count(made.begin(), made.end(), 409), kCallers - 1);
  auto list = list_of(d, invitations(owner), owner.token);
  cr_assert_eq(list.Size(), 1u);

  auto inv = invite(d, owner, "second@example.com", "VIEWER");
  Session second = signup(d, "second@example.com");
  std::string token = inv["token"].GetString();
  auto accepted = race([&] { return call(d, "POST", accept_path(token), second.token).status; });
  cr_assert_eq(std::count(accepted.begin(), accepted.end(), 200), 1);
  cr_assert_eq(std::count(accepted.begin(), accepted.end(), 410), kCallers - 1);
  cr_assert_eq(audit_of(d, owner, "invitation.accept").Size(), 1u);
}
