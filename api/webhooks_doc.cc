#include "api/docs.h"

namespace crewship::api::docs {

void webhooks(openapi::DocSet& d) {
  using M = http::Method;
  d.area("webhooks");
  d.add(M::kPost, "/api/v1/agents/{agentId}/webhook-secret", "Creates or rotates the agent's webhook secret, shown once")
      .ok(201, R"({"type":"object","required":["secret"],"properties":{"secret":{"type":"string","pattern":"^[0-9a-f]{64}$"}}})")
      .fails({404});
  d.add(M::kPost, "/api/v1/webhooks/{crewId}/{agentId}/trigger", "Runs the agent's CLI adapter with the payload as its prompt")
      .describe("Any JSON value as the body; it is rendered into the prompt the adapter reads on stdin.")
      .takes("{}")
      .ok(202, R"({"type":"object","required":["run_id"],"properties":{"run_id":{"type":"string"}}})", "Started")
      .fails({404, 409, 502, 503});
}

}  // namespace crewship::api::docs
