#include "api/auth.h"

#include <ctime>

#include "api/common.h"
#include "api/jwt.h"
#include "daemon/app.h"
#include "daemon/crypto.h"
#include "daemon/http_server.h"
#include "daemon/ids.h"
#include "daemon/log.h"
#include "daemon/problem.h"
#include "store/session_store.h"
#include "store/workspace_store.h"
#include "store/writer.h"

namespace crewship::api {
namespace {

constexpr std::string_view kCookie = "authjs.session-token";
constexpr std::string_view kSecureCookie = "__Secure-authjs.session-token";
constexpr int64_t kTouchEverySeconds = 60;


// True with ex.who filled, false when the token is not a live session.
Result<bool> session_from_jwt(App& app, Exchange& ex, std::string_view token) {
  JwtClaims c;
  int64_t now = time(nullptr);
  if (!app.verified_jwts.verify(token, now, &c) || c.kind != "session" || c.sid.empty())
    return false;
  auto holder = store::find_live_session(app.store.reader(), c.sid, now);
  if (!holder) return holder.problem().status == 404 ? Result<bool>(false) : holder.problem();
  if (holder->user_id != c.sub) return false;
  ex.who.kind = Principal::Kind::kSession;
  ex.who.user_id = std::move(holder->user_id);
  ex.who.email = std::move(holder->email);
  ex.who.name = std::move(holder->name);
  ex.who.session_id = c.sid;
  return true;
}

Result<bool> cli_token(App& app, Exchange& ex, std::string_view token) {
  if (token.size() != kCliPrefix.size() + 64) return false;
  auto found = store::find_cli_token(app.store.reader(), crypto::hex(crypto::sha256(token)));
  if (!found) return found.problem().status == 404 ? Result<bool>(false) : found.problem();
  ex.who.kind = Principal::Kind::kCliToken;
  ex.who.token_id = std::move(found->token_id);
  ex.who.user_id = std::move(found->holder.user_id);
  ex.who.email = std::move(found->holder.email);
  ex.who.name = std::move(found->holder.name);

  // last_used_at is written at most once a minute per token, never waited on.
  int64_t now = time(nullptr);
  int64_t& touched = app.cli_token_touched[ex.who.token_id];
  if (now - touched >= kTouchEverySeconds) {
    touched = now;
    store::submit(
        app.store.writer(),
        [id = ex.who.token_id, at = rfc3339(now)](store::Connection& w) {
          return store::touch_cli_token(w, id, at);
        },
        [rid = ex.req.id](Status st) {
          if (!st) LOG_ERROR("[%s] CLI token last use not recorded: %s", rid.c_str(), st.problem().cause.c_str());
        });
  }
  return true;
}

bool is_mutation(http::Method m) {
  return m == http::Method::kPost || m == http::Method::kPut || m == http::Method::kPatch ||
         m == http::Method::kDelete;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// A browser's cross-site request carries Sec-Fetch-Site (every current
// browser) or Origin (every browser on a cross-origin POST, PUT, PATCH or
// DELETE). The host the page was served from is the Host header, or the
// local proxy's X-Forwarded-Host.
bool same_origin(const Exchange& ex) {
  if (auto site = ex.req.header("Sec-Fetch-Site")) {
    std::string_view v = trim(*site);
    if (!http::iequals(v, "same-origin") && !http::iequals(v, "none")) return false;
  }
  auto origin = ex.req.header("Origin");
  if (!origin) return true;
  std::string_view o = trim(*origin);
  size_t scheme = o.find("://");
  if (scheme == std::string_view::npos) return false;  // "null" and the like
  std::string_view host = o.substr(scheme + 3);
  auto forwarded = ex.peer_is_local ? ex.req.header("X-Forwarded-Host") : std::nullopt;
  auto want = forwarded ? forwarded : ex.req.header("Host");
  return want && !host.empty() && http::iequals(host, trim(*want));
}

// Mutations authenticated by the session cookie, which a browser attaches to
// requests other sites make: they must come from this origin and, with a
// body, be JSON, which no cross-site form can send and no script can
// without a CORS preflight that is never granted. A bodiless one must have
// no Content-Type either, as any form has. Bearer tokens (CLI, scripts) are
// not sent by browsers on their own and are not checked.
bool cookie_request_ok(const Exchange& ex, http::Response* deny) {
  if (!is_mutation(ex.req.method) || ex.req.header("Authorization")) return true;
  if (!same_origin(ex)) {
    *deny = problem(403, "cross-site request refused (Origin or Sec-Fetch-Site is not this site)", ex.req.path);
    return false;
  }
  auto type = ex.req.header("Content-Type");
  bool json = type && http::iequals(trim(type->substr(0, type->find(';'))), "application/json");
  // From the headers: the guard may run before the body is read.
  auto length = ex.req.header("Content-Length");
  bool body = ex.req.header("Transfer-Encoding").has_value() || (length && trim(*length) != "0");
  if (type ? !json : body) {
    *deny = problem(415, "a request signed in by the session cookie must send application/json", ex.req.path);
    return false;
  }
  return true;
}

}  // namespace

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

Result<bool> authenticate(App& app, Exchange& ex) {
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
      if (token.empty()) continue;
      auto found = session_from_jwt(app, ex, token);
      if (!found || *found) return found;
    }
  }
  return false;
}

bool guard(App& app, Exchange& ex, const Access* route, http::Response* deny) {
  if (route == nullptr || route->auth == Auth::kNone) return true;
  if (route->auth == Auth::kWebhook) return webhook_guard(app, ex, deny);
  auto authenticated = authenticate(app, ex);
  if (!authenticated) {
    *deny = problem_response(ex, authenticated.problem());
    return false;
  }
  if (!*authenticated) {
    *deny = problem(401, "authentication required", ex.req.path);
    deny->headers.push_back({"WWW-Authenticate", "Bearer"});
    return false;
  }
  if (ex.who.kind == Principal::Kind::kSession && !cookie_request_ok(ex, deny)) return false;
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
  auto member = store::member_role(app.store.reader(), workspace, ex.who.user_id);
  if (!member && member.problem().status != 404) {
    *deny = problem_response(ex, member.problem());
    return false;
  }
  Role role = Role::kNone;
  if (!member || !parse_role(*member, &role)) {
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
