#include "daemon/http_connection.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/log.h"

namespace crewship {

// Takes an accepted socket and learns who is on the other end.
int Connection::accept(int fd) {
  int r;
  if (server_->is_unix_) {
    uv_pipe_init(server_->loop_, &h_.pipe, 0);
    r = uv_pipe_open(&h_.pipe, fd);
  } else {
    uv_tcp_init(server_->loop_, &h_.tcp);
    r = uv_tcp_open(&h_.tcp, fd);
  }
  h_.handle.data = this;
  ++open_handles_;
  uv_timer_init(server_->loop_, &timer_);
  timer_.data = this;
  ++open_handles_;
  server_->link(this);
  if (r != 0) {
    ::close(fd);
    close();
    return r;
  }
  if (server_->is_unix_) {
    peer_is_local_ = true;
    // A Unix peer is the process that connected: its uid and pid.
    uv_os_fd_t fd;
    struct ucred cred{};
    socklen_t len = sizeof cred;
    if (uv_fileno(&h_.handle, &fd) == 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
      char key[32];
      int n = std::snprintf(key, sizeof key, "%u:%d", static_cast<unsigned>(cred.uid), static_cast<int>(cred.pid));
      peer_key.assign(key, static_cast<size_t>(n));
    }
  } else {
    uv_tcp_nodelay(&h_.tcp, 1);
    struct sockaddr_storage peer;
    int len = sizeof peer;
    if (uv_tcp_getpeername(&h_.tcp, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
      if (peer.ss_family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&peer);
        peer_is_local_ = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
        uv_inet_ntop(AF_INET, &in->sin_addr, peer_address_, sizeof peer_address_);
        peer_key.assign(reinterpret_cast<const char*>(&in->sin_addr), sizeof in->sin_addr);
      } else if (peer.ss_family == AF_INET6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&peer);
        peer_key.assign(reinterpret_cast<const char*>(&in6->sin6_addr), sizeof in6->sin6_addr);
        peer_is_local_ = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
                         (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127);
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
          uv_inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], peer_address_, sizeof peer_address_);
        } else {
          uv_inet_ntop(AF_INET6, &in6->sin6_addr, peer_address_, sizeof peer_address_);
        }
      }
    }
  }
  return 0;
}

Server::Server(uv_loop_t* loop, ServerOptions options)
    : loop_(loop), options_(std::move(options)), slab_(new char[kReadSlabSize]) {}

Server::~Server() {
  assert(head_ == nullptr && !listening_);
  if (reserve_fd_ >= 0) close(reserve_fd_);
}

namespace {

int fail_with(int fd) {
  int err = -errno;
  close(fd);
  return err;
}

}  // namespace

int Server::listen_tcp(const std::string& host, int port) {
  struct sockaddr_storage addr;
  int r = uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
  if (r != 0) r = uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr));
  if (r != 0) return r;
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1;  // as libuv binds: a restart does not wait for TIME_WAIT
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  socklen_t len = addr.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) return fail_with(fd);
  return start_accepting(fd);
}

int Server::listen_unix(const std::string& path) {
  is_unix_ = true;
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return UV_ENAMETOOLONG;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail_with(fd);
  return start_accepting(fd);
}

int Server::listen_fd(int fd, bool is_unix) {
  is_unix_ = is_unix;
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return -errno;
  return start_accepting(fd);
}

int Server::start_accepting(int fd) {
  if (listen(fd, 511) != 0) return fail_with(fd);
  if (reserve_fd_ < 0) reserve_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  listen_fd_ = fd;
  uv_poll_init(loop_, &poll_, fd);
  uv_timer_init(loop_, &retry_);
  poll_.data = retry_.data = this;
  listen_handles_ = 2;
  listening_ = true;
  return uv_poll_start(&poll_, UV_READABLE, on_acceptable);
}

int Server::port() const {
  if (is_unix_ || !listening_) return 0;
  struct sockaddr_storage addr;
  socklen_t len = sizeof addr;
  if (getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
}

void Server::on_acceptable(uv_poll_t* p, int status, int) {
  auto* s = static_cast<Server*>(p->data);
  if (status != 0) return s->shed_backlog(status);
  // A bounded batch per loop turn, so a flood of connections does not starve
  // the connections already open.
  for (int i = 0; i < 128 && !s->draining_; ++i) {
    int fd = accept4(s->listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      s->accept_one(fd);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) s->shed_backlog(-errno);
    return;
  }
}

// accept() failed: EMFILE, ENFILE, ENOBUFS... Counted and summed up in the
// log, which a flood of them must not fill. Out of descriptors, the reserve is
// given up to accept and close what waits, so those clients learn at once and
// the listener does not spin; accepting pauses briefly either way, and the
// listener stays.
void Server::shed_backlog(int err) {
  note(kAcceptFailed, err);
  if ((err == UV_EMFILE || err == UV_ENFILE) && reserve_fd_ >= 0) {
    close(reserve_fd_);
    for (int fd; (fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) close(fd);
    reserve_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  uv_poll_stop(&poll_);
  uv_timer_start(&retry_, [](uv_timer_t* t) {
    auto* s = static_cast<Server*>(t->data);
    if (s->listening_ && !s->draining_) uv_poll_start(&s->poll_, UV_READABLE, on_acceptable);
  }, 100, 0);
}

void Server::accept_one(int fd) {
  auto max = static_cast<size_t>(options_.limits.max_connections);
  auto* c = new Connection(this);
  if (c->accept(fd) != 0) return;  // closed and freed through on_close
  // One peer cannot take every place: those over its own cap are closed at
  // once, without an answer.
  if (!admit_peer(c)) {
    note(kOverPeerCap);
    c->close();
    return;
  }
  if (active_ >= max) {
    // Over the cap: a short answer, then close. Far over it (a flood), close
    // without one so rejected connections cannot pile up.
    note(kOverCap);
    if (count_ > 2 * max + 64) {
      c->close();
    } else {
      c->fail(503, "too many connections");
    }
    return;
  }
  c->counted_ = true;
  ++active_;
  pool_unauthenticated(c);
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
  if (listening_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&poll_))) {
    auto closed = [](uv_handle_t* h) {
      auto* s = static_cast<Server*>(h->data);
      if (--s->listen_handles_ > 0) return;
      close(s->listen_fd_);  // only now: uv_poll must not watch a closed fd
      s->listen_fd_ = -1;
      s->listening_ = false;
      s->maybe_drained();
    };
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_), closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&retry_), closed);
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
