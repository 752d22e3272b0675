// The public listener's route table: path, handler, who may call (the
// Access api::guard checks) and body limit.
#include "api/auth.h"
#include "api/routes.h"
#include "daemon/openapi_docs.h"
#include "daemon/routes.h"

namespace crewship {
namespace {

using M = http::Method;
constexpr Access kSignedIn{Auth::kUser};  // authenticated, no workspace needed
constexpr Access kReader{Auth::kUser, kRead};
constexpr Access kCreator{Auth::kUser, kCreate};
constexpr Access kManager{Auth::kUser, kManage};
constexpr Access kOwner{Auth::kUser, Role::kOwner};
constexpr Access kWebhook{Auth::kWebhook};

}  // namespace

std::vector<Route> api_routes(App& app) {
  return {
      {M::kGet, "/api/health", bind<api::health>(app)},
      {M::kGet, "/api/v1/openapi.json", bind<serve_openapi_api>(app)},
      {M::kGet, "/ui", bind<api::ui_home>(app)},
      {M::kGet, "/ui/", bind<api::ui_file>(app)},
      {M::kGet, "/ui/roster", bind<api::ui_file>(app)},
      {M::kGet, "/ui/app.js", bind<api::ui_file>(app)},
      {M::kGet, "/ui/app.css", bind<api::ui_file>(app)},
      {M::kGet, "/ui/favicon.svg", bind<api::ui_file>(app)},

      {M::kPost, "/api/v1/bootstrap", bind<api::bootstrap>(app)},
      {M::kPost, "/api/v1/auth/signup", bind<api::signup>(app)},
      {M::kPost, "/api/auth/callback/credentials", bind<api::login>(app)},
      {M::kGet, "/api/auth/session", bind<api::session>(app)},
      {M::kPost, "/api/auth/signout", bind<api::signout>(app)},
      {M::kPost, "/api/auth/token/refresh", bind<api::refresh>(app), &kSignedIn},
      {M::kGet, "/api/auth/csrf", bind<api::csrf>(app)},
      {M::kGet, "/api/auth/providers", bind<api::providers>(app)},
      {M::kGet, "/api/auth/signin", bind<api::signin_page>(app)},
      {M::kGet, "/api/auth/error", bind<api::error_page>(app)},
      {M::kGet, "/api/v1/ws-token", bind<api::ws_token>(app), &kSignedIn},

      {M::kPost, "/api/v1/auth/cli-token", bind<api::create_cli_token>(app), &kSignedIn},
      {M::kGet, "/api/v1/auth/cli-token/validate", bind<api::validate_cli_token>(app), &kSignedIn},
      {M::kGet, "/api/v1/auth/cli-tokens", bind<api::list_cli_tokens>(app), &kSignedIn},
      {M::kDelete, "/api/v1/auth/cli-tokens/{tokenId}", bind<api::revoke_cli_token>(app), &kSignedIn},

      {M::kGet, "/api/v1/crewshipd", bind<api::crewshipd_status>(app), &kSignedIn},
      {M::kGet, "/api/v1/system/runtime", bind<api::system_runtime>(app), &kSignedIn},
      {M::kGet, "/api/v1/system/license", bind<api::system_license>(app), &kSignedIn},
      {M::kGet, "/api/v1/system/keeper", bind<api::system_keeper>(app), &kSignedIn},
      {M::kGet, "/api/v1/system/aux-status", bind<api::system_aux_status>(app), &kSignedIn},

      {M::kGet, "/api/v1/admin/stats", bind<api::admin_stats>(app), &kOwner},
      {M::kGet, "/api/v1/admin/users", bind<api::admin_users>(app), &kOwner},
      {M::kGet, "/api/v1/admin/workspaces", bind<api::admin_workspaces>(app), &kOwner},
      {M::kGet, "/api/v1/admin/keeper/requests", bind<api::admin_keeper_requests>(app), &kOwner},

      {M::kGet, "/api/v1/onboarding/status", bind<api::onboarding_status>(app), &kReader},
      {M::kPost, "/api/v1/onboarding/complete", bind<api::onboarding_complete>(app), &kManager},
      {M::kPost, "/api/v1/onboarding/setup", bind<api::onboarding_setup>(app), &kCreator},

      {M::kGet, "/api/v1/workspaces", bind<api::list_workspaces>(app), &kSignedIn},
      {M::kPost, "/api/v1/workspaces", bind<api::create_workspace>(app), &kSignedIn},
      {M::kGet, "/api/v1/workspaces/{workspaceId}", bind<api::get_workspace>(app), &kReader},
      {M::kPatch, "/api/v1/workspaces/{workspaceId}", bind<api::update_workspace>(app), &kManager},
      {M::kGet, "/api/v1/workspaces/{workspaceId}/members", bind<api::list_members>(app), &kReader},
      {M::kPost, "/api/v1/workspaces/{workspaceId}/members", bind<api::add_member>(app), &kManager},
      {M::kDelete, "/api/v1/workspaces/{workspaceId}/members/{memberId}", bind<api::remove_member>(app), &kManager},
      {M::kGet, "/api/v1/workspaces/{workspaceId}/invitations", bind<api::list_invitations>(app), &kManager},
      {M::kPost, "/api/v1/workspaces/{workspaceId}/invitations", bind<api::create_invitation>(app), &kManager},
      {M::kDelete, "/api/v1/workspaces/{workspaceId}/invitations/{invitationId}", bind<api::revoke_invitation>(app), &kManager},
      {M::kPost, "/api/v1/invitations/{token}/accept", bind<api::accept_invitation>(app), &kSignedIn},

      {M::kGet, "/api/v1/crews", bind<api::list_crews>(app), &kReader},
      {M::kPost, "/api/v1/crews", bind<api::create_crew>(app), &kCreator},
      {M::kGet, "/api/v1/crews/{crewId}", bind<api::get_crew>(app), &kReader},
      {M::kPatch, "/api/v1/crews/{crewId}", bind<api::update_crew>(app), &kCreator},
      {M::kDelete, "/api/v1/crews/{crewId}", bind<api::delete_crew>(app), &kManager},
      {M::kGet, "/api/v1/crews/{crewId}/members", bind<api::list_crew_members>(app), &kReader},
      {M::kPost, "/api/v1/crews/{crewId}/members", bind<api::add_crew_member>(app), &kManager},
      {M::kDelete, "/api/v1/crews/{crewId}/members/{userId}", bind<api::remove_crew_member>(app), &kManager},
      {M::kPost, "/api/v1/crews/{crewId}/container/start", bind<api::start_crew_container>(app), &kCreator},
      {M::kPost, "/api/v1/crews/{crewId}/container/stop", bind<api::stop_crew_container>(app), &kManager},
      {M::kGet, "/api/v1/crews/{crewId}/container/status", bind<api::crew_container_status>(app), &kReader},
      {M::kGet, "/api/v1/crews/{crewId}/persona", bind<api::get_crew_persona>(app), &kReader},
      {M::kPut, "/api/v1/crews/{crewId}/persona", bind<api::put_crew_persona>(app), &kManager},
      {M::kDelete, "/api/v1/crews/{crewId}/persona", bind<api::delete_crew_persona>(app), &kManager},
      {M::kPost, "/api/v1/crews/{crewId}/rotate-token", bind<api::rotate_crew_token>(app), &kManager},

      {M::kGet, "/api/v1/presence/roster", bind<api::presence_roster>(app), &kReader},
      {M::kGet, "/api/v1/presence/history", bind<api::presence_history>(app), &kReader},
      {M::kGet, "/api/v1/presence/stream", bind<api::presence_stream>(app), &kReader},
      // The ws-token in ?token= is checked by the handler, before the upgrade.
      {M::kGet, "/ws", bind<api::ws_connect>(app)},

      {M::kGet, "/api/v1/agents/crews-status", bind<api::crews_status>(app), &kReader},
      {M::kGet, "/api/v1/agent-load", bind<api::agent_load>(app), &kReader},
      {M::kGet, "/api/v1/agents", bind<api::list_agents>(app), &kReader},
      {M::kPost, "/api/v1/agents", bind<api::create_agent>(app), &kCreator},
      {M::kPost, "/api/v1/agents/hire", bind<api::hire_agent>(app), &kCreator},
      {M::kGet, "/api/v1/agents/{agentId}", bind<api::get_agent>(app), &kReader},
      // MANAGER passes the route; the handler applies the per-agent edit gate.
      {M::kPatch, "/api/v1/agents/{agentId}", bind<api::update_agent>(app), &kCreator},
      {M::kDelete, "/api/v1/agents/{agentId}", bind<api::delete_agent>(app), &kCreator},
      {M::kPost, "/api/v1/agents/{agentId}/rehire", bind<api::rehire_agent>(app), &kCreator},
      {M::kPost, "/api/v1/agents/{agentId}/approve-hire", bind<api::approve_hire>(app), &kCreator},
      {M::kGet, "/api/v1/agents/{agentId}/inbox", bind<api::agent_inbox>(app), &kReader},
      {M::kGet, "/api/v1/crew-templates", bind<api::list_crew_templates>(app), &kReader},
      {M::kPost, "/api/v1/crew-templates", bind<api::create_crew_template>(app), &kCreator},
      {M::kGet, "/api/v1/agents/{agentId}/container-files", bind<api::container_files>(app), &kReader},
      {M::kGet, "/api/v1/agents/{agentId}/git-log", bind<api::git_log>(app), &kReader},
      {M::kPost, "/api/v1/agents/{agentId}/stop", bind<api::stop_agent>(app), &kCreator},
      {M::kGet, "/api/v1/agents/{agentId}/debug", bind<api::agent_debug>(app), &kManager},
      {M::kGet, "/api/v1/agents/{agentId}/runs", bind<api::list_agent_runs>(app), &kReader},
      {M::kGet, "/api/v1/agents/{agentId}/logs", bind<api::agent_logs>(app), &kReader},
      {M::kGet, "/api/v1/agents/{agentId}/skills", bind<api::list_agent_skills>(app), &kReader},
      {M::kPost, "/api/v1/agents/{agentId}/skills", bind<api::assign_skill>(app), &kCreator},
      {M::kDelete, "/api/v1/agents/{agentId}/skills/{skillId}", bind<api::remove_skill>(app), &kCreator},
      {M::kGet, "/api/v1/agents/{agentId}/credentials", bind<api::list_agent_credentials>(app), &kReader},
      {M::kPost, "/api/v1/agents/{agentId}/credentials", bind<api::assign_credential>(app), &kManager},
      {M::kDelete, "/api/v1/agents/{agentId}/credentials/{assignmentId}", bind<api::unassign_credential>(app),
       &kManager},
      {M::kGet, "/api/v1/agents/{agentId}/chats", bind<api::list_chats>(app), &kReader},
      {M::kPost, "/api/v1/agents/{agentId}/chats", bind<api::create_chat>(app), &kCreator},
      {M::kGet, "/api/v1/agents/{agentId}/persona", bind<api::get_persona>(app), &kReader},
      {M::kPut, "/api/v1/agents/{agentId}/persona", bind<api::put_persona>(app), &kManager},
      {M::kDelete, "/api/v1/agents/{agentId}/persona", bind<api::delete_persona>(app), &kManager},
      {M::kGet, "/api/v1/agents/{agentId}/persona/history", bind<api::persona_history>(app), &kReader},
      {M::kPost, "/api/v1/agents/{agentId}/persona/suggest", bind<api::suggest_persona>(app), &kCreator},
      {M::kGet, "/api/v1/agents/{agentId}/learning", bind<api::get_learning>(app), &kReader},
      {M::kPatch, "/api/v1/agents/{agentId}/learning", bind<api::set_learning>(app), &kManager},
      {M::kGet, "/api/v1/agents/{agentId}/peers", bind<api::list_peer_cards>(app), &kManager},
      {M::kGet, "/api/v1/agents/{agentId}/peers/{userId}", bind<api::get_peer_card>(app), &kManager},
      {M::kDelete, "/api/v1/agents/{agentId}/peers/{userId}", bind<api::delete_peer_card>(app), &kManager},
      {M::kPost, "/api/v1/agents/{agentId}/webhook-secret", bind<api::rotate_webhook_secret>(app), &kManager},
      // The chat's workspace comes from its row: the handler checks membership.
      {M::kGet, "/api/v1/chats/{chatId}/messages", bind<api::list_chat_messages>(app), &kSignedIn},
      {M::kGet, "/api/v1/runs", bind<api::list_workspace_runs>(app), &kReader},
      {M::kPost, "/api/v1/webhooks/{crewId}/{agentId}/trigger", bind<api::trigger_webhook>(app), &kWebhook},

      {M::kPost, "/api/v1/credentials", bind<api::create_credential>(app), &kManager},
      {M::kGet, "/api/v1/credentials", bind<api::list_credentials>(app), &kReader},
      {M::kDelete, "/api/v1/credentials/{credentialId}", bind<api::delete_credential>(app), &kManager},
      {M::kPost, "/api/v1/skills", bind<api::create_skill>(app), &kCreator},
      {M::kGet, "/api/v1/skills", bind<api::list_skills>(app), &kReader},
      {M::kGet, "/api/v1/audit", bind<api::list_audit>(app), &kManager},
      {M::kGet, "/api/v1/activity", bind<api::activity_feed>(app), &kReader},
      {M::kGet, "/api/v1/mcp-tool-calls", bind<api::list_mcp_tool_calls>(app), &kManager},
      {M::kGet, "/api/v1/agents/{agentId}/files", bind<api::list_agent_files>(app), &kReader},
      {M::kGet, "/api/v1/agents/{agentId}/files/download", bind<api::download_agent_file>(app), &kReader},
      {M::kPut, "/api/v1/agents/{agentId}/files/save", bind<api::save_agent_file>(app), &kCreator, api::kAgentFileMaxBytes,
       api::save_body_sink},
  };
}

RouteGuard api_guard(App& app) { return bind_guard<api::guard>(app); }

}  // namespace crewship
