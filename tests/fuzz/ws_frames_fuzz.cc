// Fuzz target for client frames into an upgraded connection: the HTTP
// core's upgrade hand-off (daemon/http_server.h) and the WebSocket session
// (daemon/websocket.h, framing by wslay), built without an App.
//
// One uv loop and one crewship::Server live for the whole process on a Unix
// socket, with one route, GET /ws, that upgrades to an echo session: each
// text message comes back as it was; a message "close" makes the server
// close with 1000; "flood" queues messages until the session's small queue
// cap (4 KiB) closes it with 1013. Messages over 1 KiB close with 1009.
// For each input a client connects, sends a valid handshake and, in the same
// write or after the 101 (the first byte's low bit), the input as raw client
// bytes in 2-3 pieces, then half-closes and reads until EOF.
//
// Invariants (abort() on violation):
//  * the answer starts with a 101 carrying the RFC's Sec-WebSocket-Accept;
//  * what follows is a sequence of well-formed server frames (no mask, known
//    opcodes, control frames final and at most 125 bytes, continuations only
//    inside a fragmented message), nothing after a close frame, and a close
//    code, when there is one, that may be sent (RFC 6455 7.4);
//  * the server ends the connection within a bound; Server::connections()
//    returns to 0 and every session was freed;
//  * every 64 inputs, a fresh connection gets "ping" echoed back.

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include <uv.h>

#include "daemon/http_server.h"
#include "daemon/log.h"
#include "daemon/router.h"
#include "daemon/websocket.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using crewship::fuzz::fail;
using crewship::fuzz::now_ms;
namespace http = crewship::http;
namespace ws = crewship::ws;

constexpr uint64_t kEndBoundMs = 5000;  // > the session's close deadline (3 s)
constexpr std::string_view kHandshake =
    "GET /ws HTTP/1.1\r\nHost: f\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
constexpr std::string_view kAccept = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";

int g_sessions = 0;

class Echo final : public ws::Session {
 public:
  Echo(uv_loop_t* loop, ws::SessionOptions o) : ws::Session(loop, o) { ++g_sessions; }
  ~Echo() override { --g_sessions; }

 protected:
  void on_text(std::string_view text) override {
    if (text == "close") return close(1000, "bye");
    if (text == "flood") {
      auto big = std::make_shared<const std::string>(1000, 'f');
      while (send(big)) {
      }
      return;
    }
    send(std::make_shared<const std::string>(text));
  }
};

void handle_ws(void*, const http::ExchangePtr& ex) {
  std::string key, why;
  if (!ws::wants_upgrade(ex->req, &key, &why)) {
    http::Response r;
    r.status = 426;
    ex->respond(std::move(r));
    return;
  }
  ws::SessionOptions o;
  o.max_message = 1024;
  o.max_queue = 4096;
  o.ping_interval_ms = 200;
  auto* s = new Echo(ex->loop(), o);
  if (!ex->upgrade(ws::switching_protocols(key), s)) delete s;
}

const crewship::Route kRoutes[] = {{http::Method::kGet, "/ws", {handle_ws}}};

struct World {
  uv_loop_t loop;
  crewship::Router* router = nullptr;
  crewship::Server* server = nullptr;
  std::string sock;
  unsigned inputs = 0;
};

World& world() {
  static World* w = nullptr;
  if (w != nullptr) return *w;
  signal(SIGPIPE, SIG_IGN);
  crewship::log::set_level(crewship::log::Level::kError);
  w = new World;
  if (uv_loop_init(&w->loop) != 0) fail("uv_loop_init");
  w->router = new crewship::Router(kRoutes);
  w->sock = crewship::fuzz::temp_socket("ws.sock");
  crewship::ServerOptions o;
  o.name = "fuzz";
  o.router = w->router;
  o.limits.header_timeout_ms = 300;
  o.limits.idle_timeout_ms = 500;
  o.limits.send_timeout_ms = 300;
  o.limits.max_connections = 8;
  w->server = new crewship::Server(&w->loop, std::move(o));
  if (int r = w->server->listen_unix(w->sock); r != 0) fail("listen_unix", uv_strerror(r));
  return *w;
}

void pump(World& w, int wait_ms) {
  struct pollfd p = {uv_backend_fd(&w.loop), POLLIN, 0};
  int t = uv_backend_timeout(&w.loop);
  if (t < 0 || t > wait_ms) t = wait_ms;
  if (t > 0) poll(&p, 1, t);
  uv_run(&w.loop, UV_RUN_NOWAIT);
}

// Writes what the socket takes now, running the loop while it is full.
void write_all(World& w, int fd, std::string_view data, std::string* got) {
  uint64_t deadline = now_ms() + kEndBoundMs;
  while (!data.empty() && now_ms() < deadline) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return;  // the server closed on us: fine, the frames say why
    }
    pump(w, 1);
    crewship::fuzz::read_available(fd, got);
  }
}

// The server's frames: well-formed, nothing after a close.
void check_frames(std::string_view out, std::string_view input) {
  bool in_message = false;
  size_t at = 0;
  while (at < out.size()) {
    if (out.size() - at < 2) return;  // cut short by our half-close: the peer reset is fine
    uint8_t b0 = static_cast<uint8_t>(out[at]), b1 = static_cast<uint8_t>(out[at + 1]);
    bool fin = b0 & 0x80;
    uint8_t opcode = b0 & 0x0f;
    FUZZ_CHECK((b0 & 0x70) == 0, input);
    FUZZ_CHECK((b1 & 0x80) == 0, input);  // a server never masks
    uint64_t len = b1 & 0x7f;
    size_t head = 2;
    if (len == 126) {
      if (out.size() - at < 4) return;
      len = (static_cast<uint8_t>(out[at + 2]) << 8) | static_cast<uint8_t>(out[at + 3]);
      head = 4;
    } else if (len == 127) {
      if (out.size() - at < 10) return;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<uint8_t>(out[at + 2 + i]);
      head = 10;
    }
    if (out.size() - at - head < len) return;
    bool control = opcode >= 8;
    FUZZ_CHECK(opcode == 0 || opcode == 1 || opcode == 8 || opcode == 9 || opcode == 10, input);
    if (control) {
      FUZZ_CHECK(fin && len <= 125, input);
    } else {
      FUZZ_CHECK((opcode == 0) == in_message, input);
      in_message = !fin;
    }
    if (opcode == 8) {
      if (len >= 2) {
        int code = (static_cast<uint8_t>(out[at + head]) << 8) | static_cast<uint8_t>(out[at + head + 1]);
        FUZZ_CHECK(code >= 1000 && code < 5000 && code != 1004 && code != 1005 && code != 1006, input);
      }
      FUZZ_CHECK(at + head + len == out.size(), input);  // nothing after the close
      return;
    }
    at += head + len;
  }
}

// One connection through a whole exchange; what the server sent.
std::string exchange(World& w, std::string_view frames, bool together, size_t cut1, size_t cut2) {
  int fd = crewship::fuzz::connect_unix(w.sock);
  std::string got;
  if (together) {
    std::string first(kHandshake);
    first.append(frames.substr(0, cut1));
    write_all(w, fd, first, &got);
  } else {
    write_all(w, fd, kHandshake, &got);
    uint64_t deadline = now_ms() + 1000;
    while (got.find("\r\n\r\n") == std::string::npos && now_ms() < deadline) {
      pump(w, 1);
      crewship::fuzz::read_available(fd, &got);
    }
    write_all(w, fd, frames.substr(0, cut1), &got);
  }
  pump(w, 0);
  write_all(w, fd, frames.substr(cut1, cut2 - cut1), &got);
  pump(w, 0);
  write_all(w, fd, frames.substr(cut2), &got);
  shutdown(fd, SHUT_WR);
  uint64_t deadline = now_ms() + kEndBoundMs;
  bool open = true;
  while (open && now_ms() < deadline) {
    pump(w, 1);
    open = crewship::fuzz::read_available(fd, &got);
  }
  close(fd);
  FUZZ_CHECK(!open, got);
  return got;
}

void await_quiescent(World& w, std::string_view input) {
  uint64_t deadline = now_ms() + kEndBoundMs;
  while ((w.server->connections() != 0 || g_sessions != 0) && now_ms() < deadline) pump(w, 1);
  FUZZ_CHECK(w.server->connections() == 0, input);
  FUZZ_CHECK(g_sessions == 0, input);
}

// A masked client text frame.
std::string client_text(std::string_view text) {
  std::string f;
  f.push_back(static_cast<char>(0x81));
  f.push_back(static_cast<char>(0x80 | text.size()));
  const char mask[4] = {1, 2, 3, 4};
  f.append(mask, 4);
  for (size_t i = 0; i < text.size(); ++i) f.push_back(static_cast<char>(text[i] ^ mask[i % 4]));
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = world();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  uint8_t knob = size > 0 ? data[0] : 0;
  size_t cut1 = size > 1 ? data[1] % (size + 1) : 0;
  size_t cut2 = size > 2 ? cut1 + data[2] % (size - cut1 + 1) : cut1;
  std::string got = exchange(w, input, knob & 1, cut1, cut2);
  size_t end = got.find("\r\n\r\n");
  FUZZ_CHECK(got.rfind("HTTP/1.1 101 ", 0) == 0 && end != std::string::npos, got);
  FUZZ_CHECK(got.substr(0, end + 2).find(kAccept) != std::string::npos, got);
  check_frames(std::string_view(got).substr(end + 4), input);
  await_quiescent(w, input);

  if (++w.inputs % 64 == 0) {
    std::string ok = exchange(w, client_text("ping"), false, 0, 0);
    FUZZ_CHECK(ok.find("\x81\x04ping") != std::string::npos, ok);
    await_quiescent(w, ok);
  }
  return 0;
}
