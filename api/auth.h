// Authentication and authorization of the public listener.
//   Session: the authjs.session-token / __Secure-authjs.session-token cookie
//     or Authorization: Bearer <jwt>; an HS256 JWT whose sid names a live
//     user_sessions row, so sign-out revokes it.
//   CLI token: Authorization: Bearer crewship_cli_<64 hex>, stored as SHA-256.
// A route's min_role makes it workspace-scoped: the workspace comes from
// ?workspace_id=, else X-Workspace-ID, else {workspaceId}; when the path names
// one, a different one elsewhere is refused (400). Missing: 400. The caller
// must be a member (403) holding at least that role (403).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/handler.h"
#include "daemon/http.h"
#include "daemon/result.h"

namespace crewship::api {

constexpr int64_t kSessionSeconds = 30 * 24 * 3600;
constexpr int64_t kWsTokenSeconds = 15 * 60;
constexpr std::string_view kCliPrefix = "crewship_cli_";

// The public listener's guard: checks the route's Access (null: anyone).
bool guard(App& app, Exchange& ex, const Access* route, http::Response* deny);
// The guard of a webhook route (api/webhooks.cc): the {agentId}'s secret in
// X-Webhook-Secret, the agent in the path's {crewId}, the per-agent rate.
bool webhook_guard(App& app, Exchange& ex, http::Response* deny);
// Fills ex.who from a session or CLI token: true when it did, false when the
// request has none that is valid, a problem when the store failed.
Result<bool> authenticate(App& app, Exchange& ex);

// The value of cookie name in a Cookie header, or empty.
std::string_view cookie_value(std::string_view header, std::string_view name);

// The request came over HTTPS: X-Forwarded-Proto: https from a local proxy.
bool over_https(const Exchange& ex);
// Set-Cookie value for the session token; max_age 0 clears it.
std::string session_cookie(const Exchange& ex, std::string_view token, int64_t max_age);

}  // namespace crewship::api
