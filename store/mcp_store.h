// Queries of mcp_tool_calls: the MCP tool calls the runtime reports for an
// agent, with the SHA-256 of their arguments, never the arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

struct McpToolCall {
  std::string id, workspace_id;
  std::string crew_id;  // the agent's crew when it was recorded; empty: none
  std::string agent_id;
  std::optional<std::string> run_id;
  std::string server, tool;
  std::string arguments_digest;  // sha256:<64 lowercase hex>
  int64_t duration_ms = 0;
  std::string outcome;  // ok | error | timeout | denied | cancelled
  std::string created_at;
};

// Inserts call in the caller's transaction: 404 "run not found" when it
// names a run that is not one of its agent's.
Status insert_mcp_tool_call(Connection& w, const McpToolCall& call);

// The calls of workspace_id (of agent_id when given), newest first.
Result<std::vector<McpToolCall>> list_mcp_tool_calls(Connection& c, std::string_view workspace_id,
                                                     const std::optional<std::string>& agent_id,
                                                     int64_t limit, int64_t offset);

}  // namespace crewship::store
