#include "api/auth.h"

#include <ctime>

#include "api/jwt.h"
#include "daemon/app.h"
#include "daemon/crypto.h"
#include "daemon/http_server.h"
#include "daemon/ids.h"
#include "daemon/problem.h"

namespace crewship::api {
namespace {

constexpr std::string_view kCookie = "authjs.session-token";
constexpr std::string_view kSecureCookie = "__Secure-authjs.session-token";
constexpr int64_t kTouchEverySeconds = 60;

// The value of cookie `name` in a Cookie header, or empty.
std::string_view cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
  }
  return {};
}

bool session_from_jwt(App& app, Exchange& ex, std::string_view token) {
  JwtClaims c;
  int64_t now = time(nullptr);
  if (!jwt_verify(token, app.auth_secret, now, &c) || c.kind != "session" || c.sid.empty())
    return false;
  auto s = app.store.reader().prepare(
      "SELECT u.id, u.email, coalesce(u.name, '') FROM user_sessions s"
      " JOIN users u ON u.id = s.user_id"
      " WHERE s.id = ?1 AND s.revoked_at IS NULL AND s.expires_at > ?2");
  s.bind(1, c.sid);
  s.bind(2, now);
  if (s.step() != SQLITE_ROW || s.text(0) != c.sub) return false;
  ex.who.kind = Principal::Kind::kSession;
  ex.who.user_id = s.text(0);
  ex.who.email = s.text(1);
  ex.who.name = s.text(2);
  ex.who.session_id = c.sid;
  return true;
}

bool cli_token(App& app, Exchange& ex, std::string_view token) {
  if (token.size() != kCliPrefix.size() + 64) return false;
  std::string hash = crypto::hex(crypto::sha256(token));
  auto s = app.store.reader().prepare(
      "SELECT t.id, u.id, u.email, coalesce(u.name, '') FROM cli_tokens t"
      " JOIN users u ON u.id = t.user_id"
      " WHERE t.token_hash = ?1 AND t.revoked_at IS NULL");
  s.bind(1, hash);
  if (s.step() != SQLITE_ROW) return false;
  ex.who.kind = Principal::Kind::kCliToken;
  ex.who.token_id = s.text(0);
  ex.who.user_id = s.text(1);
  ex.who.email = s.text(2);
  ex.who.name = s.text(3);

  // last_used_at is written at most once a minute per token, never waited on.
  int64_t now = time(nullptr);
  int64_t& touched = app.cli_token_touched[ex.who.token_id];
  if (now - touched >= kTouchEverySeconds) {
    touched = now;
    app.store.writer().submit(
        [id = ex.who.token_id, at = rfc3339(now)](store::Connection& c) {
          auto u = c.prepare("UPDATE cli_tokens SET last_used_at = ?2 WHERE id = ?1");
          u.bind(1, id);
          u.bind(2, at);
          return u.step() == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        },
        nullptr);
  }
  return true;
}

}  // namespace

bool authenticate(App& app, Exchange& ex) {
  if (auto auth = ex.req.header("Authorization")) {
    std::string_view v = *auth;
    if (v.size() > 7 && http::iequals(v.substr(0, 7), "Bearer ")) {
      std::string_view token = v.substr(7);
      if (token.substr(0, kCliPrefix.size()) == kCliPrefix) return cli_token(app, ex, token);
      return session_from_jwt(app, ex, token);
    }
    return false;
  }
  if (auto cookies = ex.req.header("Cookie")) {
    for (std::string_view name : {kSecureCookie, kCookie}) {
      std::string_view token = cookie_value(*cookies, name);
      if (!token.empty() && session_from_jwt(app, ex, token)) return true;
    }
  }
  return false;
}

bool guard(App& app, Exchange& ex, const Access* route, http::Response* deny) {
  if (route == nullptr || route->auth == Auth::kNone) return true;
  if (!authenticate(app, ex)) {
    *deny = problem(401, "authentication required", ex.req.path);
    deny->headers.push_back({"WWW-Authenticate", "Bearer"});
    return false;
  }
  if (route->min_role == Role::kNone) return true;

  std::string workspace;
  auto query = ex.req.query_param("workspace_id");
  if (query && !query->empty()) {
    workspace = std::move(*query);
  } else if (auto h = ex.req.header("X-Workspace-ID"); h && !h->empty()) {
    workspace = *h;
  }
  // A workspace named by the path is the one acted on; a different one in
  // the query or header would let a check pass for the wrong workspace.
  if (std::string_view p = ex.req.param("workspaceId"); !p.empty()) {
    if (!workspace.empty() && workspace != p) {
      *deny = problem(400, "workspace_id does not match the workspace in the path", ex.req.path);
      return false;
    }
    workspace = p;
  }
  if (workspace.empty()) {
    *deny = problem(400, "workspace_id is required", ex.req.path);
    return false;
  }
  if (workspace.size() > 128) {
    *deny = problem(403, "not a member of this workspace", ex.req.path);
    return false;
  }
  auto s = app.store.reader().prepare(
      "SELECT role FROM workspace_members WHERE workspace_id = ?1 AND user_id = ?2");
  s.bind(1, workspace);
  s.bind(2, ex.who.user_id);
  Role role = Role::kNone;
  if (s.step() != SQLITE_ROW || !parse_role(s.text(0), &role)) {
    *deny = problem(403, "not a member of this workspace", ex.req.path);
    return false;
  }
  if (role < route->min_role) {
    *deny = problem(403, "this action needs the " + std::string(role_name(route->min_role)) +
                             " role or higher",
                    ex.req.path);
    return false;
  }
  ex.who.workspace_id = std::move(workspace);
  ex.who.role = role;
  return true;
}

bool over_https(const Exchange& ex) {
  auto proto = ex.req.header("X-Forwarded-Proto");
  return ex.peer_is_local && proto && http::iequals(*proto, "https");
}

std::string session_cookie(const Exchange& ex, std::string_view token, int64_t max_age) {
  bool secure = over_https(ex);
  std::string c(secure ? kSecureCookie : kCookie);
  c += "=";
  c += token;
  c += "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(max_age);
  if (max_age > 0) {
    time_t at = time(nullptr) + max_age;
    struct tm tm;
    gmtime_r(&at, &tm);
    char date[40];
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    c += "; Expires=";
    c += date;
  }
  if (secure) c += "; Secure";
  return c;
}

}  // namespace crewship::api
