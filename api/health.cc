#include "api/routes.h"
#include "daemon/http_server.h"

namespace crewship::api {

// GET /api/health: liveness for load balancers; no auth, no store access.
void health(App&, const ExchangePtr& ex) {
  ex->respond(http::Response::json(200, R"({"status":"ok"})"));
}

}  // namespace crewship::api
