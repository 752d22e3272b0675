#include "store/peer_card_store.h"

#include "daemon/ids.h"
#include "store/query.h"

namespace crewship::store {
namespace {

#define PEER_CARD_SELECT                                                                     \
  "SELECT p.id, p.agent_id, p.user_id, u.email, u.name, p.bytes, p.created_at, p.updated_at" \
  " FROM peer_cards p JOIN users u ON u.id = p.user_id"

PeerCard read_card(const StmtLease& r) {
  return PeerCard{std::string(r.text(0)), std::string(r.text(1)), std::string(r.text(2)),
                  std::string(r.text(3)), opt_text(r, 4),         r.int64(5),
                  std::string(r.text(6)), std::string(r.text(7))};
}

}  // namespace

Result<std::vector<PeerCard>> list_peer_cards(Connection& c, std::string_view agent_id, int64_t limit,
                                              int64_t offset) {
  auto s = c.prepare(PEER_CARD_SELECT " WHERE p.agent_id = ?1"
                                      " ORDER BY p.updated_at DESC, p.rowid DESC LIMIT ?2 OFFSET ?3");
  s.bind_all(agent_id, limit, offset);
  return collect(c, s, read_card);
}

Result<PeerCard> find_peer_card(Connection& c, std::string_view agent_id, std::string_view user_id) {
  auto s = c.prepare(PEER_CARD_SELECT " WHERE p.agent_id = ?1 AND p.user_id = ?2");
  s.bind_all(agent_id, user_id);
  if (auto st = first_row(c, s, "peer card not found"); !st) return std::move(st).take_problem();
  return read_card(s);
}

Result<PeerCard> upsert_peer_card(Connection& w, std::string_view agent_id, std::string_view user_id,
                                  int64_t bytes, std::string_view now) {
  auto s = w.prepare(
      "INSERT INTO peer_cards(id, agent_id, user_id, bytes, created_at, updated_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?5)"
      " ON CONFLICT (agent_id, user_id) DO UPDATE SET bytes = excluded.bytes, updated_at = excluded.updated_at");
  s.bind_all(new_id(), agent_id, user_id, bytes, now);
  if (auto st = run(w, s); !st) return std::move(st).take_problem();
  return find_peer_card(w, agent_id, user_id);
}

Result<bool> delete_peer_card(Connection& w, std::string_view agent_id, std::string_view user_id) {
  auto s = w.prepare("DELETE FROM peer_cards WHERE agent_id = ?1 AND user_id = ?2");
  s.bind_all(agent_id, user_id);
  return changed_one(w, s);
}

Status insert_peer_card_audit(Connection& w, std::string_view agent_id, std::string_view user_id,
                              std::string_view action, std::string_view actor) {
  auto s = w.prepare(
      "INSERT INTO peer_card_audit(id, agent_id, user_id, action, actor, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  s.bind_all(new_id(), agent_id, user_id, action, actor, now_rfc3339_nanos());
  return run(w, s);
}

}  // namespace crewship::store
