// What crewshipd does when the engine misbehaves in ways a real one will not
// on cue: a fake engine on a Unix socket that hangs, talks garbage, closes
// mid-answer or ends an exec stream half way. Every case must end in a 502
// (or 503 at the in-flight cap) within the engine timeout, with the daemon
// serving everything else meanwhile.
#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/support/api.h"

using namespace crewship::test;
using Clock = std::chrono::steady_clock;

namespace {

// A fake engine: each connection's first request goes to answer(fd, head),
// which writes what it likes; the connection then closes.
class FakeEngine {
 public:
  using Answer = std::function<void(int fd, const std::string& head)>;
  FakeEngine(std::string path, Answer answer) : path_(std::move(path)), answer_(std::move(answer)) {
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    cr_assert(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    cr_assert(listen(listen_fd_, 64) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeEngine() {
    stop_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    for (auto& t : conns_) t.join();
    close(listen_fd_);
    unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p = {listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 100) != 1) continue;
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      conns_.emplace_back([this, fd] {
        std::string head;
        char c;
        while (head.find("\r\n\r\n") == std::string::npos && read(fd, &c, 1) == 1) head += c;
        if (head.find("Content-Length: ") != std::string::npos) {  // drain a small body
          size_t n = std::stoul(head.substr(head.find("Content-Length: ") + 16));
          for (size_t i = 0; i < n && read(fd, &c, 1) == 1; ++i) {
          }
        }
        answer_(fd, head);
        // Hold the connection until the client leaves or the test ends.
        pollfd p = {fd, POLLIN, 0};
        while (!stop_ && poll(&p, 1, 100) == 0) {
        }
        close(fd);
      });
    }
  }

  std::string path_;
  Answer answer_;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> conns_;
};

void send_str(int fd, const std::string& s) { (void)!send(fd, s.data(), s.size(), MSG_NOSIGNAL); }

std::string http_json(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

// Pings and versions answer well, so the daemon adopts the fake; the rest is
// the case's.
FakeEngine::Answer engine_with(FakeEngine::Answer rest) {
  return [rest](int fd, const std::string& head) {
    if (head.find("/_ping") != std::string::npos) return send_str(fd, http_json(200, "OK"));
    if (head.find("/version") != std::string::npos)
      return send_str(fd, http_json(200, R"({"Version":"20.10.24","ApiVersion":"1.41"})"));
    rest(fd, head);
  };
}

struct World {
  std::string dir;
  std::unique_ptr<FakeEngine> engine;
  std::unique_ptr<TestDaemon> d;
  Session owner;
  std::string crew, agent;
  ~World() {
    d.reset();
    engine.reset();
    remove_tree(dir);
  }
};

std::string q(const World& w) { return "?workspace_id=" + w.owner.workspace_id; }

void make_world(World* w, FakeEngine::Answer answer, std::vector<std::string> env = {}) {
  w->dir = make_temp_dir();
  w->engine = std::make_unique<FakeEngine>(w->dir + "/engine.sock", engine_with(std::move(answer)));
  env.push_back("DOCKER_HOST=unix://" + w->engine->path());
  env.push_back("CREWSHIP_ENGINE_TIMEOUT=1s");
  w->d = std::make_unique<TestDaemon>(api_options(env));
  cr_assert(w->d->started());
  w->owner = bootstrap(*w->d);
  Reply c = call(*w->d, "POST", "/api/v1/crews" + q(*w), w->owner.token, R"({"name":"Crew","slug":"crew"})");
  cr_assert_eq(c.status, 201, "%s", c.body.c_str());
  w->crew = json_of(c)["id"].GetString();
  Reply a = call(*w->d, "POST", "/api/v1/agents" + q(*w), w->owner.token,
                 R"({"name":"Agent","slug":"agent","crew_id":")" + w->crew + R"("})");
  cr_assert_eq(a.status, 201, "%s", a.body.c_str());
  w->agent = json_of(a)["id"].GetString();
}

// The answer to path, which must be status within max_ms, while the daemon
// keeps answering its health check.
Reply expect_within(const World& w, const std::string& method, const std::string& path, int status, int max_ms) {
  auto start = Clock::now();
  Reply r = call(*w.d, method, path + q(w), w.owner.token);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  cr_assert_eq(r.status, status, "%s %s: %d %s", method.c_str(), path.c_str(), r.status, r.body.c_str());
  cr_assert_lt(ms, max_ms, "%s took %lld ms", path.c_str(), static_cast<long long>(ms));
  cr_assert(r.header("Content-Type")->find("problem+json") != std::string::npos);
  cr_assert_eq(call(*w.d, "GET", "/api/health").status, 200);
  return r;
}

}  // namespace

Test(engine_faults, socket_missing) {
  World w;
  make_world(&w, [](int, const std::string&) {});
  w.engine.reset();  // nothing listens any more
  Reply r = expect_within(w, "GET", "/api/v1/crews/" + w.crew + "/container/status", 502, 3000);
  cr_assert(r.body.find("unreachable") != std::string::npos, "%s", r.body.c_str());
}

Test(engine_faults, hanging_engine_times_out_and_the_daemon_keeps_serving) {
  World w;
  make_world(&w, [](int, const std::string&) {});  // never answers
  std::atomic<bool> done{false};
  std::thread slow([&] {
    expect_within(w, "GET", "/api/v1/agents/" + w.agent + "/git-log", 502, 3000);
    done = true;
  });
  // Meanwhile health answers at once.
  for (int i = 0; i < 5; ++i) {
    auto start = Clock::now();
    cr_assert_eq(call(*w.d, "GET", "/api/health").status, 200);
    cr_assert_lt(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count(), 200);
  }
  slow.join();
  cr_assert(done.load());
}

Test(engine_faults, garbage_and_early_close) {
  World w;
  std::atomic<int> n{0};
  make_world(&w, [&n](int fd, const std::string&) {
    if (n++ % 2 == 0) send_str(fd, "this is not HTTP\r\n\r\n");
    shutdown(fd, SHUT_RDWR);  // the other half: closed before any answer
  });
  expect_within(w, "GET", "/api/v1/crews/" + w.crew + "/container/status", 502, 3000);
  expect_within(w, "GET", "/api/v1/crews/" + w.crew + "/container/status", 502, 3000);
  expect_within(w, "POST", "/api/v1/crews/" + w.crew + "/container/start", 502, 3000);
}

Test(engine_faults, engine_errors_are_502_with_its_message) {
  World w;
  make_world(&w, [](int fd, const std::string&) {
    send_str(fd, http_json(500, R"({"message":"disk full, sorry"})"));
  });
  Reply r = expect_within(w, "POST", "/api/v1/crews/" + w.crew + "/container/start", 502, 3000);
  cr_assert(r.body.find("disk full, sorry") != std::string::npos, "%s", r.body.c_str());
}

Test(engine_faults, exec_that_dies_mid_stream) {
  World w;
  make_world(&w, [](int fd, const std::string& head) {
    if (head.find("/containers/json") != std::string::npos)
      return send_str(fd, http_json(200, R"([{"Id":"c0ffee","Names":["/x"],"State":"running"}])"));
    if (head.find("/exec HTTP") != std::string::npos)
      return send_str(fd, http_json(201, R"({"Id":"e1"})"));
    if (head.find("/exec/e1/start") != std::string::npos) {
      // A frame header promising 100 bytes, 3 of them, then the end.
      send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n");
      send_str(fd, std::string("\x01\x00\x00\x00\x00\x00\x00\x64" "abc", 11));
      shutdown(fd, SHUT_RDWR);
      return;
    }
    send_str(fd, http_json(404, R"({"message":"no such thing"})"));
  });
  expect_within(w, "GET", "/api/v1/agents/" + w.agent + "/container-files", 502, 3000);
}

Test(engine_faults, in_flight_cap_answers_503_with_retry_after) {
  World w;
  make_world(&w, [](int, const std::string&) {}, {"CREWSHIP_ENGINE_MAX_INFLIGHT_PER_CREW=1"});
  std::thread first([&] { expect_within(w, "GET", "/api/v1/crews/" + w.crew + "/container/status", 502, 3000); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Reply r = expect_within(w, "GET", "/api/v1/crews/" + w.crew + "/container/status", 503, 500);
  cr_assert(r.header("Retry-After").has_value());
  first.join();
}

Test(engine_faults, event_stream_garbage_and_endless_lines) {
  World w;
  std::atomic<int> events{0};
  make_world(&w, [&events](int fd, const std::string& head) {
    if (head.find("/events") == std::string::npos) return send_str(fd, http_json(404, R"({"message":"no"})"));
    send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n");
    // Something that is not an event, then a line that never ends.
    send_str(fd, "{not json}\n[1,2]\n" + std::string(100000, 'x'));
    ++events;
  });
  // The stream is taken up again after each failure, and nothing else suffers.
  for (int i = 0; i < 50 && events.load() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  cr_assert_geq(events.load(), 2, "the event stream was followed again");
  cr_assert_eq(call(*w.d, "GET", "/api/health").status, 200);
  cr_assert_eq(kill(w.d->pid, 0), 0);
}

Test(engine_faults, container_request_during_the_drain) {
  World w;
  make_world(&w, [](int, const std::string&) {});
  // A request whose headers end only after SIGTERM is handled during the drain.
  int fd = connect_tcp(w.d->port);
  cr_assert(fd >= 0);
  Client c(fd);
  c.send("GET /api/v1/agents/" + w.agent + "/logs" + q(w) + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
         w.owner.token + "\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  kill(w.d->pid, SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  c.send("\r\n");
  auto r = c.read(5000);
  cr_assert(r.has_value(), "an answer, not a dead daemon");
  cr_assert_eq(r->status, 503, "%d %s", r->status, r->body.c_str());
  cr_assert_eq(w.d->wait_exit(10000), 0, "a clean exit");
}

// Bad input to the run, log and proxy routes is refused before the engine is
// asked: 400 with what was wrong, 404 for an agent that is not there.
Test(engine_faults, bad_input_is_refused_before_the_engine) {
  World w;
  std::atomic<int> calls{0};
  make_world(&w, [&calls](int fd, const std::string& head) {
    if (head.find("/events") == std::string::npos) ++calls;
    send_str(fd, http_json(404, R"({"message":"no"})"));
  });
  auto start = [&w](const std::string& agent, const std::string& body) {
    std::string raw = "POST /api/v1/internal/agents/" + agent + "/start HTTP/1.1\r\nHost: t\r\nX-Internal-Token: " +
                      w.d->token + "\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body;
    auto r = request_unix(w.d->socket, raw, 10000);
    cr_assert(r.has_value());
    return *r;
  };
  std::string many = R"({"cmd":[)";
  for (int i = 0; i < 257; ++i) many += std::string(i ? "," : "") + "\"a\"";
  many += "]}";
  for (const std::string& body :
       {std::string("not json"), std::string("{}"), std::string(R"({"cmd":[]})"), std::string(R"({"cmd":"ls"})"),
        std::string(R"({"cmd":[1]})"), std::string(R"({"cmd":[""]})"), many,
        std::string(R"({"cmd":["x"],"env":{"CREWSHIP_AGENT_ID":"other"}})"),
        std::string(R"({"cmd":["x"],"env":{"1A":"v"}})"), std::string(R"({"cmd":["x"],"env":{"A":1}})"),
        std::string(R"({"cmd":["x"],"env":["A=1"]})"), std::string(R"({"cmd":["x"],"chat_id":""})")}) {
    Reply r = start(w.agent, body);
    cr_assert_eq(r.status, 400, "%s: %d %s", body.substr(0, 60).c_str(), r.status, r.body.c_str());
  }
  cr_assert_eq(start(w.agent, R"({"cmd":[")" + std::string(2 << 20, 'a') + R"("]})").status, 413);
  cr_assert_eq(start("nosuchagent", R"({"cmd":["true"]})").status, 404);

  std::string logs = "/api/v1/agents/" + w.agent + "/logs";
  for (const char* bad : {"?limit=0", "?offset=-1", "?limit=x", "?follow=2"}) {
    Reply r = call(*w.d, "GET", logs + bad + "&" + q(w).substr(1), w.owner.token);
    cr_assert_eq(r.status, 400, "logs%s: %d", bad, r.status);
  }
  cr_assert_eq(call(*w.d, "GET", "/api/v1/agents/" + w.agent + "/logs?limit=501&" + q(w).substr(1), w.owner.token).status,
               200, "clamped");
  cr_assert_eq(call(*w.d, "GET", "/api/v1/agents/" + w.agent + "/runs?limit=101&" + q(w).substr(1), w.owner.token).status,
               200, "clamped");
  cr_assert_eq(call(*w.d, "GET", "/api/v1/agents/nosuchagent/git-log" + q(w), w.owner.token).status, 404);
  cr_assert_eq(calls.load(), 0, "the engine was asked nothing");
  // An empty log pages as [] and nothing was run.
  Reply empty = call(*w.d, "GET", logs + q(w), w.owner.token);
  cr_assert_eq(empty.status, 200);
  cr_assert_str_eq(empty.body.c_str(), "[]");
}
