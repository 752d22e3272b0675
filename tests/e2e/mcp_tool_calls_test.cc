// MCP tool calls end to end: the runtime records them on the socket (every
// field checked, the arguments only as a SHA-256, a bound token only for its
// own agents), and ADMIN and up page them newest first, one workspace at a
// time.
#include <string>
#include <vector>

#include <criterion/criterion.h>

#include "tests/support/api.h"

using namespace crewship::test;

namespace {

const std::string kDigest(64, 'a');
constexpr const char* kPath = "/api/v1/internal/mcp-tool-calls";

using World = TwoCrews;

std::string list(const World& w) { return "/api/v1/mcp-tool-calls?workspace_id=" + w.ws; }

// A valid body for agent, with extra members (",\"k\":v") appended.
std::string body_for(const std::string& agent, const std::string& extra = "", const std::string& tool = "read_file") {
  return R"({"agent_id":")" + agent + R"(","server":"filesystem","tool":")" + tool +
         R"(","arguments_digest":"sha256:)" + kDigest + R"(","duration_ms":42,"outcome":"ok")" + extra + "}";
}

Reply record(const TestDaemon& d, const std::string& body, const std::string& token = "") {
  return ipc_call(d, "POST", kPath, body, token);
}

}  // namespace

TestSuite(mcp_tool_calls, .timeout = 120);

Test(mcp_tool_calls, recorded_on_the_socket_and_listed_newest_first) {
  TestDaemon d(api_options());
  World w = two_crews(d);
  sql(d, "INSERT INTO agent_runs (id, agent_id, workspace_id, crew_id, cmd, status, started_at) VALUES ('r1', '" +
             w.agent + "', '" + w.ws + "', '" + w.crew + "', '[]', 'RUNNING', '2026-01-01T00:00:00.000000000Z')");
  Reply first = record(d, body_for(w.agent, R"(,"run_id":"r1")"));
  cr_assert_eq(first.status, 201, "%s", first.body.c_str());
  auto made = json_of(first);
  cr_assert(made["id"].IsString() && made["created_at"].IsString());
  // The bare hex digits, in capitals, are the same digest.
  std::string upper(64, 'B');
  Reply second = record(d, R"({"agent_id":")" + w.other_agent + R"(","server":"github","tool":"create_issue",)"
                           R"("arguments_digest":")" + upper + R"(","duration_ms":0,"outcome":"denied"})");
  cr_assert_eq(second.status, 201, "%s", second.body.c_str());

  auto rows = list_of(d, list(w), w.owner.token);
  cr_assert_eq(rows.Size(), 2u);
  cr_assert_str_eq(rows[0]["tool"].GetString(), "create_issue", "newest first");
  cr_assert(rows[0]["arguments_digest"].GetString() == "sha256:" + std::string(64, 'b'));
  cr_assert_str_eq(rows[0]["outcome"].GetString(), "denied");
  cr_assert_eq(rows[0]["duration_ms"].GetInt64(), 0);
  cr_assert_not(rows[0].HasMember("run_id"));
  cr_assert_str_eq(rows[0]["crew_id"].GetString(), w.other_crew.c_str());
  const auto& r = rows[1];
  cr_assert_str_eq(r["id"].GetString(), made["id"].GetString());
  cr_assert_str_eq(r["agent_id"].GetString(), w.agent.c_str());
  cr_assert_str_eq(r["run_id"].GetString(), "r1");
  cr_assert_str_eq(r["server"].GetString(), "filesystem");
  cr_assert(r["arguments_digest"].GetString() == "sha256:" + kDigest);
  cr_assert_eq(r["duration_ms"].GetInt64(), 42);
  cr_assert_str_eq(r["created_at"].GetString(), made["created_at"].GetString());
  cr_assert_eq(r.MemberCount(), 10u);

  // By agent, and paged.
  auto mine = list_of(d, list(w) + "&agent_id=" + w.agent, w.owner.token);
  cr_assert_eq(mine.Size(), 1u);
  cr_assert_str_eq(mine[0]["id"].GetString(), made["id"].GetString());
  auto second_page = list_of(d, list(w) + "&limit=1&offset=1", w.owner.token);
  cr_assert_eq(second_page.Size(), 1u);
  cr_assert_str_eq(second_page[0]["id"].GetString(), made["id"].GetString());
  expect_problem(call(d, "GET", list(w) + "&agent_id=nope", w.owner.token), 404, "agent not found");
  expect_problem(call(d, "GET", list(w) + "&limit=0", w.owner.token), 400, "limit");
  // The socket only: the public port has no internal path.
  cr_assert_eq(call(d, "POST", kPath, w.owner.token, body_for(w.agent)).status, 404);
}

Test(mcp_tool_calls, every_field_is_checked_and_arguments_never_stored) {
  TestDaemon d(api_options());
  World w = two_crews(d);
  const std::string secret = "hunter2-the-raw-arguments";
  expect_problem(record(d, body_for(w.agent, R"(,"arguments":{"password":")" + secret + R"("})")), 400,
                 "arguments_digest");
  expect_problem(record(d, body_for(w.agent, R"(,"input":")" + secret + R"(")")), 400, "input");
  struct Bad {
    std::string body, names;
  } bad[] = {
      {R"({"server":"s","tool":"t","arguments_digest":"sha256:)" + kDigest + R"(","duration_ms":1,"outcome":"ok"})",
       "agent_id"},
      {body_for(w.agent, "", ""), "tool"},
      {body_for(w.agent, "", std::string(129, 't')), "tool"},
      {body_for(w.agent, "", "read file"), "tool"},
      {body_for(w.agent, "", "read\\u0000file"), "tool"},
      {R"({"agent_id":")" + w.agent + R"(","server":"fs","tool":"t","arguments_digest":"sha256:abc","duration_ms":1,"outcome":"ok"})",
       "arguments_digest"},
      {R"({"agent_id":")" + w.agent + R"(","server":"fs","tool":"t","arguments_digest":"md5:)" + kDigest +
           R"(","duration_ms":1,"outcome":"ok"})",
       "arguments_digest"},
      {R"({"agent_id":")" + w.agent + R"(","server":"fs","tool":"t","arguments_digest":"sha256:)" + std::string(63, 'a') +
           R"(g","duration_ms":1,"outcome":"ok"})",
       "arguments_digest"},
      {R"({"agent_id":")" + w.agent + R"(","server":"fs","tool":"t","arguments_digest":"sha256:)" + kDigest +
           R"(","duration_ms":-1,"outcome":"ok"})",
       "duration_ms"},
      {R"({"agent_id":")" + w.agent + R"(","server":"fs","tool":"t","arguments_digest":"sha256:)" + kDigest +
           R"(","duration_ms":86400001,"outcome":"ok"})",
       "duration_ms"},
      {R"({"agent_id":")" + w.agent + R"(","server":"fs","tool":"t","arguments_digest":"sha256:)" + kDigest +
           R"(","duration_ms":"5","outcome":"ok"})",
       "duration_ms"},
      {R"({"agent_id":")" + w.agent + R"(","server":"fs","tool":"t","arguments_digest":"sha256:)" + kDigest +
           R"(","duration_ms":5,"outcome":"great"})",
       "outcome"},
      {R"({"agent_id":")" + w.agent + R"(","tool":"t","arguments_digest":"sha256:)" + kDigest +
           R"(","duration_ms":5,"outcome":"ok"})",
       "server"},
      {body_for(w.agent, R"(,"run_id":"")"), "run_id"},
      {"[1,2]", ""},
  };
  for (const Bad& b : bad) expect_problem(record(d, b.body), 400, b.names);
  expect_problem(record(d, body_for("nope")), 404, "agent not found");
  expect_problem(record(d, body_for(w.agent, R"(,"run_id":"nope")")), 404, "run not found");
  sql(d, "INSERT INTO agent_runs (id, agent_id, workspace_id, crew_id, cmd, status, started_at) VALUES ('r2', '" +
             w.other_agent + "', '" + w.ws + "', '" + w.other_crew + "', '[]', 'RUNNING', '2026-01-01T00:00:00Z')");
  expect_problem(record(d, body_for(w.agent, R"(,"run_id":"r2")")), 404, "run not found");
  cr_assert_eq(list_of(d, list(w), w.owner.token).Size(), 0u, "nothing refused was stored");
  cr_assert(files_holding(d.dir, secret).empty(), "the arguments are in no file");
  expect_problem(record(d, body_for(w.agent), "not-a-token"), 401, "token");
}

Test(mcp_tool_calls, a_bound_token_records_only_for_its_agents) {
  TestDaemon d(api_options());
  World w = two_crews(d);
  std::string crew_token = bound_token(d, "crew", w.crew);
  Reply own = record(d, body_for(w.agent), crew_token);
  cr_assert_eq(own.status, 201, "%s", own.body.c_str());
  expect_problem(record(d, body_for(w.other_agent), crew_token), 403, "scope");
  Reply ws_token = record(d, body_for(w.other_agent), bound_token(d, "workspace", w.ws));
  cr_assert_eq(ws_token.status, 201, "%s", ws_token.body.c_str());

  Session other = signup(d, "other@example.com");
  std::string other_ws = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  std::string theirs = create_id(d, other.token, "/api/v1/agents?workspace_id=" + other_ws,
                                 R"({"name":"Theirs","slug":"theirs"})");
  expect_problem(record(d, body_for(w.agent), bound_token(d, "workspace", other_ws)), 403, "scope");
  expect_problem(record(d, body_for(theirs), crew_token), 403, "scope");
  auto rows = list_of(d, list(w), w.owner.token);
  cr_assert_eq(rows.Size(), 2u, "the refused ones wrote nothing");
  cr_assert_str_eq(rows[0]["agent_id"].GetString(), w.other_agent.c_str());
  cr_assert_str_eq(rows[1]["agent_id"].GetString(), w.agent.c_str());
}

Test(mcp_tool_calls, admin_and_up_read_them_one_workspace_at_a_time) {
  TestDaemon d(api_options());
  World w = two_crews(d);
  cr_assert_eq(record(d, body_for(w.agent)).status, 201);
  Session admin = member(d, w.owner, "admin@example.com", "ADMIN");
  cr_assert_eq(list_of(d, list(w), admin.token).Size(), 1u);
  for (const char* role : {"MANAGER", "MEMBER", "VIEWER"}) {
    Session s = member(d, w.owner, std::string(role) + "@example.com", role);
    expect_problem(call(d, "GET", list(w), s.token), 403, "");
  }
  expect_problem(call(d, "GET", list(w), ""), 401, "");

  Session other = signup(d, "other@example.com");
  std::string other_ws = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  cr_assert_eq(list_of(d, "/api/v1/mcp-tool-calls?workspace_id=" + other_ws, other.token).Size(), 0u);
  expect_problem(call(d, "GET", "/api/v1/mcp-tool-calls?workspace_id=" + other_ws + "&agent_id=" + w.agent,
                      other.token),
                 404, "agent not found");
  expect_problem(call(d, "GET", "/api/v1/mcp-tool-calls?workspace_id=" + other_ws, w.owner.token), 403, "member");
}
