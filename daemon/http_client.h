// An asynchronous HTTP/1.1 client over Unix sockets, on libuv and llhttp, for
// the container engine: Content-Length, chunked and until-close bodies,
// collected (with a cap) or streamed piece by piece; a deadline for the
// response head and one for the whole call; keep-alive connections reused
// from a small pool; caps on calls in flight, overall and per key (a crew).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <uv.h>

#include "daemon/http.h"

namespace crewship::http {

struct ClientResponse {
  int status = 0;
  std::vector<Header> headers;
  std::string body;  // empty when the body was streamed
  std::optional<std::string_view> header(std::string_view name) const {
    for (const auto& h : headers)
      if (iequals(h.name, name)) return std::string_view(h.value);
    return std::nullopt;
  }
};

struct ClientRequest {
  std::string method = "GET";
  std::string target;  // "/v1.41/_ping"
  std::string body;
  std::string content_type;
  uint64_t head_timeout_ms = 5000;  // until the response head has arrived
  uint64_t timeout_ms = 5000;       // until the response is complete; 0: none
  size_t max_body = 4 << 20;        // of a collected body
  std::string key;                  // calls in flight are capped per key too
  bool long_lived = false;          // a stream that is not counted against the caps
};

// err: 0, UV_ETIMEDOUT, UV_E2BIG (body over max_body), UV_EPROTO (unparsable
// reply), UV_ECANCELED or a connect/read/write error. Callbacks run on the
// loop, never inside request(); cancel() runs done at once, from anywhere
// (on_head and on_data included).
struct ClientCallbacks {
  std::function<void(int err, ClientResponse&& response)> done;
  // When set, the body is handed over piece by piece instead of collected;
  // on_head runs first, once the status and headers are known.
  std::function<void(const ClientResponse& head)> on_head;
  std::function<void(std::string_view piece)> on_data;
};

class ClientCall;
class ClientConn;

struct ClientLimits {
  size_t max_idle = 4;                 // keep-alive connections kept for reuse
  size_t max_in_flight = 64;           // calls under way, overall
  size_t max_in_flight_per_key = 8;    // and per ClientRequest::key
  uint64_t idle_timeout_ms = 30'000;   // an idle connection is closed after this
};

// Calls to one socket. Loop thread only.
class ClientPool {
 public:
  ClientPool(uv_loop_t* loop, std::string socket_path, ClientLimits limits = {});
  ~ClientPool();  // close() first
  ClientPool(const ClientPool&) = delete;
  ClientPool& operator=(const ClientPool&) = delete;

  // Starts a call; nullptr (and no callback) when a cap is reached. The call
  // is valid until its done callback has run.
  ClientCall* request(ClientRequest request, ClientCallbacks callbacks);
  // Ends a call now; its done callback runs at once with UV_ECANCELED.
  void cancel(ClientCall* call);
  // Ends every call (UV_ECANCELED) and closes the idle connections.
  void close();

  const std::string& socket_path() const { return socket_path_; }
  void set_socket_path(std::string path);  // for calls started from now on
  size_t in_flight() const { return in_flight_; }
  size_t idle() const { return idle_.size(); }

 private:
  friend class ClientCall;
  friend class ClientConn;
  ClientConn* take_idle();
  void give_back(ClientConn* conn);  // after a complete keep-alive response
  void forget(ClientConn* conn);     // the connection closes
  void finished(ClientCall* call);

  uv_loop_t* loop_;
  std::string socket_path_;
  ClientLimits limits_;
  std::vector<ClientConn*> idle_;
  std::vector<ClientCall*> calls_;
  std::unordered_map<std::string, size_t> per_key_;
  size_t in_flight_ = 0;
};

// A call on a connection of its own, closed at the end (no pool, no caps).
ClientCall* request_unix(uv_loop_t* loop, const std::string& socket_path, ClientRequest request,
                         ClientCallbacks callbacks);
void cancel(ClientCall* call);

}  // namespace crewship::http
