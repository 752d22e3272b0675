// Real time end to end, with a WebSocket client over the wire: the /ws
// handshake and its refusals, the presence, events and agent_logs channels,
// the crew filter and the cross-workspace refusal, ping/pong and server
// pings, the limits (oversize, slow consumer, connection cap), shutdown
// 1001, the IPC socket's /ws, and the SSE presence stream with resume.
#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <criterion/criterion.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/jwt.h"
#include "tests/support/api.h"
#include "tests/support/ws_client.h"

using namespace crewship::test;

namespace {

struct World {
  Session owner;
  std::string crew_a, crew_b, agent_a, agent_b;
};

std::string create(const TestDaemon& d, const Session& s, const std::string& path, const std::string& body) {
  Reply r = call(d, "POST", path + "?workspace_id=" + s.workspace_id, s.token, body);
  cr_assert_eq(r.status, 201, "POST %s: %d %s", path.c_str(), r.status, r.body.c_str());
  return json_of(r)["id"].GetString();
}

World make_world(const TestDaemon& d) {
  World w;
  w.owner = bootstrap(d);
  w.crew_a = create(d, w.owner, "/api/v1/crews", R"({"name":"Crew A","slug":"crew-a"})");
  w.crew_b = create(d, w.owner, "/api/v1/crews", R"({"name":"Crew B","slug":"crew-b"})");
  w.agent_a = create(d, w.owner, "/api/v1/agents", R"({"name":"Ann","slug":"ann","crew_id":")" + w.crew_a + "\"}");
  w.agent_b = create(d, w.owner, "/api/v1/agents", R"({"name":"Bob","slug":"bob","crew_id":")" + w.crew_b + "\"}");
  return w;
}

void set_presence(const TestDaemon& d, const std::string& agent, const std::string& status,
                  const std::string& details = "") {
  std::string body = R"({"agent_id":")" + agent + R"(","status":")" + status + "\"";
  if (!details.empty()) body += R"(,"details":)" + details;
  body += "}";
  std::string raw = "POST /api/v1/internal/presence HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    "X-Internal-Token: " + d.token + "\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\n\r\n" + body;
  auto r = request_unix(d.socket, raw, 10000);
  cr_assert(r && r->status == 200, "presence write: %d %s", r ? r->status : 0, r ? r->body.c_str() : "");
}

std::string ws_token(const TestDaemon& d, const Session& s) {
  Reply r = call(d, "GET", "/api/v1/ws-token", s.token);
  cr_assert_eq(r.status, 200, "%s", r.body.c_str());
  return json_of(r)["token"].GetString();
}

std::unique_ptr<WsClient> connect_ws(const TestDaemon& d, const Session& s) {
  auto c = WsClient::open(connect_tcp(d.port), "/ws?token=" + ws_token(d, s));
  cr_assert(c != nullptr, "no WebSocket");
  return c;
}

std::string subscribe_msg(const std::string& channel, const std::string& ws, const std::string& more = "") {
  return R"({"type":"subscribe","channel":")" + channel + R"(","workspace_id":")" + ws + "\"" + more + "}";
}

void subscribe(WsClient& c, const std::string& channel, const std::string& ws, const std::string& more = "") {
  cr_assert(c.send_text(subscribe_msg(channel, ws, more)));
  auto ack = c.next_json();
  cr_assert(ack.has_value(), "no answer to subscribe");
  cr_assert_str_eq((*ack)["type"].GetString(), "subscribed", "channel %s", channel.c_str());
  cr_assert_str_eq((*ack)["channel"].GetString(), channel.c_str());
}

// The next frame is the pong to a ping sent now: nothing else was queued.
void expect_nothing_but_pong(WsClient& c) {
  cr_assert(c.send_text(R"({"type":"ping"})"));
  auto m = c.next_json();
  cr_assert(m.has_value());
  cr_assert_str_eq((*m)["type"].GetString(), "pong", "an unexpected frame came first");
}

std::string secret_of(const TestDaemon& d) {
  std::string s = read_file(d.dir + "/auth-secret");
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

int64_t realtime_metric(const TestDaemon& d, const Session& s, const char* name) {
  Reply r = call(d, "GET", "/api/v1/crewshipd", s.token);
  cr_assert_eq(r.status, 200);
  return json_of(r)["realtime"][name].GetInt64();
}

// Reads from fd until needle shows up in *buf, or the timeout.
bool read_until(int fd, std::string* buf, std::string_view needle, int timeout_ms = 5000) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (buf->find(needle) == std::string::npos) {
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count());
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, left) <= 0) return false;
    char tmp[8192];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n <= 0) return false;
    buf->append(tmp, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

TestSuite(realtime, .timeout = 120);

Test(realtime, handshake_needs_a_valid_ws_token) {
  TestDaemon d(api_options());
  World w = make_world(d);
  Reply r;
  cr_assert_null(WsClient::open(connect_tcp(d.port), "/ws", "", &r).get());
  cr_assert_eq(r.status, 401, "no token: %d %s", r.status, r.body.c_str());
  cr_assert(r.header("Upgrade") == std::nullopt, "a refusal never switches");
  cr_assert_null(WsClient::open(connect_tcp(d.port), "/ws?token=not.a.jwt", "", &r).get());
  cr_assert_eq(r.status, 401);

  std::string secret = secret_of(d);
  int64_t now = time(nullptr);
  crewship::api::JwtClaims expired{w.owner.user_id, "", "ws", now - 1000, now - 10};
  cr_assert_null(WsClient::open(connect_tcp(d.port), "/ws?token=" + crewship::api::jwt_sign(expired, secret), "", &r).get());
  cr_assert_eq(r.status, 401, "expired: %d", r.status);
  // A session JWT is no ws-token.
  cr_assert_null(WsClient::open(connect_tcp(d.port), "/ws?token=" + w.owner.token, "", &r).get());
  cr_assert_eq(r.status, 401, "session token: %d", r.status);
  crewship::api::JwtClaims good{w.owner.user_id, "", "ws", now, now + 60};
  auto forged = crewship::api::jwt_sign(good, std::string(64, 'x'));
  cr_assert_null(WsClient::open(connect_tcp(d.port), "/ws?token=" + forged, "", &r).get());
  cr_assert_eq(r.status, 401, "signed with another key");

  // A valid token but no WebSocket handshake: 426.
  Reply plain = call(d, "GET", "/ws?token=" + ws_token(d, w.owner));
  cr_assert_eq(plain.status, 426, "%d %s", plain.status, plain.body.c_str());

  auto c = connect_ws(d, w.owner);
  expect_nothing_but_pong(*c);
  cr_assert_eq(call(d, "GET", "/api/health").status, 200);
}

Test(realtime, presence_and_events_channels_with_crew_filter) {
  TestDaemon d(api_options());
  World w = make_world(d);
  auto all = connect_ws(d, w.owner);
  auto crew = connect_ws(d, w.owner);
  auto events = connect_ws(d, w.owner);
  subscribe(*all, "presence", w.owner.workspace_id);
  subscribe(*crew, "presence", w.owner.workspace_id, R"(,"crew_id":")" + w.crew_a + "\"");
  subscribe(*events, "events", w.owner.workspace_id);

  set_presence(d, w.agent_b, "busy", R"({"task":"T-1"})");
  set_presence(d, w.agent_a, "blocked");
  set_presence(d, w.agent_a, "blocked", R"({"why":"review"})");  // a write, no transition

  auto p1 = all->next_of("presence");
  cr_assert(p1.has_value());
  cr_assert_str_eq((*p1)["agent_id"].GetString(), w.agent_b.c_str());
  cr_assert_str_eq((*p1)["crew_id"].GetString(), w.crew_b.c_str());
  cr_assert_str_eq((*p1)["status"].GetString(), "busy");
  cr_assert_str_eq((*p1)["details"]["task"].GetString(), "T-1");
  cr_assert((*p1)["since"].IsString());
  auto p2 = all->next_of("presence");
  cr_assert_str_eq((*p2)["agent_id"].GetString(), w.agent_a.c_str());
  auto p3 = all->next_of("presence");
  cr_assert_str_eq((*p3)["details"]["why"].GetString(), "review", "every status write is pushed");

  // The crew filter: crew B's write never reaches it.
  auto c1 = crew->next_of("presence");
  cr_assert(c1.has_value());
  cr_assert_str_eq((*c1)["agent_id"].GetString(), w.agent_a.c_str());
  cr_assert(crew->next_of("presence").has_value());
  expect_nothing_but_pong(*crew);

  // Events: a transition is agent.status_changed; the same status again is not.
  auto e1 = events->next_of("event");
  cr_assert(e1.has_value());
  cr_assert_str_eq((*e1)["event"].GetString(), "agent.status_changed");
  cr_assert_str_eq((*e1)["data"]["agent_id"].GetString(), w.agent_b.c_str());
  auto e2 = events->next_of("event");
  cr_assert_str_eq((*e2)["data"]["agent_id"].GetString(), w.agent_a.c_str());
  cr_assert_str_eq((*e2)["data"]["status"].GetString(), "blocked");
  expect_nothing_but_pong(*events);

  // Unsubscribed: nothing more.
  cr_assert(all->send_text(R"({"type":"unsubscribe","channel":"presence","workspace_id":")" + w.owner.workspace_id + "\"}"));
  cr_assert_str_eq((*all->next_json())["type"].GetString(), "unsubscribed");
  set_presence(d, w.agent_a, "online");
  cr_assert(crew->next_of("presence").has_value());
  expect_nothing_but_pong(*all);
}

Test(realtime, another_workspace_is_refused_and_never_leaks) {
  TestDaemon d(api_options());
  World w = make_world(d);
  Session outsider = signup(d, "eve@example.com");
  Reply made = call(d, "POST", "/api/v1/workspaces", outsider.token, R"({"name":"Eve's"})");
  cr_assert_eq(made.status, 201);
  std::string eve_ws = json_of(made)["id"].GetString();

  auto eve = connect_ws(d, outsider);
  for (const char* channel : {"presence", "events", "agent_logs"}) {
    std::string more = std::string(channel) == "agent_logs" ? R"(,"agent_id":")" + w.agent_a + "\"" : "";
    cr_assert(eve->send_text(subscribe_msg(channel, w.owner.workspace_id, more)));
    auto err = eve->next_json();
    cr_assert(err.has_value());
    cr_assert_str_eq((*err)["type"].GetString(), "error", "%s", channel);
    cr_assert_eq((*err)["code"].GetInt(), 403, "%s", channel);
  }
  // A crew of the owner's workspace named with Eve's own workspace: 404.
  cr_assert(eve->send_text(subscribe_msg("presence", eve_ws, R"(,"crew_id":")" + w.crew_a + "\"")));
  cr_assert_eq((*eve->next_json())["code"].GetInt(), 404);
  subscribe(*eve, "presence", eve_ws);
  subscribe(*eve, "events", eve_ws);
  set_presence(d, w.agent_a, "busy");
  set_presence(d, w.agent_b, "offline");
  // The owner's socket saw both; Eve's nothing.
  auto owner = connect_ws(d, w.owner);
  subscribe(*owner, "presence", w.owner.workspace_id);
  set_presence(d, w.agent_a, "online");
  cr_assert(owner->next_of("presence").has_value());
  expect_nothing_but_pong(*eve);
}

Test(realtime, protocol_errors_and_limits) {
  TestDaemon d(api_options({"CREWSHIP_WS_MAX_CONNECTIONS=3"}));
  World w = make_world(d);
  auto c = connect_ws(d, w.owner);
  struct Case {
    const char* frame;
    int code;
  } cases[] = {
      {"{not json", 400},
      {"[1,2]", 400},
      {R"({"type":"dance"})", 400},
      {R"({"channel":"presence"})", 400},
      {R"({"type":"subscribe","channel":"weather","workspace_id":"x"})", 400},
      {R"({"type":"subscribe","channel":"presence"})", 400},
      {R"({"type":"subscribe","channel":"agent_logs","workspace_id":"W"})", 403},
      {R"({"type":"subscribe","channel":"chat","chat_id":"nope"})", 404},
      {R"({"type":"chat.send","content":"x"})", 400},
  };
  for (const Case& k : cases) {
    cr_assert(c->send_text(k.frame));
    auto err = c->next_json();
    cr_assert(err.has_value(), "%s", k.frame);
    cr_assert_str_eq((*err)["type"].GetString(), "error", "%s", k.frame);
    cr_assert_eq((*err)["code"].GetInt(), k.code, "%s: %d", k.frame, (*err)["code"].GetInt());
  }
  expect_nothing_but_pong(*c);

  // The connection cap: 503 before any upgrade.
  auto c2 = connect_ws(d, w.owner);
  auto c3 = connect_ws(d, w.owner);
  Reply refused;
  cr_assert_null(WsClient::open(connect_tcp(d.port), "/ws?token=" + ws_token(d, w.owner), "", &refused).get());
  cr_assert_eq(refused.status, 503, "%d", refused.status);
  cr_assert(refused.header("Retry-After").has_value());

  // A message over 64 KiB: close 1009. A binary frame: 1003.
  cr_assert(c2->send_text(std::string(64 * 1024 + 1, 'x')));
  int big = c2->wait_closed();
  cr_assert_eq(big, 1009, "closed with %d", big);
  cr_assert(c3->send_binary("\x01\x02"));
  cr_assert_eq(c3->wait_closed(), 1003);
  // Their places are free again; the daemon serves on.
  auto again = connect_ws(d, w.owner);
  expect_nothing_but_pong(*again);
  expect_nothing_but_pong(*c);
  cr_assert_eq(call(d, "GET", "/api/health").status, 200);
}

Test(realtime, server_pings_and_a_silent_peer_is_closed) {
  TestDaemon d(api_options({"CREWSHIP_WS_PING_INTERVAL=150ms"}));
  World w = make_world(d);
  auto c = connect_ws(d, w.owner);
  // While the client answers (wslay pongs), it stays.
  for (int i = 0; i < 8; ++i) c->next(100);
  cr_assert_geq(c->pings, 3, "pings: %d", c->pings);
  expect_nothing_but_pong(*c);
  // A peer that stops answering is closed after two missed pongs.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  cr_assert_neq(c->wait_closed(3000), 0, "still open");
  cr_assert_eq(realtime_metric(d, w.owner, "clients"), 0);
}

Test(realtime, slow_consumer_is_closed_with_1013_and_counted) {
  TestDaemon d(api_options({"CREWSHIP_WS_MAX_QUEUE=64KiB"}));
  World w = make_world(d);
  auto slow = WsClient::open(connect_tcp(d.port, 4096), "/ws?token=" + ws_token(d, w.owner));
  cr_assert(slow != nullptr);
  subscribe(*slow, "presence", w.owner.workspace_id);
  auto fast = connect_ws(d, w.owner);
  subscribe(*fast, "presence", w.owner.workspace_id);
  std::string details = R"({"blob":")" + std::string(8000, 'z') + "\"}";
  int writes = 0;
  while (realtime_metric(d, w.owner, "slow_consumer_closes") == 0 && writes < 3000) {
    for (int i = 0; i < 20; ++i, ++writes) {
      set_presence(d, w.agent_a, "busy", details);
      fast->next_of("presence");  // the fast one keeps up all along
    }
  }
  cr_assert_eq(realtime_metric(d, w.owner, "slow_consumer_closes"), 1, "after %d writes", writes);
  int code = slow->wait_closed(10000);
  cr_assert_eq(code, 1013, "closed with %d: %s", code, d.log().c_str());
  set_presence(d, w.agent_a, "online");
  auto last = fast->next_of("presence");
  cr_assert(last.has_value());
  cr_assert_str_eq((*last)["status"].GetString(), "online");
}

Test(realtime, sigterm_closes_every_socket_with_1001) {
  TestDaemon d(api_options());
  World w = make_world(d);
  auto a = connect_ws(d, w.owner);
  auto b = connect_ws(d, w.owner);
  subscribe(*a, "presence", w.owner.workspace_id);
  expect_nothing_but_pong(*b);
  kill(d.pid, SIGTERM);
  cr_assert_eq(a->wait_closed(), 1001);
  cr_assert_eq(b->wait_closed(), 1001);
  cr_assert_eq(d.wait_exit(10000), 0);
}

Test(realtime, agent_logs_from_an_offset) {
  TestDaemon d(api_options());
  World w = make_world(d);
  std::string dir = d.dir + "/logs/crews/" + w.crew_a + "/agents/" + w.agent_a;
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir + "/current.jsonl");
    for (int i = 0; i < 5; ++i)
      f << R"({"ts":"2026-01-01T00:00:0)" << i << R"(Z","stream":"stdout","content":"line )" << i << "\"}\n";
  }
  auto c = connect_ws(d, w.owner);
  subscribe(*c, "agent_logs", w.owner.workspace_id, R"(,"agent_id":")" + w.agent_a + R"(","offset":2)");
  for (int i = 2; i < 5; ++i) {
    auto m = c->next_of("log");
    cr_assert(m.has_value(), "entry %d", i);
    cr_assert_eq((*m)["offset"].GetInt(), i);
    cr_assert_str_eq((*m)["content"].GetString(), ("line " + std::to_string(i)).c_str());
    cr_assert_str_eq((*m)["stream"].GetString(), "stdout");
  }
  cr_assert(c->send_text(subscribe_msg("agent_logs", w.owner.workspace_id, R"(,"agent_id":"nobody")")));
  cr_assert_eq((*c->next_json())["code"].GetInt(), 404);
  cr_assert(c->send_text(subscribe_msg("agent_logs", w.owner.workspace_id, R"(,"agent_id":")" + w.agent_a + R"(","offset":-1)")));
  cr_assert_eq((*c->next_json())["code"].GetInt(), 400);
}

Test(realtime, ipc_socket_serves_ws_with_the_token_scope) {
  TestDaemon d(api_options());
  World w = make_world(d);
  Reply r;
  cr_assert_null(WsClient::open(connect_unix(d.socket), "/ws", "", &r).get());
  cr_assert_eq(r.status, 401);
  std::string out;
  cr_assert_eq(run({daemon_binary(), "token", "crew", w.crew_a}, {"CREWSHIP_DATA_DIR=" + d.dir}, &out), 0);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  auto bound = WsClient::open(connect_unix(d.socket), "/ws", "X-Internal-Token: " + out + "\r\n");
  cr_assert(bound != nullptr);
  auto master = WsClient::open(connect_unix(d.socket), "/ws", "X-Internal-Token: " + d.token + "\r\n");
  cr_assert(master != nullptr);
  cr_assert(bound->send_text(subscribe_msg("presence", w.owner.workspace_id, R"(,"crew_id":")" + w.crew_b + "\"")));
  cr_assert_eq((*bound->next_json())["code"].GetInt(), 403, "another crew");
  cr_assert(bound->send_text(subscribe_msg("presence", "another-workspace")));
  cr_assert_eq((*bound->next_json())["code"].GetInt(), 403, "another workspace");
  subscribe(*bound, "presence", w.owner.workspace_id);
  subscribe(*master, "presence", w.owner.workspace_id);
  set_presence(d, w.agent_b, "busy");
  set_presence(d, w.agent_a, "busy");
  auto m = bound->next_of("presence");
  cr_assert(m.has_value());
  cr_assert_str_eq((*m)["agent_id"].GetString(), w.agent_a.c_str(), "a crew-bound token sees its crew only");
  cr_assert_str_eq((*master->next_of("presence"))["agent_id"].GetString(), w.agent_b.c_str());
  cr_assert_str_eq((*master->next_of("presence"))["agent_id"].GetString(), w.agent_a.c_str());
  expect_nothing_but_pong(*bound);
}

Test(realtime, sse_presence_stream_resumes_with_last_event_id) {
  TestDaemon d(api_options({"CREWSHIP_SSE_HEARTBEAT=200ms"}));
  World w = make_world(d);
  std::string path = "/api/v1/presence/stream?workspace_id=" + w.owner.workspace_id;
  auto open_stream = [&](const std::string& extra) {
    int fd = connect_tcp(d.port);
    cr_assert(send_all(fd, "GET " + path + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + w.owner.token +
                               "\r\n" + extra + "\r\n"));
    return fd;
  };
  int fd = open_stream("");
  std::string got;
  cr_assert(read_until(fd, &got, "\r\n\r\n"));
  cr_assert(got.find("text/event-stream") != std::string::npos, "%s", got.c_str());
  set_presence(d, w.agent_a, "busy");
  set_presence(d, w.agent_b, "blocked");
  cr_assert(read_until(fd, &got, w.agent_b), "%s", got.c_str());
  cr_assert(read_until(fd, &got, ": heartbeat"), "no heartbeat");
  close(fd);
  size_t at = got.find("event: presence\nid: ");
  cr_assert_neq(at, std::string::npos, "%s", got.c_str());
  std::string first_id = got.substr(at + 20, got.find('\n', at + 20) - at - 20);
  cr_assert(got.find("data: {\"agent_id\":\"" + w.agent_a + "\"") != std::string::npos, "%s", got.c_str());

  // Away for a while: two more transitions; the reconnect gets exactly the
  // entries after the first one, then live writes.
  set_presence(d, w.agent_a, "online");
  set_presence(d, w.agent_b, "offline");
  fd = open_stream("Last-Event-ID: " + first_id + "\r\n");
  std::string again;
  cr_assert(read_until(fd, &again, "\"status\":\"offline\""), "%s", again.c_str());
  cr_assert(again.find("\"status\":\"busy\"") == std::string::npos, "the entry of the cursor is not resent");
  size_t blocked = again.find("\"status\":\"blocked\"");
  size_t online = again.find("\"status\":\"online\"");
  cr_assert(blocked != std::string::npos && online != std::string::npos && blocked < online, "%s", again.c_str());
  set_presence(d, w.agent_a, "busy");
  cr_assert(read_until(fd, &again, "\"status\":\"busy\""), "live after the replay");
  close(fd);

  Reply bad = call(d, "GET", path, w.owner.token, "", "Last-Event-ID: yesterday\r\n");
  cr_assert_eq(bad.status, 400);
  Session outsider = signup(d, "mallory@example.com");
  cr_assert_eq(call(d, "GET", path, outsider.token).status, 403);
  cr_assert_eq(call(d, "GET", path).status, 401);
}

// Large messages go out in fragments; server pings slotted in between them
// must not break a backlog.
Test(realtime, backlog_with_pings_arrives_whole) {
  TestDaemon d(api_options({"CREWSHIP_WS_MAX_QUEUE=64MiB", "CREWSHIP_WS_PING_INTERVAL=1s"}));
  World w = make_world(d);
  auto slow = WsClient::open(connect_tcp(d.port, 4096), "/ws?token=" + ws_token(d, w.owner));
  cr_assert(slow != nullptr);
  subscribe(*slow, "presence", w.owner.workspace_id);
  std::string details = R"({"blob":")" + std::string(8000, 'z') + "\"}";
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) set_presence(d, w.agent_a, i % 2 ? "busy" : "online", details);
  std::this_thread::sleep_until(start + std::chrono::milliseconds(1200));  // a ping queued behind the backlog
  int n = 0;
  while (slow->next_of("presence", 2000)) ++n;
  cr_assert_eq(n, 200, "got %d of 200", n);
  cr_assert_gt(slow->pings, 0);
}

// The chat channel: a chat of the workspace can be followed, one elsewhere
// or missing cannot; chat.send to it is stored and comes back on the channel.
Test(realtime, chat_channel_is_authorized_by_the_chat) {
  TestDaemon d(api_options());
  World w = make_world(d);
  sql(d, "INSERT INTO chats(id, agent_id, workspace_id, title, created_at) VALUES ('chat-1', '" + w.agent_a + "', '" +
             w.owner.workspace_id + "', 'Hi', '2026-01-01T00:00:00Z')");
  auto c = connect_ws(d, w.owner);
  cr_assert(c->send_text(R"({"type":"subscribe","channel":"chat","chat_id":"chat-1"})"));
  auto ack = c->next_json();
  cr_assert_str_eq((*ack)["type"].GetString(), "subscribed");
  cr_assert_str_eq((*ack)["chat_id"].GetString(), "chat-1");
  cr_assert(c->send_text(R"({"type":"subscribe","channel":"chat","chat_id":"nope"})"));
  cr_assert_eq((*c->next_json())["code"].GetInt(), 404);
  cr_assert(c->send_text(R"({"type":"subscribe","channel":"chat"})"));
  cr_assert_eq((*c->next_json())["code"].GetInt(), 400);
  cr_assert(c->send_text(R"({"type":"chat.send","chat_id":"chat-1","content":""})"));
  cr_assert_eq((*c->next_json())["code"].GetInt(), 400);
  cr_assert(c->send_text(R"({"type":"chat.send","chat_id":"chat-1","content":"hello"})"));
  auto sent = c->next_json();
  cr_assert(sent.has_value());
  cr_assert_str_eq((*sent)["event"].GetString(), "chat.message");
  cr_assert_str_eq((*sent)["data"]["content"].GetString(), "hello");

  Session outsider = signup(d, "trudy@example.com");
  auto eve = connect_ws(d, outsider);
  for (const char* frame : {R"({"type":"subscribe","channel":"chat","chat_id":"chat-1"})",
                            R"({"type":"chat.send","chat_id":"chat-1","content":"hi"})"}) {
    cr_assert(eve->send_text(frame));
    cr_assert_eq((*eve->next_json())["code"].GetInt(), 403, "%s", frame);
  }
  std::string out;
  cr_assert_eq(run({daemon_binary(), "token", "crew", w.crew_b}, {"CREWSHIP_DATA_DIR=" + d.dir}, &out), 0);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  auto other_crew = WsClient::open(connect_unix(d.socket), "/ws", "X-Internal-Token: " + out + "\r\n");
  cr_assert(other_crew != nullptr);
  cr_assert(other_crew->send_text(R"({"type":"subscribe","channel":"chat","chat_id":"chat-1"})"));
  cr_assert_eq((*other_crew->next_json())["code"].GetInt(), 403, "a chat of another crew's agent");
  cr_assert(other_crew->send_text(R"({"type":"chat.send","chat_id":"chat-1","content":"not yours"})"));
  cr_assert_eq((*other_crew->next_json())["code"].GetInt(), 403, "nor may it write there");
  auto own_crew = WsClient::open(connect_unix(d.socket), "/ws",
                                 "X-Internal-Token: " + bound_token(d, "crew", w.crew_a) + "\r\n");
  cr_assert(own_crew != nullptr);
  cr_assert(own_crew->send_text(R"({"type":"chat.send","chat_id":"chat-1","content":"from the runtime"})"));
  auto relayed = c->next_of("event");
  cr_assert(relayed.has_value(), "the agent's crew may write to its chat");
  cr_assert_str_eq((*relayed)["data"]["content"].GetString(), "from the runtime");
  cr_assert_eq((*relayed)["data"]["seq"].GetInt64(), 2, "only the two allowed sends are stored");
  expect_nothing_but_pong(*c);
}

// A member removed from the workspace loses their live pushes at once: the
// WebSocket closes with 1008 and the SSE stream ends.
Test(realtime, removed_member_is_cut_off) {
  TestDaemon d(api_options());
  World w = make_world(d);
  Session bob = signup(d, "bob@example.com");
  std::string ws = "/api/v1/workspaces/" + w.owner.workspace_id;
  Reply added = call(d, "POST", ws + "/members", w.owner.token, R"({"email":"bob@example.com","role":"MEMBER"})");
  cr_assert_eq(added.status, 201, "%s", added.body.c_str());
  std::string member_id = json_of(added)["id"].GetString();
  auto c = connect_ws(d, bob);
  subscribe(*c, "presence", w.owner.workspace_id);
  int fd = connect_tcp(d.port);
  cr_assert(send_all(fd, "GET /api/v1/presence/stream?workspace_id=" + w.owner.workspace_id +
                             " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + bob.token + "\r\n\r\n"));
  std::string got;
  cr_assert(read_until(fd, &got, "text/event-stream"));
  set_presence(d, w.agent_a, "busy");
  cr_assert(c->next_of("presence").has_value(), "a member sees the workspace");

  cr_assert_eq(call(d, "DELETE", ws + "/members/" + member_id, w.owner.token).status, 204);
  set_presence(d, w.agent_a, "online");
  cr_assert_eq(c->wait_closed(), 1008);
  cr_assert(read_until(fd, &got, "0\r\n\r\n"), "the stream ends: %s", got.c_str());
  cr_assert(got.find("\"status\":\"online\"") == std::string::npos, "nothing after the removal");
  close(fd);
  // And a new subscription is refused.
  auto again = connect_ws(d, bob);
  cr_assert(again->send_text(subscribe_msg("presence", w.owner.workspace_id)));
  cr_assert_eq((*again->next_json())["code"].GetInt(), 403);
}

// An idle session holds no wslay context (two 4 KiB buffers of its own): 200
// sockets that each sent a message and got its answer cost the daemon well
// under the 8 KiB a connection the benchmark's target allows.
Test(realtime, idle_sockets_hold_no_framing_buffers) {
  TestDaemon d(api_options());
  World w = make_world(d);
  std::string target = "/ws?token=" + ws_token(d, w.owner);
  std::vector<std::unique_ptr<WsClient>> clients;
  auto ping = [&] {
    auto c = WsClient::open(connect_tcp(d.port), target);
    cr_assert(c != nullptr);
    cr_assert(c->send_text(R"({"type":"ping"})"));
    cr_assert(c->next_of("pong").has_value());
    clients.push_back(std::move(c));
  };
  ping();  // the first one's allocations are not a connection's
  long before = rss_kib(d.pid);
  constexpr int kClients = 200;
  for (int i = 0; i < kClients; ++i) ping();
  long after = rss_kib(d.pid);
  cr_assert(before > 0 && after > 0);
  long per = (after - before) * 1024 / kClients;
  cr_assert_lt(per, 6 * 1024, "%ld bytes a connection (VmRSS %ld -> %ld KiB)", per, before, after);
  // They still work: a push reaches the last one.
  subscribe(*clients.back(), "presence", w.owner.workspace_id);
  set_presence(d, w.agent_a, "busy");
  cr_assert(clients.back()->next_of("presence").has_value());
}

// chat.send stores a user message through the chat module (the IPC append's
// path) and broadcasts it once committed; an IPC append is broadcast the
// same way. A non-member can neither send nor follow (nothing stored), and
// content over 256 KiB gets an error frame on a connection that goes on.
Test(realtime, chat_send_and_ipc_append_are_stored_and_broadcast) {
  TestDaemon d(api_options());
  World w = make_world(d);
  std::string chat = create(d, w.owner, "/api/v1/agents/" + w.agent_a + "/chats", R"({"title":"Ops"})");
  auto sender = connect_ws(d, w.owner);
  auto listener = connect_ws(d, w.owner);
  auto events = connect_ws(d, w.owner);
  std::string follow = R"({"type":"subscribe","channel":"chat","chat_id":")" + chat + "\"}";
  cr_assert(listener->send_text(follow));
  cr_assert_str_eq((*listener->next_json())["type"].GetString(), "subscribed");
  subscribe(*events, "events", w.owner.workspace_id);

  auto send = [&](WsClient& c, const std::string& content) {
    return c.send_text(R"({"type":"chat.send","chat_id":")" + chat + R"(","content":")" + content + "\"}");
  };
  cr_assert(send(*sender, "deploy at noon"));
  auto got = listener->next_of("event");
  cr_assert(got.has_value(), "the chat's subscriber gets the message");
  cr_assert_str_eq((*got)["event"].GetString(), "chat.message");
  cr_assert_str_eq((*got)["data"]["chat_id"].GetString(), chat.c_str());
  cr_assert_str_eq((*got)["data"]["role"].GetString(), "user");
  cr_assert_str_eq((*got)["data"]["content"].GetString(), "deploy at noon");
  cr_assert_eq((*got)["data"]["seq"].GetInt64(), 1);
  auto ev = events->next_of("event");
  cr_assert(ev.has_value());
  cr_assert_str_eq((*ev)["event"].GetString(), "chat.message", "the workspace's events carry it too");
  expect_nothing_but_pong(*sender);  // not subscribed: nothing comes back

  // The IPC append reaches the chat's subscribers the same way.
  Reply appended = ipc_call(d, "POST", "/api/v1/internal/chats/" + chat + "/messages",
                            R"({"role":"assistant","content":"on it"})");
  cr_assert_eq(appended.status, 201, "%d %s", appended.status, appended.body.c_str());
  got = listener->next_of("event");
  cr_assert(got.has_value());
  cr_assert_str_eq((*got)["data"]["role"].GetString(), "assistant");
  cr_assert_str_eq((*got)["data"]["content"].GetString(), "on it");
  cr_assert_eq((*got)["data"]["seq"].GetInt64(), 2);

  // A non-member: 403 for both, and nothing stored or sent.
  Session outsider = signup(d, "mallory@example.com");
  auto eve = connect_ws(d, outsider);
  cr_assert(send(*eve, "let me in"));
  cr_assert_eq((*eve->next_json())["code"].GetInt(), 403);
  cr_assert(eve->send_text(follow));
  cr_assert_eq((*eve->next_json())["code"].GetInt(), 403);

  // Content: 256 KiB is taken (in a frame over 64 KiB), one byte more is refused.
  cr_assert(send(*sender, std::string(256 << 10, 'a')));
  got = listener->next_of("event");
  cr_assert(got.has_value(), "256 KiB of content is stored");
  cr_assert_eq((*got)["data"]["content"].GetStringLength(), 256u << 10);
  cr_assert(send(*sender, std::string((256 << 10) + 1, 'b')));
  auto err = sender->next_json();
  cr_assert(err.has_value());
  cr_assert_str_eq((*err)["type"].GetString(), "error");
  cr_assert_eq((*err)["code"].GetInt(), 400);
  expect_nothing_but_pong(*sender);
  expect_nothing_but_pong(*listener);

  Reply page = call(d, "GET", "/api/v1/chats/" + chat + "/messages", w.owner.token);
  cr_assert_eq(page.status, 200, "%s", page.body.c_str());
  auto messages = json_of(page);
  cr_assert_eq(messages["messages"].Size(), 3u, "the two sends and the append, nothing of the refused ones");
  cr_assert_str_eq(messages["messages"][0]["content"].GetString(), "deploy at noon");
  cr_assert_str_eq(messages["messages"][0]["role"].GetString(), "user");
  cr_assert_str_eq(messages["messages"][1]["content"].GetString(), "on it");
}

// A hire and its approval are events of the workspace, after their commit.
Test(realtime, hire_and_approval_events) {
  TestDaemon d(api_options());
  World w = make_world(d);
  std::string guided = create(d, w.owner, "/api/v1/crews", R"({"name":"Guided","slug":"guided","autonomy_level":"guided"})");
  auto events = connect_ws(d, w.owner);
  subscribe(*events, "events", w.owner.workspace_id);

  Reply h = call(d, "POST", "/api/v1/agents/hire?workspace_id=" + w.owner.workspace_id, w.owner.token,
                 R"({"crew_id":")" + guided + R"(","template_slug":"qa-engineer","reason":"regression sweep"})");
  cr_assert_eq(h.status, 202, "%s", h.body.c_str());
  std::string id = json_of(h)["id"].GetString();
  auto hired = events->next_of("event");
  cr_assert(hired.has_value());
  cr_assert_str_eq((*hired)["event"].GetString(), "agent.hired");
  cr_assert_str_eq((*hired)["data"]["agent_id"].GetString(), id.c_str());
  cr_assert_str_eq((*hired)["data"]["crew_id"].GetString(), guided.c_str());
  cr_assert_str_eq((*hired)["data"]["status"].GetString(), "PENDING_REVIEW");
  cr_assert_str_eq((*hired)["data"]["decision"].GetString(), "inbox_approve");

  Reply a = call(d, "POST", "/api/v1/agents/" + id + "/approve-hire?workspace_id=" + w.owner.workspace_id, w.owner.token);
  cr_assert_eq(a.status, 200, "%s", a.body.c_str());
  auto approved = events->next_of("event");
  cr_assert(approved.has_value());
  cr_assert_str_eq((*approved)["event"].GetString(), "agent.hire_approved");
  cr_assert_str_eq((*approved)["data"]["agent_id"].GetString(), id.c_str());
  cr_assert_str_eq((*approved)["data"]["status"].GetString(), "IDLE");
  // A refused approval publishes nothing.
  cr_assert_eq(call(d, "POST", "/api/v1/agents/" + id + "/approve-hire?workspace_id=" + w.owner.workspace_id,
                    w.owner.token).status, 409);
  expect_nothing_but_pong(*events);
}
