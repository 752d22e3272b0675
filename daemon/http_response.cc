#include "daemon/http_connection.h"

#include <cassert>
#include <cstdio>

#include "daemon/log.h"

namespace crewship {
namespace {

constexpr size_t kMaxStreamQueue = 1 << 20;  // unsent bytes of a streamed answer

// A write request owns its bytes until the write callback.
struct WriteReq {
  uv_write_t req;
  std::string head;
  std::string body;
  size_t bytes = 0;
};

bool status_has_body(int status) { return status >= 200 && status != 204 && status != 304; }

}  // namespace

void Connection::respond(http::Exchange* ex, http::Response&& r) {
  assert(ex == ex_.get() && state_ == State::kHandling);
  bool close = r.close || close_after_ || !ex->keep_alive_ || server_->draining_ || peer_eof_;
  std::string head = response_head(ex, r, close, false);
  if (!status_has_body(r.status) || ex->head_) r.body.clear();
  write(std::move(head), std::move(r.body));
  close_after_ = close;
  after_response();
}

void Connection::stream_head(http::Exchange* ex, int status, std::string_view content_type) {
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

std::string Connection::response_head(http::Exchange* ex, const http::Response& r, bool close, bool chunked) {
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
  if (c->writes_ == 0 && c->state_ != State::kUpgraded) {
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

// --- Exchange ---------------------------------------------------------------

namespace http {

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
