#include "ipc/routes.h"

#include "api/routes.h"

#include "daemon/app.h"
#include "daemon/http_server.h"
#include "daemon/json.h"
#include "daemon/problem.h"

namespace crewship::ipc {
namespace {

using M = http::Method;

constexpr Auth I = Auth::kInternal;

// The container routes share the public handlers: scope comes from the token.
const Route kRoutes[] = {
    {M::kGet, "/api/v1/internal/health", health, Auth::kInternal},
    {M::kPost, "/api/v1/internal/presence", presence_upsert, Auth::kInternal, Role::kNone, 64 << 10},
    {M::kPost, "/api/v1/internal/presence/heartbeat", presence_heartbeat, Auth::kInternal, Role::kNone,
     256 << 10},
    {M::kPost, "/api/v1/internal/crews/{crewId}/container/start", api::start_crew_container, I},
    {M::kPost, "/api/v1/internal/crews/{crewId}/container/stop", api::stop_crew_container, I},
    {M::kGet, "/api/v1/internal/crews/{crewId}/container/status", api::crew_container_status, I},
    {M::kPost, "/api/v1/internal/agents/{agentId}/start", api::start_agent_run, I},
    {M::kGet, "/api/v1/internal/agents/{agentId}/container-files", api::container_files, I},
    {M::kGet, "/api/v1/internal/agents/{agentId}/git-log", api::git_log, I},
    {M::kPost, "/api/v1/internal/agents/{agentId}/stop", api::stop_agent, I},
    {M::kGet, "/api/v1/internal/agents/{agentId}/debug", api::agent_debug, I},
    {M::kGet, "/api/v1/internal/agents/{agentId}/runs", api::list_agent_runs, I},
    {M::kGet, "/api/v1/internal/agents/{agentId}/logs", api::agent_logs, I},
    {M::kGet, "/api/v1/internal/agents/{agentId}/files", api::list_agent_files, I},
    {M::kGet, "/api/v1/internal/agents/{agentId}/files/download", api::download_agent_file, I},
    {M::kPut, "/api/v1/internal/agents/{agentId}/files/save", api::save_agent_file, I,
     Role::kNone, api::kAgentFileMaxBytes},
};

}  // namespace

const Router& router() {
  static const Router r(kRoutes);
  return r;
}

// Checked before routing, so an unauthenticated caller learns nothing about
// which paths exist.
bool guard(App& app, Exchange& ex, const Route*, http::Response* deny) {
  auto token = ex.req.header("X-Internal-Token");
  InternalAuth::Scope scope;
  if (token && app.internal.verify(*token, &scope)) {
    ex.who.kind = Principal::Kind::kInternal;
    ex.who.workspace_id = std::move(scope.workspace_id);
    ex.who.crew_id = std::move(scope.crew_id);
    return true;
  }
  *deny = problem(401, token ? "invalid internal token" : "missing X-Internal-Token",
                  ex.req.path);
  return false;
}

// GET /api/v1/internal/health
void health(App& app, const ExchangePtr& ex) {
  json::Out out;
  out.begin_object();
  out.member("status", "ok");
  out.member("service", "crewshipd");
  out.member("version", CREWSHIPD_VERSION);
  out.member("uptime_secs", app.uptime_secs());
  out.end_object();
  ex->respond(http::Response::json(200, out.take()));
}

}  // namespace crewship::ipc
