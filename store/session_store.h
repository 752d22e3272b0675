// Queries of user_sessions (what a session cookie's sid names) and
// cli_tokens (stored as the SHA-256 hex of the token). Reader functions take
// the loop thread's connection, writer functions the writer's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

// Who a session or CLI token belongs to.
struct Holder {
  std::string user_id;
  std::string email;
  std::string name;  // "" when the user has none
};

// Inserts a live session of user_id ending at expires (unix seconds).
Status insert_session(Connection& w, std::string_view id, std::string_view user_id,
                      int64_t expires, std::string_view now);
// The holder of session id when it is neither revoked nor expired at now
// (unix seconds); 404 "no such session" otherwise.
Result<Holder> find_live_session(Connection& c, std::string_view id, int64_t now);
// When session id expires (unix seconds); 404 when there is no such row.
Result<int64_t> session_expiry(Connection& c, std::string_view id);
// Revokes session id; false when it was already revoked or does not exist.
Result<bool> revoke_session(Connection& w, std::string_view id, std::string_view now);

struct CliToken {
  std::string id;
  std::string name;
  std::string created_at;
  std::optional<std::string> last_used_at;
};

Status insert_cli_token(Connection& w, std::string_view id, std::string_view user_id,
                        std::string_view name, std::string_view token_hash, std::string_view now);
struct CliTokenHolder {
  std::string token_id;
  Holder holder;
};
// The live token with this hash; 404 "no such token" otherwise.
Result<CliTokenHolder> find_cli_token(Connection& c, std::string_view token_hash);
// The name of token id; 404 when there is no such token.
Result<std::string> cli_token_name(Connection& c, std::string_view id);
Status touch_cli_token(Connection& w, std::string_view id, std::string_view at);
// The live tokens of user_id, oldest first.
Result<std::vector<CliToken>> list_cli_tokens(Connection& c, std::string_view user_id,
                                              int64_t limit, int64_t offset);
// Revokes the live token id of user_id; false when there is none.
Result<bool> revoke_cli_token(Connection& w, std::string_view id, std::string_view user_id,
                              std::string_view now);

}  // namespace crewship::store
