// The container bridge: what the crew-container, proxy and run handlers share
// on the loop. The crew-container service (container/crew_service.h), the
// runs in progress and the agents' logs.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "api/agent_ref.h"
#include "container/agent_log.h"
#include "container/crew_service.h"
#include "daemon/app.h"

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
  std::string partial[2];  // stdout, stderr bytes after the last newline
};

struct Bridge {
  std::unique_ptr<container::CrewService> crews;
  std::unordered_map<std::string, std::unique_ptr<Run>> runs;  // by agent id
  std::unordered_map<std::string, std::unique_ptr<container::AgentLog>> logs;  // by agent id
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
