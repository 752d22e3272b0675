#include "api/routes.h"

namespace crewship::api {
namespace {

using M = http::Method;
constexpr Auth U = Auth::kUser;
constexpr Auth N = Auth::kNone;
constexpr Role kAny = Role::kNone;  // authenticated, no workspace needed

// Literal segments come before captures where both could match.
const Route kRoutes[] = {
    {M::kGet, "/api/health", health},

    {M::kPost, "/api/v1/bootstrap", bootstrap, N},
    {M::kPost, "/api/v1/auth/signup", signup, N},
    {M::kPost, "/api/auth/callback/credentials", login, N},
    {M::kGet, "/api/auth/session", session, N},
    {M::kPost, "/api/auth/signout", signout, N},
    {M::kPost, "/api/auth/token/refresh", refresh, U, kAny},
    {M::kGet, "/api/auth/csrf", csrf, N},
    {M::kGet, "/api/auth/providers", providers, N},
    {M::kGet, "/api/auth/signin", signin_page, N},
    {M::kGet, "/api/auth/error", error_page, N},
    {M::kGet, "/api/v1/ws-token", ws_token, U, kAny},

    {M::kPost, "/api/v1/auth/cli-token", create_cli_token, U, kAny},
    {M::kGet, "/api/v1/auth/cli-token/validate", validate_cli_token, U, kAny},
    {M::kGet, "/api/v1/auth/cli-tokens", list_cli_tokens, U, kAny},
    {M::kDelete, "/api/v1/auth/cli-tokens/{tokenId}", revoke_cli_token, U, kAny},

    {M::kGet, "/api/v1/crewshipd", crewshipd_status, U, kAny},
    {M::kGet, "/api/v1/system/runtime", system_runtime, U, kAny},

    {M::kGet, "/api/v1/workspaces", list_workspaces, U, kAny},
    {M::kPost, "/api/v1/workspaces", create_workspace, U, kAny},
    {M::kGet, "/api/v1/workspaces/{workspaceId}", get_workspace, U, kRead},
    {M::kPatch, "/api/v1/workspaces/{workspaceId}", update_workspace, U, kManage},
    {M::kGet, "/api/v1/workspaces/{workspaceId}/members", list_members, U, kRead},
    {M::kPost, "/api/v1/workspaces/{workspaceId}/members", add_member, U, kManage},
    {M::kDelete, "/api/v1/workspaces/{workspaceId}/members/{memberId}", remove_member, U, kManage},

    {M::kGet, "/api/v1/crews", list_crews, U, kRead},
    {M::kPost, "/api/v1/crews", create_crew, U, kCreate},
    {M::kGet, "/api/v1/crews/{crewId}", get_crew, U, kRead},
    {M::kPatch, "/api/v1/crews/{crewId}", update_crew, U, kCreate},
    {M::kDelete, "/api/v1/crews/{crewId}", delete_crew, U, kManage},
    {M::kGet, "/api/v1/crews/{crewId}/members", list_crew_members, U, kRead},
    {M::kPost, "/api/v1/crews/{crewId}/members", add_crew_member, U, kManage},
    {M::kDelete, "/api/v1/crews/{crewId}/members/{userId}", remove_crew_member, U, kManage},
    {M::kPost, "/api/v1/crews/{crewId}/container/start", start_crew_container, U, kCreate},
    {M::kPost, "/api/v1/crews/{crewId}/container/stop", stop_crew_container, U, kManage},
    {M::kGet, "/api/v1/crews/{crewId}/container/status", crew_container_status, U, kRead},

    {M::kGet, "/api/v1/presence/roster", presence_roster, U, kRead},
    {M::kGet, "/api/v1/presence/history", presence_history, U, kRead},

    {M::kGet, "/api/v1/agents/crews-status", crews_status, U, kRead},
    {M::kGet, "/api/v1/agent-load", agent_load, U, kRead},
    {M::kGet, "/api/v1/agents", list_agents, U, kRead},
    {M::kPost, "/api/v1/agents", create_agent, U, kCreate},
    {M::kGet, "/api/v1/agents/{agentId}", get_agent, U, kRead},
    // MANAGER passes the route; the handler applies the per-agent edit gate.
    {M::kPatch, "/api/v1/agents/{agentId}", update_agent, U, kCreate},
    {M::kDelete, "/api/v1/agents/{agentId}", delete_agent, U, kCreate},
    {M::kGet, "/api/v1/agents/{agentId}/container-files", container_files, U, kRead},
    {M::kGet, "/api/v1/agents/{agentId}/git-log", git_log, U, kRead},
    {M::kPost, "/api/v1/agents/{agentId}/stop", stop_agent, U, kCreate},
    {M::kGet, "/api/v1/agents/{agentId}/debug", agent_debug, U, kManage},
    {M::kGet, "/api/v1/agents/{agentId}/runs", list_agent_runs, U, kRead},
    {M::kGet, "/api/v1/agents/{agentId}/logs", agent_logs, U, kRead},
    {M::kGet, "/api/v1/agents/{agentId}/files", list_agent_files, U, kRead},
    {M::kGet, "/api/v1/agents/{agentId}/files/download", download_agent_file, U, kRead},
    {M::kPut, "/api/v1/agents/{agentId}/files/save", save_agent_file, U, kCreate, kAgentFileMaxBytes},
};

}  // namespace

const Router& router() {
  static const Router r(kRoutes);
  return r;
}

}  // namespace crewship::api
