#include <criterion/criterion.h>

#include "daemon/websocket.h"

using namespace crewship;

namespace {

http::Request handshake() {
  http::Request req;
  req.method = http::Method::kGet;
  req.headers = {{"Upgrade", "websocket"},
                 {"Connection", "keep-alive, Upgrade"},
                 {"Sec-WebSocket-Version", "13"},
                 {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
  return req;
}

}  // namespace

TestSuite(websocket);

// RFC 6455 1.3's own example.
Test(websocket, accept_key_matches_the_rfc) {
  cr_assert_eq(ws::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  http::Response r = ws::switching_protocols("dGhlIHNhbXBsZSBub25jZQ==");
  cr_assert_eq(r.status, 101);
  bool accept = false;
  for (const auto& h : r.headers) accept |= h.name == "Sec-WebSocket-Accept" && h.value == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
  cr_assert(accept);
}

Test(websocket, handshake_checks) {
  std::string key, why;
  cr_assert(ws::wants_upgrade(handshake(), &key, &why), "%s", why.c_str());
  cr_assert_eq(key, "dGhlIHNhbXBsZSBub25jZQ==");
  struct Case {
    const char* header;
    const char* value;  // null: removed
  } cases[] = {
      {"Upgrade", nullptr},       {"Upgrade", "h2c"},          {"Connection", "keep-alive"},
      {"Connection", nullptr},    {"Sec-WebSocket-Version", "8"}, {"Sec-WebSocket-Version", nullptr},
      {"Sec-WebSocket-Key", nullptr}, {"Sec-WebSocket-Key", "short"},
      {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=!"},  // not base64
      {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZXh4"},  // 18 bytes
  };
  for (const Case& c : cases) {
    http::Request req = handshake();
    for (size_t i = 0; i < req.headers.size(); ++i) {
      if (req.headers[i].name != c.header) continue;
      if (c.value == nullptr) {
        req.headers.erase(req.headers.begin() + static_cast<long>(i));
      } else {
        req.headers[i].value = c.value;
      }
      break;
    }
    cr_assert_not(ws::wants_upgrade(req, &key, &why), "%s: %s", c.header, c.value ? c.value : "(none)");
    cr_assert(!why.empty());
  }
  http::Request post = handshake();
  post.method = http::Method::kPost;
  cr_assert_not(ws::wants_upgrade(post, &key, &why));
  // Header names and the upgrade token are case-insensitive.
  http::Request upper = handshake();
  upper.headers[0].value = "WebSocket";
  upper.headers[1].value = "UPGRADE";
  cr_assert(ws::wants_upgrade(upper, &key, &why), "%s", why.c_str());
}

// A server frame is made once per message: FIN and text opcode, no mask, the
// shortest length encoding (RFC 6455 5.2), then the payload as it is.
Test(websocket, text_frame_is_one_whole_unmasked_frame) {
  struct Case {
    size_t size;
    std::string header;
  } cases[] = {
      {0, std::string("\x81\x00", 2)},
      {125, std::string("\x81\x7d", 2)},
      {126, std::string("\x81\x7e\x00\x7e", 4)},
      {65535, std::string("\x81\x7e\xff\xff", 4)},
      {65536, std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10)},
  };
  for (const Case& c : cases) {
    std::string payload(c.size, 'x');
    if (!payload.empty()) payload.back() = 'y';
    auto frame = ws::text_frame(payload);
    cr_assert_eq(frame->size(), c.header.size() + c.size, "size %zu", c.size);
    cr_assert_eq(frame->substr(0, c.header.size()), c.header, "header of %zu", c.size);
    cr_assert_eq(frame->substr(c.header.size()), payload, "payload of %zu", c.size);
  }
}
