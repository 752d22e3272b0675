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
constexpr size_t kInflightRoom = 256 << 10;  // written but not taken, before more is framed

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

}  // namespace

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

// --- Session -----------------------------------------------------------------

struct Session::WriteReq {
  uv_write_t req;
  std::string data;
  Session* session;
};

Session::Session(uv_loop_t* loop, SessionOptions options) : loop_(loop), options_(options) {
  static const wslay_event_callbacks callbacks = {recv_cb, send_cb, nullptr, nullptr, nullptr, nullptr, msg_cb};
  if (wslay_event_context_server_init(&ctx_, &callbacks, this) != 0) ctx_ = nullptr;
  if (ctx_ != nullptr) wslay_event_config_set_max_recv_msg_length(ctx_, options_.max_message);
}

Session::~Session() {
  if (ctx_ != nullptr) wslay_event_context_free(ctx_);
}

void Session::on_open(uv_stream_t* stream) {
  stream_ = stream;
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  if (ctx_ == nullptr) return shut();
  uv_timer_start(&timer_, on_timer, options_.ping_interval_ms, options_.ping_interval_ms);
}

void Session::on_data(const char* data, size_t len) {
  if (shut_) return;
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
  return static_cast<ssize_t>(n);
}

// Takes everything wslay frames: flush() bounds how much is framed at a time
// by calling wslay only while little is in flight, and max_queue bounds what
// wslay holds; a would-block here would leave frames half-prepared inside
// wslay while control frames (pings, our close) are slotted in.
ssize_t Session::send_cb(wslay_event_context*, const uint8_t* data, size_t len, int, void* user) {
  auto* s = static_cast<Session*>(user);
  s->out_.append(reinterpret_cast<const char*>(data), len);
  return static_cast<ssize_t>(len);
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

bool Session::send(std::shared_ptr<const std::string> text) {
  if (closing_ || shut_ || stream_ == nullptr) return false;
  if (queued() + text->size() > options_.max_queue) {
    on_overflow();
    close(kTryAgainLater, "outbound queue full");
    return false;
  }
  pending_.push_back({std::move(text), 0});
  pending_bytes_ += pending_.back().text->size();
  wslay_event_fragmented_msg msg;
  msg.opcode = WSLAY_TEXT_FRAME;
  msg.source.data = &pending_.back();
  // wslay frames the message from our buffer as it sends; nothing is copied
  // until the bytes go out.
  msg.read_callback = [](wslay_event_context*, uint8_t* buf, size_t len, const wslay_event_msg_source* src,
                         int* eof, void* user) -> ssize_t {
    auto* s = static_cast<Session*>(user);
    auto* o = static_cast<Outgoing*>(src->data);
    assert(!s->pending_.empty() && o == &s->pending_.front());
    size_t n = std::min(len, o->text->size() - o->off);
    std::memcpy(buf, o->text->data() + o->off, n);
    o->off += n;
    s->pending_bytes_ -= n;
    if (o->off == o->text->size()) {
      *eof = 1;
      s->pending_.pop_front();
    }
    return static_cast<ssize_t>(n);
  };
  if (wslay_event_queue_fragmented_msg(ctx_, &msg) != 0) {
    pending_bytes_ -= pending_.back().text->size();
    pending_.pop_back();
    return false;
  }
  flush();
  return true;
}

void Session::close(uint16_t code, std::string_view reason) {
  if (closing_ || shut_ || stream_ == nullptr) return;
  closing_ = true;
  wslay_event_queue_close(ctx_, code, reinterpret_cast<const uint8_t*>(reason.data()),
                          std::min<size_t>(reason.size(), 122));
  uv_timer_start(&timer_, on_timer, kCloseDeadlineMs, 0);
  flush();
}

void Session::on_drain() { close(kGoingAway, "server shutting down"); }

void Session::flush() {
  if (in_recv_ || shut_ || stream_ == nullptr) return;  // after wslay_event_recv returns
  while (inflight_bytes_ < kInflightRoom && wslay_event_want_write(ctx_)) {
    if (wslay_event_send(ctx_) != 0 && out_.empty()) return shut();
    if (out_.empty()) break;
    std::string data = std::move(out_);
    out_.clear();
    uv_buf_t buf = uv_buf_init(data.data(), static_cast<unsigned>(data.size()));
    int sent = inflight_bytes_ == 0 ? uv_try_write(stream_, &buf, 1) : UV_EAGAIN;
    if (sent < 0 && sent != UV_EAGAIN) return shut();
    size_t done = sent > 0 ? static_cast<size_t>(sent) : 0;
    if (done == data.size()) continue;
    auto* w = new WriteReq{{}, data.substr(done), this};
    w->req.data = w;
    uv_buf_t rest = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    if (uv_write(&w->req, stream_, &rest, 1, on_write) != 0) {
      delete w;
      return shut();
    }
    inflight_bytes_ += w->data.size();
  }
  finish_if_done();
}

void Session::on_write(uv_write_t* req, int status) {
  auto* w = static_cast<WriteReq*>(req->data);
  Session* s = w->session;
  size_t n = w->data.size();
  delete w;
  if (status == UV_ECANCELED) return;  // the socket is closing
  s->inflight_bytes_ -= n;
  if (status != 0) return s->shut();
  s->flush();
}

// The close handshake is over when wslay has sent our close and neither
// reads nor writes any more, and the kernel has taken every byte.
void Session::finish_if_done() {
  if (shut_ || inflight_bytes_ > 0 || !out_.empty()) return;
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
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), [](uv_handle_t* h) {
    auto* s = static_cast<Session*>(h->data);
    s->on_gone();
    delete s;
  });
}

}  // namespace crewship::ws
