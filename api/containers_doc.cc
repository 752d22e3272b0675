#include "api/docs.h"

namespace crewship::api::docs {

void containers(openapi::DocSet& d) {
  using M = http::Method;
  d.area("containers");
  d.schema("CrewContainer", R"({"type":"object","required":["crew_id","container_id","name","state","status","image","engine"],
    "properties":{"crew_id":{"type":"string"},"container_id":{"type":["string","null"]},"name":{"type":"string"},
      "state":{"type":"string"},"status":{"type":"string"},"image":{"type":"string"},"engine":{"type":"string"}}})");
  d.add(M::kPost, "/api/v1/crews/{crewId}/container/start", "Creates (when missing) and starts the crew's container")
      .ok(200, "CrewContainer", "The container as the engine reports it afterwards")
      .fails({404, 502, 503});
  d.add(M::kPost, "/api/v1/crews/{crewId}/container/stop", "Stops the crew's container (grace, then KILL)")
      .ok(200, "CrewContainer")
      .fails({404, 502, 503});
  d.add(M::kGet, "/api/v1/crews/{crewId}/container/status", "The crew's container as the engine reports it")
      .ok(200, "CrewContainer")
      .fails({404, 502, 503});
  d.add(M::kPost, "/api/v1/crews/{crewId}/rotate-token", "Revokes every crew-bound token of the crew")
      .describe("The next container/start makes the container again with a new token.")
      .ok(200, R"({"type":"object","required":["id","token_generation"],
        "properties":{"id":{"type":"string"},"token_generation":{"type":"integer"}}})")
      .fails({404});
  for (std::string_view op : {"start", "stop"})
    d.mount(M::kPost, "/api/v1/internal/crews/{crewId}/container/" + std::string(op),
            "/api/v1/crews/{crewId}/container/" + std::string(op));
  d.mount(M::kGet, "/api/v1/internal/crews/{crewId}/container/status", "/api/v1/crews/{crewId}/container/status");
}

}  // namespace crewship::api::docs
