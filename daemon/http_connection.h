// The server's connection: one accepted socket, its llhttp parser and the
// exchange being read or answered. Private to the HTTP server's files
// (http_connection.cc reads requests, http_response.cc writes answers,
// http_listener.cc accepts); handlers see only Exchange.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <llhttp.h>
#include <uv.h>

#include "daemon/http_server.h"

namespace crewship {

// The read buffer every connection of a server shares (see on_alloc).
constexpr size_t kReadSlabSize = 64 * 1024;

struct WriteReq;  // one queued uv_write and the bytes it owns (http_response.cc)

class Connection {
 public:
  explicit Connection(Server* server);
  int accept(int fd);  // takes fd, an accepted socket
  void start();
  void respond(http::Exchange* ex, http::Response&& response);
  void stream_head(http::Exchange* ex, int status, std::string_view content_type, std::vector<http::Header> headers);
  bool stream_chunk(std::string_view data);
  void stream_end();
  size_t queued() const { return queued_; }
  void close();
  // Ends an idle connection now; marks a busy one to close after its response.
  void drain();
  void fail(int status, std::string_view detail);
  bool upgrade(http::Exchange* ex, http::Response&& head, http::Upgraded* to);

  Connection* prev = nullptr;
  Connection* next = nullptr;
  // The listener's pool of connections no request of which passed the guard
  // yet, oldest first (only when limits.max_unauthenticated is set).
  Connection* unauth_prev = nullptr;
  Connection* unauth_next = nullptr;
  bool in_unauth_pool = false;
  bool counted_ = false;  // holds one of the listener's max_connections places
  bool peer_counted_ = false;  // counted in the listener's per-peer table
  std::string peer_key;        // the peer's address, or its uid and pid
  bool handling() const { return state_ == State::kHandling; }

 private:
  enum class State : uint8_t { kIdle, kHeaders, kBody, kHandling, kLinger, kUpgraded, kClosed };

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

  void new_exchange();
  int user_error(int status, const char* detail);
  size_t feed(const char* data, size_t len);
  void feed_pending();
  void dispatch();
  // Sends head and then body, or shared when it is set.
  void write(std::string head, std::string body, std::shared_ptr<const std::string> shared = {});
  std::string response_head(http::Exchange* ex, const http::Response& r, bool close, bool chunked);
  void after_response();
  void linger();
  void refuse(http::Response&& r, bool keep_head);
  // One timer serves two deadlines: the state's (headers, body, idle, linger)
  // and the send deadline, send_timeout after the oldest unsent write.
  void set_deadline(uint64_t ms);
  void clear_deadline();
  void rearm();
  bool send_overdue(uint64_t now) const;
  void body_deadline();
  void resume_after_output();
  // The route's body sink (http_body.cc).
  void sink_reset();
  bool sink_full() const;     // a piece is being written and the next is full
  // The body is complete: true while the sink still has bytes to write,
  // the last of which it is handed now.
  bool sink_wait();
  void flush_sink();
  void sink_written(int err);
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
  http::ExchangePtr ex_;    // the request being read or handled
  http::Upgraded* upgraded_ = nullptr;  // the protocol it switched to
  std::string pending_;     // received bytes not parsed yet
  size_t header_bytes_ = 0;
  int64_t body_limit_ = 0;
  int error_status_ = 0;
  const char* error_detail_ = nullptr;
  int writes_ = 0;          // uv_write requests in flight
  size_t queued_ = 0;       // bytes of those
  WriteReq* wq_head_ = nullptr;  // those requests, oldest first
  WriteReq* wq_tail_ = nullptr;
  uint64_t deadline_ = 0;        // the state's deadline (uv_now ms), 0: none
  uint64_t timer_due_ = 0;       // when timer_ fires (uv_now ms), 0: not armed
  uint64_t body_start_ = 0;      // uv_now ms of the headers' end
  uint64_t body_bytes_ = 0;      // body bytes received
  http::Response refusal_;       // a request refused at its headers, no body
  int open_handles_ = 0;
  bool field_open_ = false;
  bool reading_ = false;
  bool in_feed_ = false;
  bool peer_eof_ = false;
  bool close_after_ = false;
  bool peer_is_local_ = false;
  char peer_address_[46] = {};
  bool refused_ = false;         // refusal_ is the answer
  const char* feed_begin_ = nullptr;  // the bytes llhttp is parsing (feed)
  char last_seen_ = 0;  // last byte before them that is not a space or tab
  bool output_paused_ = false;   // not reading until the unsent bytes drain
  std::string sink_buf_;         // body bytes for the sink's next piece
  bool sink_busy_ = false;       // the sink is writing a piece
};

}  // namespace crewship
