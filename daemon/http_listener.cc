#include "daemon/http_connection.h"

#include <cassert>
#include <cstring>
#include <ctime>

#include <arpa/inet.h>

#include "daemon/log.h"

namespace crewship {

Server::Server(uv_loop_t* loop, ServerOptions options)
    : loop_(loop), options_(std::move(options)), slab_(new char[kReadSlabSize]) {
  std::memset(&listener_, 0, sizeof listener_);
}

Server::~Server() { assert(head_ == nullptr && !listening_); }

int Server::listen_tcp(const std::string& host, int port) {
  struct sockaddr_storage addr;
  int r = uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
  if (r != 0) r = uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr));
  if (r != 0) return r;
  uv_tcp_init(loop_, &listener_.tcp);
  listener_.handle.data = this;
  listening_ = true;
  r = uv_tcp_bind(&listener_.tcp, reinterpret_cast<sockaddr*>(&addr), 0);
  if (r == 0) r = uv_listen(&listener_.stream, 511, on_connection);
  return r;
}

int Server::listen_unix(const std::string& path) {
  is_unix_ = true;
  uv_pipe_init(loop_, &listener_.pipe, 0);
  listener_.handle.data = this;
  listening_ = true;
  int r = uv_pipe_bind(&listener_.pipe, path.c_str());
  if (r == 0) r = uv_listen(&listener_.stream, 511, on_connection);
  return r;
}

int Server::listen_fd(int fd, bool is_unix) {
  is_unix_ = is_unix;
  int r;
  if (is_unix) {
    uv_pipe_init(loop_, &listener_.pipe, 0);
    listening_ = true;
    r = uv_pipe_open(&listener_.pipe, fd);
  } else {
    uv_tcp_init(loop_, &listener_.tcp);
    listening_ = true;
    r = uv_tcp_open(&listener_.tcp, fd);
  }
  listener_.handle.data = this;
  if (r == 0) r = uv_listen(&listener_.stream, 511, on_connection);
  return r;
}

int Server::port() const {
  if (is_unix_ || !listening_) return 0;
  struct sockaddr_storage addr;
  int len = sizeof addr;
  if (uv_tcp_getsockname(&listener_.tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
}

void Server::on_connection(uv_stream_t* listener, int status) {
  auto* s = static_cast<Server*>(listener->data);
  if (status != 0) {
    LOG_WARN("%s: accept failed: %s", s->options_.name.c_str(), uv_strerror(status));
    return;
  }
  auto max = static_cast<size_t>(s->options_.limits.max_connections);
  auto* c = new Connection(s);
  if (c->accept() != 0) return;  // closed and freed through on_close
  if (s->active_ >= max) {
    // Over the cap: a short answer, then close. Far over it (a flood), close
    // without one so rejected connections cannot pile up.
    if (s->count_ > 2 * max + 64) {
      c->close();
    } else {
      c->fail(503, "too many connections");
    }
    return;
  }
  c->counted_ = true;
  ++s->active_;
  c->start();
}

void Server::link(Connection* c) {
  c->next = head_;
  if (head_ != nullptr) head_->prev = c;
  head_ = c;
  ++count_;
}

void Server::unlink(Connection* c) {
  if (c->prev != nullptr) c->prev->next = c->next;
  if (c->next != nullptr) c->next->prev = c->prev;
  if (head_ == c) head_ = c->next;
  --count_;
}

void Server::drain(std::function<void()> done) {
  draining_ = true;
  drained_ = std::move(done);
  if (listening_ && !uv_is_closing(&listener_.handle)) {
    uv_close(&listener_.handle, [](uv_handle_t* h) {
      auto* s = static_cast<Server*>(h->data);
      s->listening_ = false;
      s->maybe_drained();
    });
  }
  for (Connection* c = head_; c != nullptr;) {
    Connection* next = c->next;
    c->drain();
    c = next;
  }
  maybe_drained();
}

void Server::close_all() {
  for (Connection* c = head_; c != nullptr; c = c->next) c->close();
}

void Server::maybe_drained() {
  if (!draining_ || count_ > 0 || listening_ || !drained_) return;
  auto done = std::move(drained_);
  drained_ = nullptr;
  done();
}

const char* Server::date_header() {
  time_t now = time(nullptr);
  if (now != date_second_) {
    date_second_ = now;
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date_, sizeof date_, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  }
  return date_;
}

}  // namespace crewship
