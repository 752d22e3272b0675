// Answers whose body is one shared buffer (Response::shared_body): sent whole
// to a client that reads slowly, so the socket takes it in parts, to several
// exchanges at once, and as Content-Length alone for HEAD.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include <criterion/criterion.h>

#include "daemon/http_server.h"
#include "daemon/router.h"
#include "tests/support/harness.h"

using namespace crewship;

namespace {

std::shared_ptr<const std::string> g_body;

void handle_big(void*, const http::ExchangePtr& ex) { ex->respond(http::Response::json(200, g_body)); }

const Route kRoutes[] = {{http::Method::kGet, "/big", {handle_big}}};

// Connects, sends request, then reads until the answers' bytes are in, slowly.
std::string client(const std::string& path, const std::string& request, size_t want) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  struct sockaddr_un sa = {};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return "connect failed";
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) return "write failed";
  std::string got;
  char buf[8192];
  for (int rounds = 0; got.size() < want && rounds < 100000; ++rounds) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) break;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
    if (rounds % 64 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  close(fd);
  return got;
}

struct World {
  std::string dir = test::make_temp_dir();
  std::string sock = dir + "/http.sock";
  uv_loop_t loop;
  Router router{kRoutes};
  std::unique_ptr<Server> server;

  World() {
    uv_loop_init(&loop);
    ServerOptions o;
    o.name = "test";
    o.router = &router;
    server = std::make_unique<Server>(&loop, std::move(o));
    cr_assert_eq(server->listen_unix(sock), 0);
  }
  ~World() {
    server->close_all();
    bool drained = false;
    server->drain([&] { drained = true; });
    while (!drained) uv_run(&loop, UV_RUN_ONCE);
    server.reset();
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    test::remove_tree(dir);
  }
  // Runs the loop while the client runs on a thread of its own.
  std::string exchange(const std::string& request, size_t want) {
    std::atomic<bool> done{false};
    std::string got;
    std::thread t([&] {
      got = client(sock, request, want);
      done = true;
    });
    while (!done) uv_run(&loop, UV_RUN_NOWAIT), std::this_thread::sleep_for(std::chrono::microseconds(200));
    t.join();
    return got;
  }
};

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

// The body of each answer in raw, in order.
std::vector<std::string> bodies(const std::string& raw) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < raw.size()) {
    size_t end = raw.find("\r\n\r\n", at);
    if (end == std::string::npos) break;
    std::string head = raw.substr(at, end - at);
    size_t cl = head.find("Content-Length: ");
    if (cl == std::string::npos) break;
    size_t len = std::stoul(head.substr(cl + 16));
    out.push_back(raw.substr(end + 4, len));
    at = end + 4 + len;
  }
  return out;
}

}  // namespace

TestSuite(http_response, .timeout = 30);

Test(http_response, a_shared_body_reaches_slow_clients_whole) {
  World w;
  g_body = std::make_shared<const std::string>(pattern(3 * 1024 * 1024 + 17));
  // Two pipelined requests: two answers in flight on one buffer; the second
  // ends the connection, which ends the client's reading.
  std::string raw = w.exchange("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"
                               "GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                               16u << 20);
  auto got = bodies(raw);
  cr_assert_eq(got.size(), 2u, "%zu bytes read", raw.size());
  cr_assert(got[0] == *g_body, "first body intact (%zu of %zu bytes)", got[0].size(), g_body->size());
  cr_assert(got[1] == *g_body, "second body intact");
  cr_assert(raw.find("Content-Type: application/json") != std::string::npos);
  g_body.reset();
}

Test(http_response, head_of_a_shared_body_has_its_length_only) {
  World w;
  g_body = std::make_shared<const std::string>(pattern(1000));
  std::string raw = w.exchange("HEAD /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 1 << 20);
  cr_assert(raw.find("Content-Length: 1000\r\n") != std::string::npos, "%s", raw.c_str());
  cr_assert(raw.size() >= 4 && raw.compare(raw.size() - 4, 4, "\r\n\r\n") == 0, "no body after the head: %s",
            raw.c_str());
  g_body.reset();
}
