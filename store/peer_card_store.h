// Queries of peer_cards, the index of the markdown cards an agent keeps
// about the people it works with (the content is on disk), and of
// peer_card_audit, one row for every read, write and delete of one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

struct PeerCard {
  std::string id, agent_id, user_id;
  std::string user_email;
  std::optional<std::string> user_name;
  int64_t bytes = 0;
  std::string created_at, updated_at;
};

// The cards of agent_id, most recently written first.
Result<std::vector<PeerCard>> list_peer_cards(Connection& c, std::string_view agent_id, int64_t limit,
                                              int64_t offset);
// The card of agent_id about user_id; 404 "peer card not found".
Result<PeerCard> find_peer_card(Connection& c, std::string_view agent_id, std::string_view user_id);
// Records a write of the card of agent_id about user_id (bytes long) at now:
// a new row, or the existing one updated. Returns the row.
Result<PeerCard> upsert_peer_card(Connection& w, std::string_view agent_id, std::string_view user_id,
                                  int64_t bytes, std::string_view now);
// Removes the row; whether there was one.
Result<bool> delete_peer_card(Connection& w, std::string_view agent_id, std::string_view user_id);

// Appends a peer_card_audit row (a new id, at now): action is "read",
// "write" or "delete"; actor a user id or "runtime".
Status insert_peer_card_audit(Connection& w, std::string_view agent_id, std::string_view user_id,
                              std::string_view action, std::string_view actor);

}  // namespace crewship::store
