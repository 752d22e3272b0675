// Queries of the agents table. Reader functions take the loop thread's
// connection, writer functions the writer's; either may be passed where a
// function only reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  bool expired = false;  // an ephemeral past its TTL: a ghost, or one the sweep has not reached yet
};

// The columns of agents (unaliased) that agent_ref_of() reads from a row.
// "Past its TTL" is written twice: here against SQLite's clock, and in the
// TTL sweep (hire_store.h: due_ephemerals, expire_ephemeral) as the text
// comparison expires_at <= now, which the partial index on expires_at
// serves. Both read the same RFC 3339 UTC times; they differ by at most the
// sub-second part of one.
#define CREWSHIP_AGENT_REF_COLUMNS                                  \
  "id, workspace_id, coalesce(crew_id, ''), slug, name, status,"    \
  " expired_at IS NOT NULL OR (ephemeral = 1 AND julianday(expires_at) <= julianday('now'))"
AgentRef agent_ref_of(const StmtLease& s);

// The live agent agent_id within a scope (workspace_id and crew_id empty mean
// any). 404 "agent not found" when it does not exist or lies outside the
// scope, 500 on a store error.
Result<AgentRef> find_agent(Connection& c, std::string_view agent_id, std::string_view workspace_id,
                            std::string_view crew_id);

using Text = std::optional<std::string>;  // NULL when absent

// The columns a client sets, with the defaults of a new agent.
struct AgentFields {
  std::string name, slug;
  Text crew_id, description, role_title;
  std::string agent_role = "AGENT";
  Text lead_mode;
  std::string cli_adapter = "CLAUDE_CODE";
  Text llm_provider, llm_model, system_prompt, avatar_seed, avatar_style;
  int64_t timeout_seconds = 1800;
  std::string tool_profile = "CODING";
  bool memory_enabled = false;
  Text cli_tools, schedule_cron, schedule_prompt;
  bool schedule_enabled = false;
  Text mcp_config_json;
};

// What an agent shows of its (live) crew.
struct CrewBadge {
  std::string name, slug;
  Text color, avatar_style;
};

// An agent as the API shows it.
struct Agent {
  std::string id, workspace_id;
  AgentFields fields;
  std::string status;
  Text schedule_last_run, schedule_next_run;
  std::string created_at, updated_at;
  std::optional<CrewBadge> crew;  // none without a live crew
  int64_t skills = 0, credentials = 0, chats = 0;
  Text created_by_user_id;
  bool ephemeral = false;
  Text expires_at, expired_at, parent_lead_id, hire_reason;
};

// The live agent id of workspace_id; 404 "agent not found".
Result<Agent> get_agent(Connection& c, std::string_view id, std::string_view workspace_id);
// The live agents of workspace_id (of crew_id when given), oldest first.
Result<std::vector<Agent>> list_agents(Connection& c, std::string_view workspace_id,
                                       const Text& crew_id, int64_t limit, int64_t offset);

// Inserts agent id. 409 "an agent with this slug exists in the workspace"
// or "the crew already has a LEAD agent" when a unique rule is broken.
Status insert_agent(Connection& w, std::string_view id, std::string_view workspace_id,
                    std::string_view creator_user_id, std::string_view now, const AgentFields& a);
// Replaces the settable columns of agent id; the same 409s as insert_agent.
Status update_agent(Connection& w, std::string_view id, std::string_view workspace_id,
                    std::string_view now, const AgentFields& a);
// Soft-deletes agent id.
Status delete_agent(Connection& w, std::string_view id, std::string_view now);

// The live agent id of workspace_id as an edit by user_id sees it; 404
// "agent not found".
struct EditableAgent {
  AgentFields fields;
  bool creator = false;     // user_id created the agent
  bool crew_admin = false;  // user_id holds OWNER or ADMIN in the agent's crew
};
Result<EditableAgent> load_agent_for_edit(Connection& c, std::string_view id,
                                          std::string_view workspace_id, std::string_view user_id);

// Live agents by status: RUNNING, ERROR, and the rest.
struct AgentCounts {
  int64_t total = 0, running = 0, error = 0;
  int64_t idle() const { return total - running - error; }
};
struct WorkspaceLoad {
  AgentCounts all;
  AgentCounts unassigned;  // agents without a crew
  int64_t queued = 0;      // QUEUED admission-queue assignments
};
Result<WorkspaceLoad> workspace_load(Connection& c, std::string_view workspace_id);
struct CrewLoad {
  std::string crew_id, name, slug;
  AgentCounts agents;
};
// Every live crew of workspace_id, even empty, by created_at and id.
Result<std::vector<CrewLoad>> crew_loads(Connection& c, std::string_view workspace_id);

}  // namespace crewship::store
