// Peer cards end to end: the runtime writes them over IPC with its crew's
// token, operators list (no content), read and delete them (idempotent);
// every read, write and delete leaves a peer_card_audit row; the cap, the
// crew requirement (409), token scope, roles and tenancy.
#include <filesystem>
#include <set>
#include <string>

#include <criterion/criterion.h>

#include "tests/support/api.h"

using namespace crewship::test;

namespace {

struct World {
  Session owner;
  Session alice;  // a MEMBER the agent writes about
  std::string ws, crew, agent, token;
};

World make_world(const TestDaemon& d) {
  World w;
  w.owner = bootstrap(d);
  w.ws = w.owner.workspace_id;
  w.alice = member(d, w.owner, "alice@example.com", "MEMBER");
  w.crew = create_id(d, w.owner.token, "/api/v1/crews?workspace_id=" + w.ws, R"({"name":"Core","slug":"core"})");
  w.agent = create_id(d, w.owner.token, "/api/v1/agents?workspace_id=" + w.ws,
                      R"({"name":"Ann","slug":"ann","crew_id":")" + w.crew + R"("})");
  w.token = bound_token(d, "crew", w.crew);
  return w;
}

std::string peers(const World& w, const std::string& user = "", const std::string& agent = "") {
  return "/api/v1/agents/" + (agent.empty() ? w.agent : agent) + "/peers" + (user.empty() ? "" : "/" + user) +
         "?workspace_id=" + w.ws;
}

Reply write_card(const TestDaemon& d, const World& w, const std::string& user, const std::string& content,
                 const std::string& token, const std::string& agent = "") {
  return ipc_call(d, "PUT", "/api/v1/internal/agents/" + (agent.empty() ? w.agent : agent) + "/peers/" + user,
                  R"({"content":")" + content + R"("})", token);
}

std::string card_file(const TestDaemon& d, const World& w, const std::string& user) {
  return d.dir + "/memory/agents/" + w.agent + "/peers/" + user + ".md";
}

std::vector<std::string> audit_rows(const TestDaemon& d, const World& w) {
  return sql_column(d, "SELECT action || ' ' || actor || ' ' || user_id FROM peer_card_audit WHERE agent_id = '" +
                           w.agent + "' ORDER BY at, rowid");
}

}  // namespace

TestSuite(peer_cards, .timeout = 120);

Test(peer_cards, write_list_read_delete_audited) {
  TestDaemon d(api_options());
  World w = make_world(d);
  Reply made = write_card(d, w, w.alice.user_id, "# Alice\\n\\n- Prefers async.\\n", w.token);
  cr_assert_eq(made.status, 200, "%s", made.body.c_str());
  auto m = json_of(made);
  cr_assert_str_eq(m["agent_id"].GetString(), w.agent.c_str());
  cr_assert_str_eq(m["user_id"].GetString(), w.alice.user_id.c_str());
  cr_assert_str_eq(m["user_slug"].GetString(), "alice");
  cr_assert_eq(m["bytes"].GetInt(), 26);
  cr_assert_eq(read_file(card_file(d, w, w.alice.user_id)), "# Alice\n\n- Prefers async.\n");
  cr_assert(files_holding(d.dir + "/storage", "Prefers async").empty(), "nothing under the crew's /output");

  Reply listed = call(d, "GET", peers(w), w.owner.token);
  cr_assert_eq(listed.status, 200, "%s", listed.body.c_str());
  auto l = json_of(listed);
  cr_assert_str_eq(l["agent_id"].GetString(), w.agent.c_str());
  cr_assert_eq(l["peers"].Size(), 1u);
  auto& row = l["peers"][0];
  cr_assert(row["id"].IsString() && row["created_at"].IsString() && row["updated_at"].IsString());
  cr_assert_str_eq(row["user_slug"].GetString(), "alice");
  cr_assert_eq(row["bytes"].GetInt(), 26);
  cr_assert_not(row.HasMember("content"), "the list carries no content");
  std::string id = row["id"].GetString(), created = row["created_at"].GetString();

  Reply got = call(d, "GET", peers(w, w.alice.user_id), w.owner.token);
  cr_assert_eq(got.status, 200, "%s", got.body.c_str());
  auto g = json_of(got);
  cr_assert_str_eq(g["content"].GetString(), "# Alice\n\n- Prefers async.\n");
  cr_assert_str_eq(g["user_slug"].GetString(), "alice");
  cr_assert_eq(g["bytes"].GetInt(), 26);

  // A rewrite keeps the card's id and created_at.
  cr_assert_eq(write_card(d, w, w.alice.user_id, "short", w.token).status, 200);
  auto again = json_of(call(d, "GET", peers(w), w.owner.token))["peers"][0].GetObject();
  cr_assert_str_eq(again["id"].GetString(), id.c_str());
  cr_assert_str_eq(again["created_at"].GetString(), created.c_str());
  cr_assert_eq(again["bytes"].GetInt(), 5);

  cr_assert_eq(call(d, "DELETE", peers(w, w.alice.user_id), w.owner.token).status, 204);
  cr_assert_not(std::filesystem::exists(card_file(d, w, w.alice.user_id)));
  cr_assert_eq(call(d, "DELETE", peers(w, w.alice.user_id), w.owner.token).status, 204, "idempotent");
  expect_problem(call(d, "GET", peers(w, w.alice.user_id), w.owner.token), 404, "peer card");
  cr_assert_eq(json_of(call(d, "GET", peers(w), w.owner.token))["peers"].Size(), 0u);

  auto rows = audit_rows(d, w);
  cr_assert_eq(rows.size(), 5u);
  cr_assert_eq(rows[0], "write runtime " + w.alice.user_id);
  cr_assert_eq(rows[1], "read " + w.owner.user_id + " " + w.alice.user_id);
  cr_assert_eq(rows[2], "write runtime " + w.alice.user_id);
  cr_assert_eq(rows[3], "delete " + w.owner.user_id + " " + w.alice.user_id);
  cr_assert_eq(rows[4], "delete " + w.owner.user_id + " " + w.alice.user_id);
  auto ids = sql_column(d, "SELECT id FROM peer_card_audit");
  cr_assert_eq(std::set<std::string>(ids.begin(), ids.end()).size(), 5u);
}

Test(peer_cards, limits_scope_roles_and_tenancy) {
  TestDaemon d(api_options());
  World w = make_world(d);
  cr_assert_eq(write_card(d, w, w.alice.user_id, std::string(16 << 10, 'k'), w.token).status, 200, "16 KiB fits");
  expect_problem(write_card(d, w, w.alice.user_id, std::string((16 << 10) + 1, 'k'), w.token), 413, "16 KiB");
  cr_assert_eq(read_file(card_file(d, w, w.alice.user_id)).size(), static_cast<size_t>(16 << 10));
  expect_problem(ipc_call(d, "PUT", "/api/v1/internal/agents/" + w.agent + "/peers/" + w.alice.user_id, "{}", w.token),
                 400, "content");
  expect_problem(write_card(d, w, "nobody", "x", w.token), 404, "user");
  Session stranger = signup(d, "stranger@example.com");
  expect_problem(write_card(d, w, stranger.user_id, "x", w.token), 404, "user");
  // Not a user id: refused before any path is made of it (memory_id_ok's
  // unit test covers the characters).
  expect_problem(write_card(d, w, "..%2F..%2Fescape", "x", d.token), 404, "user");

  // Another crew's token, and an agent without a crew.
  std::string crew_b = create_id(d, w.owner.token, "/api/v1/crews?workspace_id=" + w.ws, R"({"name":"Bee","slug":"bee"})");
  expect_problem(write_card(d, w, w.alice.user_id, "x", bound_token(d, "crew", crew_b)), 403, "may not");
  std::string loner = create_id(d, w.owner.token, "/api/v1/agents?workspace_id=" + w.ws, R"({"name":"Lone","slug":"lone"})");
  expect_problem(write_card(d, w, w.alice.user_id, "x", d.token, loner), 409, "crew");
  expect_problem(call(d, "GET", peers(w, "", loner), w.owner.token), 409, "crew");
  expect_problem(call(d, "GET", peers(w, w.alice.user_id, loner), w.owner.token), 409, "crew");
  expect_problem(call(d, "DELETE", peers(w, w.alice.user_id, loner), w.owner.token), 409, "crew");
  // The master token writes for any agent.
  cr_assert_eq(write_card(d, w, w.owner.user_id, "the boss", d.token).status, 200);

  // Operators only: a MANAGER or the subject herself is refused.
  Session manager = member(d, w.owner, "manager@example.com", "MANAGER");
  Session admin = member(d, w.owner, "admin@example.com", "ADMIN");
  expect_problem(call(d, "GET", peers(w), manager.token), 403, "ADMIN");
  expect_problem(call(d, "GET", peers(w, w.alice.user_id), w.alice.token), 403, "ADMIN");
  expect_problem(call(d, "DELETE", peers(w, w.alice.user_id), manager.token), 403, "ADMIN");
  auto l = json_of(call(d, "GET", peers(w) + "&limit=1", admin.token));
  cr_assert_eq(l["peers"].Size(), 1u);
  cr_assert_eq(json_of(call(d, "GET", peers(w) + "&limit=1&offset=1", admin.token))["peers"].Size(), 1u);
  expect_problem(call(d, "GET", peers(w) + "&limit=0", admin.token), 400, "limit");

  // Another workspace: 404 for the agent, and its own operator learns nothing.
  Session other = signup(d, "other@example.com");
  std::string other_ws = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  std::string foreign = "/api/v1/agents/" + w.agent + "/peers";
  expect_problem(call(d, "GET", foreign + "?workspace_id=" + other_ws, other.token), 404, "agent");
  expect_problem(call(d, "GET", foreign + "/" + w.alice.user_id + "?workspace_id=" + other_ws, other.token), 404, "agent");
  expect_problem(call(d, "DELETE", foreign + "/" + w.alice.user_id + "?workspace_id=" + other_ws, other.token), 404,
                 "agent");
  expect_problem(write_card(d, w, w.alice.user_id, "x", bound_token(d, "workspace", other_ws)), 404, "agent");
  cr_assert_eq(read_file(card_file(d, w, w.alice.user_id)).size(), static_cast<size_t>(16 << 10), "unchanged");
  // Refused requests left no audit rows: two writes only.
  cr_assert_eq(sql_column(d, "SELECT count(*) FROM peer_card_audit")[0], "2");
}
