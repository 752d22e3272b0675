#include <criterion/criterion.h>
#include <sodium.h>

#include "api/jwt.h"
#include "daemon/crypto.h"

using namespace crewship;
using api::JwtClaims;

namespace {
const std::string kSecret(40, 's');
void init() { cr_assert_geq(sodium_init(), 0); }
}  // namespace

TestSuite(jwt, .init = init);

Test(jwt, round_trip) {
  JwtClaims c{"user1", "sess1", "session", 1000, 2000};
  std::string t = api::jwt_sign(c, kSecret);
  JwtClaims out;
  cr_assert(api::jwt_verify(t, kSecret, 1500, &out));
  cr_assert_eq(out.sub, "user1");
  cr_assert_eq(out.sid, "sess1");
  cr_assert_eq(out.kind, "session");
  cr_assert_eq(out.exp, 2000);
}

Test(jwt, expiry_and_secret) {
  std::string t = api::jwt_sign({"u", "s", "session", 1000, 2000}, kSecret);
  JwtClaims out;
  cr_assert_not(api::jwt_verify(t, kSecret, 2000, &out), "expired at exp");
  cr_assert_not(api::jwt_verify(t, std::string(40, 'x'), 1500, &out));
}

Test(jwt, tampering_and_alg_none) {
  std::string t = api::jwt_sign({"u", "s", "session", 1000, 2000}, kSecret);
  JwtClaims out;
  size_t dot = t.find('.');
  // A payload swapped for another user's keeps the old signature: refused.
  std::string forged = t.substr(0, dot + 1) +
                       crypto::base64url(R"({"sub":"admin","sid":"s","kind":"session","exp":2000})") +
                       t.substr(t.rfind('.'));
  cr_assert_not(api::jwt_verify(forged, kSecret, 1500, &out));
  // alg=none with an empty signature.
  std::string none = crypto::base64url(R"({"alg":"none","typ":"JWT"})") + "." +
                     crypto::base64url(R"({"sub":"u","kind":"session","exp":2000})") + ".";
  cr_assert_not(api::jwt_verify(none, kSecret, 1500, &out));
  // alg=none, but signed with our key over its own header: still refused.
  std::string head = crypto::base64url(R"({"alg":"none"})") + "." +
                     crypto::base64url(R"({"sub":"u","kind":"session","exp":2000})");
  auto mac = crypto::hmac_sha256(kSecret, head);
  std::string signed_none =
      head + "." + crypto::base64url(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  cr_assert_not(api::jwt_verify(signed_none, kSecret, 1500, &out));
  for (const char* bad : {"", ".", "..", "a.b", "a.b.c.d", "!!!.???.***"})
    cr_assert_not(api::jwt_verify(bad, kSecret, 1500, &out), "accepted '%s'", bad);
}

Test(jwt, claims_of_wrong_type) {
  auto make = [](std::string payload) {
    std::string head = crypto::base64url(R"({"alg":"HS256","typ":"JWT"})") + "." + crypto::base64url(payload);
    auto mac = crypto::hmac_sha256(kSecret, head);
    return head + "." + crypto::base64url(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  };
  JwtClaims out;
  cr_assert(api::jwt_verify(make(R"({"sub":"u","kind":"session","exp":2000})"), kSecret, 1500, &out));
  cr_assert_not(api::jwt_verify(make(R"({"sub":5,"kind":"session","exp":2000})"), kSecret, 1500, &out));
  cr_assert_not(api::jwt_verify(make(R"({"sub":"u","kind":"session","exp":"2000"})"), kSecret, 1500, &out));
  cr_assert_not(api::jwt_verify(make(R"({"sub":"u","kind":"session"})"), kSecret, 1500, &out));
  cr_assert_not(api::jwt_verify(make("[1]"), kSecret, 1500, &out));
}

Test(jwt, verified_tokens_are_remembered_not_trusted_blindly) {
  api::VerifiedJwts known(kSecret);
  std::string t = api::jwt_sign({"u", "s", "session", 1000, 2000}, kSecret);
  JwtClaims out;
  cr_assert(known.verify(t, 1500, &out));
  cr_assert_eq(known.size(), 1u);
  JwtClaims again;
  cr_assert(known.verify(t, 1600, &again));
  cr_assert_eq(again.sub, "u");
  cr_assert_eq(again.sid, "s");
  cr_assert_eq(again.exp, 2000);
  cr_assert_eq(known.size(), 1u, "the same token, remembered once");

  // Expiry still holds for a remembered token, and it is forgotten.
  cr_assert_not(known.verify(t, 2000, &out));
  cr_assert_eq(known.size(), 0u);

  // A token that fails is never remembered.
  std::string forged = t;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  cr_assert_not(known.verify(forged, 1500, &out));
  cr_assert_not(known.verify(forged, 1500, &out));
  cr_assert_eq(known.size(), 0u);
  std::string other = api::jwt_sign({"u", "s", "session", 1000, 2000}, std::string(40, 'o'));
  cr_assert_not(known.verify(other, 1500, &out), "signed with another secret");
  cr_assert_not(known.verify(std::string(5000, 'a'), 1500, &out));
}

Test(jwt, the_remembered_tokens_stay_bounded) {
  api::VerifiedJwts known(kSecret);
  JwtClaims out;
  for (size_t i = 0; i <= api::VerifiedJwts::kMax; ++i) {
    std::string t = api::jwt_sign({"u" + std::to_string(i), "s", "session", 1000, 2000}, kSecret);
    cr_assert(known.verify(t, 1500, &out));
    cr_assert_leq(known.size(), api::VerifiedJwts::kMax);
  }
  cr_assert_eq(known.size(), 1u, "full: forgotten, then the last one kept");
}
