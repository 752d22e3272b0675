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

// Container events are followed for the daemon's life. A line over the 64 KiB
// cap ends the stream from inside the client's on_data (and it is followed
// again after a backoff): the daemon must live through it.
Test(engine_faults, event_line_over_the_cap) {
  World w;
  std::atomic<int> streams{0};
  make_world(&w, [&streams](int fd, const std::string& head) {
    if (head.find("/events") == std::string::npos) return send_str(fd, http_json(404, R"({"message":"no such thing"})"));
    ++streams;
    send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + std::string(70 << 10, 'x'));
  });
  for (int i = 0; i < 50 && streams.load() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  cr_assert_geq(streams.load(), 2, "the event stream was not followed again");
  cr_assert_eq(call(*w.d, "GET", "/api/health").status, 200);
}
