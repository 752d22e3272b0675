// Queries of the presence tables: agent_status (one row per agent) and the
// agent.status_change entries of the journal. Write functions run on the
// writer thread inside its transaction; read functions on the loop thread's
// connection.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

// A status write as a caller asks for it.
struct PresenceUpdate {
  std::string agent_id;
  std::string workspace_id;
  std::string crew_id;  // empty: no crew
  std::string status;   // online | busy | blocked | offline
  std::string details;  // a JSON object, or empty
  bool error = false;   // details carry "error": the agent is ERROR, not IDLE
};

// ... with its time.
struct PresenceWrite : PresenceUpdate {
  std::string since;  // the write's wall-clock time, RFC 3339 with nanoseconds
  int64_t now_ms = 0;
};

struct PresenceResult {
  bool changed = false;  // a transition or a first write (journaled)
};

// Upserts the row (since and last_seen always move), appends an
// agent.status_change entry on a transition or first write, and keeps
// agents.status coherent: busy/blocked -> RUNNING, online/offline -> IDLE, or
// ERROR when an error was reported; a hire PENDING_REVIEW keeps that status.
int write_presence(Connection& c, const PresenceWrite& w, PresenceResult* out);

// Moves last_seen of existing rows only; *updated counts them.
int heartbeat(Connection& c, const std::vector<std::string>& agent_ids, int64_t now_ms, int* updated);

struct Swept {
  std::string agent_id, workspace_id, crew_id;
};
// Flips every non-offline row whose last_seen is before cutoff_ms to offline
// with details (a JSON object), through write_presence.
int sweep_stale(Connection& c, int64_t cutoff_ms, const std::string& details,
                const std::string& since, int64_t now_ms, std::vector<Swept>* swept);

// Flips every non-offline row of a crew to offline with details.
int offline_crew(Connection& c, const std::string& crew_id, const std::string& details,
                 const std::string& since, int64_t now_ms, std::vector<Swept>* swept);

struct PresenceRow {
  std::string_view agent_id, crew_id, status, since, details;
};
// Rows of live agents of a workspace, newest since first (then by agent id),
// each with the crew the agent is in now.
int roster(Connection& c, std::string_view workspace_id, const std::function<void(const PresenceRow&)>& row);

struct JournalRow {
  int64_t id;
  std::string_view agent_id, crew_id, payload, created_at;
};
// agent.status_change entries of a workspace, newest first, id < before
// (0: from the newest), optionally for one agent or crew.
int status_history(Connection& c, std::string_view workspace_id, std::string_view agent_id,
                   std::string_view crew_id, int64_t before, int64_t limit,
                   const std::function<void(const JournalRow&)>& row);

struct PresenceNow {
  std::string status, since, details;  // details: a JSON object, or empty
};
// The agent's presence row, if it has one.
Result<std::optional<PresenceNow>> presence_of(Connection& c, std::string_view agent_id);

// Whether agent_id is (or was: deleted agents keep their history) an agent
// of the workspace.
Result<bool> agent_known(Connection& c, std::string_view agent_id, std::string_view workspace_id);

}  // namespace crewship::store
