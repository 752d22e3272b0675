#include "api/docs.h"

namespace crewship::api::docs {

void realtime(openapi::DocSet& d) {
  using M = http::Method;
  d.area("realtime");
  d.add(M::kGet, "/api/v1/presence/stream", "The roster's changes as Server-Sent Events")
      .describe("Each status write is `event: presence`, `id: <journal cursor>`, `data: <roster row>`, with a "
                "comment heartbeat every CREWSHIP_SSE_HEARTBEAT. Last-Event-ID first replays the journal after "
                "that cursor.")
      .query("crew_id", "string", "Only this crew's agents")
      .header("Last-Event-ID", "string", "Replay from after this cursor")
      .raw(200, "text/event-stream", "string")
      .fails({404, 503});
  d.add(M::kGet, "/ws", "The WebSocket endpoint: presence, log lines, events and chat messages")
      .describe("The public listener takes a ws-token (GET /api/v1/ws-token) in ?token=; the socket takes the "
                "internal token.")
      .query("token", "string", "The ws-token (public listener)")
      .raw(101, "", "", "Switching Protocols")
      .fails({401, 426, 503});
}

}  // namespace crewship::api::docs
