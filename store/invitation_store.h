// Queries of the invitations table. An invitation is pending until it is
// accepted, revoked or past its expires_at; the token is known only by its
// SHA-256.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

struct Invitation {
  std::string id, workspace_id, email, role;
  std::optional<std::string> invited_by_user_id;
  std::string created_at, expires_at;
  std::optional<std::string> accepted_at, accepted_by_user_id, revoked_at;
};

// "pending", "accepted", "revoked" or "expired" at now (RFC 3339).
std::string invitation_status(const Invitation& i, std::string_view now);

// Inserts inv (every field but the accepted/revoked ones) with token_hash,
// in the caller's transaction: 409 when a pending invitation to the same
// email exists in the workspace, or a user of that email is a member.
Status insert_invitation(Connection& w, const Invitation& inv, std::string_view token_hash,
                         std::string_view now);

// The invitations of workspace_id, newest first.
Result<std::vector<Invitation>> list_invitations(Connection& c, std::string_view workspace_id,
                                                 int64_t limit, int64_t offset);

// Revokes pending invitation id of workspace_id: 404 "invitation not found",
// 409 when it is accepted, revoked or expired already.
Status revoke_invitation(Connection& w, std::string_view id, std::string_view workspace_id,
                         std::string_view now);

// The invitation whose token has this SHA-256; 404 "invitation not found".
Result<Invitation> find_invitation_by_token(Connection& c, std::string_view token_hash);

// Marks invitation id accepted by user_id at now, if it is still pending.
// False when it is not.
Result<bool> mark_invitation_accepted(Connection& w, std::string_view id, std::string_view user_id,
                                      std::string_view now);

}  // namespace crewship::store
