#include "api/jwt.h"

#include <rapidjson/document.h>

#include "daemon/crypto.h"
#include "daemon/json.h"

namespace crewship::api {
namespace {

constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";
constexpr size_t kMaxToken = 4096;

}  // namespace

std::string jwt_sign(const JwtClaims& c, std::string_view secret) {
  json::Out out;
  out.begin_object();
  out.member("sub", c.sub);
  if (!c.sid.empty()) out.member("sid", c.sid);
  out.member("kind", c.kind);
  out.member("iat", c.iat);
  out.member("exp", c.exp);
  out.end_object();
  std::string token = crypto::base64url(kHeader) + "." + crypto::base64url(out.take());
  crypto::Digest mac = crypto::hmac_sha256(secret, token);
  token += ".";
  token += crypto::base64url(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  return token;
}

bool jwt_verify(std::string_view token, std::string_view secret, int64_t now, JwtClaims* out) {
  if (token.size() > kMaxToken) return false;
  size_t a = token.find('.');
  size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) return false;
  std::string sig;
  if (!crypto::base64url_decode(token.substr(b + 1), &sig)) return false;
  crypto::Digest mac = crypto::hmac_sha256(secret, token.substr(0, b));
  if (!crypto::equal(sig, std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size())))
    return false;

  std::string header, payload;
  if (!crypto::base64url_decode(token.substr(0, a), &header) ||
      !crypto::base64url_decode(token.substr(a + 1, b - a - 1), &payload))
    return false;
  rapidjson::Document h, p;
  h.Parse<rapidjson::kParseValidateEncodingFlag>(header.data(), header.size());
  if (h.HasParseError() || !h.IsObject()) return false;
  auto alg = h.FindMember("alg");
  if (alg == h.MemberEnd() || !alg->value.IsString() || std::string_view(alg->value.GetString()) != "HS256")
    return false;
  p.Parse<rapidjson::kParseValidateEncodingFlag>(payload.data(), payload.size());
  if (p.HasParseError() || !p.IsObject()) return false;
  auto str = [&](const char* k, std::string* v) {
    auto it = p.FindMember(k);
    if (it == p.MemberEnd() || !it->value.IsString()) return false;
    v->assign(it->value.GetString(), it->value.GetStringLength());
    return true;
  };
  auto num = [&](const char* k, int64_t* v) {
    auto it = p.FindMember(k);
    if (it == p.MemberEnd() || !it->value.IsInt64()) return false;
    *v = it->value.GetInt64();
    return true;
  };
  JwtClaims c;
  if (!str("sub", &c.sub) || !str("kind", &c.kind) || !num("exp", &c.exp)) return false;
  str("sid", &c.sid);
  num("iat", &c.iat);
  if (c.exp <= now) return false;
  *out = std::move(c);
  return true;
}

bool VerifiedJwts::verify(std::string_view token, int64_t now, JwtClaims* out) {
  if (token.size() > kMaxToken) return false;
  crypto::Digest d = crypto::sha256(token);
  std::string key(reinterpret_cast<const char*>(d.data()), d.size());
  if (auto it = known_.find(key); it != known_.end()) {
    if (it->second.exp <= now) {
      known_.erase(it);
      return false;
    }
    *out = it->second;
    return true;
  }
  if (!jwt_verify(token, secret_, now, out)) return false;
  if (known_.size() >= kMax) known_.clear();
  known_.emplace(std::move(key), *out);
  return true;
}

}  // namespace crewship::api
