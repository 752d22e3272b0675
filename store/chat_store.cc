#include "store/chat_store.h"

#include "store/query.h"

namespace crewship::store {

Status insert_chat(Connection& w, const Chat& chat) {
  auto s = w.prepare("INSERT INTO chats (id, agent_id, workspace_id, title, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
  s.bind_all(chat.id, chat.agent_id, chat.workspace_id);
  bind_opt(s, 4, chat.title);
  s.bind(5, chat.created_at);
  return run(w, s);
}

Result<std::vector<Chat>> list_chats(Connection& c, std::string_view agent_id, int64_t limit, int64_t offset) {
  auto s = c.prepare(
      "SELECT id, agent_id, workspace_id, title, created_at FROM chats WHERE agent_id = ?1"
      " ORDER BY created_at DESC, rowid DESC LIMIT ?2 OFFSET ?3");
  s.bind_all(agent_id, limit, offset);
  return collect(c, s, [](const StmtLease& r) {
    return Chat{std::string(r.text(0)), std::string(r.text(1)), std::string(r.text(2)), opt_text(r, 3),
                std::string(r.text(4))};
  });
}

Result<std::optional<ChatRef>> find_chat(Connection& c, std::string_view id) {
  auto s = c.prepare(
      "SELECT h.id, h.agent_id, h.workspace_id, coalesce(a.crew_id, '') FROM chats h"
      " JOIN agents a ON a.id = h.agent_id WHERE h.id = ?1");
  s.bind(1, id);
  int rc = s.step();
  if (rc == SQLITE_DONE) return std::optional<ChatRef>();
  if (rc != SQLITE_ROW) return store_failure(c, last_error(c, rc));
  return std::optional<ChatRef>(
      ChatRef{std::string(s.text(0)), std::string(s.text(1)), std::string(s.text(2)), std::string(s.text(3))});
}

Result<int64_t> append_message(Connection& w, std::string_view chat_id, const Message& m) {
  auto s = w.prepare(
      "INSERT INTO chat_messages (id, chat_id, seq, role, content, created_at)"
      " VALUES (?1, ?2, (SELECT coalesce(max(seq), 0) + 1 FROM chat_messages WHERE chat_id = ?2), ?3, ?4, ?5)"
      " RETURNING seq");
  s.bind_all(m.id, chat_id, m.role, m.content, m.created_at);
  int rc = s.step();
  if (rc != SQLITE_ROW) return store_failure(w, last_error(w, rc));
  int64_t seq = s.int64(0);
  if ((rc = s.step()) != SQLITE_DONE) return store_failure(w, last_error(w, rc));
  return seq;
}

Result<std::vector<Message>> list_messages(Connection& c, std::string_view chat_id, int64_t offset, int64_t limit) {
  auto s = c.prepare(
      "SELECT id, seq, role, content, created_at FROM chat_messages WHERE chat_id = ?1 AND seq > ?2"
      " ORDER BY seq LIMIT ?3");
  s.bind_all(chat_id, offset, limit);
  return collect(c, s, [](const StmtLease& r) {
    return Message{std::string(r.text(0)), r.int64(1), std::string(r.text(2)), std::string(r.text(3)),
                   std::string(r.text(4))};
  });
}

}  // namespace crewship::store
