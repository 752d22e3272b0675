#include "api/docs.h"

namespace crewship::api::docs {

void presence(openapi::DocSet& d) {
  using M = http::Method;
  d.area("presence");
  d.schema("PresenceStatus", R"({"enum":["online","busy","blocked","offline"]})");
  d.schema("RosterRow", R"({"type":"object","required":["agent_id","status","since"],
    "properties":{"agent_id":{"type":"string"},"crew_id":{"type":"string","description":"Omitted without a crew"},
      "status":{"$ref":"PresenceStatus"},
      "since":{"type":"string","description":"RFC 3339 with 9 fractional digits: the last status write"},
      "details":{"type":"object","description":"Omitted when empty"}}})");
  d.add(M::kGet, "/api/v1/presence/roster", "The Watch Roster: every agent's live status, newest change first")
      .describe("With an ETag; a matching If-None-Match is 304.")
      .query("crew_id", "string", "Only this crew's agents")
      .ok(200, R"({"type":"object","required":["rows","count"],
        "properties":{"rows":{"type":"array","items":{"$ref":"RosterRow"}},"count":{"type":"integer"}}})")
      .raw(304, "", "", "Not Modified: the If-None-Match tag is current")
      .fails({404});
  d.add(M::kGet, "/api/v1/presence/history", "Status transitions from the journal, newest first")
      .query("agent_id", "string")
      .query("crew_id", "string")
      .query("before", R"({"type":"integer","minimum":1})", "Entries with a smaller id (next_before of the last page)")
      .paged(50, 100)
      .ok(200, R"({"type":"object","required":["entries","next_before"],
        "properties":{"entries":{"type":"array","items":{"type":"object",
          "required":["id","agent_id","status","prev","details","at"],
          "properties":{"id":{"type":"integer"},"agent_id":{"type":"string"},"crew_id":{"type":"string"},
            "status":{"$ref":"PresenceStatus"},"prev":{"oneOf":[{"$ref":"PresenceStatus"},{"type":"null"}]},
            "details":{"type":["object","null"]},"at":{"type":"string"}}}},
          "next_before":{"type":["integer","null"]}}})")
      .fails({404});
}

}  // namespace crewship::api::docs
