// What handlers share: configuration, the store, the internal token, what the
// engine probe found, and process facts. Owned by the Daemon; loop thread only.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <uv.h>

#include "api/jwt.h"
#include "api/password.h"
#include "container/engine_probe.h"
#include "daemon/config.h"
#include "daemon/http_metrics.h"
#include "daemon/rate_limit.h"
#include "daemon/vault.h"
#include "ipc/internal_token.h"
#include "store/presence_service.h"
#include "store/store.h"

namespace crewship {

class Server;
namespace api {
struct Bridge;
struct Hub;
}

struct App {
  uv_loop_t* loop = nullptr;
  Config config;
  store::Store store;
  ipc::InternalAuth internal;
  api::PasswordHasher hasher;  // Argon2id in a helper process
  std::string auth_secret;  // session JWT key: NEXTAUTH_SECRET or <data dir>/auth-secret
  api::VerifiedJwts verified_jwts{auth_secret};  // session JWTs already checked against it
  Vault vault;              // credential values and webhook secrets at rest
  // Agent id -> the webhook triggers of the current minute window.
  struct WebhookWindow {
    int64_t minute = 0;
    int64_t count = 0;
  };
  std::unordered_map<std::string, WebhookWindow> webhook_windows;
  // CLI token id -> when its last_used_at was last written (unix seconds).
  std::unordered_map<std::string, int64_t> cli_token_touched;
  // User id -> sign-ins of it whose password check is under way: they count
  // against the lockout before they are checked, so a burst cannot guess
  // past it.
  std::unordered_map<std::string, int64_t> logins_in_flight;
  RateLimiter login_rate;      // sign-in attempts by client address
  RateLimiter ipc_token_rate;  // IPC writes by bound token (the master token is not limited)
  RateLimiter ipc_agent_rate;  // IPC presence writes by agent, with a bound token
  container::EngineInfo engine;
  std::unique_ptr<api::Bridge> bridge;  // the container engine's side; see api/bridge.h
  std::unique_ptr<api::Hub> hub;        // live pushes (WebSocket, SSE); see api/realtime.h
  uint64_t started_ns = 0;  // uv_hrtime() at start
  time_t started_at = 0;    // wall clock at start
  std::vector<std::unique_ptr<Server>> servers;
  std::vector<std::unique_ptr<HttpMetrics>> http_metrics;  // one per listener name
  // Each listener's OpenAPI document, built once at start (daemon/openapi_docs.h).
  std::shared_ptr<const std::string> openapi_api, openapi_ipc;

  // Every presence write goes through it; it also caches roster answers.
  store::PresenceService presence{store};
  // For changes outside presence that alter what a roster shows.
  void presence_changed(const std::string& workspace_id) { presence.invalidate(workspace_id); }

  int64_t uptime_secs() const {
    return static_cast<int64_t>((uv_hrtime() - started_ns) / 1'000'000'000ULL);
  }
};

}  // namespace crewship
