// The JSON objects of resources that more than one handler answers with.
#pragma once

#include "daemon/json.h"
#include "store/agent_store.h"
#include "store/crew_store.h"

namespace crewship::api {

// The agent object, in the seed's field order (agents.cc).
void write_agent(json::Out& out, const store::Agent& agent);
// The crew object with its _count (crews.cc).
void write_crew(json::Out& out, const store::Crew& c);

}  // namespace crewship::api
