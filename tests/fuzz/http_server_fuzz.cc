// Fuzz target for the HTTP/1.1 server core (daemon/http_server.h), in the
// style of Envoy's *_fuzz_test.cc and h2o's fuzz/ drivers. It builds the
// server alone: no App, handlers with a null context.
//
// One uv loop and one crewship::Server live for the whole process, listening
// on a Unix socket in a private temporary directory, with small limits and
// short timeouts and a tiny route table:
//   GET  /ok      200 "ok", answered synchronously
//   POST /echo    200 with the body length, synchronously
//   GET  /async   200 "async", answered from a 0 ms uv_timer
//   POST /async   200 with the body length, from a 0 ms uv_timer
//   POST /small   like /echo with a route body_limit of 16 bytes
//   GET  /big     200 with 3000 bytes, so a few pipelined ones pass the
//                 server's 4 KiB unsent-bytes mark and reading pauses
//   POST /guarded like /echo, behind a guard that wants "X-Key: k" (401
//                 without): refused at its headers, with Connection: close
//                 when a body follows, which is then never read
//   POST /sink    the body (up to 64 KiB) handed to a BodySink that takes
//                 each piece on a 0 ms uv_timer, as a file on the thread
//                 pool would; 200 with the bytes it took
// For each input a client connects, writes the input in 2-3 pieces (split at
// positions derived from the first byte; the loop runs between pieces so the
// server sees partial reads), then either half-closes and reads every answer,
// or (one input in four) closes at once without reading, before the server
// has read the last piece. In one input in four the server's side of the
// connection gets a tiny SO_SNDBUF, so answers go through queued uv_writes.
// The loop is driven with UV_RUN_NOWAIT from this thread: nothing blocks.
//
// Invariants (abort() on violation):
//  * half-close mode: the server ends the connection (EOF) within its
//    timeouts; the output is a sequence of well-formed HTTP/1.1 responses
//    (llhttp HTTP_RESPONSE; only 100 Continue as interim; every final one
//    has Content-Length and X-Request-Id; no 5xx; only the last may carry
//    Connection: close; nothing after it); it is not empty when the request
//    stream held a complete request or a parse error (a stream that merely
//    stops mid-request gets no answer: the peer's EOF ends it); when the last
//    answer does not close, every complete request was answered.
//  * both modes: once the client is closed, Server::connections() returns to
//    0 and no /async timer is left.
//  * every 64 inputs, GET /ok on a new connection answers 200.
//
// Mode knobs come from the input itself so that every crash reproduces from
// its file alone: see Knobs below.
//
// Environment: CREWSHIP_FUZZ_VERBOSE=1 prints one line per input.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <llhttp.h>
#include <uv.h>

#include "daemon/http.h"
#include "daemon/http_server.h"
#include "daemon/log.h"
#include "daemon/router.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using crewship::Route;
using crewship::Router;
using crewship::Server;
using crewship::fuzz::fail;
using crewship::fuzz::now_ms;
namespace http = crewship::http;
using http::ExchangePtr;

constexpr uint64_t kEndBoundMs = 4000;    // > every server timeout + linger (2 s)
constexpr uint64_t kCloseBoundMs = 4000;  // for connections() to reach 0
constexpr unsigned kHealthEvery = 64;


// --- handlers ---------------------------------------------------------------

int g_async_pending = 0;
bool g_verbose = false;  // CREWSHIP_FUZZ_VERBOSE=1: one line per input

void respond_text(const ExchangePtr& ex, std::string body) {
  http::Response r;
  r.status = 200;
  r.content_type = "text/plain";
  r.body = std::move(body);
  ex->respond(std::move(r));
}

void handle_ok(void*, const ExchangePtr& ex) { respond_text(ex, "ok"); }

void handle_echo(void*, const ExchangePtr& ex) { respond_text(ex, std::to_string(ex->req.body.size())); }

void handle_big(void*, const ExchangePtr& ex) { respond_text(ex, std::string(3000, 'b')); }

// The routes' policy here is only "needs X-Key: k"; the guard runs at the
// headers, before any body byte.
const int kNeedsKey = 1;

bool guard(void*, http::Exchange& ex, const Route* route, http::Response* deny) {
  if (route == nullptr || route->policy != &kNeedsKey) return true;
  auto key = ex.req.header("X-Key");
  if (key && *key == "k") return true;
  deny->status = 401;
  deny->content_type = "text/plain";
  deny->body = "no key";
  return false;
}

// Runs fn from a 0 ms uv_timer, as an answer from another thread or a file
// write on the pool would arrive; counted in g_async_pending until its
// handle is closed.
void next_turn(uv_loop_t* loop, std::function<void()> fn) {
  struct Later {
    uv_timer_t timer;
    std::function<void()> fn;
  };
  auto* l = new Later{{}, std::move(fn)};
  uv_timer_init(loop, &l->timer);
  l->timer.data = l;
  ++g_async_pending;
  uv_timer_start(
      &l->timer,
      [](uv_timer_t* t) {
        auto* l = static_cast<Later*>(t->data);
        auto fn = std::move(l->fn);
        fn();
        uv_close(reinterpret_cast<uv_handle_t*>(t), [](uv_handle_t* h) {
          delete static_cast<Later*>(h->data);
          --g_async_pending;
        });
      },
      0, 0);
}

void handle_async(void*, const ExchangePtr& ex) {
  next_turn(ex->loop(), [ex] {
    // respond() drops the answer when the client is gone; it must not crash.
    if (ex->req.method == http::Method::kPost) {
      respond_text(ex, std::to_string(ex->req.body.size()));
    } else {
      respond_text(ex, "async");
    }
  });
}

// A sink whose writes finish on the next loop turn. Destroyed with a write
// under way (the client left), it never calls that write's done, as
// BodySink promises.
class TimerSink : public http::BodySink {
 public:
  explicit TimerSink(uv_loop_t* loop) : loop_(loop) {}
  ~TimerSink() override { *alive_ = false; }
  size_t bytes = 0;
  void write(std::string piece, std::function<void(int)> done) override {
    if (pending_) fail("a sink write before the last one was done");
    pending_ = true;
    next_turn(loop_, [this, alive = alive_, size = piece.size(), done = std::move(done)] {
      if (!*alive) return;
      pending_ = false;
      bytes += size;
      done(0);  // may destroy the sink
    });
  }

 private:
  uv_loop_t* loop_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool pending_ = false;
};

std::unique_ptr<http::BodySink> make_sink(void*, http::Exchange& ex) { return std::make_unique<TimerSink>(ex.loop()); }

void handle_sink(void*, const ExchangePtr& ex) {
  auto* sink = static_cast<TimerSink*>(ex->body_sink.get());
  if (sink == nullptr) fail("/sink without its sink");
  if (!ex->req.body.empty()) fail("/sink's body kept in memory");
  respond_text(ex, std::to_string(sink->bytes));
}

const Route kRoutes[] = {
    {http::Method::kGet, "/ok", {handle_ok}},
    {http::Method::kPost, "/echo", {handle_echo}},
    {http::Method::kGet, "/async", {handle_async}},
    {http::Method::kPost, "/async", {handle_async}},
    {http::Method::kPost, "/small", {handle_echo}, nullptr, 16},
    {http::Method::kGet, "/big", {handle_big}},
    {http::Method::kPost, "/guarded", {handle_echo}, &kNeedsKey},
    {http::Method::kPost, "/sink", {handle_sink}, nullptr, 64 << 10, make_sink},
};

// --- the server and its loop ------------------------------------------------

struct World {
  uv_loop_t loop;
  Router* router = nullptr;  // never destroyed, like the server: the process ends with them
  Server* server = nullptr;
  std::string sock;
  unsigned inputs = 0;
};

World* g_world = nullptr;

World& world() {
  if (g_world != nullptr) return *g_world;
  signal(SIGPIPE, SIG_IGN);  // as the daemon does (daemon.cc)
  g_verbose = std::getenv("CREWSHIP_FUZZ_VERBOSE") != nullptr;
  crewship::log::set_level(crewship::log::Level::kError);
  auto* w = new World;
  if (uv_loop_init(&w->loop) != 0) fail("uv_loop_init");
  w->router = new Router(kRoutes);

  w->sock = crewship::fuzz::temp_socket("http.sock");

  crewship::ServerOptions o;
  o.name = "fuzz";
  o.router = w->router;
  o.limits.max_body_bytes = 4096;
  o.limits.max_header_bytes = 2048;
  o.limits.max_headers = 16;
  o.limits.max_url_bytes = 512;
  o.limits.header_timeout_ms = 300;
  o.limits.body_timeout_ms = 300;
  o.limits.idle_timeout_ms = 500;
  o.limits.send_timeout_ms = 300;
  o.limits.max_connections = 8;
  o.limits.max_unsent_bytes = 4096;
  o.limits.body_min_rate = 1024;
  o.limits.max_connections_per_peer = 4;
  o.limits.max_unauthenticated = 2;
  o.guard = {guard, nullptr};
  w->server = new Server(&w->loop, std::move(o));
  int r = w->server->listen_unix(w->sock);
  if (r != 0) fail("listen_unix", uv_strerror(r));
  g_world = w;
  return *w;
}

// Waits up to wait_ms for the loop's or the client's fd, then runs the loop
// once without blocking.
void pump(World& w, int client_fd, int wait_ms) {
  struct pollfd p[2] = {{uv_backend_fd(&w.loop), POLLIN, 0}, {client_fd, POLLIN, 0}};
  int t = uv_backend_timeout(&w.loop);
  if (t < 0 || t > wait_ms) t = wait_ms;
  if (t > 0) poll(p, client_fd >= 0 ? 2 : 1, t);
  uv_run(&w.loop, UV_RUN_NOWAIT);
}

int connect_client(World& w) { return crewship::fuzz::connect_unix(w.sock); }

// Reads what is available. Returns false at EOF (or reset).
bool drain_client(int fd, std::string* out) { return crewship::fuzz::read_available(fd, out); }

// Shrinks the send buffer of every accepted connection so that answers to a
// pipelined burst overflow it and the server takes its queued uv_write path.
void shrink_server_sndbuf(World& w) {
  uv_walk(
      &w.loop,
      [](uv_handle_t* h, void*) {
        if (h->type != UV_NAMED_PIPE || uv_is_closing(h)) return;
        uv_os_fd_t fd;
        if (uv_fileno(h, &fd) != 0) return;
        int listening = 0;
        socklen_t len = sizeof listening;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening) return;
        int size = 1;  // the kernel rounds up to its minimum (a few KiB)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
      },
      nullptr);
}

// Runs the loop until the server has accepted the client (or a bound).
void await_accept(World& w, size_t before) {
  uint64_t deadline = now_ms() + 1000;
  while (w.server->connections() <= before && now_ms() < deadline) pump(w, -1, 1);
}

// Runs the loop until every connection and async answer is gone.
void await_quiescent(World& w, std::string_view input) {
  uint64_t deadline = now_ms() + kCloseBoundMs;
  while ((w.server->connections() != 0 || g_async_pending != 0) && now_ms() < deadline) pump(w, -1, 1);
  FUZZ_CHECK(w.server->connections() == 0, input);
  FUZZ_CHECK(g_async_pending == 0, input);
}

// --- the reference parse of the input ----------------------------------------

struct RequestScan {
  std::vector<uint8_t> methods;  // llhttp method of each complete message
  bool error = false;            // a parse error after those messages
  bool upgrade = false;          // stopped at an upgrade
  int partial = -1;              // the method of the message cut by the error, when its request line was read
};

int scan_on_method_complete(llhttp_t* p) {
  static_cast<RequestScan*>(p->data)->partial = llhttp_get_method(p);
  return 0;
}

int scan_on_message_complete(llhttp_t* p) {
  auto* scan = static_cast<RequestScan*>(p->data);
  scan->methods.push_back(static_cast<uint8_t>(llhttp_get_method(p)));
  scan->partial = -1;
  return 0;
}

// What llhttp with the server's (default) settings makes of the input in one go.
RequestScan scan_requests(const uint8_t* data, size_t size) {
  RequestScan scan;
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_message_complete = scan_on_message_complete;
  s.on_method_complete = scan_on_method_complete;
  llhttp_t p;
  llhttp_init(&p, HTTP_REQUEST, &s);
  p.data = &scan;
  llhttp_errno_t err = llhttp_execute(&p, reinterpret_cast<const char*>(data), size);
  if (err == HPE_PAUSED_UPGRADE) {
    scan.upgrade = true;
  } else if (err != HPE_OK) {
    scan.error = true;
  }
  return scan;
}

// --- the check of the output --------------------------------------------------

struct Answer {
  int status = 0;
  bool close = false;
  bool has_length = false;
  bool has_request_id = false;
};

struct ResponseCheck {
  const std::string* out = nullptr;
  const RequestScan* scan = nullptr;
  std::vector<Answer> finals;
  int interim = 0;
  const char* last_end = nullptr;  // end of the last status/header token seen
  std::string field;
  bool field_done = false;
  Answer cur;
  const char* violation = nullptr;
};

ResponseCheck* rc(llhttp_t* p) { return static_cast<ResponseCheck*>(p->data); }

void mark_end(llhttp_t* p, const char* at, size_t len) {
  const char* e = at + len;
  if (rc(p)->last_end == nullptr || e > rc(p)->last_end) rc(p)->last_end = e;
}

int resp_on_message_begin(llhttp_t* p) {
  rc(p)->cur = Answer{};
  rc(p)->field.clear();
  rc(p)->field_done = false;
  return 0;
}

int resp_on_status(llhttp_t* p, const char* at, size_t len) {
  mark_end(p, at, len);
  return 0;
}

int resp_on_header_field(llhttp_t* p, const char* at, size_t len) {
  mark_end(p, at, len);
  if (rc(p)->field_done) {
    rc(p)->field.clear();
    rc(p)->field_done = false;
  }
  rc(p)->field.append(at, len);
  return 0;
}

int resp_on_header_field_complete(llhttp_t* p) {
  ResponseCheck* c = rc(p);
  c->field_done = true;
  if (http::iequals(c->field, "Content-Length")) c->cur.has_length = true;
  if (http::iequals(c->field, "X-Request-Id")) c->cur.has_request_id = true;
  if (http::iequals(c->field, "Transfer-Encoding")) c->violation = "server sent Transfer-Encoding";
  return 0;
}

int resp_on_header_value(llhttp_t* p, const char* at, size_t len) {
  mark_end(p, at, len);
  return 0;
}

int resp_on_headers_complete(llhttp_t* p) {
  ResponseCheck* c = rc(p);
  int status = llhttp_get_status_code(p);
  c->cur.status = status;
  c->cur.close = (p->flags & F_CONNECTION_CLOSE) != 0;
  if (llhttp_get_http_major(p) != 1 || llhttp_get_http_minor(p) != 1) {
    c->violation = "response is not HTTP/1.1";
    return -1;
  }
  if (status < 100 || status > 599) {
    c->violation = "status out of range";
    return -1;
  }
  if (status < 200) {
    if (status != 100) c->violation = "interim response other than 100 Continue";
    return 0;  // llhttp expects no body
  }
  if (status >= 500) c->violation = "5xx from handlers that never fail";
  if (!c->cur.has_request_id) c->violation = "final response without X-Request-Id";
  bool body_allowed = status != 204 && status != 304;
  if (body_allowed && !c->cur.has_length) {
    c->violation = "final response without Content-Length";
    return -1;
  }
  // An answer to HEAD has Content-Length but no body, except when the server
  // rejected the request (then it sends the problem body). Bodies here never
  // start with "HTTP/", so look at what follows the header block.
  // (A HEAD request the reference parse failed on, after its request line,
  // may still have been answered at its headers: the server's refusal.)
  size_t k = c->finals.size();
  bool head = k < c->scan->methods.size() ? c->scan->methods[k] == HTTP_HEAD
                                          : k == c->scan->methods.size() && c->scan->partial == HTTP_HEAD;
  if (head && body_allowed && c->last_end != nullptr) {
    std::string_view rest(c->last_end, static_cast<size_t>(c->out->data() + c->out->size() - c->last_end));
    size_t blank = rest.find("\r\n\r\n");
    if (blank == std::string_view::npos) {
      c->violation = "header block without CRLFCRLF";
      return -1;
    }
    rest.remove_prefix(blank + 4);
    if (rest.empty() || rest.starts_with("HTTP/1.1 ")) return 1;  // no body follows
  }
  return 0;
}

int resp_on_message_complete(llhttp_t* p) {
  ResponseCheck* c = rc(p);
  if (c->cur.status < 200) {
    ++c->interim;
  } else {
    c->finals.push_back(c->cur);
  }
  return 0;
}

// Checks a complete output (the server closed the connection after it).
void check_output(const std::string& out, const RequestScan& scan, std::string_view input) {
  ResponseCheck c;
  c.out = &out;
  c.scan = &scan;
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_message_begin = resp_on_message_begin;
  s.on_status = resp_on_status;
  s.on_header_field = resp_on_header_field;
  s.on_header_field_complete = resp_on_header_field_complete;
  s.on_header_value = resp_on_header_value;
  s.on_headers_complete = resp_on_headers_complete;
  s.on_message_complete = resp_on_message_complete;
  llhttp_t p;
  llhttp_init(&p, HTTP_RESPONSE, &s);
  p.data = &c;
  llhttp_errno_t err = llhttp_execute(&p, out.data(), out.size());
  if (c.violation != nullptr) fail(c.violation, out);
  if (err != HPE_OK) {
    std::string why = std::string(llhttp_errno_name(err)) + ": " + llhttp_get_error_reason(&p);
    fail("output is not a sequence of HTTP/1.1 responses", why + "\n" + out);
  }
  if (llhttp_finish(&p) != HPE_OK) fail("output ends inside a response", out);

  size_t complete = scan.methods.size();
  if (g_verbose) {
    std::fprintf(stderr, "  requests=%zu%s%s interim=%d answers:", complete, scan.error ? " +error" : "",
                 scan.upgrade ? " +upgrade" : "", c.interim);
    for (const Answer& a : c.finals) std::fprintf(stderr, " %d%s", a.status, a.close ? "(close)" : "");
    std::fprintf(stderr, "\n");
  }
  bool must_answer = complete > 0 || scan.error;
  if (must_answer && out.empty()) fail("no answer to a complete or malformed request", input);
  size_t n = c.finals.size();
  for (size_t i = 0; i + 1 < n; ++i)
    if (c.finals[i].close) fail("answer after a Connection: close answer", out);
  bool closed = n > 0 && c.finals.back().close;
  if (!closed) {
    // The server kept the connection: it must have answered everything and
    // found nothing wrong.
    if (n != complete) fail("keep-alive answers do not match the complete requests", out);
    if (scan.error) fail("malformed request answered without Connection: close", out);
  }
  if (n > complete + 1) fail("more answers than requests", out);
  if (n == complete + 1 && (!closed || c.finals.back().status < 400))
    fail("extra answer that is not a closing error", out);
}

// --- one input ----------------------------------------------------------------

// Knobs read from the input: the first byte places the splits; the first byte
// mixed with the length picks the modes (so that seeds of plain HTTP text,
// which mostly start with the same few letters, still cover every mode).
struct Knobs {
  size_t cut1, cut2;  // write [0,cut1) [cut1,cut2) [cut2,size); cut2 == size: 2 writes
  bool small_sndbuf;
  bool abrupt;  // close without half-close and without reading
};

Knobs knobs(const uint8_t* data, size_t size) {
  Knobs k{};
  uint8_t b = data[0];
  k.cut1 = size * (1 + (b & 7)) / 10;            // 10%..80%
  size_t rest = size - k.cut1;
  k.cut2 = (b & 8) ? k.cut1 + rest * (1 + ((b >> 4) & 3)) / 5 : size;  // 3 or 2 writes
  uint8_t m = static_cast<uint8_t>(b ^ (size * 37) ^ (size >> 8));
  k.small_sndbuf = (m & 0x30) == 0x30;
  k.abrupt = (m & 0xc0) == 0xc0;
  return k;
}

// Sends [p, p+len) through the nonblocking fd, running the loop (and reading
// answers into *out) while the socket is full. Returns false once the server
// has closed the connection.
bool send_all(World& w, int fd, const uint8_t* p, size_t len, std::string* out, bool settle = true) {
  uint64_t deadline = now_ms() + kEndBoundMs;
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      p += n;
      len -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) return false;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) fail("send", std::strerror(errno));
    if (now_ms() > deadline) fail("server stopped reading and never closed");
    pump(w, fd, 1);
    if (out != nullptr) drain_client(fd, out);
  }
  // Let the server see this piece on its own.
  for (int i = 0; settle && i < 3; ++i) {
    pump(w, -1, 0);
    if (out != nullptr) drain_client(fd, out);
  }
  return true;
}

// A plain GET /ok on a fresh connection must still work.
void health_check(World& w) {
  size_t before = w.server->connections();
  int fd = connect_client(w);
  await_accept(w, before);
  static const char kReq[] = "GET /ok HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n";
  std::string out;
  send_all(w, fd, reinterpret_cast<const uint8_t*>(kReq), sizeof kReq - 1, &out);
  uint64_t deadline = now_ms() + kEndBoundMs;
  while (drain_client(fd, &out)) {
    if (now_ms() > deadline) fail("health check: no EOF", out);
    pump(w, fd, 1);
  }
  close(fd);
  if (!out.starts_with("HTTP/1.1 200 ") || !out.ends_with("\r\n\r\nok")) fail("health check: GET /ok did not answer 200 ok", out);
  await_quiescent(w, "health check");
}

void run_one(World& w, const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Knobs k = knobs(data, size);
  RequestScan scan = scan_requests(data, size);
  if (g_verbose)
    std::fprintf(stderr, "  cuts=%zu,%zu/%zu%s%s\n", k.cut1, k.cut2, size, k.small_sndbuf ? " small-sndbuf" : "",
                 k.abrupt ? " abrupt" : "");

  int fd = connect_client(w);
  await_accept(w, 0);
  if (k.small_sndbuf) shrink_server_sndbuf(w);

  std::string out;
  std::string* sink = k.abrupt ? nullptr : &out;
  bool open = send_all(w, fd, data, k.cut1, sink);
  if (open) open = send_all(w, fd, data + k.cut1, k.cut2 - k.cut1, sink, !(k.abrupt && k.cut2 == size));
  // In abrupt mode the client is gone before the server reads the last piece.
  if (open) open = send_all(w, fd, data + k.cut2, size - k.cut2, sink, !k.abrupt);

  if (k.abrupt) {
    close(fd);
    await_quiescent(w, input);
    return;
  }

  shutdown(fd, SHUT_WR);
  uint64_t deadline = now_ms() + kEndBoundMs;
  bool eof = false;
  while (!(eof = !drain_client(fd, &out))) {
    if (now_ms() > deadline) break;
    pump(w, fd, 1);
  }
  close(fd);
  if (!eof) fail("server did not end a half-closed connection within its timeouts", input);
  check_output(out, scan, input);
  await_quiescent(w, input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = world();
  if (w.inputs++ % kHealthEvery == 0) health_check(w);
  if (size == 0) return 0;
  run_one(w, data, size);
  return 0;
}
