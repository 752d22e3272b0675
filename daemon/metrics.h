// GET /metrics: every metric of the daemon in the Prometheus text format
// 0.0.4. Mounted on the IPC listener (master token only) and, when
// CREWSHIP_METRICS_ADDR is set, alone on a listener of its own without auth.
// Never on the public listener.
#pragma once

#include "daemon/app.h"
#include "daemon/handler.h"

namespace crewship {

void serve_metrics(App& app, const ExchangePtr& ex);

}  // namespace crewship
