// The IPC listener's route table, under /api/v1/internal/. Every route is
// internal (ipc::guard checks the token before routing); the container
// routes mount the public handlers, which take their scope from the token.
#include "api/routes.h"
#include "daemon/metrics.h"
#include "daemon/openapi_docs.h"
#include "daemon/routes.h"
#include "ipc/routes.h"

namespace crewship {
namespace {

using M = http::Method;
constexpr Access kInternal{Auth::kInternal};

}  // namespace

std::vector<Route> ipc_routes(App& app) {
  return {
      {M::kGet, "/api/v1/internal/health", bind<ipc::health>(app), &kInternal},
      {M::kGet, "/api/v1/internal/openapi.json", bind<serve_openapi_ipc>(app), &kInternal},
      {M::kGet, "/ws", bind<api::ws_connect>(app), &kInternal},
      {M::kGet, "/metrics", bind<serve_metrics>(app), &kInternal},
      {M::kPost, "/api/v1/internal/presence", bind<ipc::presence_upsert>(app), &kInternal, 64 << 10},
      {M::kPost, "/api/v1/internal/presence/heartbeat", bind<ipc::presence_heartbeat>(app), &kInternal,
       256 << 10},
      {M::kPost, "/api/v1/internal/mcp-tool-calls", bind<ipc::record_mcp_tool_call>(app), &kInternal, 16 << 10},
      {M::kPost, "/api/v1/internal/crews/{crewId}/container/start", bind<api::start_crew_container>(app),
       &kInternal},
      {M::kPost, "/api/v1/internal/crews/{crewId}/container/stop", bind<api::stop_crew_container>(app),
       &kInternal},
      {M::kGet, "/api/v1/internal/crews/{crewId}/container/status", bind<api::crew_container_status>(app),
       &kInternal},
      {M::kPost, "/api/v1/internal/agents/{agentId}/start", bind<api::start_agent_run>(app), &kInternal},
      {M::kGet, "/api/v1/internal/agents/{agentId}/container-files", bind<api::container_files>(app),
       &kInternal},
      {M::kGet, "/api/v1/internal/agents/{agentId}/git-log", bind<api::git_log>(app), &kInternal},
      {M::kPost, "/api/v1/internal/agents/{agentId}/stop", bind<api::stop_agent>(app), &kInternal},
      {M::kGet, "/api/v1/internal/agents/{agentId}/debug", bind<api::agent_debug>(app), &kInternal},
      {M::kGet, "/api/v1/internal/agents/{agentId}/runs", bind<api::list_agent_runs>(app), &kInternal},
      {M::kGet, "/api/v1/internal/agents/{agentId}/logs", bind<api::agent_logs>(app), &kInternal},
      {M::kGet, "/api/v1/internal/chats/{chatId}/messages", bind<api::list_chat_messages>(app), &kInternal},
      // 256 KiB of content may take six times that as JSON escapes.
      {M::kPost, "/api/v1/internal/chats/{chatId}/messages", bind<api::append_chat_message>(app), &kInternal,
       2 << 20},
      // Mounted to refuse every token (403): agents propose, operators write.
      {M::kPut, "/api/v1/internal/agents/{agentId}/persona", bind<api::put_persona>(app), &kInternal},
      {M::kPost, "/api/v1/internal/agents/{agentId}/persona/suggest", bind<api::suggest_persona>(app), &kInternal},
      {M::kPut, "/api/v1/internal/agents/{agentId}/peers/{userId}", bind<api::put_peer_card>(app), &kInternal},
      {M::kGet, "/api/v1/internal/agents/{agentId}/files", bind<api::list_agent_files>(app), &kInternal},
      {M::kGet, "/api/v1/internal/agents/{agentId}/files/download", bind<api::download_agent_file>(app),
       &kInternal},
      {M::kPut, "/api/v1/internal/agents/{agentId}/files/save", bind<api::save_agent_file>(app), &kInternal,
       api::kAgentFileMaxBytes, api::save_body_sink},
  };
}

std::vector<Route> metrics_routes(App& app) { return {{M::kGet, "/metrics", bind<serve_metrics>(app)}}; }

RouteGuard ipc_guard(App& app) { return bind_guard<ipc::guard>(app); }

}  // namespace crewship
