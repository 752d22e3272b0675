// Chats and messages end to end: creating and listing an agent's chats, the
// runtime appending messages over IPC (scoped by its token), and the public
// message proxy: workspace from the chat row, offset/limit by seq, a chat
// that does not exist yet, and members of other workspaces.
#include <string>

#include <criterion/criterion.h>

#include "tests/support/api.h"

using namespace crewship::test;

namespace {

std::string chats(const std::string& ws, const std::string& agent) {
  return "/api/v1/agents/" + agent + "/chats?workspace_id=" + ws;
}
std::string append_path(const std::string& chat) { return "/api/v1/internal/chats/" + chat + "/messages"; }
std::string messages(const std::string& chat, const std::string& query = "") {
  return "/api/v1/chats/" + chat + "/messages" + query;
}

Reply append(const TestDaemon& d, const std::string& chat, const std::string& role, const std::string& content,
             const std::string& token = "") {
  return ipc_call(d, "POST", append_path(chat), R"({"role":")" + role + R"(","content":")" + content + R"("})", token);
}

}  // namespace

TestSuite(chats, .timeout = 120);

Test(chats, create_and_list) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  Session viewer = member(d, owner, "viewer@example.com", "VIEWER");
  std::string agent = create_id(d, owner.token, "/api/v1/agents?workspace_id=" + ws, R"({"name":"Dev","slug":"dev"})");

  Reply made = call(d, "POST", chats(ws, agent), owner.token, R"({"title":"Fix the build"})");
  cr_assert_eq(made.status, 201, "%s", made.body.c_str());
  auto c = json_of(made);
  std::string first = c["id"].GetString();
  cr_assert_str_eq(c["agent_id"].GetString(), agent.c_str());
  cr_assert_str_eq(c["workspace_id"].GetString(), ws.c_str());
  cr_assert_str_eq(c["title"].GetString(), "Fix the build");
  cr_assert(c.HasMember("created_at"));
  Reply untitled = call(d, "POST", chats(ws, agent), owner.token, "{}");
  cr_assert_eq(untitled.status, 201, "%s", untitled.body.c_str());
  cr_assert(json_of(untitled)["title"].IsNull());
  std::string second = json_of(untitled)["id"].GetString();

  expect_problem(call(d, "POST", chats(ws, agent), viewer.token, "{}"), 403, "MANAGER");
  expect_problem(call(d, "POST", chats(ws, agent), owner.token, R"({"title":7})"), 400, "title");
  expect_problem(call(d, "POST", chats(ws, agent), owner.token,
                      R"({"title":")" + std::string(201, 't') + R"("})"), 400, "title");
  expect_problem(call(d, "POST", chats(ws, "nope"), owner.token, "{}"), 404, "agent not found");

  auto list = list_of(d, chats(ws, agent), viewer.token);
  cr_assert_eq(list.Size(), 2u, "failed creates left nothing");
  cr_assert_str_eq(list[0]["id"].GetString(), second.c_str(), "newest first");
  cr_assert_str_eq(list[1]["id"].GetString(), first.c_str());
  auto page = list_of(d, chats(ws, agent) + "&limit=1&offset=1", owner.token);
  cr_assert_eq(page.Size(), 1u);
  cr_assert_str_eq(page[0]["id"].GetString(), first.c_str());
  Reply got = call(d, "GET", "/api/v1/agents/" + agent + "?workspace_id=" + ws, owner.token);
  cr_assert_eq(json_of(got)["_count"]["chats"].GetInt64(), 2);
  auto audit = audit_of(d, owner, "chat.create");
  cr_assert_eq(audit.Size(), 2u);
  cr_assert_str_eq(audit[0]["target_id"].GetString(), second.c_str());
}

Test(chats, messages_append_and_page) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  Session viewer = member(d, owner, "viewer@example.com", "VIEWER");
  std::string agent = create_id(d, owner.token, "/api/v1/agents?workspace_id=" + ws, R"({"name":"Dev","slug":"dev"})");
  std::string chat = create_id(d, owner.token, chats(ws, agent), "{}");

  // Before its first message, and for a chat that does not exist at all.
  Reply empty = call(d, "GET", messages(chat), viewer.token);
  cr_assert_eq(empty.status, 200, "%s", empty.body.c_str());
  cr_assert_str_eq(empty.body.c_str(), R"({"messages":[]})");
  Reply missing = call(d, "GET", messages("not-yet-a-chat"), viewer.token);
  cr_assert_eq(missing.status, 200, "%s", missing.body.c_str());
  cr_assert_str_eq(missing.body.c_str(), R"({"messages":[]})");
  cr_assert_eq(call(d, "GET", messages(chat)).status, 401);

  const char* roles[] = {"user", "assistant", "system", "tool"};
  for (int i = 0; i < 505; ++i) {
    Reply r = append(d, chat, roles[i % 4], "message " + std::to_string(i + 1));
    cr_assert_eq(r.status, 201, "%s", r.body.c_str());
    cr_assert_eq(json_of(r)["seq"].GetInt64(), i + 1, "seq is dense from 1");
  }
  expect_problem(append(d, chat, "robot", "x"), 400, "role");
  expect_problem(ipc_call(d, "POST", append_path(chat), R"({"role":"user"})"), 400, "content");
  expect_problem(append(d, chat, "user", std::string((256 << 10) + 1, 'c')), 400, "content");
  expect_problem(append(d, "no-such-chat", "user", "x"), 404, "chat not found");

  Reply page = call(d, "GET", messages(chat), viewer.token);
  cr_assert_eq(page.status, 200, "%s", page.body.c_str());
  auto doc = json_of(page);
  const auto& m = doc["messages"];
  cr_assert_eq(m.Size(), 50u, "50 by default");
  cr_assert_eq(m[0]["seq"].GetInt64(), 1, "oldest first");
  cr_assert_str_eq(m[0]["role"].GetString(), "user");
  cr_assert_str_eq(m[0]["content"].GetString(), "message 1");
  cr_assert(m[0].HasMember("id") && m[0].HasMember("created_at"));
  cr_assert_eq(m[0].MemberCount(), 5u);

  auto at = json_of(call(d, "GET", messages(chat, "?offset=500&limit=10"), viewer.token));
  cr_assert_eq(at["messages"].Size(), 5u, "505 messages: 5 after offset 500");
  cr_assert_eq(at["messages"][0]["seq"].GetInt64(), 501);
  cr_assert_str_eq(at["messages"][4]["content"].GetString(), "message 505");
  auto clamped = json_of(call(d, "GET", messages(chat, "?limit=100000"), viewer.token));
  cr_assert_eq(clamped["messages"].Size(), 500u, "limit is clamped to 500");
  expect_problem(call(d, "GET", messages(chat, "?offset=-1"), viewer.token), 400, "offset");
  expect_problem(call(d, "GET", messages(chat, "?limit=abc"), viewer.token), 400, "limit");

  // Someone outside the chat's workspace.
  Session stranger = signup(d, "stranger@example.com");
  expect_problem(call(d, "GET", messages(chat), stranger.token), 403, "not a member");
  expect_problem(call(d, "GET", messages(chat, "?workspace_id=" + ws), stranger.token), 403, "not a member");
}

Test(chats, crew_bound_tokens_append_only_to_their_crew) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string ws = owner.workspace_id;
  std::string crew_a = create_id(d, owner.token, "/api/v1/crews?workspace_id=" + ws, R"({"name":"Crew A","slug":"crew-a"})");
  std::string crew_b = create_id(d, owner.token, "/api/v1/crews?workspace_id=" + ws, R"({"name":"Crew B","slug":"crew-b"})");
  std::string agent_a = create_id(d, owner.token, "/api/v1/agents?workspace_id=" + ws,
                                  R"({"name":"Ann","slug":"ann","crew_id":")" + crew_a + R"("})");
  std::string agent_b = create_id(d, owner.token, "/api/v1/agents?workspace_id=" + ws,
                                  R"({"name":"Bob","slug":"bob","crew_id":")" + crew_b + R"("})");
  std::string chat_a = create_id(d, owner.token, chats(ws, agent_a), "{}");
  std::string chat_b = create_id(d, owner.token, chats(ws, agent_b), "{}");
  std::string token_a = bound_token(d, "crew", crew_a);

  Reply own = append(d, chat_a, "assistant", "done", token_a);
  cr_assert_eq(own.status, 201, "%s", own.body.c_str());
  expect_problem(append(d, chat_b, "assistant", "sneaky", token_a), 403, "may not");
  auto b = json_of(call(d, "GET", messages(chat_b), owner.token));
  cr_assert_eq(b["messages"].Size(), 0u, "the refused append wrote nothing");
  // The socket's read twin: the same answer, within the token's scope.
  Reply mine = ipc_call(d, "GET", "/api/v1/internal/chats/" + chat_a + "/messages", "", token_a);
  cr_assert_eq(mine.status, 200, "%s", mine.body.c_str());
  cr_assert_eq(json_of(mine)["messages"].Size(), 1u);
  expect_problem(ipc_call(d, "GET", "/api/v1/internal/chats/" + chat_b + "/messages", "", token_a), 403, "may not");
  Reply master = ipc_call(d, "GET", "/api/v1/internal/chats/" + chat_b + "/messages");
  cr_assert_eq(master.status, 200, "%s", master.body.c_str());
  auto a = json_of(call(d, "GET", messages(chat_a), owner.token));
  cr_assert_eq(a["messages"].Size(), 1u);
  cr_assert_str_eq(a["messages"][0]["content"].GetString(), "done");
}

Test(chats, workspace_bound_tokens_append_only_in_their_workspace) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string agent = create_id(d, owner.token, "/api/v1/agents?workspace_id=" + owner.workspace_id,
                                R"({"name":"Dev","slug":"dev"})");
  std::string chat = create_id(d, owner.token, chats(owner.workspace_id, agent), "{}");
  Session other = signup(d, "other@example.com");
  std::string other_ws = create_id(d, other.token, "/api/v1/workspaces", R"({"name":"Other"})");
  expect_problem(append(d, chat, "user", "hi", bound_token(d, "workspace", other_ws)), 403, "may not");
  Reply own = append(d, chat, "user", "hi", bound_token(d, "workspace", owner.workspace_id));
  cr_assert_eq(own.status, 201, "%s", own.body.c_str());
  cr_assert_eq(json_of(own)["seq"].GetInt64(), 1, "the refused append took no seq");
  expect_problem(append(d, chat, "user", "hi", "not-a-token"), 401, "token");
}
