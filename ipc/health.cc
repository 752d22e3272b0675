#include "daemon/app.h"
#include "daemon/json.h"
#include "ipc/routes.h"

namespace crewship::ipc {

// GET /api/v1/internal/health
void health(App& app, const ExchangePtr& ex) {
  json::Out out;
  out.begin_object();
  out.member("status", "ok");
  out.member("service", "crewshipd");
  out.member("version", CREWSHIPD_VERSION);
  out.member("uptime_secs", app.uptime_secs());
  out.end_object();
  ex->respond(http::Response::json(200, out.take()));
}

}  // namespace crewship::ipc
