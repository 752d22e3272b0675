#include "store/chat_lookup.h"

#include "store/query.h"

namespace crewship::store {

Result<ChatScope> find_chat_scope(Connection& c, std::string_view chat_id) {
  auto s = c.prepare(
      "SELECT h.id, h.workspace_id, h.agent_id, coalesce(a.crew_id, '') FROM chats h"
      " JOIN agents a ON a.id = h.agent_id AND a.deleted_at IS NULL WHERE h.id = ?1");
  s.bind(1, chat_id);
  if (Status st = first_row(c, s, "chat not found"); !st) return std::move(st).take_problem();
  return ChatScope{std::string(s.text(0)), std::string(s.text(1)), std::string(s.text(2)), std::string(s.text(3))};
}

}  // namespace crewship::store
