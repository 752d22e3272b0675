#include "daemon/http_connection.h"

#include <algorithm>
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
    // EMFILE, ENFILE and the like: counted and summed up in the log, which a
    // flood of them must not fill; the listener stays.
    s->note(kAcceptFailed, status);
    return;
  }
  const HttpLimits& limits = s->options_.limits;
  auto max = static_cast<size_t>(limits.max_connections);
  auto* c = new Connection(s);
  if (c->accept() != 0) return;  // closed and freed through on_close
  // One peer cannot take every place: those over its own cap are closed at
  // once, without an answer, before they cost more than the accept.
  if (!s->admit_peer(c)) {
    s->note(kOverPeerCap);
    c->close();
    return;
  }
  if (s->active_ >= max) {
    // Over the cap: a short answer, then close. Far over it (a flood), close
    // without one so rejected connections cannot pile up.
    s->note(kOverCap);
    if (s->count_ > 2 * max + 64) {
      c->close();
    } else {
      c->fail(503, "too many connections");
    }
    return;
  }
  c->counted_ = true;
  ++s->active_;
  s->pool_unauthenticated(c);
  c->start();
}

bool Server::admit_peer(Connection* c) {
  uint32_t& n = per_peer_[c->peer_key];
  if (n >= static_cast<uint64_t>(options_.limits.max_connections_per_peer)) return false;
  ++n;
  c->peer_counted_ = true;
  return true;
}

void Server::release_peer(Connection* c) {
  if (!c->peer_counted_) return;
  c->peer_counted_ = false;
  auto it = per_peer_.find(c->peer_key);
  if (it != per_peer_.end() && --it->second == 0) per_peer_.erase(it);
}

// A new connection cannot be told from an attacker's before it sends a
// request, so it is always let in: when the pool of those not yet
// authenticated is full, the oldest of them (not one being answered) makes
// room. Authenticated ones keep the rest of max_connections.
void Server::pool_unauthenticated(Connection* c) {
  int64_t cap = std::min(options_.limits.max_unauthenticated, options_.limits.max_connections / 2);
  if (options_.limits.max_unauthenticated <= 0) return;
  if (cap < 1) cap = 1;
  for (Connection* old = unauth_head_; old != nullptr && unauth_count_ >= static_cast<size_t>(cap);) {
    Connection* next = old->unauth_next;
    if (!old->handling()) {
      unpool(old);
      note(kEvicted);
      old->close();
    }
    old = next;
  }
  c->in_unauth_pool = true;
  c->unauth_prev = unauth_tail_;
  c->unauth_next = nullptr;
  if (unauth_tail_ != nullptr) {
    unauth_tail_->unauth_next = c;
  } else {
    unauth_head_ = c;
  }
  unauth_tail_ = c;
  ++unauth_count_;
}

void Server::trust(Connection* c) { unpool(c); }

void Server::unpool(Connection* c) {
  if (!c->in_unauth_pool) return;
  c->in_unauth_pool = false;
  if (c->unauth_prev != nullptr) c->unauth_prev->unauth_next = c->unauth_next;
  if (c->unauth_next != nullptr) c->unauth_next->unauth_prev = c->unauth_prev;
  if (unauth_head_ == c) unauth_head_ = c->unauth_next;
  if (unauth_tail_ == c) unauth_tail_ = c->unauth_prev;
  c->unauth_prev = c->unauth_next = nullptr;
  --unauth_count_;
}

void Server::note(Counter what, int err) {
  ++counters_[what];
  uint64_t now = uv_now(loop_);
  if (noted_ && now - noted_at_ms_ < 60'000) return;
  noted_ = true;
  noted_at_ms_ = now;
  const char* name = options_.name.c_str();
  auto n = [this](Counter k) { return static_cast<unsigned long long>(counters_[k]); };
  if (what == kAcceptFailed) {
    LOG_WARN("%s: accept failed: %s (%llu accepts failed since start; logged at most once a minute)",
             name, uv_strerror(err), n(kAcceptFailed));
  } else {
    LOG_WARN("%s: connections refused since start: %llu over the per-peer cap, %llu over the "
             "listener's cap, %llu unauthenticated closed for newer ones (logged at most once a minute)",
             name, n(kOverPeerCap), n(kOverCap), n(kEvicted));
  }
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
