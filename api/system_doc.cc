#include "api/docs.h"

namespace crewship::api::docs {

void system(openapi::DocSet& d) {
  using M = http::Method;
  d.area("system");
  d.add(M::kGet, "/api/v1/crewshipd", "The daemon's status: store, engine, connections, live clients")
      .ok(200, R"({"type":"object","required":["status","version","uptime_secs","started_at","connections","engine","store","realtime"],
        "properties":{"status":{"enum":["ok","degraded"]},"version":{"type":"string"},"uptime_secs":{"type":"integer"},
          "started_at":{"$ref":"Timestamp"},"connections":{"type":"integer"},
          "engine":{"type":"object","required":["reachable","name","version"],"properties":{"reachable":{"type":"boolean"},
            "name":{"type":["string","null"]},"version":{"type":["string","null"]}}},
          "store":{"type":"object","required":["ok"],"properties":{"ok":{"type":"boolean"}}},
          "realtime":{"type":"object","required":["clients","slow_consumer_closes","messages_out"],
            "properties":{"clients":{"type":"integer"},"slow_consumer_closes":{"type":"integer"},"messages_out":{"type":"integer"}}}}})");
  d.add(M::kGet, "/api/v1/system/runtime", "Version and uptime; build and library details for an ADMIN or OWNER")
      .describe("The compiler, library versions and pid only for a manage role in the caller's first workspace.")
      .ok(200, R"({"type":"object","required":["version","uptime_secs","started_at"],
        "properties":{"version":{"type":"string"},"uptime_secs":{"type":"integer"},"started_at":{"$ref":"Timestamp"},
          "compiler":{"type":"string"},"libuv":{"type":"string"},"sqlite":{"type":"string"},"libsodium":{"type":"string"},
          "llhttp":{"type":"string"},"pid":{"type":"integer"}}})");
}

}  // namespace crewship::api::docs
