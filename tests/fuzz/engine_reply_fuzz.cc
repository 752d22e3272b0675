// Fuzz target for what a container engine sends back: the multiplexed exec
// stream (container/mux.cc), the output of find and git log
// (container/listing.cc) and the engine client's response path
// (daemon/http_client.cc), in the style of http_server_fuzz.cc.
//
// Input: a knob byte, a cut byte, then up to four parts separated by
// "\n--8<--\n" (a missing part repeats the last one present, so an input
// without a separator drives every part with the same bytes):
//   [0] the engine's reply to each request (below);
//   [1] an exec stream, fed to a Demux in pieces of 1 to 4096 bytes;
//   [2] the output of find, for parse_file_list;
//   [3] the output of git log -z, for parse_git_log.
//
// The reply part: one uv loop lives for the process, and per input a real
// http::ClientPool on it calls a fake engine, a plain nonblocking Unix socket
// listener (one for the process) that the harness serves between loop turns
// (nothing blocks). On every connection, after each request head, the
// engine writes the reply in 1-4 pieces (the first cut from the cut byte,
// the others even), each once the client has read the one before (SIOCOUTQ),
// so that the client parses them in separate reads; then it closes the
// connection, or in "hang" mode leaves it open. Knobs (bits of the knob byte):
//   0 stream: on_head/on_data (the pieces also go through a Demux, as an
//     exec's output does), else the body is collected
//   1 hang: the engine never closes; head/call timeouts of 5/15 ms end the
//     call (close mode: 3 s/6 s, never reached)
//   2-3 the reply goes in (bits + 1) writes
//   4 max_body 40 bytes (else 64 KiB)
//   5 a second call, started from the first one's done as the engine client
//     chains its steps; it goes on the kept-alive connection when there is
//     one (only when the first reply was one whole response)
//   6 cancel: from on_head (bit 7) or the first on_data when streaming;
//     collecting, the harness cancels once the first piece is read
//   7 without bit 6: no whole-call deadline (timeout_ms 0); in hang mode the
//     harness cancels after 20 ms
//
// Invariants (abort() on violation):
//  * the engine client: done runs exactly once per call, never inside
//    request(), at once inside cancel(); err is 0 only when the reply held a
//    complete final response (1xx other than 101 are interim), and then its
//    status, headers (trailers included) and body are those of a reference
//    parse of the whole reply; a collected body never exceeds max_body (and
//    UV_E2BIG only when the reference body does); the streamed pieces are
//    always a prefix of the reference body, with on_head once before them
//    and never for an interim response; when the reply held a complete
//    response within the client's limits, err is 0 (or the knob's cancel, or
//    a timeout in hang mode); after the pool's close() and a few loop turns
//    no handle is left on the loop (and nothing leaks: LSan).
//  * Demux: any split gives the frames, the verdict and at_boundary() of a
//    reference decoder of the whole stream.
//  * parse_file_list: only complete records with a path; sorted; name is the
//    last path component; mod_time is RFC 3339 (YYYY-MM-DDTHH:MM:SSZ).
//  * parse_git_log: one commit per complete record, fields as written.
//
// Environment: CREWSHIP_FUZZ_VERBOSE=1 prints one line per input.

#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <llhttp.h>
#include <uv.h>

#include "container/listing.h"
#include "container/mux.h"
#include "daemon/http_client.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace http = crewship::http;
using crewship::container::Demux;
using crewship::fuzz::fail;
using crewship::fuzz::now_ms;

constexpr std::string_view kSeparator = "\n--8<--\n";
// The client's caps on a response head (daemon/http_client.cc): fields, and
// the bytes of a name or a value.
constexpr size_t kMaxHeaders = 200;
constexpr size_t kMaxHeaderText = 16 << 10;
constexpr uint64_t kHangCancelMs = 20;
constexpr uint64_t kCallBoundMs = 8000;  // > every call timeout
constexpr uint64_t kPieceWaitMs = 50;    // for the client to read a piece

bool g_verbose = false;

// --- Demux -------------------------------------------------------------------

struct MuxResult {
  bool ok = true;
  bool boundary = true;
  std::vector<std::pair<int, std::string>> out;  // consecutive pieces of a stream merged

  void add(int stream, std::string_view piece) {
    if (out.empty() || out.back().first != stream) out.emplace_back(stream, std::string());
    out.back().second.append(piece);
  }
  bool operator==(const MuxResult&) const = default;
};

// The stream decoded in one go, from the format alone.
MuxResult reference_demux(std::string_view s) {
  MuxResult r;
  while (!s.empty()) {
    if (s.size() < 8) {
      r.boundary = false;
      break;
    }
    const auto* h = reinterpret_cast<const uint8_t*>(s.data());
    s.remove_prefix(8);
    if (h[0] > 3 || h[1] != 0 || h[2] != 0 || h[3] != 0) {
      r.ok = false;
      break;
    }
    size_t size = (size_t{h[4]} << 24) | (size_t{h[5]} << 16) | (size_t{h[6]} << 8) | h[7];
    size_t take = std::min(size, s.size());
    if (take > 0) r.add(h[0], s.substr(0, take));
    s.remove_prefix(take);
    if (take < size) r.boundary = false;
  }
  return r;
}

// Feeds one piece as the engine client does; false once the stream is refused.
bool feed(Demux& d, MuxResult& r, std::string_view piece) {
  if (!r.ok) return false;
  r.ok = d.feed(piece, [&r](int stream, std::string_view p) {
    if (p.empty()) fail("Demux delivered an empty piece");
    r.add(stream, p);
  });
  r.boundary = d.at_boundary();
  return r.ok;
}

void check_demux(std::string_view stream, uint8_t cut) {
  static constexpr size_t kSteps[] = {1, 3, 7, 8, 9, 16, 64, 4096};
  Demux d;
  MuxResult got;
  size_t i = cut;
  for (std::string_view rest = stream; !rest.empty();) {
    size_t n = std::min(rest.size(), kSteps[i++ % 8]);
    if (!feed(d, got, rest.substr(0, n))) break;
    rest.remove_prefix(n);
  }
  if (!(got == reference_demux(stream))) fail("Demux in pieces differs from the reference decoder", stream);
}

// --- find and git log output -----------------------------------------------------

// Complete groups of n NUL-terminated fields.
std::vector<std::vector<std::string_view>> records(std::string_view out, size_t n) {
  std::vector<std::vector<std::string_view>> all;
  std::vector<std::string_view> cur;
  for (size_t nul; (nul = out.find('\0')) != std::string_view::npos; out.remove_prefix(nul + 1)) {
    cur.push_back(out.substr(0, nul));
    if (cur.size() == n) all.push_back(std::exchange(cur, {}));
  }
  return all;
}

bool rfc3339_utc(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SSZ
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (t.size() != kShape.size()) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    bool ok = kShape[i] == 'd' ? (t[i] >= '0' && t[i] <= '9') : t[i] == kShape[i];
    if (!ok) return false;
  }
  auto num = [t](size_t at) { return (t[at] - '0') * 10 + (t[at + 1] - '0'); };
  return num(5) >= 1 && num(5) <= 12 && num(8) >= 1 && num(8) <= 31 && num(11) <= 23 && num(14) <= 59 &&
         num(17) <= 60;
}

void check_file_list(std::string_view out) {
  auto entries = crewship::container::parse_file_list(out);
  size_t with_path = 0;
  for (const auto& r : records(out, 4)) with_path += r[0].empty() ? 0 : 1;
  if (entries.size() != with_path) fail("parse_file_list: entries are not the complete records with a path", out);
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (e.path.empty() || e.path.find('\0') != std::string::npos) fail("parse_file_list: bad path", out);
    if (i > 0 && entries[i - 1].path > e.path) fail("parse_file_list: not sorted by path", out);
    std::string_view tail = std::string_view(e.path).substr(e.path.rfind('/') + 1);
    if (e.name != tail) fail("parse_file_list: name is not the last path component", out);
    if (!rfc3339_utc(e.mod_time)) fail("parse_file_list: mod_time is not RFC 3339", e.mod_time);
  }
}

void check_git_log(std::string_view out) {
  auto commits = crewship::container::parse_git_log(out);
  std::string text(out);
  if (!text.empty() && text.back() != '\0') text.push_back('\0');  // -z: the last record has no NUL
  auto recs = records(text, 4);
  if (commits.size() != recs.size()) fail("parse_git_log: not one commit per complete record", out);
  for (size_t i = 0; i < commits.size(); ++i) {
    const auto& c = commits[i];
    if (c.hash != recs[i][0] || c.author != recs[i][1] || c.date != recs[i][2] || c.message != recs[i][3])
      fail("parse_git_log: fields differ from the record", out);
    crewship::container::valid_commit_hash(c.hash);
  }
}

// --- the reference parse of a reply ---------------------------------------------

struct Reference {
  bool complete = false;     // a final response ended before the end of the bytes
  bool needs_eof = false;    // ... or ends with the connection (llhttp_finish)
  bool error = false;        // a parse error or a client cap before that end
  int status = 0;            // of the final response
  std::vector<http::Header> headers;  // of the final response, trailers included
  std::string body;          // the body bytes of the final response parsed
  size_t end = 0;            // offset just past the final response (complete)
  bool interim = false;      // parsing a 1xx other than 101
  bool in_field = false;
};

Reference* ref(llhttp_t* p) { return static_cast<Reference*>(p->data); }

int ref_on_message_begin(llhttp_t* p) {
  *ref(p) = Reference{};
  return 0;
}
int ref_on_header_field(llhttp_t* p, const char* at, size_t len) {
  Reference* r = ref(p);
  if (!r->in_field) {
    if (r->headers.size() == kMaxHeaders) return -1;
    r->headers.emplace_back();
    r->in_field = true;
  }
  r->headers.back().name.append(at, len);
  return r->headers.back().name.size() > kMaxHeaderText ? -1 : 0;
}
int ref_on_header_field_complete(llhttp_t* p) {
  ref(p)->in_field = false;
  return 0;
}
int ref_on_header_value(llhttp_t* p, const char* at, size_t len) {
  Reference* r = ref(p);
  r->headers.back().value.append(at, len);
  return r->headers.back().value.size() > kMaxHeaderText ? -1 : 0;
}
int ref_on_headers_complete(llhttp_t* p) {
  Reference* r = ref(p);
  r->status = llhttp_get_status_code(p);
  r->interim = r->status >= 100 && r->status < 200 && r->status != 101;
  return r->interim ? 1 : 0;  // an interim response has no body
}
int ref_on_body(llhttp_t* p, const char* at, size_t len) {
  ref(p)->body.append(at, len);
  return 0;
}
int ref_on_message_complete(llhttp_t* p) {
  Reference* r = ref(p);
  if (r->interim) return 0;
  r->complete = true;
  return HPE_PAUSED;
}

// What a client owes for the whole reply, read in one go.
Reference reference_parse(std::string_view reply) {
  Reference r;
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_message_begin = ref_on_message_begin;
  s.on_header_field = ref_on_header_field;
  s.on_header_field_complete = ref_on_header_field_complete;
  s.on_header_value = ref_on_header_value;
  s.on_headers_complete = ref_on_headers_complete;
  s.on_body = ref_on_body;
  s.on_message_complete = ref_on_message_complete;
  llhttp_t p;
  llhttp_init(&p, HTTP_RESPONSE, &s);
  p.data = &r;
  llhttp_errno_t e = llhttp_execute(&p, reply.data(), reply.size());
  if (r.complete) {
    r.end = static_cast<size_t>(llhttp_get_error_pos(&p) - reply.data());
  } else if (e != HPE_OK) {
    r.error = true;
  } else if (!reply.empty()) {
    // llhttp_finish completes a body that runs until the connection ends
    // (llhttp reads one after a Transfer-Encoding other than chunked, even
    // in a 204), as the client does at EOF.
    llhttp_finish(&p);
    r.needs_eof = r.complete;
    r.complete = false;
  }
  return r;
}

// --- the fake engine -------------------------------------------------------------

struct Peer {
  int fd = -1;
  std::string in;          // request bytes after the last head
  size_t pending = 0;      // request heads not answered yet
  bool replying = false;
  size_t piece = 0;        // next piece of the reply under way
  size_t off = 0;          // of it, bytes written
  uint64_t sent_ms = 0;    // when the piece before was written
};

struct Engine {
  int listen_fd = -1;
  std::vector<Peer> peers;
  std::vector<std::string_view> pieces;  // of the current input's reply
  bool hang = false;
  size_t pieces_read = 0;  // pieces written and read by the client (all connections)

  void close_peer(Peer& p) {
    if (p.fd >= 0) close(p.fd);
    p.fd = -1;
  }
  void close_all() {
    for (Peer& p : peers) close_peer(p);
    peers.clear();
  }

  static int unread(int fd) {
    int n = 0;
    return ioctl(fd, SIOCOUTQ, &n) == 0 ? n : 0;
  }

  void write_some(Peer& p) {
    while (p.piece < pieces.size()) {
      if (p.piece > 0 && p.off == 0) {
        // The client reads each piece before the next is written.
        if (unread(p.fd) > 0 && now_ms() < p.sent_ms + kPieceWaitMs) return;
        ++pieces_read;
      }
      std::string_view rest = pieces[p.piece].substr(p.off);
      ssize_t n = send(p.fd, rest.data(), rest.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EPIPE || errno == ECONNRESET) return close_peer(p);
        fail("engine send", std::strerror(errno));
      }
      p.off += static_cast<size_t>(n);
      if (p.off < pieces[p.piece].size()) return;
      ++p.piece;
      p.off = 0;
      p.sent_ms = now_ms();
      if (p.piece < pieces.size()) return;  // one piece per turn of the loop
    }
    p.replying = false;
    if (!hang) close_peer(p);
  }

  // Accepts, reads request heads and writes replies, without blocking.
  void step() {
    int fd;
    while ((fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) peers.emplace_back().fd = fd;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
      fail("engine accept", std::strerror(errno));
    for (Peer& p : peers) {
      char buf[4096];
      while (p.fd >= 0) {
        ssize_t n = recv(p.fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
          p.in.append(buf, static_cast<size_t>(n));
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        close_peer(p);  // the client closed (or reset) the connection
      }
      // The client's requests here have no body: a head ends each.
      for (size_t at; (at = p.in.find("\r\n\r\n")) != std::string::npos;) {
        p.in.erase(0, at + 4);
        ++p.pending;
      }
      if (p.fd < 0) continue;
      if (!p.replying && p.pending > 0) {
        --p.pending;
        p.replying = true;
        p.piece = p.off = 0;
      }
      if (p.replying) write_some(p);
    }
    std::erase_if(peers, [](const Peer& p) { return p.fd < 0; });
  }
};

// --- the loop ---------------------------------------------------------------------

struct World {
  uv_loop_t loop;
  Engine engine;
  std::string sock;
};

World* g_world = nullptr;

World& world() {
  if (g_world != nullptr) return *g_world;
  signal(SIGPIPE, SIG_IGN);
  g_verbose = std::getenv("CREWSHIP_FUZZ_VERBOSE") != nullptr;
  auto* w = new World;
  if (uv_loop_init(&w->loop) != 0) fail("uv_loop_init");
  w->sock = crewship::fuzz::temp_socket("engine.sock");
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, w->sock.c_str(), w->sock.size() + 1);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(fd, 64) != 0)
    fail("engine listen", std::strerror(errno));
  w->engine.listen_fd = fd;
  g_world = w;
  return *w;
}

// Waits up to 1 ms for the loop or the engine, runs the loop once without
// blocking, then serves the engine's side.
void pump(World& w) {
  std::vector<pollfd> fds = {{uv_backend_fd(&w.loop), POLLIN, 0}, {w.engine.listen_fd, POLLIN, 0}};
  for (const Peer& p : w.engine.peers) fds.push_back({p.fd, POLLIN, 0});
  int t = uv_backend_timeout(&w.loop);
  if (t < 0 || t > 1) t = 1;
  if (t > 0) poll(fds.data(), fds.size(), t);
  uv_run(&w.loop, UV_RUN_NOWAIT);
  w.engine.step();
}

size_t handles(uv_loop_t* loop) {
  size_t n = 0;
  uv_walk(loop, [](uv_handle_t*, void* arg) { ++*static_cast<size_t*>(arg); }, &n);
  return n;
}

// --- one input ----------------------------------------------------------------------

struct Knobs {
  bool stream, hang, small_body, second, cancel, cancel_in_head, no_deadline;
  size_t writes;
  uint8_t cut;
};

Knobs knobs(uint8_t b, uint8_t cut) {
  Knobs k{};
  k.stream = b & 1;
  k.hang = b & 2;
  k.writes = 1 + ((b >> 2) & 3);
  k.small_body = b & 16;
  k.second = b & 32;
  k.cancel = b & 64;
  k.cancel_in_head = k.cancel && (b & 128);
  k.no_deadline = !k.cancel && (b & 128);
  k.cut = cut;
  return k;
}

std::vector<std::string_view> split_reply(std::string_view reply, const Knobs& k) {
  std::vector<std::string_view> pieces;
  if (reply.empty()) return pieces;
  size_t first = k.writes > 1 ? std::min<size_t>(k.cut, reply.size()) : reply.size();
  if (first > 0) pieces.push_back(reply.substr(0, first));
  reply.remove_prefix(first);
  size_t rest = k.writes - 1, each = rest > 0 ? (reply.size() + rest - 1) / rest : 0;
  while (!reply.empty()) {
    size_t n = std::min(reply.size(), std::max<size_t>(each, 1));
    pieces.push_back(reply.substr(0, n));
    reply.remove_prefix(n);
  }
  return pieces;
}

struct Call {
  World* w = nullptr;
  http::ClientPool* pool = nullptr;
  const Knobs* k = nullptr;
  const Reference* ref = nullptr;
  std::string_view reply;
  bool first = true;       // the second call has no cancel knob
  Call* next = nullptr;    // started from this one's done
  http::ClientCall* call = nullptr;
  int done = 0;
  int err = 0;
  http::ClientResponse resp;
  int heads = 0;
  std::string streamed;
  Demux demux;
  MuxResult mux;
  bool cancelled = false;  // by the knob
  bool requesting = false; // inside pool->request()

  size_t max_body() const { return k->small_body ? 40 : 64 << 10; }
};

void start(Call& c);

void check_call(const Call& c) {
  const Knobs& k = *c.k;
  const Reference& r = *c.ref;
  std::string_view reply = c.reply;
  if (c.done != 1) fail("done did not run exactly once", reply);
  if (k.stream) {
    if (!c.resp.body.empty()) fail("a streamed body was also collected", reply);
    if (!std::string_view(r.body).starts_with(c.streamed)) fail("streamed pieces are not the parsed body", reply);
    if (!(c.mux == reference_demux(c.streamed))) fail("Demux over the streamed pieces differs", c.streamed);
  } else {
    if (c.resp.body.size() > c.max_body()) fail("collected body over max_body", reply);
    if (c.err == UV_E2BIG && r.body.size() <= c.max_body()) fail("UV_E2BIG for a body within max_body", reply);
  }
  if (c.err == 0) {
    if (!r.complete && !(r.needs_eof && !k.hang)) fail("err 0 without a complete response", reply);
    if (c.resp.status != r.status) fail("status differs from the reference", reply);
    if (c.resp.headers.size() != r.headers.size()) fail("headers differ from the reference", reply);
    for (size_t i = 0; i < r.headers.size(); ++i)
      if (c.resp.headers[i].name != r.headers[i].name || c.resp.headers[i].value != r.headers[i].value)
        fail("headers differ from the reference", reply);
    if ((k.stream ? c.streamed : c.resp.body) != r.body) fail("body differs from the reference", reply);
    if (k.stream && c.heads != 1) fail("on_head did not run once", reply);
  }
  // A whole response within the client's caps must come through.
  bool owed = (r.complete || (r.needs_eof && !k.hang)) && !(!k.stream && r.body.size() > c.max_body());
  bool excused = c.cancelled || (k.hang && c.err == UV_ETIMEDOUT) || (k.no_deadline && c.err == UV_ECANCELED);
  if (owed && c.err != 0 && !excused) {
    std::string why = std::string("err ") + uv_err_name(c.err) + " for a complete response";
    fail(why.c_str(), reply);
  }
}

void on_done(Call& c, int err, http::ClientResponse&& resp) {
  if (c.requesting) fail("done ran inside request()");
  ++c.done;
  c.err = err;
  c.resp = std::move(resp);
  c.call = nullptr;
  if (c.next != nullptr && err == 0) start(*c.next);
}

void start(Call& c) {
  const Knobs& k = *c.k;
  http::ClientRequest req;
  req.target = "/v1.41/containers/fuzz/json";
  req.head_timeout_ms = k.hang ? 5 : 3000;
  req.timeout_ms = k.no_deadline ? 0 : k.hang ? 15 : 6000;
  req.max_body = c.max_body();
  req.key = "crew";
  http::ClientCallbacks cb;
  cb.done = [&c](int err, http::ClientResponse&& resp) { on_done(c, err, std::move(resp)); };
  bool cancel = c.first && k.cancel;
  if (k.stream) {
    cb.on_head = [&c, cancel](const http::ClientResponse& head) {
      ++c.heads;
      if (head.status >= 100 && head.status < 200 && head.status != 101) fail("on_head for an interim response");
      if (cancel && c.k->cancel_in_head) {
        c.cancelled = true;
        c.pool->cancel(c.call);
        if (c.done != 1) fail("cancel() did not run done at once");
      }
    };
    cb.on_data = [&c, cancel](std::string_view piece) {
      if (c.heads != 1) fail("on_data without one on_head before it");
      c.streamed.append(piece);
      feed(c.demux, c.mux, piece);
      if (cancel && !c.k->cancel_in_head && !c.cancelled) {
        c.cancelled = true;
        c.pool->cancel(c.call);
        if (c.done != 1) fail("cancel() did not run done at once");
      }
    };
  }
  c.requesting = true;
  c.call = c.pool->request(std::move(req), std::move(cb));
  c.requesting = false;
  if (c.call == nullptr) fail("request refused under the caps");
}

void run_reply(World& w, std::string_view reply, const Knobs& k) {
  Reference r = reference_parse(reply);
  w.engine.pieces = split_reply(reply, k);
  w.engine.hang = k.hang;
  w.engine.pieces_read = 0;
  if (g_verbose)
    std::fprintf(stderr, "  reply %zu bytes in %zu writes%s%s%s%s%s: ref %s status %d body %zu\n", reply.size(),
                 w.engine.pieces.size(), k.stream ? " stream" : "", k.hang ? " hang" : "",
                 k.second ? " second" : "", k.cancel ? " cancel" : "", k.no_deadline ? " no-deadline" : "",
                 r.complete ? "complete" : r.needs_eof ? "eof" : r.error ? "error" : "short", r.status, r.body.size());

  http::ClientLimits limits;
  limits.idle_timeout_ms = 1000;
  http::ClientPool pool(&w.loop, w.sock, limits);
  Call calls[2];
  for (Call& c : calls) c.w = &w, c.pool = &pool, c.k = &k, c.ref = &r, c.reply = reply;
  calls[1].first = false;
  // A second call only where the reply is one whole response: bytes after it
  // would answer the second request on a kept-alive connection.
  bool second = k.second && r.complete && r.end == reply.size();
  if (second) calls[0].next = &calls[1];

  start(calls[0]);
  uint64_t started = now_ms();
  auto all_done = [&] { return calls[0].done > 0 && (!second || calls[0].err != 0 || calls[1].done > 0); };
  while (!all_done()) {
    pump(w);
    uint64_t now = now_ms();
    if (!k.stream && k.cancel && calls[0].call != nullptr && w.engine.pieces_read > 0) {
      calls[0].cancelled = true;
      pool.cancel(calls[0].call);
      if (calls[0].done != 1) fail("cancel() did not run done at once", reply);
    }
    if (k.no_deadline && k.hang && now > started + kHangCancelMs) {
      for (Call& c : calls)
        if (c.call != nullptr) pool.cancel(c.call);
    }
    if (now > started + kCallBoundMs) fail("a call never ended", reply);
  }
  check_call(calls[0]);
  if (second && calls[0].err == 0) check_call(calls[1]);
  if (pool.in_flight() != 0) fail("calls in flight after every done", reply);

  pool.close();
  if (pool.idle() != 0) fail("idle connections after close()", reply);
  w.engine.close_all();
  uint64_t deadline = now_ms() + 2000;
  while (handles(&w.loop) != 0 && now_ms() < deadline) pump(w);
  if (handles(&w.loop) != 0) fail("handles left on the loop after close()", reply);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = world();
  if (size < 2) return 0;
  Knobs k = knobs(data[0], data[1]);
  std::string_view in(reinterpret_cast<const char*>(data) + 2, size - 2);
  std::vector<std::string_view> parts;
  while (parts.size() < 3) {
    size_t at = in.find(kSeparator);
    if (at == std::string_view::npos) break;
    parts.push_back(in.substr(0, at));
    in.remove_prefix(at + kSeparator.size());
  }
  parts.push_back(in);
  auto part = [&parts](size_t i) { return parts[std::min(i, parts.size() - 1)]; };

  check_demux(part(1), k.cut);
  check_file_list(part(2));
  check_git_log(part(3));
  run_reply(w, part(0), k);
  return 0;
}
