#include "api/docs.h"

namespace crewship::api::docs {

void session(openapi::DocSet& d) {
  using M = http::Method;
  d.area("auth");
  d.schema("Credentials", R"({"type":"object","required":["email","password"],
    "properties":{"email":{"type":"string"},"password":{"type":"string","minLength":8,"maxLength":1024},
      "name":{"type":["string","null"]},"workspace_name":{"type":["string","null"]}}})");
  d.schema("Session", R"({"type":"object","required":["user","expires"],
    "properties":{"user":{"$ref":"UserRef"},"expires":{"$ref":"Timestamp"},
      "workspace":{"type":"object","required":["id","name","slug"],
        "properties":{"id":{"type":"string"},"name":{"type":"string"},"slug":{"type":"string"}}}}})");

  d.add(M::kPost, "/api/v1/bootstrap", "The first user and their workspace, while no user exists")
      .describe("Sets the session cookie.")
      .takes("Credentials")
      .ok(201, "Session", "Signed in as the new OWNER")
      .fails({409, 500, 503});
  d.add(M::kPost, "/api/v1/auth/signup", "Sign up (when CREWSHIP_ALLOW_SIGNUP=true)")
      .describe("Sets the session cookie.")
      .takes("Credentials")
      .ok(201, R"({"type":"object","required":["user","expires"],
        "properties":{"user":{"$ref":"UserRef"},"expires":{"$ref":"Timestamp"}}})", "Signed in")
      .fails({403, 409, 500, 503});
  d.add(M::kPost, "/api/auth/callback/credentials", "Sign in with email and password (NextAuth credentials)")
      .describe("JSON, or a form with the csrfToken of GET /api/auth/csrf. Sets the session cookie. Repeated "
                "failures lock the account (429 with Retry-After).")
      .takes("Credentials")
      .takes(R"({"type":"object","required":["email","password","csrfToken"],
        "properties":{"email":{"type":"string"},"password":{"type":"string"},"csrfToken":{"type":"string"}}})",
             "application/x-www-form-urlencoded")
      .ok(200, R"({"type":"object","required":["user","expires"],
        "properties":{"user":{"$ref":"UserRef"},"expires":{"$ref":"Timestamp"}}})", "Signed in")
      .fails({401, 403, 429, 500, 503});
  d.add(M::kGet, "/api/auth/session", "The signed-in user, or {} (never 401)")
      .ok(200, R"({"type":"object","properties":{"user":{"$ref":"UserRef"},"expires":{"$ref":"NullableTimestamp"}},
        "dependentRequired":{"user":["expires"]}})")
      .fails({500});
  d.add(M::kPost, "/api/auth/signout", "Revokes the session, if any, and clears the cookie")
      .ok(200, R"({"type":"object","required":["url"],"properties":{"url":{"type":"string"}}})")
      .fails({500});
  d.add(M::kPost, "/api/auth/token/refresh", "A new session replaces the current one")
      .ok(200, R"({"type":"object","required":["user","expires"],
        "properties":{"user":{"$ref":"UserRef"},"expires":{"$ref":"Timestamp"}}})")
      .fails({400});
  d.add(M::kGet, "/api/auth/csrf", "A CSRF token, with its double-submit cookie")
      .ok(200, R"({"type":"object","required":["csrfToken"],"properties":{"csrfToken":{"type":"string"}}})");
  d.add(M::kGet, "/api/auth/providers", "The sign-in providers (NextAuth)")
      .ok(200, R"({"type":"object","required":["credentials"],"properties":{"credentials":{"type":"object",
        "required":["id","name","type","signinUrl","callbackUrl"],
        "properties":{"id":{"type":"string"},"name":{"type":"string"},"type":{"type":"string"},
          "signinUrl":{"type":"string"},"callbackUrl":{"type":"string"}}}}})");
  d.add(M::kGet, "/api/auth/signin", "Redirects to the UI's sign-in page").raw(302, "", "", "To /login");
  d.add(M::kGet, "/api/auth/error", "Redirects to the UI's sign-in page with the error code")
      .query("error", "string", "A NextAuth error code")
      .raw(302, "", "", "To /login?error=CODE");
  d.add(M::kGet, "/api/v1/ws-token", "A 15-minute token for /ws")
      .ok(200, R"({"type":"object","required":["token","expires_at"],
        "properties":{"token":{"type":"string"},"expires_at":{"$ref":"Timestamp"}}})");
}

}  // namespace crewship::api::docs
