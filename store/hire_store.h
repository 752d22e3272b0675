// Queries of ephemeral agents ("contractors"): the crew policy a hire is
// judged by, the quota of live ephemerals, the hire's own columns, the
// guided approval, and the sweep of those past their TTL. Reader functions
// take the loop thread's connection, writer functions the writer's; either
// may be passed where a function only reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/result.h"
#include "store/agent_store.h"
#include "store/db.h"

namespace crewship::store {

// What a hire into a crew is judged by.
struct CrewPolicy {
  std::string id, workspace_id, slug, name;
  std::string autonomy_level;  // strict | guided | trusted | full
  int64_t max_ephemeral_agents = 0;
};
// The live crew of workspace_id with this id (crew_id non-empty) or else
// this slug; 404 "crew not found".
Result<CrewPolicy> crew_policy(Connection& c, std::string_view workspace_id, std::string_view crew_id,
                               std::string_view crew_slug);

// Live (not deleted, not ghost) ephemeral agents of crew_id.
Result<int64_t> live_ephemerals(Connection& c, std::string_view crew_id);

// Whether lead_id is a live LEAD agent of crew_id in workspace_id.
Result<bool> is_crew_lead(Connection& c, std::string_view lead_id, std::string_view workspace_id,
                          std::string_view crew_id);

// The columns a hire adds to an agent it inserted.
struct HireColumns {
  std::string status;  // IDLE, or PENDING_REVIEW under guided autonomy
  std::string expires_at, hire_reason;
  std::optional<std::string> parent_lead_id;
};
// Marks agent id (just inserted) ephemeral with h.
Status mark_ephemeral(Connection& w, std::string_view id, const HireColumns& h);

// An ephemeral's side of an agent, as rehire and the hire answers read it.
struct Ephemeral {
  AgentRef agent;
  bool ephemeral = false;
  std::optional<std::string> expires_at, expired_at, parent_lead_id, hire_reason;
};
// The live agent id of workspace_id; 404 "agent not found".
Result<Ephemeral> load_ephemeral(Connection& c, std::string_view id, std::string_view workspace_id);

// Gives ephemeral id a new deadline and hire_reason and clears expired_at
// (a ghost lives again).
Status extend_ephemeral(Connection& w, std::string_view id, std::string_view expires_at,
                        std::string_view hire_reason, std::string_view now);

// PENDING_REVIEW -> IDLE for the live agent id of workspace_id, in one
// conditional UPDATE: false when it was not pending (or does not exist).
Result<bool> approve_pending(Connection& w, std::string_view id, std::string_view workspace_id,
                             std::string_view now);

// Live ephemerals not yet ghosts whose expires_at is at or before now
// (RFC 3339 seconds), oldest deadline first, at most limit.
Result<std::vector<AgentRef>> due_ephemerals(Connection& c, std::string_view now, int64_t limit);
// Makes agent id a ghost at now (RFC 3339 seconds) if it still is due: false
// when a rehire (or an earlier sweep) came first.
Result<bool> expire_ephemeral(Connection& w, std::string_view id, std::string_view now);

// Open assignments routed to agent_id (any status but a terminal one).
Result<int64_t> open_assignments(Connection& c, std::string_view agent_id);

// Appends a journal entry (payload a JSON object) in the caller's
// transaction; created_at RFC 3339 with nanoseconds.
struct JournalEntry {
  std::string workspace_id, crew_id, agent_id;  // crew_id, agent_id: empty for none
  std::string kind, payload;
};
Status append_journal(Connection& w, const JournalEntry& e);

}  // namespace crewship::store
