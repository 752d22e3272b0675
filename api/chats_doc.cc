#include "api/docs.h"

namespace crewship::api::docs {

void chats(openapi::DocSet& d) {
  using M = http::Method;
  d.area("chats");
  d.schema("Chat", R"({"type":"object","required":["id","agent_id","workspace_id","title","created_at"],
    "properties":{"id":{"type":"string"},"agent_id":{"type":"string"},"workspace_id":{"type":"string"},
      "title":{"type":["string","null"]},"created_at":{"$ref":"Timestamp"}}})");
  d.schema("ChatMessage", R"({"type":"object","required":["id","seq","role","content","created_at"],
    "properties":{"id":{"type":"string"},"seq":{"type":"integer"},"role":{"enum":["user","assistant","system","tool"]},
      "content":{"type":"string"},"created_at":{"$ref":"Timestamp"}}})");
  d.add(M::kPost, "/api/v1/agents/{agentId}/chats", "A chat with the agent")
      .takes(R"({"type":"object","properties":{"title":{"type":["string","null"],"maxLength":200}}})")
      .ok(201, "Chat")
      .fails({404});
  d.add(M::kGet, "/api/v1/agents/{agentId}/chats", "The agent's chats, newest first")
      .paged(50, 100)
      .ok(200, "Chat[]")
      .fails({404});
  d.add(M::kGet, "/api/v1/chats/{chatId}/messages", "A page of the chat's messages, oldest first")
      .describe("The caller must be a member of the chat's workspace (on the socket: within the token's scope).")
      .paged(50, 500)
      .ok(200, R"({"type":"object","required":["messages"],"properties":{"messages":{"type":"array","items":{"$ref":"ChatMessage"}}}})")
      .fails({403, 404, 500});
  d.mount(M::kGet, "/api/v1/internal/chats/{chatId}/messages", "/api/v1/chats/{chatId}/messages");
  d.add(M::kPost, "/api/v1/internal/chats/{chatId}/messages", "Appends a message, published once stored")
      .describe("A bound token may only append to chats of agents in its scope.")
      .takes(R"({"type":"object","required":["role","content"],
        "properties":{"role":{"enum":["user","assistant","system","tool"]},"content":{"type":"string","description":"At most 256 KiB"}}})")
      .ok(201, R"({"type":"object","required":["id","seq"],"properties":{"id":{"type":"string"},"seq":{"type":"integer"}}})")
      .fails({403, 404});
}

}  // namespace crewship::api::docs
