// The IPC listener's handlers, under /api/v1/internal/, and its guard: every
// request carries X-Internal-Token. The composition root mounts them
// (daemon/routes_ipc.cc), with the public handlers both listeners serve.
#pragma once

#include "daemon/handler.h"
#include "daemon/http.h"

namespace crewship::ipc {

// The IPC listener's guard: a valid internal token, whatever the route.
bool guard(App& app, Exchange& ex, const Access* route, http::Response* deny);

// health.cc
void health(App& app, const ExchangePtr& ex);
// presence.cc
void presence_upsert(App& app, const ExchangePtr& ex);
void presence_heartbeat(App& app, const ExchangePtr& ex);
// mcp_tool_calls.cc
void record_mcp_tool_call(App& app, const ExchangePtr& ex);

}  // namespace crewship::ipc
