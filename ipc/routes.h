// The IPC listener's route table, under /api/v1/internal/, and its guard:
// every request carries X-Internal-Token.
#pragma once

#include "daemon/http.h"
#include "daemon/router.h"

namespace crewship::ipc {

const Router& router();
bool guard(App& app, Exchange& ex, const Route* route, http::Response* deny);

void health(App& app, const ExchangePtr& ex);
// presence.cc
void presence_upsert(App& app, const ExchangePtr& ex);
void presence_heartbeat(App& app, const ExchangePtr& ex);

}  // namespace crewship::ipc
