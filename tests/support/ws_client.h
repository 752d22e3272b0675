// A WebSocket client for end-to-end tests: the handshake written by hand
// (with RFC 6455's sample key, so Sec-WebSocket-Accept is checked against
// the RFC's own answer), frames by wslay in client mode, over a blocking
// socket with timeouts.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "tests/support/harness.h"

struct wslay_event_context;

namespace crewship::test {

class WsClient {
 public:
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Sends the handshake for target ("/ws?token=...") on fd (taken over) with
  // extra header lines; the client when the server switched protocols with
  // the right Sec-WebSocket-Accept, else null with the answer in *refused.
  static std::unique_ptr<WsClient> open(int fd, const std::string& target, const std::string& extra_headers = "",
                                        Reply* refused = nullptr);

  bool send_text(std::string_view text);
  // Sends a binary message (the server wants text only).
  bool send_binary(std::string_view data);
  // The next text message, or nullopt on timeout or close.
  std::optional<std::string> next(int timeout_ms = 5000);
  // The next text message as JSON (asserts it parses).
  std::optional<rapidjson::Document> next_json(int timeout_ms = 5000);
  // The next message whose "type" is type, skipping others.
  std::optional<rapidjson::Document> next_of(std::string_view type, int timeout_ms = 5000);
  // Reads (and drops messages) until the server closes; the close code it
  // sent (1005 when none, 1006 when the socket ended without a close frame),
  // or 0 on timeout.
  int wait_closed(int timeout_ms = 5000);
  // Messages received but not yet taken.
  size_t buffered() const { return messages_.size(); }
  int pings = 0;  // pings the server sent (wslay answers them)
  int fd() const { return fd_; }

 private:
  explicit WsClient(int fd);
  // One poll round: sends what is queued, reads what came. False when the
  // connection is done.
  bool pump(int timeout_ms);

  int fd_;
  wslay_event_context* ctx_ = nullptr;
  std::string early_;  // bytes after the 101 head
  std::deque<std::string> messages_;
  bool closed_ = false;
  bool in_close_ = false;      // the frame being read is a close
  std::string close_payload_;
  int close_code_ = 0;

  friend struct WsCallbacks;
};

}  // namespace crewship::test
