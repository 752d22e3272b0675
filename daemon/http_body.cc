// The request body as the connection receives it: its deadline, its limit,
// and for a route with a sink (Route::body_sink) the hand-over of its pieces
// with back-pressure instead of Request::body.
#include "daemon/http_connection.h"

#include <utility>

namespace crewship {
namespace {

// What the connection collects before it hands a piece to the sink. While a
// piece is being written and the next one is this full, reading stops: a
// body costs at most about two of these (and one read) in memory.
constexpr size_t kSinkPiece = 256 << 10;

}  // namespace

// The body's deadline: the next pause may last body_timeout, and the whole
// body must come at body_min_rate on average after a first body_timeout, so a
// byte now and then does not hold the connection for ever.
void Connection::body_deadline() {
  const HttpLimits& l = server_->options_.limits;
  uint64_t now = uv_now(server_->loop_);
  uint64_t whole = body_start_ + static_cast<uint64_t>(l.body_timeout_ms) +
                   body_bytes_ * 1000 / static_cast<uint64_t>(l.body_min_rate);
  uint64_t pause = now + static_cast<uint64_t>(l.body_timeout_ms);
  deadline_ = whole < pause ? whole : pause;
  rearm();
}

int Connection::on_body(llhttp_t* p, const char* at, size_t len) {
  Connection* c = from(p);
  if (c->body_bytes_ + len > static_cast<uint64_t>(c->body_limit_))
    return c->user_error(413, "request body too large");
  c->body_bytes_ += len;
  if (!c->ex_->body_sink) {
    c->ex_->req.body.append(at, len);
    return 0;
  }
  c->sink_buf_.append(at, len);
  if (!c->sink_busy_ && c->sink_buf_.size() >= kSinkPiece) c->flush_sink();
  return 0;
}

void Connection::sink_reset() {
  sink_buf_.clear();
  if (sink_buf_.capacity() > kSinkPiece) std::string().swap(sink_buf_);
  sink_busy_ = false;
}

bool Connection::sink_full() const { return sink_busy_ && sink_buf_.size() >= kSinkPiece; }

bool Connection::sink_wait() {
  if (!ex_->body_sink || (!sink_busy_ && sink_buf_.empty())) return false;
  if (!sink_busy_) flush_sink();
  return true;
}

void Connection::flush_sink() {
  sink_busy_ = true;
  std::string piece = std::move(sink_buf_);
  sink_buf_.clear();
  sink_buf_.reserve(kSinkPiece);
  // The write may end after the connection or the exchange did: the sink
  // then no longer calls back, or this finds the exchange gone or replaced.
  std::weak_ptr<http::Exchange> weak = ex_;
  ex_->body_sink->write(std::move(piece), [weak](int err) {
    http::ExchangePtr ex = weak.lock();
    if (ex && ex->conn_ != nullptr && ex->conn_->ex_ == ex) ex->conn_->sink_written(err);
  });
}

void Connection::sink_written(int err) {
  sink_busy_ = false;
  if (err != 0) return fail(500, "request body could not be stored");
  if (state_ == State::kBody) {
    if (sink_buf_.size() >= kSinkPiece) flush_sink();
    body_deadline();  // the wait for the sink is not the client's pause
    if (!sink_full() && !output_paused_ && !peer_eof_) read_start();
    return;
  }
  if (state_ != State::kHandling) return;
  // The body is complete: the rest of it, then the handler.
  if (!sink_buf_.empty()) return flush_sink();
  dispatch();
}

}  // namespace crewship
