#include "tests/support/ws_client.h"

#include <cerrno>
#include <chrono>
#include <cstring>

#include <poll.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

namespace crewship::test {
namespace {

// RFC 6455 1.3's sample handshake.
constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool read_some(int fd, std::string* buf, int64_t deadline) {
  pollfd p{fd, POLLIN, 0};
  int wait = static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
  if (poll(&p, 1, wait) <= 0) return false;
  char tmp[16384];
  ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
  if (n <= 0) return false;
  buf->append(tmp, static_cast<size_t>(n));
  return true;
}

}  // namespace

struct WsCallbacks {
  static ssize_t recv(wslay_event_context* ctx, uint8_t* buf, size_t len, int, void* user) {
    auto* c = static_cast<WsClient*>(user);
    if (!c->early_.empty()) {
      size_t n = std::min(len, c->early_.size());
      std::memcpy(buf, c->early_.data(), n);
      c->early_.erase(0, n);
      return static_cast<ssize_t>(n);
    }
    ssize_t n = ::recv(c->fd_, buf, len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
      return -1;
    }
    if (n <= 0) {
      c->closed_ = true;
      wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
      return -1;
    }
    return n;
  }
  static ssize_t send(wslay_event_context* ctx, const uint8_t* data, size_t len, int, void* user) {
    auto* c = static_cast<WsClient*>(user);
    ssize_t n = ::send(c->fd_, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      wslay_event_set_error(ctx, errno == EAGAIN || errno == EWOULDBLOCK ? WSLAY_ERR_WOULDBLOCK
                                                                         : WSLAY_ERR_CALLBACK_FAILURE);
      return -1;
    }
    return n;
  }
  static int genmask(wslay_event_context*, uint8_t* buf, size_t len, void*) {
    randombytes_buf(buf, len);
    return 0;
  }
  // The close code straight from the frame: wslay 1.1 refuses codes it does
  // not know (1013 among them) before its message callback sees them.
  static void frame_start(wslay_event_context*, const wslay_event_on_frame_recv_start_arg* arg, void* user) {
    static_cast<WsClient*>(user)->in_close_ = arg->opcode == WSLAY_CONNECTION_CLOSE;
  }
  static void frame_chunk(wslay_event_context*, const wslay_event_on_frame_recv_chunk_arg* arg, void* user) {
    auto* c = static_cast<WsClient*>(user);
    if (!c->in_close_) return;
    c->close_payload_.append(reinterpret_cast<const char*>(arg->data), arg->data_length);
    if (c->close_payload_.size() >= 2)
      c->close_code_ = (static_cast<uint8_t>(c->close_payload_[0]) << 8) | static_cast<uint8_t>(c->close_payload_[1]);
  }
  static void msg(wslay_event_context* ctx, const wslay_event_on_msg_recv_arg* arg, void* user) {
    auto* c = static_cast<WsClient*>(user);
    if (arg->opcode == WSLAY_TEXT_FRAME) {
      c->messages_.emplace_back(reinterpret_cast<const char*>(arg->msg), arg->msg_length);
    } else if (arg->opcode == WSLAY_PING) {
      ++c->pings;
    } else if (arg->opcode == WSLAY_CONNECTION_CLOSE && c->close_code_ == 0) {
      c->close_code_ = wslay_event_get_status_code_received(ctx);
    }
  }
};

WsClient::WsClient(int fd) : fd_(fd) {
  static const wslay_event_callbacks cb = {WsCallbacks::recv,        WsCallbacks::send,       WsCallbacks::genmask,
                                           WsCallbacks::frame_start, WsCallbacks::frame_chunk, nullptr,
                                           WsCallbacks::msg};
  wslay_event_context_client_init(&ctx_, &cb, this);
  wslay_event_config_set_max_recv_msg_length(ctx_, 64 << 20);
}

WsClient::~WsClient() {
  if (ctx_ != nullptr) wslay_event_context_free(ctx_);
  if (fd_ >= 0) close(fd_);
}

std::unique_ptr<WsClient> WsClient::open(int fd, const std::string& target, const std::string& extra_headers,
                                         Reply* refused) {
  if (fd < 0) return nullptr;
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + std::string(kKey) + "\r\n" +
                    extra_headers + "\r\n";
  std::unique_ptr<WsClient> c(new WsClient(fd));
  if (!send_all(fd, req)) return nullptr;
  std::string buf;
  int64_t deadline = now_ms() + 5000;
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos)
    if (!read_some(fd, &buf, deadline)) return nullptr;
  Reply r;
  std::string head = buf.substr(0, end);
  std::string rest = buf.substr(end + 4);
  r.status = std::atoi(head.c_str() + 9);
  size_t at = head.find("\r\n");
  while (at != std::string::npos) {
    size_t next = head.find("\r\n", at + 2);
    std::string line = head.substr(at + 2, next == std::string::npos ? std::string::npos : next - at - 2);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      size_t v = line.find_first_not_of(' ', colon + 1);
      r.headers.emplace_back(line.substr(0, colon), v == std::string::npos ? "" : line.substr(v));
    }
    at = next;
  }
  if (r.status != 101 || r.header("Sec-WebSocket-Accept") != std::string(kAccept)) {
    size_t length = std::strtoul(r.header("Content-Length").value_or("0").c_str(), nullptr, 10);
    while (rest.size() < length && read_some(fd, &rest, deadline)) {
    }
    r.body = rest;
    if (refused != nullptr) *refused = std::move(r);
    return nullptr;
  }
  c->early_ = std::move(rest);
  return c;
}

bool WsClient::send_text(std::string_view text) {
  wslay_event_msg m{WSLAY_TEXT_FRAME, reinterpret_cast<const uint8_t*>(text.data()), text.size()};
  if (wslay_event_queue_msg(ctx_, &m) != 0) return false;
  return pump(0) || true;
}

bool WsClient::send_binary(std::string_view data) {
  wslay_event_msg m{WSLAY_BINARY_FRAME, reinterpret_cast<const uint8_t*>(data.data()), data.size()};
  if (wslay_event_queue_msg(ctx_, &m) != 0) return false;
  return pump(0) || true;
}

bool WsClient::pump(int timeout_ms) {
  if (closed_) return false;
  int64_t deadline = now_ms() + timeout_ms;
  // Everything queued goes out first (a large message may take several rounds).
  while (wslay_event_want_write(ctx_)) {
    if (wslay_event_send(ctx_) != 0) {
      closed_ = true;
      return false;
    }
    if (!wslay_event_want_write(ctx_)) break;
    pollfd p{fd_, POLLOUT, 0};
    if (poll(&p, 1, 50) < 0) return false;
    if (now_ms() > deadline + 5000) break;
  }
  if (!early_.empty()) {
    wslay_event_recv(ctx_);
    return !closed_;
  }
  pollfd p{fd_, POLLIN, 0};
  int wait = static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
  if (poll(&p, 1, wait) <= 0) return true;
  if (wslay_event_recv(ctx_) != 0) closed_ = true;
  if (wslay_event_want_write(ctx_)) wslay_event_send(ctx_);  // pongs, our close echo
  if (!wslay_event_want_read(ctx_)) closed_ = true;
  return !closed_;
}

std::optional<std::string> WsClient::next(int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  while (messages_.empty()) {
    int64_t left = deadline - now_ms();
    if (left <= 0 || !pump(static_cast<int>(left))) break;
  }
  if (messages_.empty()) return std::nullopt;
  std::string m = std::move(messages_.front());
  messages_.pop_front();
  return m;
}

std::optional<rapidjson::Document> WsClient::next_json(int timeout_ms) {
  auto m = next(timeout_ms);
  if (!m) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse(m->data(), m->size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  return doc;
}

std::optional<rapidjson::Document> WsClient::next_of(std::string_view type, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return std::nullopt;
    auto doc = next_json(static_cast<int>(left));
    if (!doc) return std::nullopt;
    if ((*doc)["type"].IsString() && type == (*doc)["type"].GetString()) return doc;
  }
}

int WsClient::wait_closed(int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  while (!closed_) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return 0;
    pump(static_cast<int>(left));
    messages_.clear();
  }
  return close_code_ != 0 ? close_code_ : 1006;
}

}  // namespace crewship::test
