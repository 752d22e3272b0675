#include "daemon/http_client.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include <llhttp.h>

namespace crewship::http {

// Caps on a response head: header fields, and the bytes of a name or a value.
constexpr size_t kMaxHeaders = 200;
constexpr size_t kMaxHeaderText = 16 << 10;

// A connection to the socket. It serves one call at a time; between calls it
// waits in its pool's idle list, still reading so that a close by the engine
// is noticed.
class ClientConn {
 public:
  ClientConn(uv_loop_t* loop, ClientPool* pool) : pool_(pool) {
    uv_pipe_init(loop, &pipe_, 0);
    uv_timer_init(loop, &timer_);
    pipe_.data = timer_.data = connect_.data = this;
  }

  void connect(const std::string& path);
  void close();
  void park(uint64_t idle_ms);  // idle in the pool: closes itself after idle_ms
  void unpark() { uv_timer_stop(&timer_); }

  ClientPool* pool_;
  ClientCall* call_ = nullptr;  // the call it serves; null when idle
  uv_pipe_t pipe_;
  uv_timer_t timer_;
  uv_connect_t connect_;
  bool connected_ = false;
  bool reused_ = false;
  bool closing_ = false;
  int open_handles_ = 2;
  char buf_[64 * 1024];
};

class ClientCall {
 public:
  ClientCall(uv_loop_t* loop, ClientPool* pool, ClientRequest req, ClientCallbacks cb)
      : loop_(loop), pool_(pool), req_(std::move(req)), cb_(std::move(cb)) {
    uv_timer_init(loop, &timer_);
    timer_.data = this;
    write_.data = this;
    llhttp_settings_init(&settings_);
    settings_.on_header_field = on_header_field;
    settings_.on_header_value = on_header_value;
    settings_.on_headers_complete = on_headers_complete;
    settings_.on_body = on_body;
    settings_.on_message_complete = on_message_complete;
  }

  void start(const std::string& socket_path, ClientConn* idle) {
    socket_path_ = socket_path;
    started_ms_ = uv_now(loop_);
    uint64_t head = req_.head_timeout_ms != 0 ? req_.head_timeout_ms : req_.timeout_ms;
    if (head != 0) uv_timer_start(&timer_, on_timeout, head, 0);
    attach(idle);
  }

  // Ends the call: the connection goes back to the pool when it can carry
  // another request, else it closes; then done runs.
  void finish(int err) {
    if (finished_) return;
    finished_ = true;
    uv_timer_stop(&timer_);
    if (err == 0 && !complete_) err = UV_EPROTO;
    if (conn_ != nullptr) {
      ClientConn* c = conn_;
      conn_ = nullptr;
      c->call_ = nullptr;
      bool reusable = err == 0 && pool_ != nullptr && llhttp_should_keep_alive(&parser_) != 0 &&
                      !req_.long_lived;
      if (reusable) {
        pool_->give_back(c);
      } else {
        c->close();
      }
    }
    if (pool_ != nullptr) pool_->finished(this);
    // on_head or on_data may be the caller (a cancel() from inside them):
    // they live on until the call is deleted, finished_ keeps them silent.
    auto done = std::exchange(cb_.done, nullptr);
    if (done) done(err, std::move(resp_));
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), [](uv_handle_t* h) {
      auto* c = static_cast<ClientCall*>(h->data);
      c->timer_closed_ = true;
      c->maybe_delete();
    });
  }

  // The call outlives its done callback until its timer has closed and its
  // write request has come back (cancelled writes report after the close).
  void maybe_delete() {
    if (timer_closed_ && !writing_) delete this;
  }

  void on_connected(int status) {
    if (status != 0) return failed(status);
    send();
  }

  void on_read(const char* data, size_t len) {
    got_bytes_ = true;
    llhttp_errno_t e = llhttp_execute(&parser_, data, len);
    if (finished_) return;
    if (complete_) return finish(0);
    if (e != HPE_OK) finish(err_ != 0 ? err_ : UV_EPROTO);
  }

  // The connection ended (EOF or an error) before the response was complete.
  void on_eof(int status) {
    if (finished_) return;
    // A body delimited by the end of the connection ends here.
    if (status == UV_EOF && got_bytes_) {
      llhttp_finish(&parser_);  // HPE_PAUSED when it completed the message
      if (complete_) return finish(0);
    }
    failed(status == UV_EOF && got_bytes_ ? UV_EPROTO : status);
  }

  const ClientRequest& request() const { return req_; }
  bool finished() const { return finished_; }

 private:
  static ClientCall* from(llhttp_t* p) { return static_cast<ClientCall*>(p->data); }

  void attach(ClientConn* conn) {
    llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
    parser_.data = this;
    resp_ = {};
    field_open_ = interim_ = complete_ = got_bytes_ = false;
    if (conn == nullptr) {
      conn = new ClientConn(loop_, pool_);
      conn->call_ = this;
      conn_ = conn;
      conn->connect(socket_path_);
      return;
    }
    conn->call_ = this;
    conn_ = conn;
    send();
  }

  // A connection taken from the pool may have been closed by the engine
  // meanwhile; when nothing came back on it, the request goes once more on a
  // fresh connection. When the close is seen before the write to the old one
  // has reported back (its EOF read comes first), the resend waits for that
  // report: write_ serves one write at a time.
  void failed(int err) {
    if (finished_) return;
    if (conn_ != nullptr && conn_->reused_ && !got_bytes_ && !retried_) {
      retried_ = true;
      ClientConn* old = conn_;
      old->call_ = nullptr;
      conn_ = nullptr;
      old->close();
      if (writing_) {
        resend_ = true;
        return;
      }
      return attach(nullptr);
    }
    finish(err);
  }

  void send() {
    out_ = req_.method + " " + req_.target + " HTTP/1.1\r\nHost: localhost\r\n";
    if (!req_.body.empty() || req_.method == "POST" || req_.method == "PUT") {
      if (!req_.content_type.empty()) out_ += "Content-Type: " + req_.content_type + "\r\n";
      out_ += "Content-Length: " + std::to_string(req_.body.size()) + "\r\n";
    }
    if (pool_ == nullptr || req_.long_lived) out_ += "Connection: close\r\n";
    out_ += "\r\n";
    out_ += req_.body;
    uv_buf_t buf = uv_buf_init(out_.data(), static_cast<unsigned>(out_.size()));
    int r = uv_write(&write_, reinterpret_cast<uv_stream_t*>(&conn_->pipe_), &buf, 1,
                     [](uv_write_t* w, int status) {
                       auto* c = static_cast<ClientCall*>(w->data);
                       c->writing_ = false;
                       if (std::exchange(c->resend_, false) && !c->finished_) {
                         c->attach(nullptr);
                       } else if (status != 0 && !c->finished_) {
                         c->failed(status);
                       }
                       c->maybe_delete();
                     });
    if (r != 0) return failed(r);
    writing_ = true;
  }

  static int on_header_field(llhttp_t* p, const char* at, size_t len) {
    ClientCall* c = from(p);
    if (!c->field_open_) c->resp_.headers.emplace_back(), c->field_open_ = true;
    std::string& name = c->resp_.headers.back().name;
    if (c->resp_.headers.size() > kMaxHeaders || name.size() + len > kMaxHeaderText)
      return static_cast<int>(HPE_USER);
    name.append(at, len);
    return 0;
  }
  static int on_header_value(llhttp_t* p, const char* at, size_t len) {
    ClientCall* c = from(p);
    c->field_open_ = false;
    if (c->resp_.headers.empty() || c->resp_.headers.back().value.size() + len > kMaxHeaderText)
      return static_cast<int>(HPE_USER);
    c->resp_.headers.back().value.append(at, len);
    return 0;
  }
  static int on_headers_complete(llhttp_t* p) {
    ClientCall* c = from(p);
    // An interim response (100 Continue, 103 Early Hints; 101 ends HTTP)
    // comes before the final one, without a body (RFC 9110, 15.2).
    if (p->status_code >= 100 && p->status_code < 200 && p->status_code != 101) {
      c->interim_ = true;
      return 1;
    }
    c->resp_.status = p->status_code;
    // The head is in: from now on only the whole-call deadline applies.
    uv_timer_stop(&c->timer_);
    if (c->req_.timeout_ms != 0) {
      uint64_t spent = uv_now(c->loop_) - c->started_ms_;
      uint64_t left = spent < c->req_.timeout_ms ? c->req_.timeout_ms - spent : 1;
      uv_timer_start(&c->timer_, on_timeout, left, 0);
    }
    if (c->cb_.on_head) c->cb_.on_head(c->resp_);
    return c->finished_ ? static_cast<int>(HPE_USER) : 0;
  }
  static int on_body(llhttp_t* p, const char* at, size_t len) {
    ClientCall* c = from(p);
    if (c->finished_) return static_cast<int>(HPE_USER);
    if (c->cb_.on_data) {
      c->cb_.on_data(std::string_view(at, len));
      return c->finished_ ? static_cast<int>(HPE_USER) : 0;
    }
    if (c->resp_.body.size() + len > c->req_.max_body) {
      c->err_ = UV_E2BIG;
      return static_cast<int>(HPE_USER);
    }
    c->resp_.body.append(at, len);
    return 0;
  }
  static int on_message_complete(llhttp_t* p) {
    ClientCall* c = from(p);
    if (c->interim_) {  // its head is dropped; the final response follows
      c->interim_ = false;
      c->resp_.headers.clear();
      return 0;
    }
    c->complete_ = true;
    return static_cast<int>(HPE_PAUSED);
  }
  static void on_timeout(uv_timer_t* t) { static_cast<ClientCall*>(t->data)->finish(UV_ETIMEDOUT); }

  uv_loop_t* loop_;
  ClientPool* pool_;  // null: a connection of its own
  ClientRequest req_;
  ClientCallbacks cb_;
  ClientResponse resp_;
  std::string socket_path_;
  ClientConn* conn_ = nullptr;
  uv_timer_t timer_;
  uv_write_t write_;
  llhttp_settings_t settings_;
  llhttp_t parser_;
  std::string out_;
  int err_ = 0;
  bool field_open_ = false;
  bool interim_ = false;  // parsing a 1xx response
  bool complete_ = false;
  bool got_bytes_ = false;
  bool retried_ = false;
  bool resend_ = false;  // the retry waits for the write to the old connection
  bool finished_ = false;
  bool writing_ = false;
  bool timer_closed_ = false;
  uint64_t started_ms_ = 0;
};

// --- ClientConn --------------------------------------------------------------

void ClientConn::connect(const std::string& path) {
  uv_pipe_connect(&connect_, &pipe_, path.c_str(), [](uv_connect_t* r, int status) {
    auto* c = static_cast<ClientConn*>(r->data);
    if (status == UV_ECANCELED || c->closing_) return;
    if (status == 0) {
      c->connected_ = true;
      int rr = uv_read_start(
          reinterpret_cast<uv_stream_t*>(&c->pipe_),
          [](uv_handle_t* h, size_t, uv_buf_t* buf) {
            auto* conn = static_cast<ClientConn*>(h->data);
            *buf = uv_buf_init(conn->buf_, sizeof conn->buf_);
          },
          [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
            auto* conn = static_cast<ClientConn*>(s->data);
            if (n == 0) return;
            ClientCall* call = conn->call_;
            if (call == nullptr) return conn->close();  // the engine closed an idle connection, or spoke out of turn
            if (n > 0) return call->on_read(buf->base, static_cast<size_t>(n));
            conn->call_ = nullptr;
            conn->close();
            call->on_eof(static_cast<int>(n));
          });
      if (rr != 0) status = rr;
    }
    if (c->call_ != nullptr) c->call_->on_connected(status);
  });
}

void ClientConn::park(uint64_t idle_ms) {
  reused_ = true;
  uv_timer_start(&timer_, [](uv_timer_t* t) { static_cast<ClientConn*>(t->data)->close(); }, idle_ms, 0);
}

void ClientConn::close() {
  if (closing_) return;
  closing_ = true;
  if (pool_ != nullptr) pool_->forget(this);
  auto on_close = [](uv_handle_t* h) {
    auto* c = static_cast<ClientConn*>(h->data);
    if (--c->open_handles_ == 0) delete c;
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&pipe_), on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_close);
}

// --- ClientPool --------------------------------------------------------------

ClientPool::ClientPool(uv_loop_t* loop, std::string socket_path, ClientLimits limits)
    : loop_(loop), socket_path_(std::move(socket_path)), limits_(limits) {}

ClientPool::~ClientPool() { assert(calls_.empty() && idle_.empty()); }

void ClientPool::set_socket_path(std::string path) {
  if (path == socket_path_) return;
  socket_path_ = std::move(path);
  while (!idle_.empty()) idle_.back()->close();  // they lead to the old socket
}

ClientCall* ClientPool::request(ClientRequest request, ClientCallbacks callbacks) {
  if (!request.long_lived) {
    if (in_flight_ >= limits_.max_in_flight) return nullptr;
    if (!request.key.empty() && per_key_[request.key] >= limits_.max_in_flight_per_key) return nullptr;
    ++in_flight_;
    if (!request.key.empty()) ++per_key_[request.key];
  }
  auto* call = new ClientCall(loop_, this, std::move(request), std::move(callbacks));
  calls_.push_back(call);
  call->start(socket_path_, take_idle());
  return call;
}

void ClientPool::cancel(ClientCall* call) { call->finish(UV_ECANCELED); }

void ClientPool::close() {
  while (!calls_.empty()) calls_.back()->finish(UV_ECANCELED);
  while (!idle_.empty()) idle_.back()->close();
}

ClientConn* ClientPool::take_idle() {
  if (idle_.empty()) return nullptr;
  ClientConn* c = idle_.back();
  idle_.pop_back();
  c->unpark();
  return c;
}

void ClientPool::give_back(ClientConn* conn) {
  if (conn->closing_) return;
  if (idle_.size() >= limits_.max_idle || !conn->connected_) return conn->close();
  idle_.push_back(conn);
  conn->park(limits_.idle_timeout_ms);
}

void ClientPool::forget(ClientConn* conn) { std::erase(idle_, conn); }

void ClientPool::finished(ClientCall* call) {
  std::erase(calls_, call);
  const ClientRequest& r = call->request();
  if (r.long_lived) return;
  --in_flight_;
  if (!r.key.empty()) {
    auto it = per_key_.find(r.key);
    if (it != per_key_.end() && --it->second == 0) per_key_.erase(it);
  }
}

// --- One-shot calls ----------------------------------------------------------

ClientCall* request_unix(uv_loop_t* loop, const std::string& socket_path, ClientRequest request,
                         ClientCallbacks callbacks) {
  auto* call = new ClientCall(loop, nullptr, std::move(request), std::move(callbacks));
  call->start(socket_path, nullptr);
  return call;
}

void cancel(ClientCall* call) { call->finish(UV_ECANCELED); }

}  // namespace crewship::http
