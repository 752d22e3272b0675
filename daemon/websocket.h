// WebSocket (RFC 6455) on an upgraded server connection: the handshake's
// checks and Sec-WebSocket-Accept (SHA-1 from nettle), and a session whose
// framing, masking, fragmentation, control frames and close codes are
// wslay's. Knows no application: a protocol subclasses Session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "daemon/http.h"
#include "daemon/http_server.h"

struct wslay_event_context;
struct wslay_event_on_msg_recv_arg;
struct wslay_event_on_frame_recv_start_arg;

namespace crewship::ws {

// Close codes this server sends (RFC 6455 7.4.1).
constexpr uint16_t kGoingAway = 1001;
constexpr uint16_t kUnsupportedData = 1003;
constexpr uint16_t kPolicyViolation = 1008;
constexpr uint16_t kTooBig = 1009;
constexpr uint16_t kTryAgainLater = 1013;

// Whether req asks for a WebSocket (GET, Upgrade: websocket, Connection:
// upgrade, Sec-WebSocket-Version: 13, a 16-byte base64 key); on success
// *key is the client's key, otherwise *why says what is wrong.
bool wants_upgrade(const http::Request& req, std::string* key, std::string* why);
// base64(SHA-1(key + the RFC's GUID)).
std::string accept_key(std::string_view key);
// The 101 answer to a handshake with that key.
http::Response switching_protocols(std::string_view key);

// A whole unmasked text frame (header and payload, framed by wslay) around
// payload: made once per message, its buffer then shared by every session
// it goes to (Session::send_frame).
std::shared_ptr<const std::string> text_frame(std::string_view payload);

class Session;

// Sessions with frames queued in this loop turn, written after the turn's
// I/O callbacks (a uv_check), so that a session gets one write per turn for
// every frame queued in it. Loop thread only.
class Outbox {
 public:
  explicit Outbox(uv_loop_t* loop);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;
  // From now on sessions write at once (before the loop closes).
  void close();
  bool open() const { return check_ != nullptr; }

 private:
  friend class Session;
  void add(Session* s);
  void remove(Session* s);
  static void on_check(uv_check_t* h);

  uv_check_t* check_ = nullptr;
  std::vector<Session*> dirty_;
};

struct SessionOptions {
  size_t max_message = 64 << 10;   // a larger client message closes with 1009
  size_t max_queue = 1 << 20;      // unsent bytes beyond it close with 1013
  uint64_t ping_interval_ms = 30000;  // a peer that misses two pongs is closed
  // Batches writes per loop turn; without it every send writes at once.
  std::shared_ptr<Outbox> outbox;
};

// One WebSocket connection. Make it with new, hand it to Exchange::upgrade();
// it deletes itself after on_gone(). Loop thread only.
class Session : public http::Upgraded {
 public:
  Session(uv_loop_t* loop, SessionOptions options);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Queues a text message (framed here, a copy). False once the session is
  // closing, or when the message would take the queue past max_queue: then
  // on_overflow() ran, what was not written yet is dropped and the session
  // closes with 1013.
  bool send(const std::shared_ptr<const std::string>& text);
  // The same with a frame of text_frame(): its buffer is written as it is,
  // never copied, so one serialisation serves every session it goes to.
  bool send_frame(std::shared_ptr<const std::string> frame);
  // Starts the close handshake; the socket ends when it is done (or after a
  // short deadline).
  void close(uint16_t code, std::string_view reason);
  // Unsent bytes: queued frames and writes the kernel has not taken.
  size_t queued() const { return queue_bytes_ + inflight_bytes_; }
  bool closing() const { return closing_; }

 protected:
  // A complete text message from the peer.
  virtual void on_text(std::string_view text) = 0;
  // The queue cap was hit (before the 1013 close).
  virtual void on_overflow() {}
  // The socket is closed; nothing more is sent or received. The last call.
  virtual void on_gone() {}

 private:
  friend class Outbox;

  void on_open(uv_stream_t* stream) override;
  void on_data(const char* data, size_t len) override;
  void on_drain() override;
  void on_closed() override;

  static ssize_t recv_cb(wslay_event_context* ctx, uint8_t* buf, size_t len, int flags, void* user);
  static ssize_t send_cb(wslay_event_context* ctx, const uint8_t* data, size_t len, int flags,
                         void* user);
  static void msg_cb(wslay_event_context* ctx, const struct wslay_event_on_msg_recv_arg* arg, void* user);
  static void frame_start_cb(wslay_event_context* ctx, const struct wslay_event_on_frame_recv_start_arg* arg,
                             void* user);
  static void frame_end_cb(wslay_event_context* ctx, void* user);
  static void on_write(uv_write_t* req, int status);
  static void on_timer(uv_timer_t* t);
  bool ensure_context();
  void release_if_idle();
  void schedule();
  void flush();
  void finish_if_done();
  void shut();

  uv_loop_t* loop_;
  SessionOptions options_;
  // wslay's context (two 4 KiB buffers) exists only while the peer's bytes
  // or our control frames are under way: an idle session holds none.
  wslay_event_context* ctx_ = nullptr;
  uv_stream_t* stream_ = nullptr;
  uv_timer_t timer_;
  uv_shutdown_t shutdown_req_;
  const char* in_ = nullptr;  // bytes on_data handed to wslay_event_recv
  size_t in_len_ = 0;
  uint64_t fed_ = 0;          // bytes wslay took since its context was made
  uint64_t framed_ = 0;       // of those, the bytes of whole frames
  uint64_t frame_size_ = 0;   // the frame being received, header included
  std::string out_;           // control frames wslay produced, not yet queued
  std::vector<std::shared_ptr<const std::string>> queue_;  // whole frames, not yet written
  size_t queue_bytes_ = 0;
  // The frames of the one uv_write under way (when the kernel did not take a
  // flush whole), and its bytes not yet taken.
  uv_write_t write_req_;
  std::vector<std::shared_ptr<const std::string>> inflight_;
  size_t inflight_bytes_ = 0;
  int missed_pongs_ = 0;
  bool writing_ = false;   // a uv_write is under way
  bool scheduled_ = false; // in the outbox for this turn
  bool frame_fin_ = false; // the frame being received ends its message
  bool mid_message_ = false;  // a fragmented message is under way
  bool closing_ = false;   // close queued: no more messages
  bool shut_ = false;      // the socket close was asked for
  bool in_recv_ = false;
  bool half_closed_ = false;
};

}  // namespace crewship::ws
