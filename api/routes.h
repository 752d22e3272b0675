// The public listener's handlers, one file per resource. The composition
// root mounts them (daemon/routes_api.cc; some on the IPC table too).
#pragma once

#include <cstdint>
#include <memory>

#include "daemon/handler.h"

namespace crewship::api {

#define CREWSHIP_HANDLER(name) void name(App& app, const ExchangePtr& ex)

// health.cc
CREWSHIP_HANDLER(health);
// ui.cc: the Watch Roster page's files
CREWSHIP_HANDLER(ui_file);
CREWSHIP_HANDLER(ui_home);
// system.cc
CREWSHIP_HANDLER(crewshipd_status);
CREWSHIP_HANDLER(system_runtime);
CREWSHIP_HANDLER(system_license);
CREWSHIP_HANDLER(system_keeper);
CREWSHIP_HANDLER(system_aux_status);
// admin.cc: the current workspace's admin pages (OWNER)
CREWSHIP_HANDLER(admin_stats);
CREWSHIP_HANDLER(admin_users);
CREWSHIP_HANDLER(admin_workspaces);
CREWSHIP_HANDLER(admin_keeper_requests);
// onboarding.cc
CREWSHIP_HANDLER(onboarding_status);
CREWSHIP_HANDLER(onboarding_complete);
CREWSHIP_HANDLER(onboarding_setup);
// session.cc: bootstrap, sign-up, NextAuth-compatible sign-in
CREWSHIP_HANDLER(bootstrap);
CREWSHIP_HANDLER(signup);
CREWSHIP_HANDLER(login);
CREWSHIP_HANDLER(session);
CREWSHIP_HANDLER(signout);
CREWSHIP_HANDLER(refresh);
CREWSHIP_HANDLER(csrf);
CREWSHIP_HANDLER(providers);
CREWSHIP_HANDLER(signin_page);
CREWSHIP_HANDLER(error_page);
CREWSHIP_HANDLER(ws_token);
// cli_tokens.cc
CREWSHIP_HANDLER(create_cli_token);
CREWSHIP_HANDLER(validate_cli_token);
CREWSHIP_HANDLER(list_cli_tokens);
CREWSHIP_HANDLER(revoke_cli_token);
// invitations.cc
CREWSHIP_HANDLER(list_invitations);
CREWSHIP_HANDLER(create_invitation);
CREWSHIP_HANDLER(revoke_invitation);
CREWSHIP_HANDLER(accept_invitation);

// workspaces.cc
CREWSHIP_HANDLER(list_workspaces);
CREWSHIP_HANDLER(create_workspace);
CREWSHIP_HANDLER(get_workspace);
CREWSHIP_HANDLER(update_workspace);
CREWSHIP_HANDLER(list_members);
CREWSHIP_HANDLER(add_member);
CREWSHIP_HANDLER(remove_member);
// crews.cc
CREWSHIP_HANDLER(list_crews);
CREWSHIP_HANDLER(create_crew);
CREWSHIP_HANDLER(get_crew);
CREWSHIP_HANDLER(update_crew);
CREWSHIP_HANDLER(delete_crew);
CREWSHIP_HANDLER(list_crew_members);
CREWSHIP_HANDLER(add_crew_member);
CREWSHIP_HANDLER(remove_crew_member);
// agents.cc
CREWSHIP_HANDLER(crews_status);
CREWSHIP_HANDLER(agent_load);
CREWSHIP_HANDLER(list_agents);
CREWSHIP_HANDLER(create_agent);
CREWSHIP_HANDLER(get_agent);
CREWSHIP_HANDLER(update_agent);
CREWSHIP_HANDLER(delete_agent);
// hire.cc: ephemeral agents under the crew's autonomy policy
CREWSHIP_HANDLER(hire_agent);
CREWSHIP_HANDLER(rehire_agent);
CREWSHIP_HANDLER(approve_hire);
// agent_inbox.cc
CREWSHIP_HANDLER(agent_inbox);
// crew_templates.cc
CREWSHIP_HANDLER(list_crew_templates);
CREWSHIP_HANDLER(create_crew_template);
// agent_files.cc: the agent's host workspace; the IPC table serves them too
CREWSHIP_HANDLER(list_agent_files);
CREWSHIP_HANDLER(download_agent_file);
CREWSHIP_HANDLER(save_agent_file);
// The save routes' body sink (Route::body_sink): a temporary file, ctx the App.
std::unique_ptr<http::BodySink> save_body_sink(void* app, http::Exchange& ex);
// The body limit of a save and the largest file a download sends.
constexpr int64_t kAgentFileMaxBytes = 32 << 20;

// containers.cc: a crew's container
CREWSHIP_HANDLER(start_crew_container);
CREWSHIP_HANDLER(stop_crew_container);
CREWSHIP_HANDLER(crew_container_status);
CREWSHIP_HANDLER(rotate_crew_token);
// agent_proxies.cc: reading and stopping an agent in its container
CREWSHIP_HANDLER(container_files);
CREWSHIP_HANDLER(git_log);
CREWSHIP_HANDLER(stop_agent);
CREWSHIP_HANDLER(agent_debug);
// agent_runs.cc
CREWSHIP_HANDLER(start_agent_run);
CREWSHIP_HANDLER(list_agent_runs);
CREWSHIP_HANDLER(agent_logs);
CREWSHIP_HANDLER(list_workspace_runs);
// credentials.cc: the vault and agents' credential assignments
CREWSHIP_HANDLER(create_credential);
CREWSHIP_HANDLER(list_credentials);
CREWSHIP_HANDLER(delete_credential);
CREWSHIP_HANDLER(list_agent_credentials);
CREWSHIP_HANDLER(assign_credential);
CREWSHIP_HANDLER(unassign_credential);
// skills.cc: the catalog and agents' skill assignments
CREWSHIP_HANDLER(create_skill);
CREWSHIP_HANDLER(list_skills);
CREWSHIP_HANDLER(list_agent_skills);
CREWSHIP_HANDLER(assign_skill);
CREWSHIP_HANDLER(remove_skill);
// chats.cc
CREWSHIP_HANDLER(create_chat);
CREWSHIP_HANDLER(list_chats);
CREWSHIP_HANDLER(list_chat_messages);
CREWSHIP_HANDLER(append_chat_message);
// persona.cc: the agent's and the crew's persona layers
CREWSHIP_HANDLER(get_persona);
CREWSHIP_HANDLER(put_persona);
CREWSHIP_HANDLER(delete_persona);
CREWSHIP_HANDLER(persona_history);
CREWSHIP_HANDLER(get_crew_persona);
CREWSHIP_HANDLER(put_crew_persona);
CREWSHIP_HANDLER(delete_crew_persona);
// persona_suggest.cc; the IPC table serves it too, for the agent's own token
CREWSHIP_HANDLER(suggest_persona);
// learning.cc
CREWSHIP_HANDLER(get_learning);
CREWSHIP_HANDLER(set_learning);
// peer_cards.cc; the runtime writes them over IPC (put_peer_card)
CREWSHIP_HANDLER(list_peer_cards);
CREWSHIP_HANDLER(get_peer_card);
CREWSHIP_HANDLER(delete_peer_card);
CREWSHIP_HANDLER(put_peer_card);
// webhooks.cc
CREWSHIP_HANDLER(rotate_webhook_secret);
CREWSHIP_HANDLER(trigger_webhook);
// audit.cc
CREWSHIP_HANDLER(list_audit);
// activity.cc: the cross-crew feed
CREWSHIP_HANDLER(activity_feed);
// mcp_tool_calls.cc: the MCP tool calls the runtime recorded
CREWSHIP_HANDLER(list_mcp_tool_calls);

// presence.cc
CREWSHIP_HANDLER(presence_roster);
CREWSHIP_HANDLER(presence_history);
// presence_stream.cc: the roster's changes as Server-Sent Events
CREWSHIP_HANDLER(presence_stream);
// ws.cc: the WebSocket endpoint of both listeners
CREWSHIP_HANDLER(ws_connect);

#undef CREWSHIP_HANDLER

}  // namespace crewship::api
