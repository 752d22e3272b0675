// Signing in: bootstrap of the first user, sign-up, and the NextAuth-shaped
// endpoints the web UI uses (credentials callback, session, sign-out,
// refresh, csrf, providers), plus WebSocket tokens.
//
// Passwords are hashed and verified with Argon2id on the thread pool; every
// write (users, sessions, lockout counters) goes through the store's writer,
// and the answer leaves only after it committed.
#include <ctime>
#include <memory>

#include "api/auth.h"
#include "api/common.h"
#include "api/jwt.h"
#include "api/password.h"
#include "api/routes.h"
#include "daemon/crypto.h"
#include "daemon/ids.h"
#include "daemon/json_input.h"
#include "daemon/problem.h"
#include "store/session_store.h"
#include "store/user_store.h"
#include "store/workspace_store.h"

namespace crewship::api {
namespace {

constexpr int64_t kMinPassword = 8;
constexpr int64_t kMaxPassword = 1024;

struct User {
  std::string id, email, name;
};

struct Credentials {
  json::Field<std::string> email, password, name, workspace_name;
};

constexpr std::string_view kCsrfCookie = "authjs.csrf-token", kSecureCsrfCookie = "__Host-authjs.csrf-token";

// NextAuth's double submit: a form's csrfToken must be the token of the CSRF
// cookie (GET /api/auth/csrf), which carries our HMAC of it as proof, so a
// page elsewhere can neither read nor forge the pair.
bool csrf_ok(App& app, const Exchange& ex, std::string_view form_token) {
  auto cookies = ex.req.header("Cookie");
  if (!cookies || form_token.empty()) return false;
  std::string_view pair = cookie_value(*cookies, over_https(ex) ? kSecureCsrfCookie : kCsrfCookie);
  std::string decoded;
  if (!http::percent_decode(pair, &decoded)) return false;
  size_t bar = decoded.find('|');
  if (bar == std::string::npos) return false;
  std::string_view token = std::string_view(decoded).substr(0, bar), proof = std::string_view(decoded).substr(bar + 1);
  return crypto::equal(token, form_token) &&
         crypto::equal(proof, crypto::hex(crypto::hmac_sha256(app.auth_secret, token)));
}

// Reads {email, password, name?, workspace_name?} from JSON, or from a form
// body for the NextAuth credentials callback (whose csrfToken must match:
// 403 otherwise). Answers 400 on failure.
bool read_credentials(App& app, const ExchangePtr& ex, Credentials* c, bool allow_form) {
  auto type = ex->req.header("Content-Type");
  if (allow_form && type && type->find("application/x-www-form-urlencoded") != std::string_view::npos) {
    auto token = http::form_value(ex->req.body, "csrfToken");
    if (!csrf_ok(app, *ex, token ? *token : std::string_view())) {
      reply_problem(ex, 403, "missing or invalid csrfToken (GET /api/auth/csrf first)");
      return false;
    }
    for (auto [name, field] : {std::pair{"email", &c->email}, std::pair{"password", &c->password}}) {
      if (auto v = http::form_value(ex->req.body, name)) {
        field->present = true;
        field->value = std::move(*v);
      }
    }
    if (!c->email.present || !c->password.present) {
      reply_problem(ex, 400, !c->email.present ? "email is required" : "password is required");
      return false;
    }
    if (json::utf8_length(c->password.value) > static_cast<size_t>(kMaxPassword)) {
      reply_problem(ex, 400, "password must be at most 1024 characters");
      return false;
    }
  } else {
    rapidjson::Document doc;
    if (!read_json(ex, &doc)) return false;
    json::Reader r(doc);
    r.string("email", &c->email, {.min = 3, .max = 254, .required = true})
        .string("password", &c->password, {.min = 1, .max = kMaxPassword, .required = true})
        .string("name", &c->name, {.min = 0, .max = 100})
        .string("workspace_name", &c->workspace_name, {.min = 1, .max = 100});
    if (!r.ok()) {
      reply_problem(ex, 400, r.error());
      return false;
    }
  }
  if (!plausible_email(c->email.value)) {
    reply_problem(ex, 400, "email is not a valid address");
    return false;
  }
  return true;
}

bool strong_enough(const ExchangePtr& ex, const std::string& password) {
  size_t len = json::utf8_length(password);
  if (len < kMinPassword || len > kMaxPassword) {
    reply_problem(ex, 400, "password must be at least 8 characters");
    return false;
  }
  return true;
}

void write_user(json::Out& out, const User& u) {
  out.key("user");
  out.begin_object();
  out.member("id", u.id);
  out.member("email", u.email);
  out.key("name");
  if (u.name.empty()) {
    out.w().Null();
  } else {
    out.str(u.name);
  }
  out.end_object();
}

// Answers with the session as body and cookie. extra writes more members.
void send_session(const ExchangePtr& ex, App& app, int status, const User& u,
                  const std::string& session_id, int64_t expires,
                  const std::function<void(json::Out&)>& extra = nullptr) {
  JwtClaims claims{u.id, session_id, "session", static_cast<int64_t>(time(nullptr)), expires};
  std::string token = jwt_sign(claims, app.auth_secret);
  json::Out out;
  out.begin_object();
  write_user(out, u);
  out.member("expires", rfc3339(expires));
  if (extra) extra(out);
  out.end_object();
  http::Response r = http::Response::json(status, out.take());
  r.headers.push_back({"Set-Cookie", session_cookie(*ex, token, expires - time(nullptr))});
  r.headers.push_back({"Cache-Control", "no-store"});
  ex->respond(std::move(r));
}

store::UserRef user_row(const User& u) { return store::UserRef{u.id, u.email, u.name}; }

// A locked account answers after the same work as a check (the password
// against a dummy hash, never the account's), so its answer comes no sooner
// than an unknown email's or a wrong password's and timing tells nothing.
void refuse_after_a_check(App& app, const ExchangePtr& ex, std::string password, Problem p) {
  if (app.hasher.busy()) return reply_problem(ex, fail(503, "too many sign-ins under way; try again", 1));
  app.hasher.verify(app.loop, {}, std::move(password), [ex, p = std::move(p)](int) { reply_problem(ex, p); });
}

}  // namespace

// POST /api/v1/bootstrap: the first user and their workspace, only while no
// user exists.
void bootstrap(App& app, const ExchangePtr& ex) {
  auto c = std::make_shared<Credentials>();
  if (!read_credentials(app, ex, c.get(), false) || !strong_enough(ex, c->password.value)) return;
  auto exists = store::any_user(app.store.reader());
  if (!exists) return reply_problem(ex, exists.problem());
  if (*exists) return reply_problem(ex, 409, "this instance is already set up");
  app.hasher.hash(app.loop, std::move(c->password.value), [&app, ex, c](std::string hash) {
    if (hash.empty()) return reply_problem(ex, 503, "password hashing failed");
    auto user = std::make_shared<User>(User{new_id(), c->email.value, c->name.value});
    std::string ws_name = c->workspace_name.has_value() ? c->workspace_name.value : "My Workspace";
    std::string ws_id = new_id(), ws_slug = slugify(ws_name), session_id = new_id();
    int64_t expires = time(nullptr) + kSessionSeconds;
    submit(
        app,
        [=](store::Connection& w) -> Status {
          auto exists = store::any_user(w);
          if (!exists) return std::move(exists).take_problem();
          if (*exists) return fail(409, "this instance is already set up");
          std::string now = now_rfc3339();
          if (auto st = store::insert_user(w, user_row(*user), hash, now); !st) return st;
          if (auto st = store::insert_workspace(w, ws_id, ws_name, ws_slug, user->id, now); !st)
            return st;
          return store::insert_session(w, session_id, user->id, expires, now);
        },
        [=, &app](Status st) {
          if (!st) return reply_problem(ex, st.problem());
          send_session(ex, app, 201, *user, session_id, expires, [&](json::Out& out) {
            out.key("workspace");
            out.begin_object();
            out.member("id", ws_id);
            out.member("name", ws_name);
            out.member("slug", ws_slug);
            out.end_object();
          });
        });
  });
}

// POST /api/v1/auth/signup, when CREWSHIP_ALLOW_SIGNUP=true.
void signup(App& app, const ExchangePtr& ex) {
  if (app.config.allow_signup == 0) return reply_problem(ex, 403, "sign-up is disabled");
  auto c = std::make_shared<Credentials>();
  if (!read_credentials(app, ex, c.get(), false) || !strong_enough(ex, c->password.value)) return;
  app.hasher.hash(app.loop, std::move(c->password.value), [&app, ex, c](std::string hash) {
    if (hash.empty()) return reply_problem(ex, 503, "password hashing failed");
    auto user = std::make_shared<User>(User{new_id(), c->email.value, c->name.value});
    std::string session_id = new_id();
    int64_t expires = time(nullptr) + kSessionSeconds;
    submit(
        app,
        [=](store::Connection& w) -> Status {
          std::string now = now_rfc3339();
          if (auto st = store::insert_user(w, user_row(*user), hash, now); !st) return st;
          return store::insert_session(w, session_id, user->id, expires, now);
        },
        [=, &app](Status st) {
          if (!st) return reply_problem(ex, st.problem());
          send_session(ex, app, 201, *user, session_id, expires);
        });
  });
}

// POST /api/auth/callback/credentials {email, password}, JSON or form.
// Repeated failures lock the account for CREWSHIP_LOGIN_LOCKOUT (429 with
// Retry-After); unknown emails and locked accounts cost a hash too, so
// timing tells nothing. Each client address may try CREWSHIP_LOGIN_RATE
// times a minute (429 beyond).
void login(App& app, const ExchangePtr& ex) {
  if (int64_t wait = app.login_rate.take(RateLimiter::address_key(ex->peer_address),
                                          static_cast<int64_t>(uv_now(app.loop))); wait > 0)
    return reply_problem(ex, fail(429, "too many sign-ins from this address; try again later",
                                  RateLimiter::retry_after(wait)));
  auto c = std::make_shared<Credentials>();
  if (!read_credentials(app, ex, c.get(), true)) return;
  auto user = std::make_shared<User>();
  std::string hash;
  int64_t now = time(nullptr);
  if (auto found = store::find_login(app.store.reader(), c->email.value); found) {
    const store::UserRef& u = found->user;
    *user = User{u.id, u.email, u.name.value_or("")};
    hash = std::move(found->password_hash);
    if (int64_t until = found->locked_until; until > now) {
      return refuse_after_a_check(app, ex, std::move(c->password.value),
                                  fail(429, "too many failed sign-ins; try again later", static_cast<int>(until - now)));
    }
    // Checks under way count as failures until they are known not to be.
    auto in_flight = app.logins_in_flight.find(u.id);
    int64_t checking = in_flight == app.logins_in_flight.end() ? 0 : in_flight->second;
    if (found->failed_logins + checking >= app.config.login_max_failures)
      return refuse_after_a_check(app, ex, std::move(c->password.value),
                                  fail(429, "too many sign-ins under way for this account; try again", 1));
  } else if (found.problem().status != 404) {
    return reply_problem(ex, found.problem());
  }
  if (app.hasher.busy()) return reply_problem(ex, fail(503, "too many sign-ins under way; try again", 1));
  if (!user->id.empty()) ++app.logins_in_flight[user->id];
  app.hasher.verify(app.loop, std::move(hash), std::move(c->password.value), [&app, ex, user](int match) {
    // A failure stops counting as in flight only once it is counted in the
    // store, so no reader sees neither.
    auto release = [&app, id = user->id] {
      auto it = app.logins_in_flight.find(id);
      if (it != app.logins_in_flight.end() && --it->second <= 0) app.logins_in_flight.erase(it);
    };
    if (match != 0 && !user->id.empty()) release();
    if (match == PasswordHasher::kWaitedTooLong)
      return reply_problem(ex, fail(503, "the password check waited too long; try again", 1));
    if (match < 0) return reply_problem(ex, fail(503, "password check failed; try again", 1));
    if (match == 0) {
      if (!user->id.empty()) {
        int64_t max = app.config.login_max_failures;
        int64_t until = time(nullptr) + app.config.login_lockout_ms / 1000;
        submit(
            app,
            [id = user->id, max, until](store::Connection& w) {
              return store::record_failed_login(w, id, max, until);
            },
            [ex, release](Status st) {
              release();
              if (!st) return reply_problem(ex, st.problem());
              reply_problem(ex, 401, "invalid email or password");
            });
        return;
      }
      return reply_problem(ex, 401, "invalid email or password");
    }
    std::string session_id = new_id();
    int64_t expires = time(nullptr) + kSessionSeconds;
    submit(
        app,
        [id = user->id, session_id, expires](store::Connection& w) -> Status {
          if (auto st = store::clear_failed_logins(w, id); !st) return st;
          return store::insert_session(w, session_id, id, expires, now_rfc3339());
        },
        [=, &app](Status st) {
          if (!st) return reply_problem(ex, st.problem());
          send_session(ex, app, 200, *user, session_id, expires);
        });
  });
}

// GET /api/auth/session: the signed-in user, or {} (never 401).
void session(App& app, const ExchangePtr& ex) {
  auto authenticated = authenticate(app, *ex);
  if (!authenticated) return reply_problem(ex, authenticated.problem());
  if (!*authenticated) return reply(ex, 200, "{}");
  std::optional<int64_t> expires;  // none for a CLI token
  if (ex->who.kind == Principal::Kind::kSession) {
    auto at = store::session_expiry(app.store.reader(), ex->who.session_id);
    if (!at && at.problem().status != 404) return reply_problem(ex, at.problem());
    if (at) expires = *at;
  }
  json::Out out;
  out.begin_object();
  write_user(out, User{ex->who.user_id, ex->who.email, ex->who.name});
  out.key("expires");
  if (expires) {
    out.str(rfc3339(*expires));
  } else {
    out.w().Null();
  }
  out.end_object();
  reply(ex, 200, out);
}

// POST /api/auth/signout: revokes the session (if any) and clears the cookie.
void signout(App& app, const ExchangePtr& ex) {
  auto done = [ex](Status st) {
    if (!st) return reply_problem(ex, st.problem());
    http::Response r = http::Response::json(200, R"({"url":"/"})");
    r.headers.push_back({"Set-Cookie", session_cookie(*ex, "", 0)});
    ex->respond(std::move(r));
  };
  auto authenticated = authenticate(app, *ex);
  if (!authenticated) return done(authenticated.problem());
  if (!*authenticated || ex->who.kind != Principal::Kind::kSession) return done({});
  submit(
      app,
      [sid = ex->who.session_id](store::Connection& w) -> Status {
        auto revoked = store::revoke_session(w, sid, now_rfc3339());
        if (!revoked) return std::move(revoked).take_problem();
        return {};
      },
      done);
}

// POST /api/auth/token/refresh: a new session replaces the current one.
void refresh(App& app, const ExchangePtr& ex) {
  if (ex->who.kind != Principal::Kind::kSession)
    return reply_problem(ex, 400, "only a session can be refreshed");
  auto user = std::make_shared<User>(User{ex->who.user_id, ex->who.email, ex->who.name});
  std::string old_id = ex->who.session_id, session_id = new_id();
  int64_t expires = time(nullptr) + kSessionSeconds;
  submit(
      app,
      [=](store::Connection& w) -> Status {
        std::string now = now_rfc3339();
        auto revoked = store::revoke_session(w, old_id, now);
        if (!revoked) return std::move(revoked).take_problem();
        if (!*revoked) return fail(401, "session revoked");  // revoked meanwhile
        return store::insert_session(w, session_id, user->id, expires, now);
      },
      [=, &app](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        send_session(ex, app, 200, *user, session_id, expires);
      });
}

// GET /api/auth/csrf: {csrfToken}, with the double-submit cookie NextAuth sets.
void csrf(App& app, const ExchangePtr& ex) {
  std::string token = random_hex(32);
  std::string proof = crypto::hex(crypto::hmac_sha256(app.auth_secret, token));
  json::Out out;
  out.begin_object();
  out.member("csrfToken", token);
  out.end_object();
  http::Response r = http::Response::json(200, out.take());
  std::string cookie = over_https(*ex) ? "__Host-authjs.csrf-token=" : "authjs.csrf-token=";
  cookie += token + "%7C" + proof + "; Path=/; HttpOnly; SameSite=Lax";
  if (over_https(*ex)) cookie += "; Secure";
  r.headers.push_back({"Set-Cookie", cookie});
  ex->respond(std::move(r));
}

// GET /api/auth/providers
void providers(App&, const ExchangePtr& ex) {
  reply(ex, 200,
        R"({"credentials":{"id":"credentials","name":"Credentials","type":"credentials",)"
        R"("signinUrl":"/api/auth/signin/credentials","callbackUrl":"/api/auth/callback/credentials"}})");
}

namespace {
void redirect(const ExchangePtr& ex, std::string location) {
  http::Response r;
  r.status = 302;
  r.headers.push_back({"Location", std::move(location)});
  ex->respond(std::move(r));
}
}  // namespace

// GET /api/auth/signin: the UI's sign-in page.
void signin_page(App&, const ExchangePtr& ex) { redirect(ex, "/login"); }

// GET /api/auth/error?error=CODE: the UI's sign-in page with the error code.
void error_page(App&, const ExchangePtr& ex) {
  std::string code = ex->req.query_param("error").value_or("Default");
  bool plain = !code.empty() && code.size() <= 64;
  for (char ch : code) plain = plain && ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'));
  redirect(ex, "/login?error=" + (plain ? code : std::string("Default")));
}

// GET /api/v1/ws-token: a 15-minute JWT for the WebSocket endpoint.
void ws_token(App& app, const ExchangePtr& ex) {
  int64_t now = time(nullptr), expires = now + kWsTokenSeconds;
  JwtClaims claims{ex->who.user_id, "", "ws", now, expires};
  json::Out out;
  out.begin_object();
  out.member("token", jwt_sign(claims, app.auth_secret));
  out.member("expires_at", rfc3339(expires));
  out.end_object();
  reply(ex, 200, out);
}

}  // namespace crewship::api
