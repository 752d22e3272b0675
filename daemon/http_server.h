// The HTTP/1.1 server core on libuv + llhttp. One implementation serves both
// listeners (TCP and the IPC Unix socket): keep-alive, pipelining answered in
// order, Content-Length and chunked bodies, Expect: 100-continue, HEAD, and
// the limits and timeouts of HttpLimits. A connection handles one request at
// a time; bytes of the next pipelined request wait in its buffer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <uv.h>

#include "daemon/http.h"
#include "daemon/http_limits.h"
#include "daemon/router.h"

namespace crewship {

class Connection;
class Server;

namespace http {

// A protocol that takes a connection over after its 101 answer (WebSocket).
// From Exchange::upgrade() on, the server hands it every byte the client
// sends, starting with those that followed the upgrade request; it writes
// its own uv_write requests on the socket. The server no longer times the
// connection nor counts it against max_connections.
class Upgraded {
 public:
  virtual ~Upgraded() = default;
  // First call: the socket, on which it writes from now on.
  virtual void on_open(uv_stream_t* stream) = 0;
  virtual void on_data(const char* data, size_t len) = 0;
  // The server is stopping: say goodbye and close soon.
  virtual void on_drain() = 0;
  // The socket is closed (the peer left, close_upgraded(), close_all());
  // the last call, after every write callback.
  virtual void on_closed() = 0;
};

// Closes the socket of an upgraded connection (stream as upgrade() gave it).
void close_upgraded(uv_stream_t* stream);

// Where a route's body goes instead of memory (Route::body_sink): a file, say.
// The server hands it the body in order, one piece at a time, and stops
// reading from the client while a piece is being written and the next one is
// full, so a body costs the server a bounded buffer whatever its size. The
// handler runs once every piece was written.
class BodySink {
 public:
  virtual ~BodySink() = default;
  // Takes the next piece. done(0 or a negative errno) runs later, on the loop
  // and never inside write(); not at all once the sink is destroyed. No other
  // write() comes before it. An error fails the request with a 500.
  virtual void write(std::string piece, std::function<void(int err)> done) = 0;
};

// One request and its response. Handlers get it as ExchangePtr and may keep
// it to answer later; if the client left meanwhile, respond() drops the answer.
// A listener may have the server make a derived type instead
// (ServerOptions::new_exchange) to carry what its handlers add per request.
class Exchange {
 public:
  virtual ~Exchange() = default;
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  http::Request req;
  const Route* route = nullptr;
  bool peer_is_local = false;   // loopback TCP peer or the Unix socket
  // The TCP peer's IP address as text (IPv4-mapped IPv6 as IPv4); empty on
  // the Unix socket. A fixed buffer, so no request allocates for it.
  char peer_address[46] = {};

  // Sends the response; only the first call counts.
  void respond(http::Response&& response);

  // A response streamed in chunks (Transfer-Encoding: chunked) instead of
  // respond(): begin_stream() sends the head, write_chunk() each piece,
  // end_stream() the end. on_gone runs once if the client leaves (or is
  // dropped for reading too slowly) before end_stream(); the handler then
  // stops producing. write_chunk() returns false once the client is gone.
  void begin_stream(int status, std::string_view content_type, std::vector<http::Header> headers = {});
  bool write_chunk(std::string_view data);
  void end_stream();
  size_t queued_bytes() const;  // written but not yet taken by the client
  // Answers with head (a 101) and gives the connection to `to` (see
  // Upgraded); false when the client is gone, and then `to` is never called.
  bool upgrade(http::Response head, Upgraded* to);
  std::function<void()> on_gone;
  // The route's sink holding the body (Route::body_sink), else null.
  std::unique_ptr<BodySink> body_sink;
  bool responded() const { return responded_; }
  bool client_gone() const { return conn_ == nullptr; }
  uv_loop_t* loop() const;

 protected:
  Exchange() = default;

 private:
  friend class crewship::Connection;
  Connection* conn_ = nullptr;
  Server* server_ = nullptr;
  std::string allow_;  // methods of the path when no route matched the method
  bool responded_ = false;
  bool streaming_ = false;
  bool keep_alive_ = true;
  bool head_ = false;
  uint64_t started_ns_ = 0;
};

}  // namespace http

// The listener's check before any handler: fn(ctx, exchange, route, deny)
// returns false and fills *deny to refuse. route is null when nothing matched.
struct RouteGuard {
  bool (*fn)(void* ctx, http::Exchange& ex, const Route* route, http::Response* deny) = nullptr;
  void* ctx = nullptr;
};

// Told of every response head the server sends (the 101 of an upgrade too):
// fn(ctx, exchange, status, ns since the request's first byte). ex.route is
// null when no route matched. Runs on the loop; must not block.
struct ResponseObserver {
  void (*fn)(void* ctx, const http::Exchange& ex, int status, uint64_t elapsed_ns) = nullptr;
  void* ctx = nullptr;
};

struct ServerOptions {
  std::string name;  // "api" or "ipc", for logs
  const Router* router = nullptr;
  HttpLimits limits;
  // Runs before the handler (and before 404/405), when set.
  RouteGuard guard;
  // Counts responses (metrics), when set.
  ResponseObserver observer;
  // Makes the exchange of each request; null: a plain http::Exchange.
  http::ExchangePtr (*new_exchange)() = nullptr;
};

class Server {
 public:
  Server(uv_loop_t* loop, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Bind and listen. The Unix variant expects a free path (see listeners.h).
  int listen_tcp(const std::string& host, int port);
  int listen_unix(const std::string& path);
  // Adopt an already listening socket (systemd socket activation).
  int listen_fd(int fd, bool is_unix);

  // The bound TCP port (useful with port 0), or 0.
  int port() const;
  const std::string& name() const { return options_.name; }
  size_t connections() const { return count_; }

  // Stops accepting, closes idle connections at once and the others after
  // their current response; done runs when none is left.
  void drain(std::function<void()> done);
  // Closes every connection now.
  void close_all();

 private:
  friend class Connection;
  friend class http::Exchange;
  int start_accepting(int fd);
  static void on_acceptable(uv_poll_t* p, int status, int events);
  void accept_one(int fd);
  void shed_backlog(int err);
  void link(Connection* c);
  void unlink(Connection* c);
  // Admission beyond the listener-wide cap (http_listener.cc).
  bool admit_peer(Connection* c);
  void release_peer(Connection* c);
  void pool_unauthenticated(Connection* c);
  void trust(Connection* c);  // a request of c passed the guard
  void unpool(Connection* c);
  enum Counter { kOverPeerCap, kEvicted, kOverCap, kAcceptFailed, kCounters };
  // Counted, and logged in one line at most once a minute, not once each.
  void note(Counter what, int err = 0);
  void maybe_drained();
  const char* date_header();

  uv_loop_t* loop_;
  ServerOptions options_;
  // The listening socket is accepted from here, not by uv_listen, so that
  // running out of descriptors is seen (libuv drops those connections
  // silently) and a connection over a cap costs no more than accept().
  int listen_fd_ = -1;
  uv_poll_t poll_;
  uv_timer_t retry_;     // accepting again after a failed accept
  int reserve_fd_ = -1;  // given up to accept and close connections on EMFILE
  int listen_handles_ = 0;
  bool listening_ = false;
  bool is_unix_ = false;
  bool draining_ = false;
  std::function<void()> drained_;
  Connection* head_ = nullptr;
  size_t count_ = 0;   // every open connection
  size_t active_ = 0;  // those admitted under max_connections
  std::unique_ptr<char[]> slab_;  // read buffer shared by all connections
  std::unordered_map<std::string, uint32_t> per_peer_;  // open connections by peer key
  Connection* unauth_head_ = nullptr;  // the pool of unauthenticated ones, oldest first
  Connection* unauth_tail_ = nullptr;
  size_t unauth_count_ = 0;
  uint64_t counters_[kCounters] = {};
  uint64_t noted_at_ms_ = 0;  // last summary line, uv_now ms
  bool noted_ = false;
  time_t date_second_ = 0;
  char date_[40] = {};
};

}  // namespace crewship
