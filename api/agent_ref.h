// The agent a proxy route names ({agentId}), looked up within the caller's
// scope, and the host paths that belong to it. Shared by the public handlers
// and their IPC twins: a public caller's scope is the workspace the guard
// resolved; an internal caller's is its token's workspace and crew (empty:
// the master token, which sees every agent).
#pragma once

#include <string>

#include "daemon/app.h"
#include "daemon/http_server.h"

namespace crewship::api {

struct AgentRef {
  std::string id;
  std::string workspace_id;
  std::string crew_id;  // empty: not assigned to a crew
  std::string slug;
  std::string name;
  std::string status;   // agents.status
};

// Loads the live agent of the {agentId} parameter. Answers 404 (and returns
// false) when it does not exist or lies outside the caller's scope; with
// need_crew, also when it has no crew.
bool find_agent(App& app, const ExchangePtr& ex, AgentRef* out, bool need_crew = false);

// <data>/storage/crews/<crew>: the crew's /output.
std::string crew_storage_dir(const Config& config, const std::string& crew_id);
// <data>/storage/crews/<crew>/<slug>: the agent's workspace (/output/<slug>).
std::string agent_storage_dir(const Config& config, const AgentRef& agent);

}  // namespace crewship::api

namespace crewship::api {

// Answers 200 with a list: bare (array_json as is) to public callers, wrapped
// as {"<envelope>": [...]} to internal ones, the shape IPC clients expect.
void reply_list(const ExchangePtr& ex, std::string_view envelope, std::string array_json);

}  // namespace crewship::api
