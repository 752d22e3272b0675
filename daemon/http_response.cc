#include "daemon/http_connection.h"

#include <cassert>
#include <charconv>

#include "daemon/log.h"

namespace crewship {
namespace {

constexpr size_t kMaxStreamQueue = 1 << 20;  // unsent bytes of a streamed answer

bool status_has_body(int status) { return status >= 200 && status != 204 && status != 304; }

}  // namespace

// A write request owns its bytes until the write callback. Requests complete
// in the order they were queued, so the list's head holds the oldest unsent
// byte.
struct WriteReq {
  uv_write_t req;
  std::string head;
  std::string body;
  std::shared_ptr<const std::string> shared;  // holds the rest of the body instead of body
  size_t bytes = 0;
  uint64_t queued_at = 0;  // uv_now ms
  WriteReq* next = nullptr;
};

// The timer is lazy, as nginx's are: a deadline that moves later, or goes,
// leaves it armed, and on_timer, finding nothing due, arms it for what is
// left. A keep-alive request so costs no timer-heap work but for the rare
// wake-up, where restarting it for every state change was a fifth of the
// instructions of a small request.
void Connection::rearm() {
  if (state_ == State::kClosed) return;
  uint64_t at = deadline_;
  if (wq_head_ != nullptr) {
    uint64_t send = wq_head_->queued_at + static_cast<uint64_t>(server_->options_.limits.send_timeout_ms);
    if (at == 0 || send < at) at = send;
  }
  if (at == 0 || (timer_due_ != 0 && timer_due_ <= at)) return;
  uint64_t now = uv_now(server_->loop_);
  timer_due_ = at > now ? at : now;
  uv_timer_start(&timer_, on_timer, timer_due_ - now, 0);
}

// The send timeout runs from the oldest byte not yet taken, not from the last
// write queued: a client that never reads cannot keep extending it.
bool Connection::send_overdue(uint64_t now) const {
  return wq_head_ != nullptr &&
         now >= wq_head_->queued_at + static_cast<uint64_t>(server_->options_.limits.send_timeout_ms);
}

void Connection::respond(http::Exchange* ex, http::Response&& r) {
  assert(ex == ex_.get() && state_ == State::kHandling);
  bool close = r.close || close_after_ || !ex->keep_alive_ || server_->draining_ || peer_eof_;
  std::string head = response_head(ex, r, close, false);
  if (!status_has_body(r.status) || ex->head_) {
    r.body.clear();
    r.shared_body.reset();
  }
  write(std::move(head), std::move(r.body), std::move(r.shared_body));
  close_after_ = close;
  after_response();
}

void Connection::stream_head(http::Exchange* ex, int status, std::string_view content_type,
                             std::vector<http::Header> headers) {
  assert(ex == ex_.get() && state_ == State::kHandling);
  http::Response r;
  r.status = status;
  r.content_type = content_type;
  r.headers = std::move(headers);
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
  char* end = std::to_chars(size, size + sizeof size - 2, data.size(), 16).ptr;
  *end++ = '\r';
  *end++ = '\n';
  std::string body;
  body.reserve(data.size() + 2);
  body.append(data).append("\r\n");
  write(std::string(size, end), std::move(body));
  return state_ != State::kClosed;
}

void Connection::stream_end() {
  if (state_ == State::kClosed) return;
  if (!ex_->head_ && ex_->req.http11) write("0\r\n\r\n", {});
  ex_->streaming_ = false;
  after_response();
}

std::string Connection::response_head(http::Exchange* ex, const http::Response& r, bool close, bool chunked) {
  const http::Request& req = ex->req;

  std::string head;
  head.reserve(192 + r.content_type.size() + req.id.size());
  char num[24];
  head += "HTTP/1.1 ";
  head.append(num, std::to_chars(num, num + sizeof num, r.status).ptr);
  head += ' ';
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
    if (r.status != 304 || r.body_size() != 0) {
      head += "Content-Length: ";
      head.append(num, std::to_chars(num, num + sizeof num, r.body_size()).ptr);
      head += "\r\n";
    }
  }
  if (close) {
    head += "Connection: close\r\n";
  } else if (!req.http11) {
    head += "Connection: keep-alive\r\n";
  }
  head += "\r\n";

  const ResponseObserver& seen = server_->options_.observer;
  if (seen.fn != nullptr) seen.fn(seen.ctx, *ex, r.status, uv_hrtime() - ex->started_ns_);
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

void Connection::write(std::string head, std::string body, std::shared_ptr<const std::string> shared) {
  // uv_write only reads the buffers it is given.
  std::string_view tail = shared ? std::string_view(*shared) : std::string_view(body);
  uv_buf_t bufs[2] = {uv_buf_init(head.data(), static_cast<unsigned>(head.size())),
                      uv_buf_init(const_cast<char*>(tail.data()), static_cast<unsigned>(tail.size()))};
  unsigned nbufs = tail.empty() ? 1 : 2;
  int sent = writes_ == 0 ? uv_try_write(&h_.stream, bufs, nbufs) : UV_EAGAIN;
  size_t total = head.size() + tail.size();
  if (sent == static_cast<int>(total)) return;
  if (sent < 0 && sent != UV_EAGAIN) {
    close();
    return;
  }
  size_t done = sent > 0 ? static_cast<size_t>(sent) : 0;
  auto* w = new WriteReq;
  w->req.data = this;
  size_t tail_from = done > head.size() ? done - head.size() : 0;
  if (done < head.size()) w->head = head.substr(done);
  if (shared) {
    w->shared = std::move(shared);
    tail.remove_prefix(tail_from);
  } else {
    w->body = tail_from == 0 ? std::move(body) : body.substr(tail_from);
    tail = w->body;
  }
  uv_buf_t rest[2] = {uv_buf_init(w->head.data(), static_cast<unsigned>(w->head.size())),
                      uv_buf_init(const_cast<char*>(tail.data()), static_cast<unsigned>(tail.size()))};
  uv_buf_t* first = w->head.empty() ? &rest[1] : &rest[0];
  unsigned count = (w->head.empty() || tail.empty()) ? 1 : 2;
  int r = uv_write(&w->req, &h_.stream, first, count, on_write);
  if (r != 0) {
    delete w;
    close();
    return;
  }
  ++writes_;
  w->bytes = w->head.size() + tail.size();
  queued_ += w->bytes;
  w->queued_at = uv_now(server_->loop_);
  if (wq_tail_ != nullptr) {
    wq_tail_->next = w;
  } else {
    wq_head_ = w;
  }
  wq_tail_ = w;
  if (wq_head_ == w) rearm();
}

void Connection::on_write(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<WriteReq*>(req);
  auto* c = static_cast<Connection*>(req->data);
  size_t bytes = w->bytes;
  assert(c->wq_head_ == w);
  c->wq_head_ = w->next;
  if (c->wq_head_ == nullptr) c->wq_tail_ = nullptr;
  delete w;
  if (status == UV_ECANCELED) return;  // the connection is closing
  --c->writes_;
  c->queued_ -= bytes;
  if (status != 0) {
    c->close();
    return;
  }
  c->resume_after_output();
  if (c->state_ == State::kClosed) return;
  if (c->writes_ == 0 && c->state_ != State::kUpgraded) {
    if (c->close_after_ && c->state_ != State::kHandling) {
      c->linger();
      return;
    }
    if (c->state_ == State::kIdle) c->deadline_ = uv_now(c->server_->loop_) + c->server_->options_.limits.idle_timeout_ms;
  }
  c->rearm();
}

// Reading stopped while the unsent answers passed max_unsent_bytes; it goes
// on once they are below half of it, first with the requests already read.
void Connection::resume_after_output() {
  if (!output_paused_ || queued_ > static_cast<size_t>(server_->options_.limits.max_unsent_bytes) / 2) return;
  output_paused_ = false;
  if (state_ != State::kIdle) return;
  feed_pending();
  if (state_ != State::kClosed && state_ != State::kLinger && !output_paused_ && !close_after_ && !peer_eof_)
    read_start();
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
  if (writes_ == 0) set_deadline(server_->options_.limits.idle_timeout_ms);
  // Back-pressure: a client that asks faster than it reads is not read until
  // it has taken most of what it was sent.
  if (queued_ > static_cast<size_t>(server_->options_.limits.max_unsent_bytes)) {
    output_paused_ = true;
    read_stop();
    return;
  }
  feed_pending();
  if (state_ != State::kClosed && state_ != State::kLinger && !output_paused_ && !close_after_ && !peer_eof_)
    read_start();
}

// --- Exchange ---------------------------------------------------------------

namespace http {

void Exchange::respond(http::Response&& response) {
  if (responded_) return;
  responded_ = true;
  if (conn_ != nullptr) conn_->respond(this, std::move(response));
}

void Exchange::begin_stream(int status, std::string_view content_type, std::vector<http::Header> headers) {
  if (responded_) return;
  responded_ = streaming_ = true;
  if (conn_ != nullptr) conn_->stream_head(this, status, content_type, std::move(headers));
}

bool Exchange::write_chunk(std::string_view data) {
  return streaming_ && conn_ != nullptr && conn_->stream_chunk(data);
}

bool Exchange::upgrade(http::Response head, Upgraded* to) {
  if (responded_) return false;
  responded_ = true;
  return conn_ != nullptr && conn_->upgrade(this, std::move(head), to);
}

void close_upgraded(uv_stream_t* stream) { static_cast<Connection*>(stream->data)->close(); }

size_t Exchange::queued_bytes() const { return conn_ != nullptr ? conn_->queued() : 0; }

void Exchange::end_stream() {
  if (streaming_ && conn_ != nullptr) conn_->stream_end();
  streaming_ = false;
  on_gone = nullptr;
}

uv_loop_t* Exchange::loop() const { return server_->loop_; }

}  // namespace http

}  // namespace crewship
