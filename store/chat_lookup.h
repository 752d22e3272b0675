// The chat a live subscription names: its workspace and the crew of its
// agent, for authorization. Loop thread's reader.
#pragma once

#include <string>
#include <string_view>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

struct ChatScope {
  std::string id, workspace_id, agent_id, crew_id;  // crew_id: "" when the agent has none
};

// The chat of a live agent; 404 when there is none.
Result<ChatScope> find_chat_scope(Connection& c, std::string_view chat_id);

}  // namespace crewship::store
