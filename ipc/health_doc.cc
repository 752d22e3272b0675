#include "ipc/docs.h"

namespace crewship::ipc::docs {

void health(openapi::DocSet& d) {
  using M = http::Method;
  d.area("health");
  d.add(M::kGet, "/api/v1/internal/health", "The daemon's version and uptime")
      .ok(200, R"({"type":"object","required":["status","service","version","uptime_secs"],
        "properties":{"status":{"const":"ok"},"service":{"const":"crewshipd"},"version":{"type":"string"},
          "uptime_secs":{"type":"integer"}}})");
}

}  // namespace crewship::ipc::docs
