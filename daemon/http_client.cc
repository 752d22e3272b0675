#include "daemon/http_client.h"

#include <llhttp.h>

namespace crewship::http {

class ClientCall {
 public:
  ClientCall(uv_loop_t* loop, ClientRequest req, ClientCallback done)
      : req_(std::move(req)), done_(std::move(done)) {
    uv_pipe_init(loop, &pipe_, 0);
    uv_timer_init(loop, &timer_);
    pipe_.data = timer_.data = connect_.data = write_.data = this;
    llhttp_settings_init(&settings_);
    settings_.on_header_field = [](llhttp_t* p, const char* at, size_t len) {
      ClientCall* c = static_cast<ClientCall*>(p->data);
      if (!c->field_open_) c->resp_.headers.emplace_back(), c->field_open_ = true;
      c->resp_.headers.back().name.append(at, len);
      return c->resp_.headers.size() > 200 ? static_cast<int>(HPE_USER) : 0;
    };
    settings_.on_header_value = [](llhttp_t* p, const char* at, size_t len) {
      ClientCall* c = static_cast<ClientCall*>(p->data);
      c->field_open_ = false;
      c->resp_.headers.back().value.append(at, len);
      return 0;
    };
    settings_.on_body = [](llhttp_t* p, const char* at, size_t len) {
      ClientCall* c = static_cast<ClientCall*>(p->data);
      if (c->resp_.body.size() + len > c->req_.max_body) {
        c->err_ = UV_E2BIG;
        return static_cast<int>(HPE_USER);
      }
      c->resp_.body.append(at, len);
      return 0;
    };
    settings_.on_message_complete = [](llhttp_t* p) {
      ClientCall* c = static_cast<ClientCall*>(p->data);
      c->resp_.status = p->status_code;
      c->complete_ = true;
      return static_cast<int>(HPE_PAUSED);
    };
    llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
    parser_.data = this;
  }

  void start(uv_loop_t* loop) {
    uv_timer_start(&timer_, [](uv_timer_t* t) { static_cast<ClientCall*>(t->data)->finish(UV_ETIMEDOUT); },
                   req_.timeout_ms, 0);
    (void)loop;
    uv_pipe_connect(&connect_, &pipe_, req_.socket_path.c_str(), [](uv_connect_t* r, int status) {
      ClientCall* c = static_cast<ClientCall*>(r->data);
      if (status == UV_ECANCELED) return;
      if (status != 0) return c->finish(status);
      c->send();
    });
  }

  void finish(int err) {
    if (finished_) return;
    finished_ = true;
    uv_timer_stop(&timer_);
    ClientCallback done = std::move(done_);
    if (err == 0 && !complete_) err = UV_EPROTO;
    done(err, std::move(resp_));
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_close);
    uv_close(reinterpret_cast<uv_handle_t*>(&pipe_), on_close);
  }

 private:
  void send() {
    out_ = req_.method + " " + req_.target + " HTTP/1.1\r\nHost: localhost\r\n";
    if (!req_.body.empty() || req_.method == "POST" || req_.method == "PUT") {
      if (!req_.content_type.empty()) out_ += "Content-Type: " + req_.content_type + "\r\n";
      out_ += "Content-Length: " + std::to_string(req_.body.size()) + "\r\n";
    }
    out_ += "Connection: close\r\n\r\n";
    out_ += req_.body;
    uv_buf_t buf = uv_buf_init(out_.data(), static_cast<unsigned>(out_.size()));
    int r = uv_write(&write_, reinterpret_cast<uv_stream_t*>(&pipe_), &buf, 1,
                     [](uv_write_t* w, int status) {
                       ClientCall* c = static_cast<ClientCall*>(w->data);
                       if (status != 0 && status != UV_ECANCELED) c->finish(status);
                     });
    if (r != 0) return finish(r);
    r = uv_read_start(
        reinterpret_cast<uv_stream_t*>(&pipe_),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          ClientCall* c = static_cast<ClientCall*>(h->data);
          *buf = uv_buf_init(c->buf_, sizeof c->buf_);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          ClientCall* c = static_cast<ClientCall*>(s->data);
          if (n > 0) return c->on_data(buf->base, static_cast<size_t>(n));
          if (n == UV_EOF) {
            // A body delimited by the end of the connection ends here.
            if (!c->complete_ && llhttp_finish(&c->parser_) == HPE_OK && c->complete_) return c->finish(0);
            return c->finish(c->complete_ ? 0 : UV_EPROTO);
          }
          if (n < 0) c->finish(static_cast<int>(n));
        });
    if (r != 0) finish(r);
  }

  void on_data(const char* data, size_t len) {
    if (finished_) return;
    llhttp_errno_t e = llhttp_execute(&parser_, data, len);
    if (complete_) return finish(0);
    if (e != HPE_OK) finish(err_ != 0 ? err_ : UV_EPROTO);
  }

  static void on_close(uv_handle_t* h) {
    ClientCall* c = static_cast<ClientCall*>(h->data);
    if (++c->closed_ == 2) delete c;
  }

  ClientRequest req_;
  ClientCallback done_;
  ClientResponse resp_;
  uv_pipe_t pipe_;
  uv_timer_t timer_;
  uv_connect_t connect_;
  uv_write_t write_;
  llhttp_settings_t settings_;
  llhttp_t parser_;
  std::string out_;
  char buf_[16 * 1024];
  int err_ = 0;
  int closed_ = 0;
  bool field_open_ = false;
  bool complete_ = false;
  bool finished_ = false;
};

ClientCall* request_unix(uv_loop_t* loop, ClientRequest request, ClientCallback done) {
  auto* call = new ClientCall(loop, std::move(request), std::move(done));
  call->start(loop);
  return call;
}

void cancel(ClientCall* call) { call->finish(UV_ECANCELED); }

}  // namespace crewship::http
