#include "api/docs.h"

namespace crewship::api::docs {

void health(openapi::DocSet& d) {
  using M = http::Method;
  d.area("health");
  d.add(M::kGet, "/api/health", "Liveness, with no auth and no store access")
      .ok(200, R"({"type":"object","required":["status"],"properties":{"status":{"const":"ok"}}})");
}

}  // namespace crewship::api::docs
