#include "daemon/http_connection.h"

#include <cassert>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <utility>

#include <unistd.h>
#include <sodium.h>

#include "daemon/log.h"
#include "daemon/problem.h"

namespace crewship {
namespace {

constexpr uint64_t kLingerMs = 2000;
// What a lingering connection discards at most: a refused upload is not read
// to its end, however fast it comes, but a client that sends a body of a few
// MiB before it reads still gets the answer rather than a reset.
constexpr uint64_t kLingerMaxBytes = 4 << 20;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

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

// RFC 9110 tchar: a header name is a token. llhttp lets spaces and other
// separators through; RFC 9112 5.1 wants a 400 for whitespace before the colon.
bool token_char(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// "<8 hex digits of this process>-<hex sequence>".
void next_request_id(std::string* out) {
  static const std::string prefix = [] {
    char p[16];
    std::snprintf(p, sizeof p, "%08x-", randombytes_random());
    return std::string(p);
  }();
  static uint64_t seq = 0;
  char buf[32];
  size_t n = prefix.copy(buf, sizeof buf);
  char* end = std::to_chars(buf + n, buf + sizeof buf, ++seq, 16).ptr;
  out->assign(buf, end);
}

}  // namespace

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

void Connection::start() {
  set_deadline(server_->options_.limits.idle_timeout_ms);
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

void Connection::set_deadline(uint64_t ms) {
  deadline_ = uv_now(server_->loop_) + ms;
  rearm();
}

void Connection::clear_deadline() {
  deadline_ = 0;
  rearm();
}

void Connection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  // libuv calls on_read right after on_alloc for the same stream, so one slab
  // per server suffices; on_read copies out what must outlive the call.
  auto* c = static_cast<Connection*>(h->data);
  buf->base = c->server_->slab_.get();
  buf->len = kReadSlabSize;
}

void Connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(s->data);
  if (nread == 0) return;
  if (c->state_ == State::kUpgraded) {
    if (nread < 0) return c->close();
    return c->upgraded_->on_data(buf->base, static_cast<size_t>(nread));
  }
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
        c->clear_deadline();  // the send deadline ends it if the answers stall
      }
      return;
    }
    c->close();
    return;
  }
  if (c->state_ == State::kLinger) {  // discard until the peer closes
    c->body_bytes_ += static_cast<uint64_t>(nread);
    if (c->body_bytes_ > kLingerMaxBytes) c->close();
    return;
  }
  size_t n = static_cast<size_t>(nread);
  if (c->pending_.empty()) {
    size_t used = c->feed(buf->base, n);
    if (used < n && c->state_ != State::kClosed && c->state_ != State::kLinger)
      c->pending_.assign(buf->base + used, n - used);
  } else {
    c->pending_.append(buf->base, n);
    c->feed_pending();
  }
  if (c->state_ == State::kBody) c->body_deadline();
  // Back-pressure: a client that pipelines far ahead of its answers waits.
  if (c->pending_.size() > static_cast<size_t>(c->server_->options_.limits.max_header_bytes) ||
      c->output_paused_ || c->sink_full())
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
  feed_begin_ = data;
  size_t off = 0;
  while (off < len && state_ != State::kHandling && state_ != State::kClosed &&
         state_ != State::kLinger && state_ != State::kUpgraded) {
    llhttp_errno_t err = llhttp_execute(&parser_, data + off, len - off);
    if (err == HPE_OK) {
      off = len;
      break;
    }
    if (err == HPE_PAUSED_UPGRADE) {
      // The upgrade request itself was dispatched when its message completed
      // and its handler did not switch: what follows is dropped and the
      // connection ends after that answer.
      off = len;
      close_after_ = true;
      break;
    }
    if (err == HPE_PAUSED) {
      off = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
      llhttp_resume(&parser_);
      dispatch();
      if (output_paused_) break;  // the rest waits until the client reads
      continue;
    }
    off = len;
    // llhttp reports a limit broken in a callback under its own codes; the
    // status the callback chose is in error_status_.
    if (refused_) {
      refused_ = false;
      refuse(std::move(refusal_), true);
    } else if (error_status_ != 0) {
      fail(error_status_, error_detail_);
    } else {
      fail(400, llhttp_get_error_reason(&parser_));
    }
  }
  for (size_t i = off; i > 0; --i) {
    if (data[i - 1] != ' ' && data[i - 1] != '\t') {
      last_seen_ = data[i - 1];
      break;
    }
  }
  in_feed_ = false;
  // The handler switched protocols synchronously: the rest is the new one's.
  if (state_ == State::kUpgraded && off < len) {
    upgraded_->on_data(data + off, len - off);
    off = len;
  }
  return off;
}

void Connection::new_exchange() {
  ex_ = server_->options_.new_exchange != nullptr ? server_->options_.new_exchange()
                                                   : http::ExchangePtr(new http::Exchange);
  ex_->conn_ = this;
  ex_->server_ = server_;
}

int Connection::user_error(int status, const char* detail) {
  error_status_ = status;
  error_detail_ = detail;
  llhttp_set_error_reason(&parser_, detail);
  return HPE_USER;
}

int Connection::on_message_begin(llhttp_t* p) {
  Connection* c = from(p);
  c->new_exchange();
  c->ex_->started_ns_ = uv_hrtime();
  c->ex_->peer_is_local = c->peer_is_local_;
  std::memcpy(c->ex_->peer_address, c->peer_address_, sizeof c->peer_address_);
  c->state_ = State::kHeaders;
  c->header_bytes_ = 0;
  c->error_status_ = 0;
  c->field_open_ = false;
  c->refused_ = false;
  c->sink_reset();
  // The header timeout is absolute from the first byte: trickling bytes does
  // not extend it.
  c->set_deadline(c->server_->options_.limits.header_timeout_ms);
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
  for (size_t i = 0; i < len; ++i) {
    if (!token_char(static_cast<unsigned char>(at[i]))) return c->user_error(400, "invalid header name");
  }
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
  // llhttp joins a line folded into the previous value (obs-fold) silently:
  // such a value starts after a line break and blanks. RFC 9112 5.2 lets a
  // server refuse it.
  const char* q = at;
  while (q > c->feed_begin_ && (q[-1] == ' ' || q[-1] == '\t')) --q;
  if ((q > c->feed_begin_ ? q[-1] : c->last_seen_) == '\n') return c->user_error(400, "folded header line");
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
  http::Exchange& ex = *c->ex_;
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
  // Who calls and what for is settled before any body byte is accepted: the
  // guard, then the route. A refused request with a body is answered now and
  // its connection closed unread; one without waits for its message end, so
  // the connection stays usable.
  const RouteGuard& guard = c->server_->options_.guard;
  http::Response deny;
  bool refused = guard.fn != nullptr && !guard.fn(guard.ctx, ex, ex.route, &deny);
  if (!refused) {
    c->server_->trust(c);
    if (ex.route == nullptr) {
      refused = true;
      deny = ex.allow_.empty() ? problem(404, "no such resource", req.path)
                               : problem(405, "method not allowed", req.path);
      if (!ex.allow_.empty()) deny.headers.push_back({"Allow", ex.allow_});
    }
  }
  if (refused) {
    c->refusal_ = std::move(deny);
    c->refused_ = true;
    if (has_body) return HPE_USER;
    c->state_ = State::kBody;
    return 0;
  }
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > static_cast<uint64_t>(c->body_limit_))
    return c->user_error(413, "request body too large");
  if (m.route->body_sink != nullptr) {
    ex.body_sink = m.route->body_sink(m.route->handler.ctx, ex);
    if (!ex.body_sink) return c->user_error(500, "request body cannot be stored");
  }
  if (auto expect = req.header("Expect")) {
    if (!http::iequals(*expect, "100-continue"))
      return c->user_error(417, "unsupported expectation");
    if (has_body && req.http11) {
      c->write(std::string(kContinue), {});
      if (c->state_ == State::kClosed) return HPE_USER;  // the client is gone
    }
  }
  c->state_ = State::kBody;
  c->body_start_ = uv_now(c->server_->loop_);
  c->body_bytes_ = 0;
  c->body_deadline();
  return 0;
}

int Connection::on_message_complete(llhttp_t* p) {
  Connection* c = from(p);
  c->ex_->keep_alive_ = llhttp_should_keep_alive(p) != 0;
  if (p->upgrade) c->close_after_ = true;  // answered like any request, then closed
  c->state_ = State::kHandling;
  c->clear_deadline();
  // Pause so the next pipelined request waits until this one is answered.
  return HPE_PAUSED;
}

void Connection::dispatch() {
  http::ExchangePtr ex = ex_;  // the handler may answer synchronously and reset ex_
  if (refused_) {  // by the guard or the router at the headers (on_headers_complete)
    refused_ = false;
    ex->respond(std::move(refusal_));
    return;
  }
  if (sink_wait()) return;  // the handler runs once the body is written (sink_written)
  ex->route->handler(ex);
}

bool Connection::upgrade(http::Exchange* ex, http::Response&& head, http::Upgraded* to) {
  assert(ex == ex_.get() && state_ == State::kHandling);
  write(response_head(ex, head, false, false), {});
  if (state_ == State::kClosed) return false;
  ex_->conn_ = nullptr;
  ex_.reset();
  state_ = State::kUpgraded;
  upgraded_ = to;
  close_after_ = false;
  clear_deadline();  // what is left: the send timeout of the 101 head
  to->on_open(&h_.stream);
  // The new protocol keeps its own count and limits.
  if (counted_) {
    counted_ = false;
    --server_->active_;
  }
  // Bytes that came after the request while the handler decided: a
  // synchronous switch leaves them to feed(), which delivers the rest.
  if (!in_feed_ && !pending_.empty()) {
    std::string early = std::move(pending_);
    pending_.clear();
    to->on_data(early.data(), early.size());
    if (state_ == State::kClosed) return true;
  }
  read_start();
  return true;
}

// Answers a request that could not be parsed or broke a limit, then closes.
void Connection::fail(int status, std::string_view detail) {
  if (state_ == State::kClosed || state_ == State::kLinger) return;
  if (!ex_) new_exchange();
  if (ex_->req.id.empty()) next_request_id(&ex_->req.id);
  LOG_DEBUG("%s [%s] rejected: %d %.*s", server_->options_.name.c_str(), ex_->req.id.c_str(),
            status, static_cast<int>(detail.size()), detail.data());
  std::string_view instance = ex_->req.path.empty() ? std::string_view(ex_->req.target) : ex_->req.path;
  if (instance.size() > 256) instance = instance.substr(0, 256);
  refuse(problem(status, detail, instance), false);
}

// Answers the request being read with r and closes, whatever is left unread.
void Connection::refuse(http::Response&& r, bool keep_head) {
  r.close = true;
  state_ = State::kHandling;
  http::ExchangePtr keep = ex_;
  if (!keep_head) keep->head_ = false;
  keep->responded_ = true;
  respond(keep.get(), std::move(r));
}

// Half-close our side and wait briefly for the client to close its side, so
// unread request bytes do not turn our last answer into a reset.
void Connection::linger() {
  if (state_ == State::kClosed || state_ == State::kLinger) return;
  state_ = State::kLinger;
  body_bytes_ = 0;  // now: the bytes discarded
  pending_.clear();
  shutdown_req_.data = this;
  if (uv_shutdown(&shutdown_req_, &h_.stream, on_shutdown) != 0) {
    close();
    return;
  }
  set_deadline(kLingerMs);
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
  c->timer_due_ = 0;
  if (c->state_ == State::kClosed) return;
  uint64_t now = uv_now(c->server_->loop_);
  if (c->send_overdue(now)) {
    LOG_DEBUG("%s: client too slow to read, closing", c->server_->options_.name.c_str());
    c->close();
    return;
  }
  if (c->deadline_ == 0 || now < c->deadline_) return c->rearm();
  c->deadline_ = 0;
  switch (c->state_) {
    case State::kHeaders:
    case State::kBody:
      c->fail(408, "request not received in time");
      break;
    case State::kIdle:
      if (c->writes_ == 0) c->close();  // else the last write's end sets it again
      break;
    case State::kLinger:
      c->close();
      break;
    case State::kHandling:  // no deadline while a handler works or a stream pauses
    case State::kUpgraded:  // the new protocol keeps its own
    case State::kClosed:
      break;
  }
}

void Connection::drain() {
  if (state_ == State::kUpgraded) return upgraded_->on_drain();
  close_after_ = true;
  if (state_ == State::kIdle && writes_ == 0) close();
}

void Connection::close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  read_stop();
  if (ex_) {
    http::ExchangePtr ex = std::move(ex_);
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
  if (c->upgraded_ != nullptr) std::exchange(c->upgraded_, nullptr)->on_closed();
  Server* s = c->server_;
  if (c->counted_) --s->active_;
  s->release_peer(c);
  s->unpool(c);
  s->unlink(c);
  delete c;
  s->maybe_drained();
}

}  // namespace crewship
