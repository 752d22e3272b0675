#include "store/invitation_store.h"

#include "store/query.h"

namespace crewship::store {
namespace {

// A macro, so that each query stays one literal (prepare caches by address).
#define INVITATION_COLUMNS                                                                  \
  "id, workspace_id, email, role, invited_by_user_id, created_at, expires_at, accepted_at," \
  " accepted_by_user_id, revoked_at"

Invitation read_invitation(const StmtLease& r) {
  return Invitation{std::string(r.text(0)), std::string(r.text(1)), std::string(r.text(2)),
                    std::string(r.text(3)), opt_text(r, 4),         std::string(r.text(5)),
                    std::string(r.text(6)), opt_text(r, 7),         opt_text(r, 8),
                    opt_text(r, 9)};
}

}  // namespace

std::string invitation_status(const Invitation& i, std::string_view now) {
  if (i.accepted_at) return "accepted";
  if (i.revoked_at) return "revoked";
  // Both sides are RFC 3339 in UTC with whole seconds: text order is time order.
  if (i.expires_at <= now) return "expired";
  return "pending";
}

Status insert_invitation(Connection& w, const Invitation& inv, std::string_view token_hash,
                         std::string_view now) {
  auto member = w.prepare(
      "SELECT 1 FROM workspace_members m JOIN users u ON u.id = m.user_id"
      " WHERE m.workspace_id = ?1 AND u.email = ?2");
  member.bind_all(inv.workspace_id, inv.email);
  auto is_member = exists(w, member);
  if (!is_member) return std::move(is_member).take_problem();
  if (*is_member) return fail(409, "a user with this email is already a member of the workspace");
  auto pending = w.prepare(
      "SELECT 1 FROM invitations WHERE workspace_id = ?1 AND email = ?2"
      " AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?3");
  pending.bind_all(inv.workspace_id, inv.email, now);
  auto is_pending = exists(w, pending);
  if (!is_pending) return std::move(is_pending).take_problem();
  if (*is_pending) return fail(409, "a pending invitation to this email exists");
  auto i = w.prepare(
      "INSERT INTO invitations(id, workspace_id, email, role, token_hash, invited_by_user_id,"
      " created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  i.bind_all(inv.id, inv.workspace_id, inv.email, inv.role, token_hash);
  bind_opt(i, 6, inv.invited_by_user_id);
  i.bind(7, inv.created_at);
  i.bind(8, inv.expires_at);
  return run(w, i);
}

// Within one second (the timestamps' resolution) rowid keeps creation order.
Result<std::vector<Invitation>> list_invitations(Connection& c, std::string_view workspace_id,
                                                 int64_t limit, int64_t offset) {
  auto s = c.prepare("SELECT " INVITATION_COLUMNS
                     " FROM invitations WHERE workspace_id = ?1"
                     " ORDER BY created_at DESC, rowid DESC LIMIT ?2 OFFSET ?3");
  s.bind_all(workspace_id, limit, offset);
  return collect(c, s, read_invitation);
}

Status revoke_invitation(Connection& w, std::string_view id, std::string_view workspace_id,
                         std::string_view now) {
  auto s = w.prepare("SELECT " INVITATION_COLUMNS
                     " FROM invitations WHERE id = ?1 AND workspace_id = ?2");
  s.bind_all(id, workspace_id);
  if (auto st = first_row(w, s, "invitation not found"); !st) return st;
  std::string status = invitation_status(read_invitation(s), now);
  if (status != "pending") return fail(409, "the invitation is " + status + ", not pending");
  auto u = w.prepare("UPDATE invitations SET revoked_at = ?2 WHERE id = ?1");
  u.bind_all(id, now);
  return run(w, u);
}

Result<Invitation> find_invitation_by_token(Connection& c, std::string_view token_hash) {
  auto s = c.prepare("SELECT " INVITATION_COLUMNS " FROM invitations WHERE token_hash = ?1");
  s.bind(1, token_hash);
  if (auto st = first_row(c, s, "invitation not found"); !st) return std::move(st).take_problem();
  return read_invitation(s);
}

Result<bool> mark_invitation_accepted(Connection& w, std::string_view id, std::string_view user_id,
                                      std::string_view now) {
  auto u = w.prepare(
      "UPDATE invitations SET accepted_at = ?3, accepted_by_user_id = ?2"
      " WHERE id = ?1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?3");
  u.bind_all(id, user_id, now);
  return changed_one(w, u);
}

}  // namespace crewship::store
