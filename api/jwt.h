// HS256 JSON Web Tokens (RFC 7519) for sessions and WebSocket tokens, signed
// with libsodium's HMAC-SHA256. Only alg=HS256 is accepted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace crewship::api {

struct JwtClaims {
  std::string sub;   // user id
  std::string sid;   // user_sessions row (sessions)
  std::string kind;  // "session" or "ws"
  int64_t iat = 0;
  int64_t exp = 0;
};

std::string jwt_sign(const JwtClaims& claims, std::string_view secret);
// Checks the signature in constant time, the algorithm and exp > now.
bool jwt_verify(std::string_view token, std::string_view secret, int64_t now, JwtClaims* out);

}  // namespace crewship::api
