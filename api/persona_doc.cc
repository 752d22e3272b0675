// The docs of an agent's memory: persona layers, suggestions, self-learning
// and peer cards.
#include "api/docs.h"

namespace crewship::api::docs {

void persona(openapi::DocSet& d) {
  using M = http::Method;
  d.area("persona");
  d.schema("PersonaContent", R"({"type":"object","required":["content"],
    "properties":{"content":{"type":"string","minLength":1,"description":"At most 1500 bytes, else 413"}}})");
  d.schema("PersonaWritten", R"({"type":"object","required":["layer","bytes","updated"],
    "properties":{"layer":{"enum":["agent","crew"]},"bytes":{"type":"integer"},"updated":{"$ref":"Timestamp"}}})");
  constexpr const char* kLayer = R"({"type":"object","required":["layer","from_default","content","bytes","cap_bytes"],
    "properties":{"agent_id":{"type":"string"},"crew_id":{"type":"string"},"layer":{"enum":["agent","crew"]},
      "from_default":{"type":"boolean"},"content":{"type":"string"},"bytes":{"type":"integer"},
      "cap_bytes":{"type":"integer"}}})";
  d.add(M::kGet, "/api/v1/agents/{agentId}/persona", "The agent's persona: its own layer, else its crew's, else a stub")
      .describe("The synthesised stub is reported as layer crew with from_default true.")
      .ok(200, kLayer)
      .fails({404});
  d.add(M::kPut, "/api/v1/agents/{agentId}/persona", "Writes the agent's own layer (operators only)")
      .takes("PersonaContent")
      .ok(200, "PersonaWritten")
      .fails({403, 404, 413});
  d.add(M::kDelete, "/api/v1/agents/{agentId}/persona", "Removes the agent's own layer; the crew's shows again")
      .ok(204, "")
      .fails({404});
  d.add(M::kGet, "/api/v1/agents/{agentId}/persona/history", "The agent layer's versions, newest first, no content")
      .paged(20, 100)
      .ok(200, R"({"type":"object","required":["entries"],"properties":{"entries":{"type":"array","items":{"type":"object",
        "required":["id","sha256","bytes","written_at","written_by"],
        "properties":{"id":{"type":"string"},"sha256":{"type":"string"},"bytes":{"type":"integer"},
          "written_at":{"$ref":"Timestamp"},"written_by":{"type":"string"},"parent_sha":{"type":"string"}}}}}})")
      .fails({404});
  d.add(M::kPost, "/api/v1/agents/{agentId}/persona/suggest", "Proposes a persona, decided by the crew's autonomy")
      .describe("strict, guided, trusted: queued for an operator (pending). full: applied, unless the agent's "
                "self-learning is off (self_learning_gate off, queued). 409 when that changed while an applied "
                "suggestion was being written: nothing was applied, and sent again it is decided anew.")
      .takes(R"({"type":"object","required":["content"],"properties":{"content":{"type":"string","minLength":1},
        "rationale":{"type":"string"}}})")
      .ok(200, R"({"type":"object","required":["agent_id","decision","bytes","timestamp","applied"],
        "properties":{"agent_id":{"type":"string"},"decision":{"type":"string"},"bytes":{"type":"integer"},
          "rationale":{"type":"string"},"timestamp":{"$ref":"Timestamp"},"applied":{"type":"boolean"},
          "pending":{"const":true},"self_learning_gate":{"const":"off"}}})")
      .fails({403, 404, 409, 413});
  d.add(M::kGet, "/api/v1/crews/{crewId}/persona", "The crew's default persona layer")
      .ok(200, kLayer)
      .fails({404});
  d.add(M::kPut, "/api/v1/crews/{crewId}/persona", "Writes the crew's default layer")
      .takes("PersonaContent")
      .ok(200, "PersonaWritten")
      .fails({404, 413});
  d.add(M::kDelete, "/api/v1/crews/{crewId}/persona", "Removes the crew's default layer").ok(204, "").fails({404});
  d.mount(M::kPut, "/api/v1/internal/agents/{agentId}/persona", "/api/v1/agents/{agentId}/persona");
  d.mount(M::kPost, "/api/v1/internal/agents/{agentId}/persona/suggest", "/api/v1/agents/{agentId}/persona/suggest");

  constexpr const char* kLearning = R"({"type":"object","required":["agent_id","enabled"],
    "properties":{"agent_id":{"type":"string"},"enabled":{"type":"boolean"},"set_by_user_id":{"type":"string"},
      "set_at":{"$ref":"Timestamp"},"reason":{"type":"string"}}})";
  d.add(M::kGet, "/api/v1/agents/{agentId}/learning", "Whether the agent's suggestions may apply themselves")
      .describe("Off by default; set_by_user_id, set_at and reason only after the first change.")
      .ok(200, kLearning)
      .fails({404});
  d.add(M::kPatch, "/api/v1/agents/{agentId}/learning", "Turns self-learning on or off, with a reason")
      .takes(R"({"type":"object","required":["enabled","reason"],
        "properties":{"enabled":{"type":"boolean"},"reason":{"type":"string","minLength":1}}})")
      .ok(200, kLearning)
      .fails({404});

  d.area("peer cards");
  constexpr const char* kCardRow = R"({"type":"object","required":["agent_id","user_id","user_slug","bytes","created_at","updated_at"],
    "properties":{"agent_id":{"type":"string"},"user_id":{"type":"string"},"user_slug":{"type":"string"},
      "bytes":{"type":"integer"},"created_at":{"$ref":"Timestamp"},"updated_at":{"$ref":"Timestamp"}}})";
  d.add(M::kGet, "/api/v1/agents/{agentId}/peers", "The agent's cards of the people it works with, no content")
      .ok(200, R"({"type":"object","required":["agent_id","peers"],"properties":{"agent_id":{"type":"string"},
        "peers":{"type":"array","items":{"type":"object","required":["id","user_id","user_slug","bytes","created_at","updated_at"],
          "properties":{"id":{"type":"string"},"user_id":{"type":"string"},"user_slug":{"type":"string"},
            "bytes":{"type":"integer"},"created_at":{"$ref":"Timestamp"},"updated_at":{"$ref":"Timestamp"}}}}}})")
      .fails({404, 409});
  d.add(M::kGet, "/api/v1/agents/{agentId}/peers/{userId}", "One card, with its markdown")
      .ok(200, R"({"type":"object","required":["agent_id","user_id","user_slug","bytes","content"],
        "properties":{"agent_id":{"type":"string"},"user_id":{"type":"string"},"user_slug":{"type":"string"},
          "bytes":{"type":"integer"},"content":{"type":"string"}}})")
      .fails({404, 409});
  d.add(M::kDelete, "/api/v1/agents/{agentId}/peers/{userId}", "Removes a card; 204 also when there was none")
      .ok(204, "")
      .fails({404, 409});
  d.add(M::kPut, "/api/v1/internal/agents/{agentId}/peers/{userId}", "The runtime writes an agent's card of a user")
      .takes(R"({"type":"object","required":["content"],"properties":{"content":{"type":"string","description":"At most 16 KiB"}}})")
      .ok(200, kCardRow)
      .fails({403, 404, 409, 413});
}

}  // namespace crewship::api::docs
