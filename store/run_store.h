// Queries of agent_runs, the runs crewshipd started in crew containers.
// Reader functions take the loop thread's connection; writer functions the
// writer's, inside its transaction (they return SQLite result codes, as
// Writer::Work does).
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

struct NewRun {
  std::string id, agent_id, workspace_id, crew_id;
  std::string chat_id;   // empty: none
  std::string cmd_json;  // the command, a JSON array of strings
  std::string started_at;
  std::string source = "ipc";  // ipc | webhook
};
int insert_run(Connection& c, const NewRun& run);

// The run's end: status SUCCEEDED | FAILED | STOPPED, exit_code < 0 unknown,
// error empty for none.
int end_run(Connection& c, const std::string& run_id, const std::string& status, int64_t exit_code,
            const std::string& error, const std::string& ended_at);

// Every RUNNING run of the agent becomes STOPPED.
int stop_runs(Connection& c, const std::string& agent_id, const std::string& ended_at);

// Runs still RUNNING when crewshipd last stopped lost their output: LOST.
int mark_lost_runs(Connection& c, const std::string& ended_at);

// agents.status = STOPPED (a stopped agent counts as idle).
int mark_agent_stopped(Connection& c, const std::string& agent_id);

struct RunRow {
  std::string id, agent_id, workspace_id, chat_id, cmd_json, status, source, error, started_at,
      ended_at;  // empty: NULL
  std::optional<int64_t> exit_code;
};
// The agent's runs, newest first.
Result<std::vector<RunRow>> list_runs(Connection& c, std::string_view agent_id, int64_t limit, int64_t offset);
// The runs of workspace_id (of agent_id, in status, when given), newest first.
Result<std::vector<RunRow>> list_workspace_runs(Connection& c, std::string_view workspace_id,
                                                const std::optional<std::string>& agent_id,
                                                const std::optional<std::string>& status, int64_t limit,
                                                int64_t offset);
// The agent's newest run, if any.
Result<std::optional<RunRow>> latest_run(Connection& c, std::string_view agent_id);

}  // namespace crewship::store
