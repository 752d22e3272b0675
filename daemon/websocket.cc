#include "daemon/websocket.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include <nettle/sha1.h>
#include <sodium.h>
#include <wslay/wslay.h>

namespace crewship::ws {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 1.3
constexpr uint64_t kCloseDeadlineMs = 3000;  // a peer that does not answer our close

// Whether a comma-separated header value holds token (case-insensitive).
bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view t = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (http::iequals(t, token)) return true;
  }
  return false;
}

// Frames server messages with wslay's frame layer into a string.
struct Framer {
  wslay_frame_context_ptr ctx = nullptr;
  std::string* out = nullptr;
  Framer() {
    static const wslay_frame_callbacks callbacks = {send, nullptr, nullptr};
    if (wslay_frame_context_init(&ctx, &callbacks, this) != 0) ctx = nullptr;
  }
  ~Framer() {
    if (ctx != nullptr) wslay_frame_context_free(ctx);
  }
  static ssize_t send(const uint8_t* data, size_t len, int, void* user) {
    static_cast<Framer*>(user)->out->append(reinterpret_cast<const char*>(data), len);
    return static_cast<ssize_t>(len);
  }
};

// The wire size of a client frame (always masked) with that payload.
uint64_t client_frame_size(uint64_t payload) {
  return 2 + 4 + payload + (payload < 126 ? 0 : payload <= 0xffff ? 2 : 8);
}

}  // namespace

std::shared_ptr<const std::string> text_frame(std::string_view payload) {
  thread_local Framer framer;
  auto out = std::make_shared<std::string>();
  if (framer.ctx == nullptr) return out;
  out->reserve(payload.size() + 10);
  framer.out = out.get();
  wslay_frame_iocb io{};
  io.fin = 1;
  io.opcode = WSLAY_TEXT_FRAME;
  io.payload_length = payload.size();
  io.data = reinterpret_cast<const uint8_t*>(payload.data());
  io.data_length = payload.size();
  // The send callback takes everything, so one call frames it whole.
  ssize_t n = wslay_frame_send(framer.ctx, &io);
  framer.out = nullptr;
  if (n < 0 || static_cast<size_t>(n) != payload.size()) out->clear();
  return out;
}

bool wants_upgrade(const http::Request& req, std::string* key, std::string* why) {
  auto upgrade = req.header("Upgrade");
  auto connection = req.header("Connection");
  if (req.method != http::Method::kGet || !upgrade || !has_token(*upgrade, "websocket") || !connection ||
      !has_token(*connection, "upgrade")) {
    *why = "a WebSocket handshake is required (Upgrade: websocket)";
    return false;
  }
  auto version = req.header("Sec-WebSocket-Version");
  if (!version || *version != "13") {
    *why = "Sec-WebSocket-Version must be 13";
    return false;
  }
  auto k = req.header("Sec-WebSocket-Key");
  unsigned char raw[32];
  size_t n = 0;
  if (!k || k->size() != 24 ||
      sodium_base642bin(raw, sizeof raw, k->data(), k->size(), nullptr, &n, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      n != 16) {
    *why = "Sec-WebSocket-Key must be 16 bytes in base64";
    return false;
  }
  key->assign(*k);
  return true;
}

std::string accept_key(std::string_view key) {
  struct sha1_ctx sha;
  sha1_init(&sha);
  sha1_update(&sha, key.size(), reinterpret_cast<const uint8_t*>(key.data()));
  sha1_update(&sha, kGuid.size(), reinterpret_cast<const uint8_t*>(kGuid.data()));
  uint8_t digest[SHA1_DIGEST_SIZE];
  sha1_digest(&sha, sizeof digest, digest);
  char out[sodium_base64_ENCODED_LEN(SHA1_DIGEST_SIZE, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(out, sizeof out, digest, sizeof digest, sodium_base64_VARIANT_ORIGINAL);
  return out;
}

http::Response switching_protocols(std::string_view key) {
  http::Response r;
  r.status = 101;
  r.headers.push_back({"Upgrade", "websocket"});
  r.headers.push_back({"Connection", "Upgrade"});
  r.headers.push_back({"Sec-WebSocket-Accept", accept_key(key)});
  return r;
}

// --- Outbox ------------------------------------------------------------------

Outbox::Outbox(uv_loop_t* loop) : check_(new uv_check_t) {
  uv_check_init(loop, check_);
  check_->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(check_));
}

Outbox::~Outbox() { close(); }

void Outbox::close() {
  if (check_ == nullptr) return;
  uv_close(reinterpret_cast<uv_handle_t*>(check_), [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
  check_ = nullptr;
  auto dirty = std::move(dirty_);
  dirty_.clear();
  for (Session* s : dirty) {
    s->scheduled_ = false;
    s->flush();
  }
}

void Outbox::add(Session* s) {
  if (dirty_.empty()) uv_check_start(check_, on_check);
  dirty_.push_back(s);
}

void Outbox::remove(Session* s) { std::erase(dirty_, s); }

void Outbox::on_check(uv_check_t* h) {
  auto* o = static_cast<Outbox*>(h->data);
  auto dirty = std::move(o->dirty_);
  o->dirty_.clear();
  uv_check_stop(h);
  for (Session* s : dirty) {
    s->scheduled_ = false;
    s->flush();
  }
}

// --- Session -----------------------------------------------------------------

Session::Session(uv_loop_t* loop, SessionOptions options) : loop_(loop), options_(std::move(options)) {}

Session::~Session() {
  if (ctx_ != nullptr) wslay_event_context_free(ctx_);
}

bool Session::ensure_context() {
  if (ctx_ != nullptr) return true;
  static const wslay_event_callbacks callbacks = {recv_cb, send_cb, nullptr, frame_start_cb, nullptr, frame_end_cb,
                                                  msg_cb};
  if (wslay_event_context_server_init(&ctx_, &callbacks, this) != 0) {
    ctx_ = nullptr;
    return false;
  }
  wslay_event_config_set_max_recv_msg_length(ctx_, options_.max_message);
  fed_ = framed_ = 0;
  mid_message_ = false;
  return true;
}

// A fresh context is the same as this one when every byte wslay took was a
// whole frame, no fragmented message is under way, nothing waits to be sent
// and no close was queued, received or failed.
void Session::release_if_idle() {
  if (ctx_ == nullptr || closing_ || shut_ || in_recv_ || fed_ != framed_ || mid_message_ || !out_.empty()) return;
  if (wslay_event_want_write(ctx_) || !wslay_event_get_read_enabled(ctx_) || wslay_event_get_close_sent(ctx_) ||
      wslay_event_get_close_received(ctx_))
    return;
  wslay_event_context_free(ctx_);
  ctx_ = nullptr;
}

void Session::on_open(uv_stream_t* stream) {
  stream_ = stream;
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  uv_timer_start(&timer_, on_timer, options_.ping_interval_ms, options_.ping_interval_ms);
}

void Session::on_data(const char* data, size_t len) {
  if (shut_) return;
  if (!ensure_context()) return shut();
  in_ = data;
  in_len_ = len;
  in_recv_ = true;
  int r = wslay_event_recv(ctx_);
  in_recv_ = false;
  in_ = nullptr;
  in_len_ = 0;
  if (r != 0) return shut();
  // The peer closed, or wslay is failing the connection (a bad or oversized
  // frame): no more messages, and a deadline for the close handshake.
  if (!closing_ && !wslay_event_get_read_enabled(ctx_)) {
    closing_ = true;
    uv_timer_start(&timer_, on_timer, kCloseDeadlineMs, 0);
  }
  flush();
}

ssize_t Session::recv_cb(wslay_event_context* ctx, uint8_t* buf, size_t len, int, void* user) {
  auto* s = static_cast<Session*>(user);
  if (s->in_len_ == 0) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  size_t n = std::min(len, s->in_len_);
  std::memcpy(buf, s->in_, n);
  s->in_ += n;
  s->in_len_ -= n;
  s->fed_ += n;
  return static_cast<ssize_t>(n);
}

// Takes the control frames wslay makes (pongs, pings, closes); flush()
// queues them behind the frames already queued.
ssize_t Session::send_cb(wslay_event_context*, const uint8_t* data, size_t len, int, void* user) {
  auto* s = static_cast<Session*>(user);
  s->out_.append(reinterpret_cast<const char*>(data), len);
  return static_cast<ssize_t>(len);
}

void Session::frame_start_cb(wslay_event_context*, const wslay_event_on_frame_recv_start_arg* arg, void* user) {
  auto* s = static_cast<Session*>(user);
  s->frame_size_ = client_frame_size(arg->payload_length);
  s->frame_fin_ = arg->fin != 0;
  // Control frames may come between the fragments of a message.
  if (arg->opcode < WSLAY_CONNECTION_CLOSE) s->mid_message_ = !s->frame_fin_;
}

void Session::frame_end_cb(wslay_event_context*, void* user) {
  auto* s = static_cast<Session*>(user);
  s->framed_ += s->frame_size_;
  s->frame_size_ = 0;
}

void Session::msg_cb(wslay_event_context*, const wslay_event_on_msg_recv_arg* arg, void* user) {
  auto* s = static_cast<Session*>(user);
  switch (arg->opcode) {
    case WSLAY_TEXT_FRAME:
      if (!s->closing_) s->on_text({reinterpret_cast<const char*>(arg->msg), arg->msg_length});
      break;
    case WSLAY_BINARY_FRAME:
      s->close(kUnsupportedData, "text frames only");
      break;
    case WSLAY_PONG:
      s->missed_pongs_ = 0;
      break;
    default:  // pings are answered and closes echoed by wslay itself
      break;
  }
}

bool Session::send(const std::shared_ptr<const std::string>& text) {
  if (closing_ || shut_ || stream_ == nullptr) return false;
  return send_frame(text_frame(*text));
}

bool Session::send_frame(std::shared_ptr<const std::string> frame) {
  if (closing_ || shut_ || stream_ == nullptr || frame->empty()) return false;
  if (queued() + frame->size() > options_.max_queue) {
    on_overflow();
    // The client is dropped: what is not written yet is not worth sending
    // before the close.
    queue_.clear();
    queue_bytes_ = 0;
    close(kTryAgainLater, "outbound queue full");
    return false;
  }
  queue_bytes_ += frame->size();
  queue_.push_back(std::move(frame));
  schedule();
  return true;
}

void Session::close(uint16_t code, std::string_view reason) {
  if (closing_ || shut_ || stream_ == nullptr) return;
  if (!ensure_context()) return shut();
  closing_ = true;
  wslay_event_queue_close(ctx_, code, reinterpret_cast<const uint8_t*>(reason.data()),
                          std::min<size_t>(reason.size(), 122));
  uv_timer_start(&timer_, on_timer, kCloseDeadlineMs, 0);
  flush();
}

void Session::on_drain() { close(kGoingAway, "server shutting down"); }

void Session::schedule() {
  if (scheduled_) return;
  if (options_.outbox && options_.outbox->open()) {
    scheduled_ = true;
    options_.outbox->add(this);
    return;
  }
  flush();
}

// Writes every queued frame at once (one writev of the buffers as they
// are); what the kernel does not take goes in one uv_write, and frames
// queued meanwhile wait for it to finish.
void Session::flush() {
  if (in_recv_ || shut_ || stream_ == nullptr) return;  // after wslay_event_recv returns
  if (ctx_ != nullptr && wslay_event_want_write(ctx_)) {
    if (wslay_event_send(ctx_) != 0 && out_.empty()) return shut();
    if (!out_.empty()) {
      queue_bytes_ += out_.size();
      queue_.push_back(std::make_shared<const std::string>(std::move(out_)));
      out_.clear();
    }
  }
  if (!writing_ && !queue_.empty()) {
    constexpr size_t kStackBufs = 16;
    uv_buf_t stack[kStackBufs];
    std::vector<uv_buf_t> heap;
    uv_buf_t* bufs = stack;
    if (queue_.size() > kStackBufs) {
      heap.resize(queue_.size());
      bufs = heap.data();
    }
    for (size_t i = 0; i < queue_.size(); ++i)
      bufs[i] = uv_buf_init(const_cast<char*>(queue_[i]->data()), static_cast<unsigned>(queue_[i]->size()));
    int sent = uv_try_write(stream_, bufs, static_cast<unsigned>(queue_.size()));
    if (sent < 0 && sent != UV_EAGAIN) return shut();
    size_t done = sent > 0 ? static_cast<size_t>(sent) : 0;
    if (done < queue_bytes_) {
      // Skip what was taken; the rest, from the frame cut in the middle on,
      // stays referenced until its write completes.
      size_t first = 0;
      while (done >= bufs[first].len) done -= bufs[first++].len;
      bufs[first].base += done;
      bufs[first].len -= static_cast<unsigned>(done);
      inflight_.assign(std::make_move_iterator(queue_.begin() + static_cast<ptrdiff_t>(first)),
                       std::make_move_iterator(queue_.end()));
      size_t rest = 0;
      for (size_t i = first; i < queue_.size(); ++i) rest += bufs[i].len;
      write_req_.data = this;
      if (uv_write(&write_req_, stream_, bufs + first, static_cast<unsigned>(queue_.size() - first), on_write) != 0)
        return shut();
      writing_ = true;
      inflight_bytes_ = rest;
    }
    queue_.clear();
    queue_bytes_ = 0;
  }
  finish_if_done();
  release_if_idle();
}

void Session::on_write(uv_write_t* req, int status) {
  auto* s = static_cast<Session*>(req->data);
  s->writing_ = false;
  s->inflight_.clear();
  s->inflight_bytes_ = 0;
  if (status == UV_ECANCELED) return;  // the socket is closing
  if (status != 0) return s->shut();
  s->flush();
}

// The close handshake is over when wslay has sent our close and neither
// reads nor writes any more, and the kernel has taken every byte.
void Session::finish_if_done() {
  if (shut_ || ctx_ == nullptr || writing_ || !queue_.empty() || !out_.empty()) return;
  if (wslay_event_want_read(ctx_) || wslay_event_want_write(ctx_)) return;
  if (wslay_event_get_close_received(ctx_)) return shut();
  // wslay failed the connection without the peer's close: half-close and
  // drop what the peer still sends until its EOF (or the deadline), so that
  // unread bytes here do not make our kernel reset the connection before
  // the peer has read our close frame.
  if (half_closed_) return;
  half_closed_ = true;
  shutdown_req_.data = this;
  if (uv_shutdown(&shutdown_req_, stream_, [](uv_shutdown_t*, int) {}) != 0) shut();
}

void Session::on_timer(uv_timer_t* t) {
  auto* s = static_cast<Session*>(t->data);
  if (s->closing_) return s->shut();
  if (s->missed_pongs_ >= 2) return s->shut();
  if (!s->ensure_context()) return s->shut();
  ++s->missed_pongs_;
  wslay_event_msg ping{WSLAY_PING, nullptr, 0};
  wslay_event_queue_msg(s->ctx_, &ping);
  s->flush();
}

void Session::shut() {
  if (shut_) return;
  shut_ = closing_ = true;
  http::close_upgraded(stream_);
}

void Session::on_closed() {
  shut_ = closing_ = true;
  if (scheduled_ && options_.outbox) options_.outbox->remove(this);
  scheduled_ = false;
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), [](uv_handle_t* h) {
    auto* s = static_cast<Session*>(h->data);
    s->on_gone();
    delete s;
  });
}

}  // namespace crewship::ws
