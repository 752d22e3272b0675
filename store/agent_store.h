// Queries of the agents table. Reader functions take the loop thread's
// connection, writer functions the writer's.
#pragma once

#include <string>
#include <string_view>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

struct AgentRef {
  std::string id;
  std::string workspace_id;
  std::string crew_id;  // empty: not assigned to a crew
  std::string slug;
  std::string name;
  std::string status;   // agents.status
};

// The live agent agent_id within a scope (workspace_id and crew_id empty mean
// any). 404 "agent not found" when it does not exist or lies outside the
// scope, 500 on a store error.
Result<AgentRef> find_agent(Connection& c, std::string_view agent_id, std::string_view workspace_id,
                            std::string_view crew_id);

}  // namespace crewship::store
