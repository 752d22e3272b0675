// The container bridge: what the crew-container, proxy and run handlers share
// on the loop. The crew-container service (container/crew_service.h), the
// runs in progress and the agents' logs.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/agent_ref.h"
#include "container/agent_log.h"
#include "container/crew_service.h"
#include "daemon/app.h"
#include "store/audit_store.h"

namespace crewship::api {

using container::CrewContainer;
using container::engine_failure;
using container::exec_status;
using container::kHookInContainer;
using container::kNotRunning;
using container::reply_failure;

struct Run {
  std::string id;
  AgentRef agent;
  bool stopping = false;
  bool expired = false;    // stopped because the agent's hire expired
  std::string partial[2];  // stdout, stderr bytes after the last newline
  std::string stdin_file;  // host path of the run's stdin, removed at its end
};

// What a run executes and where it came from.
struct RunRequest {
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // NAME=value
  std::string chat_id;           // empty: none
  std::string source = "ipc";    // ipc | webhook
  // Given: written to a file of the crew's storage that becomes the
  // command's stdin (the engine's execs here attach no stdin).
  std::optional<std::string> stdin_text;
  // Given: written with the run's row, its details gaining the run_id.
  std::optional<store::AuditEntry> audit;
  // The credentials opened into env (id, env_var_name): the keeper's access
  // log gets a row for each with the run's row.
  std::vector<std::pair<std::string, std::string>> opened;
};
// 409 for an agent that may not run: a hire pending review, or a ghost.
Status may_run(const AgentRef& agent);
// Starts a run of agent (which has a crew): opens its credentials into the
// exec's environment, starts the crew's container when it must, records the
// run and busy presence, then starts the exec. started gets the run id once
// the exec began, or the problem that stopped it (409 when the agent runs
// already, 500 when a credential does not open, 502/503 from the engine).
void start_run(App& app, const AgentRef& agent, std::shared_ptr<RunRequest> in,
               std::function<void(Result<std::string>)> started);
// The started callback of a run a request asked for: 202 {run_id}, or the
// problem.
std::function<void(Result<std::string>)> reply_run_started(const ExchangePtr& ex);
// Ends the agent's processes in its crew's container (crewship-hook stop:
// TERM, grace, KILL); done gets ok when none are left (also when the crew
// has no running container), or the engine's problem.
void stop_agent_processes(App& app, const AgentRef& agent, std::function<void(Status)> done);
// The same for a run nobody waits on (a ghost's): when the engine fails it
// (down, or the container paused), asked again after 1 s, then each wait
// twice the last up to a minute, for as long as run run_id lasts and the
// bridge is open.
void stop_until_gone(App& app, const AgentRef& agent, std::string run_id);

struct StopRetry;  // a stop_until_gone waiting to ask again (bridge.cc)

struct Bridge {
  std::unique_ptr<container::CrewService> crews;
  std::unordered_map<std::string, std::unique_ptr<Run>> runs;  // by agent id
  std::unordered_map<std::string, std::unique_ptr<container::AgentLog>> logs;  // by agent id
  std::unordered_map<std::string, StopRetry*> stop_retries;  // by agent id; freed in their close callbacks
};

// Creates the bridge (before the listeners open), its calls going to the
// first socket discovery tries until engine_found() names the one that
// answered; then the engine's container events are followed.
void start_bridge(App& app);
void engine_found(App& app);
// Ends engine calls, runs, streams and log followers; marks nothing in the
// store. The bridge stays (stopped) until the App goes.
void stop_bridge(App& app);
// Answers 503 and returns false once the bridge has stopped.
bool bridge_open(App& app, const ExchangePtr& ex);

container::CrewService& crews(App& app);
container::AgentLog& agent_log(App& app, const AgentRef& agent);

}  // namespace crewship::api
