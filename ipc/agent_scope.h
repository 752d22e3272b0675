// The agent an IPC request names in its body, checked against the caller's
// token: the scope of a bound token decides which agents it may act on, never
// the body.
#pragma once

#include <string_view>

#include "daemon/handler.h"
#include "store/agent_store.h"

namespace crewship::ipc {

// Finds a live agent and checks the caller's token may act on it: 404 when
// there is no such agent, 403 when it lies outside the token's scope, 500
// when the store fails. Answers and returns false unless it may.
bool agent_in_scope(App& app, const ExchangePtr& ex, std::string_view agent_id, store::AgentRef* out);

}  // namespace crewship::ipc
