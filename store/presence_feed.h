// The presence journal as a feed: where it ends for an agent, and the
// agent.status_change entries of a workspace after a cursor, oldest first,
// for a stream that resumes (SSE Last-Event-ID). Loop thread's reader.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "daemon/result.h"
#include "store/db.h"
#include "store/presence_store.h"

namespace crewship::store {

// The id of the agent's newest status entry (0: none).
Result<int64_t> last_status_entry(Connection& c, std::string_view agent_id);

// Entries of the workspace (optionally one crew) with id > after, oldest
// first, at most limit.
int status_entries_after(Connection& c, std::string_view workspace_id, std::string_view crew_id, int64_t after,
                         int64_t limit, const std::function<void(const JournalRow&)>& row);

}  // namespace crewship::store
