// Each area's OpenAPI docs (daemon/openapi.h), kept beside its handlers in
// api/<area>_doc.cc and gathered by the composition root
// (daemon/openapi_docs.cc).
#pragma once

#include "daemon/openapi.h"

namespace crewship::api::docs {

void common(openapi::DocSet& d);  // shared schemas: Problem, User, ...
void health(openapi::DocSet& d);
void ui(openapi::DocSet& d);
void system(openapi::DocSet& d);
void session(openapi::DocSet& d);
void cli_tokens(openapi::DocSet& d);
void invitations(openapi::DocSet& d);
void workspaces(openapi::DocSet& d);
void crews(openapi::DocSet& d);
void containers(openapi::DocSet& d);
void presence(openapi::DocSet& d);
void realtime(openapi::DocSet& d);  // the presence stream and /ws
void agents(openapi::DocSet& d);
void agent_proxies(openapi::DocSet& d);
void agent_runs(openapi::DocSet& d);
void agent_files(openapi::DocSet& d);
void credentials(openapi::DocSet& d);
void skills(openapi::DocSet& d);
void chats(openapi::DocSet& d);
void webhooks(openapi::DocSet& d);
void audit(openapi::DocSet& d);
void operators(openapi::DocSet& d);  // licence, keeper, aux status, admin, onboarding
void hire(openapi::DocSet& d);       // hire, rehire, approve-hire, inbox, crew templates
void persona(openapi::DocSet& d);    // persona layers, suggestions, self-learning, peer cards
void activity(openapi::DocSet& d);  // the feed and the MCP tool calls list

}  // namespace crewship::api::docs
