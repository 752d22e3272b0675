#include "daemon/http_server.h"

#include <cassert>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <arpa/inet.h>
#include <llhttp.h>
#include <sodium.h>

#include "daemon/log.h"
#include "daemon/problem.h"

namespace crewship {
namespace {

constexpr size_t kSlabSize = 64 * 1024;
constexpr uint64_t kLingerMs = 2000;
constexpr size_t kMaxStreamQueue = 1 << 20;  // unsent bytes of a streamed answer
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// A write request owns its bytes until the write callback.
struct WriteReq {
  uv_write_t req;
  std::string head;
  std::string body;
  size_t bytes = 0;
};

bool status_has_body(int status) { return status >= 200 && status != 204 && status != 304; }

http::Method to_method(uint8_t m) {
  switch (m) {
    case HTTP_GET: return http::Method::kGet;
    case HTTP_HEAD: return http::Method::kHead;
    case HTTP_POST: return http::Method::kPost;
    case HTTP_PUT: return http::Method::kPut;
    case HTTP_PATCH: return http::Method::kPatch;
    case HTTP_DELETE: return http::Method::kDelete;
    case HTTP_OPTIONS: return http::Method::kOptions;
  }
  return http::Method::kOther;
}

// A client's X-Request-Id is echoed when it is short and plain; otherwise we
// make one: a per-process random prefix and a counter.
bool plain_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

void next_request_id(std::string* out) {
  static const uint32_t prefix = randombytes_random();
  static uint64_t seq = 0;
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%08x-%llx", prefix, static_cast<unsigned long long>(++seq));
  out->assign(buf, static_cast<size_t>(n));
}

}  // namespace

class Connection {
 public:
  explicit Connection(Server* server);
  int accept();
  void start();
  void respond(Exchange* ex, http::Response&& response);
  void stream_head(Exchange* ex, int status, std::string_view content_type);
  bool stream_chunk(std::string_view data);
  void stream_end();
  size_t queued() const { return queued_; }
  void close();
  // Ends an idle connection now; marks a busy one to close after its response.
  void drain();
  void fail(int status, std::string_view detail);

  Connection* prev = nullptr;
  Connection* next = nullptr;
  bool counted_ = false;  // holds one of the listener's max_connections places

 private:
  enum class State : uint8_t { kIdle, kHeaders, kBody, kHandling, kLinger, kClosed };

  static const llhttp_settings_t kSettings;
  static Connection* from(llhttp_t* p) { return static_cast<Connection*>(p->data); }
  static int on_message_begin(llhttp_t* p);
  static int on_url(llhttp_t* p, const char* at, size_t len);
  static int on_header_field(llhttp_t* p, const char* at, size_t len);
  static int on_header_field_complete(llhttp_t* p);
  static int on_header_value(llhttp_t* p, const char* at, size_t len);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t len);
  static int on_message_complete(llhttp_t* p);

  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_timer(uv_timer_t* t);
  static void on_shutdown(uv_shutdown_t* req, int status);
  static void on_close(uv_handle_t* h);

  int user_error(int status, const char* detail);
  size_t feed(const char* data, size_t len);
  void feed_pending();
  void dispatch();
  void write(std::string head, std::string body);
  std::string response_head(Exchange* ex, const http::Response& r, bool close, bool chunked);
  void after_response();
  void linger();
  void arm(uint64_t ms);
  void read_start();
  void read_stop();

  Server* server_;
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } h_;
  uv_timer_t timer_;
  uv_shutdown_t shutdown_req_;
  llhttp_t parser_;
  State state_ = State::kIdle;
  ExchangePtr ex_;          // the request being read or handled
  std::string pending_;     // received bytes not parsed yet
  size_t header_bytes_ = 0;
  int64_t body_limit_ = 0;
  int error_status_ = 0;
  const char* error_detail_ = nullptr;
  int writes_ = 0;          // uv_write requests in flight
  size_t queued_ = 0;       // bytes of those
  int open_handles_ = 0;
  bool field_open_ = false;
  bool reading_ = false;
  bool in_feed_ = false;
  bool peer_eof_ = false;
  bool close_after_ = false;
  bool peer_is_local_ = false;
};

const llhttp_settings_t Connection::kSettings = [] {
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_message_begin = on_message_begin;
  s.on_url = on_url;
  s.on_header_field = on_header_field;
  s.on_header_field_complete = on_header_field_complete;
  s.on_header_value = on_header_value;
  s.on_header_value_complete = on_header_value_complete;
  s.on_headers_complete = on_headers_complete;
  s.on_body = on_body;
  s.on_message_complete = on_message_complete;
  return s;
}();

Connection::Connection(Server* server) : server_(server) {
  llhttp_init(&parser_, HTTP_REQUEST, &kSettings);
  parser_.data = this;
}

int Connection::accept() {
  if (server_->is_unix_) {
    uv_pipe_init(server_->loop_, &h_.pipe, 0);
  } else {
    uv_tcp_init(server_->loop_, &h_.tcp);
  }
  h_.handle.data = this;
  ++open_handles_;
  uv_timer_init(server_->loop_, &timer_);
  timer_.data = this;
  ++open_handles_;
  server_->link(this);
  int r = uv_accept(&server_->listener_.stream, &h_.stream);
  if (r != 0) {
    close();
    return r;
  }
  if (server_->is_unix_) {
    peer_is_local_ = true;
  } else {
    uv_tcp_nodelay(&h_.tcp, 1);
    struct sockaddr_storage peer;
    int len = sizeof peer;
    if (uv_tcp_getpeername(&h_.tcp, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
      if (peer.ss_family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&peer);
        peer_is_local_ = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
      } else if (peer.ss_family == AF_INET6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&peer);
        peer_is_local_ = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
                         (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127);
      }
    }
  }
  return 0;
}

void Connection::start() {
  arm(server_->options_.limits.idle_timeout_ms);
  read_start();
}

void Connection::read_start() {
  if (reading_ || state_ == State::kClosed) return;
  if (uv_read_start(&h_.stream, on_alloc, on_read) == 0) reading_ = true;
}

void Connection::read_stop() {
  if (!reading_) return;
  uv_read_stop(&h_.stream);
  reading_ = false;
}

void Connection::arm(uint64_t ms) { uv_timer_start(&timer_, on_timer, ms, 0); }

void Connection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  // libuv calls on_read right after on_alloc for the same stream, so one slab
  // per server suffices; on_read copies out what must outlive the call.
  auto* c = static_cast<Connection*>(h->data);
  buf->base = c->server_->slab_.get();
  buf->len = kSlabSize;
}

void Connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(s->data);
  if (nread == 0) return;
  if (nread < 0) {
    c->read_stop();
    // A client may half-close after sending its requests and still read the
    // answers: finish the one being handled and those being sent, then close.
    // A request cut off by the EOF is dropped.
    // A client that leaves a streamed answer is gone: nothing more is wanted.
    if (nread == UV_EOF && c->ex_ && c->ex_->streaming_) return c->close();
    if (nread == UV_EOF && (c->state_ == State::kHandling || c->writes_ > 0)) {
      c->peer_eof_ = true;
      c->close_after_ = true;
      if (c->state_ == State::kHeaders || c->state_ == State::kBody) {
        c->ex_->conn_ = nullptr;
        c->ex_.reset();
        c->pending_.clear();
        c->state_ = State::kIdle;
        c->arm(c->server_->options_.limits.send_timeout_ms);
      }
      return;
    }
    c->close();
    return;
  }
  if (c->state_ == State::kLinger) return;  // discard until the peer closes
  size_t n = static_cast<size_t>(nread);
  if (c->pending_.empty()) {
    size_t used = c->feed(buf->base, n);
    if (used < n && c->state_ != State::kClosed && c->state_ != State::kLinger)
      c->pending_.assign(buf->base + used, n - used);
  } else {
    c->pending_.append(buf->base, n);
    c->feed_pending();
  }
  if (c->state_ == State::kBody) c->arm(c->server_->options_.limits.body_timeout_ms);
  // Back-pressure: a client that pipelines far ahead of its answers waits.
  if (c->pending_.size() > static_cast<size_t>(c->server_->options_.limits.max_header_bytes))
    c->read_stop();
}

void Connection::feed_pending() {
  if (in_feed_ || pending_.empty()) return;
  size_t used = feed(pending_.data(), pending_.size());
  if (state_ == State::kClosed || state_ == State::kLinger) {
    pending_.clear();
    return;
  }
  pending_.erase(0, used);
  if (pending_.empty() && pending_.capacity() > 4096) std::string().swap(pending_);
}

// Parses requests from data until one is being handled asynchronously, the
// data ends, or the connection fails. Returns how many bytes were consumed.
size_t Connection::feed(const char* data, size_t len) {
  in_feed_ = true;
  size_t off = 0;
  while (off < len && state_ != State::kHandling && state_ != State::kClosed &&
         state_ != State::kLinger) {
    llhttp_errno_t err = llhttp_execute(&parser_, data + off, len - off);
    if (err == HPE_OK) {
      off = len;
      break;
    }
    if (err == HPE_PAUSED_UPGRADE) {
      // The upgrade request itself was dispatched when its message completed;
      // no protocol switch is served, so what follows is dropped and the
      // connection ends after that answer.
      off = len;
      close_after_ = true;
      break;
    }
    if (err == HPE_PAUSED) {
      off = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
      llhttp_resume(&parser_);
      dispatch();
      continue;
    }
    off = len;
    // llhttp reports a limit broken in a callback under its own codes; the
    // status the callback chose is in error_status_.
    if (error_status_ != 0) {
      fail(error_status_, error_detail_);
    } else {
      fail(400, llhttp_get_error_reason(&parser_));
    }
  }
  in_feed_ = false;
  return off;
}

int Connection::user_error(int status, const char* detail) {
  error_status_ = status;
  error_detail_ = detail;
  llhttp_set_error_reason(&parser_, detail);
  return HPE_USER;
}

int Connection::on_message_begin(llhttp_t* p) {
  Connection* c = from(p);
  c->ex_.reset(new Exchange(c, c->server_));
  c->ex_->started_ns_ = uv_hrtime();
  c->ex_->peer_is_local = c->peer_is_local_;
  c->state_ = State::kHeaders;
  c->header_bytes_ = 0;
  c->error_status_ = 0;
  c->field_open_ = false;
  // The header timeout is absolute from the first byte: trickling bytes does
  // not extend it.
  c->arm(c->server_->options_.limits.header_timeout_ms);
  return 0;
}

int Connection::on_url(llhttp_t* p, const char* at, size_t len) {
  Connection* c = from(p);
  std::string& target = c->ex_->req.target;
  if (target.size() + len > static_cast<size_t>(c->server_->options_.limits.max_url_bytes))
    return c->user_error(414, "request target too long");
  target.append(at, len);
  return 0;
}

int Connection::on_header_field(llhttp_t* p, const char* at, size_t len) {
  Connection* c = from(p);
  c->header_bytes_ += len;
  if (c->header_bytes_ > static_cast<size_t>(c->server_->options_.limits.max_header_bytes))
    return c->user_error(431, "request headers too large");
  auto& headers = c->ex_->req.headers;
  if (!c->field_open_) {
    headers.emplace_back();
    c->field_open_ = true;
  }
  headers.back().name.append(at, len);
  return 0;
}

int Connection::on_header_field_complete(llhttp_t* p) {
  Connection* c = from(p);
  if (c->ex_->req.headers.size() > static_cast<size_t>(c->server_->options_.limits.max_headers))
    return c->user_error(431, "too many request headers");
  return 0;
}

int Connection::on_header_value(llhttp_t* p, const char* at, size_t len) {
  Connection* c = from(p);
  c->header_bytes_ += len;
  if (c->header_bytes_ > static_cast<size_t>(c->server_->options_.limits.max_header_bytes))
    return c->user_error(431, "request headers too large");
  c->ex_->req.headers.back().value.append(at, len);
  return 0;
}

int Connection::on_header_value_complete(llhttp_t* p) {
  Connection* c = from(p);
  if (c->ex_->req.headers.empty()) {  // a value without a name cannot happen, but
    c->ex_->req.headers.emplace_back();  // keep the invariant cheap to believe
  }
  c->field_open_ = false;
  return 0;
}

int Connection::on_headers_complete(llhttp_t* p) {
  Connection* c = from(p);
  Exchange& ex = *c->ex_;
  http::Request& req = ex.req;
  req.method = to_method(llhttp_get_method(p));
  req.http11 = llhttp_get_http_major(p) == 1 && llhttp_get_http_minor(p) == 1;
  std::string_view target = req.target;
  size_t q = target.find('?');
  req.path = target.substr(0, q);
  req.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  if (auto id = req.header("X-Request-Id"); id && plain_request_id(*id)) {
    req.id.assign(*id);
  } else {
    next_request_id(&req.id);
  }
  ex.head_ = req.method == http::Method::kHead;

  Router::Match m = c->server_->options_.router->match(req.method, req.path, &req.params);
  ex.route = m.route;
  ex.allow_ = std::move(m.allow);
  c->body_limit_ = m.route != nullptr && m.route->body_limit > 0
                       ? m.route->body_limit
                       : c->server_->options_.limits.max_body_bytes;

  bool has_body = (p->flags & F_CHUNKED) != 0 || ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0);
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > static_cast<uint64_t>(c->body_limit_))
    return c->user_error(413, "request body too large");
  if (auto expect = req.header("Expect")) {
    if (!http::iequals(*expect, "100-continue"))
      return c->user_error(417, "unsupported expectation");
    if (has_body && req.http11) {
      c->write(std::string(kContinue), {});
      if (c->state_ == State::kClosed) return HPE_USER;  // the client is gone
    }
  }
  c->state_ = State::kBody;
  c->arm(c->server_->options_.limits.body_timeout_ms);
  return 0;
}

int Connection::on_body(llhttp_t* p, const char* at, size_t len) {
  Connection* c = from(p);
  std::string& body = c->ex_->req.body;
  if (body.size() + len > static_cast<size_t>(c->body_limit_))
    return c->user_error(413, "request body too large");
  body.append(at, len);
  return 0;
}

int Connection::on_message_complete(llhttp_t* p) {
  Connection* c = from(p);
  c->ex_->keep_alive_ = llhttp_should_keep_alive(p) != 0;
  if (p->upgrade) c->close_after_ = true;  // answered like any request, then closed
  c->state_ = State::kHandling;
  uv_timer_stop(&c->timer_);
  // Pause so the next pipelined request waits until this one is answered.
  return HPE_PAUSED;
}

void Connection::dispatch() {
  ExchangePtr ex = ex_;  // the handler may answer synchronously and reset ex_
  App& app = server_->app_;
  http::Response deny;
  if (server_->options_.guard != nullptr && !server_->options_.guard(app, *ex, ex->route, &deny)) {
    ex->respond(std::move(deny));
    return;
  }
  if (ex->route == nullptr) {
    if (ex->allow_.empty()) {
      ex->respond(problem(404, "no such resource", ex->req.path));
    } else {
      http::Response r = problem(405, "method not allowed", ex->req.path);
      r.headers.push_back({"Allow", ex->allow_});
      ex->respond(std::move(r));
    }
    return;
  }
  ex->route->handler(app, ex);
}

void Connection::respond(Exchange* ex, http::Response&& r) {
  assert(ex == ex_.get() && state_ == State::kHandling);
  bool close = r.close || close_after_ || !ex->keep_alive_ || server_->draining_ || peer_eof_;
  std::string head = response_head(ex, r, close, false);
  if (!status_has_body(r.status) || ex->head_) r.body.clear();
  write(std::move(head), std::move(r.body));
  close_after_ = close;
  after_response();
}

void Connection::stream_head(Exchange* ex, int status, std::string_view content_type) {
  assert(ex == ex_.get() && state_ == State::kHandling);
  http::Response r;
  r.status = status;
  r.content_type = content_type;
  r.headers.push_back({"Cache-Control", "no-store"});
  // HTTP/1.0 has no chunks: the body ends with the connection.
  close_after_ = close_after_ || !ex->keep_alive_ || server_->draining_ || peer_eof_ || !ex->req.http11;
  write(response_head(ex, r, close_after_, ex->req.http11), {});
  if (state_ != State::kClosed && !peer_eof_) read_start();  // to notice the client leaving
}

bool Connection::stream_chunk(std::string_view data) {
  if (state_ == State::kClosed) return false;
  // A client that does not take what it asked for is dropped, not buffered for.
  if (queued_ > kMaxStreamQueue) {
    LOG_DEBUG("%s: stream client too slow, closing", server_->options_.name.c_str());
    close();
    return false;
  }
  if (data.empty() || ex_->head_) return true;
  if (!ex_->req.http11) {
    write(std::string(data), {});
    return state_ != State::kClosed;
  }
  char size[24];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string body;
  body.reserve(data.size() + 2);
  body.append(data).append("\r\n");
  write(std::string(size, static_cast<size_t>(n)), std::move(body));
  return state_ != State::kClosed;
}

void Connection::stream_end() {
  if (state_ == State::kClosed) return;
  if (!ex_->head_ && ex_->req.http11) write("0\r\n\r\n", {});
  ex_->streaming_ = false;
  after_response();
}

std::string Connection::response_head(Exchange* ex, const http::Response& r, bool close, bool chunked) {
  const http::Request& req = ex->req;

  std::string head;
  head.reserve(192 + r.content_type.size() + req.id.size());
  char line[64];
  int n = std::snprintf(line, sizeof line, "HTTP/1.1 %d ", r.status);
  head.append(line, static_cast<size_t>(n));
  head += http::reason_phrase(r.status);
  head += "\r\nDate: ";
  head += server_->date_header();
  head += "\r\n";
  if (!r.content_type.empty()) {
    head += "Content-Type: ";
    head += r.content_type;
    head += "\r\n";
  }
  for (const http::Header& h : r.headers) {
    head += h.name;
    head += ": ";
    head += h.value;
    head += "\r\n";
  }
  head += "X-Request-Id: ";
  head += req.id;
  head += "\r\n";
  bool body_allowed = status_has_body(r.status);
  if (chunked) {
    head += "Transfer-Encoding: chunked\r\n";
  } else if (body_allowed || r.status == 304) {
    n = std::snprintf(line, sizeof line, "Content-Length: %zu\r\n", r.body.size());
    if (r.status != 304 || !r.body.empty()) head.append(line, static_cast<size_t>(n));
  }
  if (close) {
    head += "Connection: close\r\n";
  } else if (!req.http11) {
    head += "Connection: keep-alive\r\n";
  }
  head += "\r\n";

  if (log::enabled(log::Level::kDebug) || r.status >= 500) {
    double ms = static_cast<double>(uv_hrtime() - ex->started_ns_) / 1e6;
    log::Level level = r.status >= 500 ? log::Level::kWarning : log::Level::kDebug;
    log::write(level, "%s [%s] %.*s %.*s -> %d (%.2f ms)", server_->options_.name.c_str(),
               req.id.c_str(), static_cast<int>(http::method_name(req.method).size()),
               http::method_name(req.method).data(), static_cast<int>(req.path.size()),
               req.path.data(), r.status, ms);
  }
  return head;
}

void Connection::write(std::string head, std::string body) {
  uv_buf_t bufs[2] = {uv_buf_init(head.data(), static_cast<unsigned>(head.size())),
                      uv_buf_init(body.data(), static_cast<unsigned>(body.size()))};
  unsigned nbufs = body.empty() ? 1 : 2;
  int sent = writes_ == 0 ? uv_try_write(&h_.stream, bufs, nbufs) : UV_EAGAIN;
  size_t total = head.size() + body.size();
  if (sent == static_cast<int>(total)) return;
  if (sent < 0 && sent != UV_EAGAIN) {
    close();
    return;
  }
  size_t done = sent > 0 ? static_cast<size_t>(sent) : 0;
  auto* w = new WriteReq;
  w->req.data = this;
  if (done < head.size()) {
    w->head = head.substr(done);
    w->body = std::move(body);
  } else {
    w->body = body.substr(done - head.size());
  }
  uv_buf_t rest[2] = {uv_buf_init(w->head.data(), static_cast<unsigned>(w->head.size())),
                      uv_buf_init(w->body.data(), static_cast<unsigned>(w->body.size()))};
  uv_buf_t* first = w->head.empty() ? &rest[1] : &rest[0];
  unsigned count = (w->head.empty() || w->body.empty()) ? 1 : 2;
  int r = uv_write(&w->req, &h_.stream, first, count, on_write);
  if (r != 0) {
    delete w;
    close();
    return;
  }
  ++writes_;
  w->bytes = w->head.size() + w->body.size();
  queued_ += w->bytes;
  arm(server_->options_.limits.send_timeout_ms);
}

void Connection::on_write(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<WriteReq*>(req);
  auto* c = static_cast<Connection*>(req->data);
  size_t bytes = w->bytes;
  delete w;
  if (status == UV_ECANCELED) return;  // the connection is closing
  --c->writes_;
  c->queued_ -= bytes;
  if (status != 0) {
    c->close();
    return;
  }
  if (c->writes_ == 0) {
    if (c->close_after_ && c->state_ != State::kHandling) {
      c->linger();
    } else if (c->state_ == State::kIdle) {
      c->arm(c->server_->options_.limits.idle_timeout_ms);
    } else if (c->state_ == State::kHeaders) {
      c->arm(c->server_->options_.limits.header_timeout_ms);
    } else if (c->state_ == State::kHandling) {
      uv_timer_stop(&c->timer_);  // a stream between chunks: no deadline
    }
  }
}

void Connection::after_response() {
  if (ex_) {
    ex_->conn_ = nullptr;
    ex_.reset();
  }
  if (state_ == State::kClosed) return;
  if (close_after_) {
    state_ = State::kIdle;  // nothing more is read
    read_stop();
    if (writes_ == 0) linger();
    return;
  }
  state_ = State::kIdle;
  if (writes_ == 0) arm(server_->options_.limits.idle_timeout_ms);
  feed_pending();
  if (state_ != State::kClosed && state_ != State::kLinger && !close_after_ && !peer_eof_) read_start();
}

// Answers a request that could not be parsed or broke a limit, then closes.
void Connection::fail(int status, std::string_view detail) {
  if (state_ == State::kClosed || state_ == State::kLinger) return;
  if (!ex_) ex_.reset(new Exchange(this, server_));
  if (ex_->req.id.empty()) next_request_id(&ex_->req.id);
  LOG_DEBUG("%s [%s] rejected: %d %.*s", server_->options_.name.c_str(), ex_->req.id.c_str(),
            status, static_cast<int>(detail.size()), detail.data());
  std::string_view instance = ex_->req.path.empty() ? std::string_view(ex_->req.target) : ex_->req.path;
  if (instance.size() > 256) instance = instance.substr(0, 256);
  http::Response r = problem(status, detail, instance);
  r.close = true;
  state_ = State::kHandling;
  ExchangePtr keep = ex_;
  keep->head_ = false;
  keep->responded_ = true;
  respond(keep.get(), std::move(r));
}

// Half-close our side and wait briefly for the client to close its side, so
// unread request bytes do not turn our last answer into a reset.
void Connection::linger() {
  if (state_ == State::kClosed || state_ == State::kLinger) return;
  state_ = State::kLinger;
  pending_.clear();
  shutdown_req_.data = this;
  if (uv_shutdown(&shutdown_req_, &h_.stream, on_shutdown) != 0) {
    close();
    return;
  }
  arm(kLingerMs);
}

void Connection::on_shutdown(uv_shutdown_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  if (status == UV_ECANCELED) return;
  if (status != 0 || c->peer_eof_) {
    c->close();
    return;
  }
  c->read_start();  // drain and discard until EOF or the linger timer
}

void Connection::on_timer(uv_timer_t* t) {
  auto* c = static_cast<Connection*>(t->data);
  switch (c->state_) {
    case State::kHeaders:
    case State::kBody:
      c->fail(408, "request not received in time");
      break;
    case State::kIdle:
      if (c->writes_ > 0) LOG_DEBUG("%s: client too slow to read, closing", c->server_->options_.name.c_str());
      c->close();
      break;
    case State::kHandling:  // only armed while a response is being sent
    case State::kLinger:
      c->close();
      break;
    case State::kClosed:
      break;
  }
}

void Connection::drain() {
  close_after_ = true;
  if (state_ == State::kIdle && writes_ == 0) close();
}

void Connection::close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  read_stop();
  if (ex_) {
    ExchangePtr ex = std::move(ex_);
    ex->conn_ = nullptr;  // a late respond() is dropped
    if (ex->streaming_ && ex->on_gone) std::exchange(ex->on_gone, nullptr)();
  }
  pending_.clear();
  uv_close(&h_.handle, on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_close);
}

void Connection::on_close(uv_handle_t* h) {
  auto* c = static_cast<Connection*>(h->data);
  if (--c->open_handles_ > 0) return;
  Server* s = c->server_;
  if (c->counted_) --s->active_;
  s->unlink(c);
  delete c;
  s->maybe_drained();
}

// --- Exchange ---------------------------------------------------------------

void Exchange::respond(http::Response&& response) {
  if (responded_) return;
  responded_ = true;
  if (conn_ != nullptr) conn_->respond(this, std::move(response));
}

void Exchange::begin_stream(int status, std::string_view content_type) {
  if (responded_) return;
  responded_ = streaming_ = true;
  if (conn_ != nullptr) conn_->stream_head(this, status, content_type);
}

bool Exchange::write_chunk(std::string_view data) {
  return streaming_ && conn_ != nullptr && conn_->stream_chunk(data);
}

size_t Exchange::queued_bytes() const { return conn_ != nullptr ? conn_->queued() : 0; }

void Exchange::end_stream() {
  if (streaming_ && conn_ != nullptr) conn_->stream_end();
  streaming_ = false;
  on_gone = nullptr;
}

App& Exchange::app() const { return server_->app_; }
uv_loop_t* Exchange::loop() const { return server_->loop_; }

// --- Server -----------------------------------------------------------------

Server::Server(uv_loop_t* loop, App& app, ServerOptions options)
    : loop_(loop), app_(app), options_(std::move(options)), slab_(new char[kSlabSize]) {
  std::memset(&listener_, 0, sizeof listener_);
}

Server::~Server() { assert(head_ == nullptr && !listening_); }

int Server::listen_tcp(const std::string& host, int port) {
  struct sockaddr_storage addr;
  int r = uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
  if (r != 0) r = uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr));
  if (r != 0) return r;
  uv_tcp_init(loop_, &listener_.tcp);
  listener_.handle.data = this;
  listening_ = true;
  r = uv_tcp_bind(&listener_.tcp, reinterpret_cast<sockaddr*>(&addr), 0);
  if (r == 0) r = uv_listen(&listener_.stream, 511, on_connection);
  return r;
}

int Server::listen_unix(const std::string& path) {
  is_unix_ = true;
  uv_pipe_init(loop_, &listener_.pipe, 0);
  listener_.handle.data = this;
  listening_ = true;
  int r = uv_pipe_bind(&listener_.pipe, path.c_str());
  if (r == 0) r = uv_listen(&listener_.stream, 511, on_connection);
  return r;
}

int Server::listen_fd(int fd, bool is_unix) {
  is_unix_ = is_unix;
  int r;
  if (is_unix) {
    uv_pipe_init(loop_, &listener_.pipe, 0);
    listening_ = true;
    r = uv_pipe_open(&listener_.pipe, fd);
  } else {
    uv_tcp_init(loop_, &listener_.tcp);
    listening_ = true;
    r = uv_tcp_open(&listener_.tcp, fd);
  }
  listener_.handle.data = this;
  if (r == 0) r = uv_listen(&listener_.stream, 511, on_connection);
  return r;
}

int Server::port() const {
  if (is_unix_ || !listening_) return 0;
  struct sockaddr_storage addr;
  int len = sizeof addr;
  if (uv_tcp_getsockname(&listener_.tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
}

void Server::on_connection(uv_stream_t* listener, int status) {
  auto* s = static_cast<Server*>(listener->data);
  if (status != 0) {
    LOG_WARN("%s: accept failed: %s", s->options_.name.c_str(), uv_strerror(status));
    return;
  }
  auto max = static_cast<size_t>(s->options_.limits.max_connections);
  auto* c = new Connection(s);
  if (c->accept() != 0) return;  // closed and freed through on_close
  if (s->active_ >= max) {
    // Over the cap: a short answer, then close. Far over it (a flood), close
    // without one so rejected connections cannot pile up.
    if (s->count_ > 2 * max + 64) {
      c->close();
    } else {
      c->fail(503, "too many connections");
    }
    return;
  }
  c->counted_ = true;
  ++s->active_;
  c->start();
}

void Server::link(Connection* c) {
  c->next = head_;
  if (head_ != nullptr) head_->prev = c;
  head_ = c;
  ++count_;
}

void Server::unlink(Connection* c) {
  if (c->prev != nullptr) c->prev->next = c->next;
  if (c->next != nullptr) c->next->prev = c->prev;
  if (head_ == c) head_ = c->next;
  --count_;
}

void Server::drain(std::function<void()> done) {
  draining_ = true;
  drained_ = std::move(done);
  if (listening_ && !uv_is_closing(&listener_.handle)) {
    uv_close(&listener_.handle, [](uv_handle_t* h) {
      auto* s = static_cast<Server*>(h->data);
      s->listening_ = false;
      s->maybe_drained();
    });
  }
  for (Connection* c = head_; c != nullptr;) {
    Connection* next = c->next;
    c->drain();
    c = next;
  }
  maybe_drained();
}

void Server::close_all() {
  for (Connection* c = head_; c != nullptr; c = c->next) c->close();
}

void Server::maybe_drained() {
  if (!draining_ || count_ > 0 || listening_ || !drained_) return;
  auto done = std::move(drained_);
  drained_ = nullptr;
  done();
}

const char* Server::date_header() {
  time_t now = time(nullptr);
  if (now != date_second_) {
    date_second_ = now;
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date_, sizeof date_, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  }
  return date_;
}

}  // namespace crewship
