// A one-shot asynchronous HTTP/1.1 client over a Unix socket, on libuv and
// llhttp: connect, send, parse the whole response (Content-Length or chunked),
// all within one timeout, with a cap on the body it keeps.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <uv.h>

#include "daemon/http.h"

namespace crewship::http {

struct ClientResponse {
  int status = 0;
  std::vector<Header> headers;
  std::string body;
  std::optional<std::string_view> header(std::string_view name) const {
    for (const auto& h : headers)
      if (iequals(h.name, name)) return std::string_view(h.value);
    return std::nullopt;
  }
};

struct ClientRequest {
  std::string socket_path;
  std::string method = "GET";
  std::string target;  // "/v1.41/_ping"
  std::string body;
  std::string content_type;
  uint64_t timeout_ms = 5000;
  size_t max_body = 4 << 20;
};

// err: 0, UV_ETIMEDOUT, UV_E2BIG (body over max_body), UV_EPROTO (unparsable
// reply), UV_ECANCELED or a connect/read/write error. Runs on the loop, never
// inside request_unix().
using ClientCallback = std::function<void(int err, ClientResponse&& response)>;

class ClientCall;  // valid until its callback has run

ClientCall* request_unix(uv_loop_t* loop, ClientRequest request, ClientCallback done);
// Ends the call now; its callback runs at once with UV_ECANCELED.
void cancel(ClientCall* call);

}  // namespace crewship::http
