// Queries of chats and their messages. A chat's messages carry seq 1, 2, ...
// with no gap (the single writer numbers them), so a page at offset N is
// the seek seq > N on the (chat_id, seq) index, never an OFFSET scan.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

struct Chat {
  std::string id, agent_id, workspace_id;
  std::optional<std::string> title;
  std::string created_at;
};
Status insert_chat(Connection& w, const Chat& chat);
// The chats of agent_id, newest first.
Result<std::vector<Chat>> list_chats(Connection& c, std::string_view agent_id, int64_t limit, int64_t offset);

// The chat with its workspace and its agent's crew (empty: none), if it
// exists: what authorizes reads, appends and live subscriptions of it.
struct ChatRef {
  std::string id, agent_id, workspace_id, crew_id;
};
Result<std::optional<ChatRef>> find_chat(Connection& c, std::string_view id);

struct Message {
  std::string id;
  int64_t seq = 0;
  std::string role, content, created_at;
};
// Appends m to chat_id with the next seq; returns that seq.
Result<int64_t> append_message(Connection& w, std::string_view chat_id, const Message& m);
// Messages seq offset+1 .. offset+limit of chat_id, oldest first.
Result<std::vector<Message>> list_messages(Connection& c, std::string_view chat_id, int64_t offset, int64_t limit);

}  // namespace crewship::store
