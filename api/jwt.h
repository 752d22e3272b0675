// HS256 JSON Web Tokens (RFC 7519) for sessions and WebSocket tokens, signed
// with libsodium's HMAC-SHA256. Only alg=HS256 is accepted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

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

// jwt_verify for tokens that come back on every request (a poller's session):
// a token that passed is remembered under its SHA-256, so the next time costs
// a hash and a lookup that reveals nothing of any token, instead of an HMAC,
// two base64 decodings and two JSON parses. Expiry is checked every time.
// One secret per instance; at most kMax tokens are kept (all are forgotten
// when it fills).
class VerifiedJwts {
 public:
  static constexpr size_t kMax = 4096;
  explicit VerifiedJwts(const std::string& secret) : secret_(secret) {}
  bool verify(std::string_view token, int64_t now, JwtClaims* out);
  size_t size() const { return known_.size(); }

 private:
  const std::string& secret_;
  std::unordered_map<std::string, JwtClaims> known_;  // by SHA-256 of the token
};

}  // namespace crewship::api
