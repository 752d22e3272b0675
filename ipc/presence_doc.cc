#include "ipc/docs.h"

namespace crewship::ipc::docs {

void presence(openapi::DocSet& d) {
  using M = http::Method;
  d.area("presence");
  d.add(M::kPost, "/api/v1/internal/presence", "Writes an agent's status (every write rewrites since)")
      .describe("A bound token may only write agents in its scope (403). A transition, or a first write, is "
                "journalled.")
      .takes(R"({"type":"object","required":["agent_id","status"],
        "properties":{"agent_id":{"type":"string","minLength":1,"maxLength":128},"status":{"$ref":"PresenceStatus"},
          "details":{"type":["object","null"],"description":"At most 16 KiB as JSON"}}})")
      .ok(200, R"({"type":"object","required":["agent_id","status","since","changed"],
        "properties":{"agent_id":{"type":"string"},"status":{"$ref":"PresenceStatus"},"since":{"type":"string"},
          "changed":{"type":"boolean","description":"The status differs from the one before"}}})")
      .fails({403, 404});
  d.add(M::kPost, "/api/v1/internal/presence/heartbeat", "Refreshes last_seen of one agent or many")
      .takes(R"({"type":"object","properties":{"agent_id":{"type":"string","minLength":1,"maxLength":128},
        "agent_ids":{"type":"array","minItems":1,"maxItems":1000,"items":{"type":"string","minLength":1,"maxLength":128}}},
        "anyOf":[{"required":["agent_id"]},{"required":["agent_ids"]}]})")
      .ok(200, R"({"type":"object","required":["updated"],"properties":{"updated":{"type":"integer"}}})")
      .fails({403, 404});
}

}  // namespace crewship::ipc::docs
