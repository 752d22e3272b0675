// Invitations to a workspace: a manager invites an email with a role; the
// token "crewship_inv_<64 hex>" is shown once, kept as its SHA-256, and
// lets the signed-in user of that email join once within 7 days.
#include <strings.h>

#include <ctime>
#include <optional>

#include "api/common.h"
#include "api/routes.h"
#include "daemon/crypto.h"
#include "daemon/ids.h"
#include "daemon/json_input.h"
#include "store/invitation_store.h"
#include "store/workspace_store.h"

namespace crewship::api {
namespace {

constexpr std::string_view kInvitationPrefix = "crewship_inv_";
constexpr time_t kInvitationTtlS = 7 * 24 * 3600;
constexpr size_t kMaxTokenChars = 128;  // a longer path parameter is no token of ours

void write_invitation(json::Out& out, const store::Invitation& i, std::string_view now) {
  out.begin_object();
  out.member("id", i.id);
  out.member("email", i.email);
  out.member("role", i.role);
  out.member("status", store::invitation_status(i, now));
  nullable(out, "invited_by_user_id", i.invited_by_user_id);
  out.member("created_at", i.created_at);
  out.member("expires_at", i.expires_at);
  nullable(out, "accepted_at", i.accepted_at);
  nullable(out, "revoked_at", i.revoked_at);
  out.end_object();
}

struct Joined {
  std::string workspace_id;
  store::Member member;
};

}  // namespace

// GET /api/v1/workspaces/{workspaceId}/invitations: newest first, with their
// status; never a token.
void list_invitations(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  reply_list(ex,
             store::list_invitations(app.store.reader(), ex->who.workspace_id, page.limit, page.offset),
             [now = now_rfc3339()](json::Out& out, const store::Invitation& i) {
               write_invitation(out, i, now);
             });
}

// POST /api/v1/workspaces/{workspaceId}/invitations {email, role}: 201
// {id, email, role, expires_at, token}. Only an OWNER may invite an OWNER.
void create_invitation(App& app, const ExchangePtr& ex) {
  std::string email, role;
  if (!read_grant(ex, &email, &role)) return;
  time_t now_s = time(nullptr);
  store::Invitation inv;
  inv.id = new_id();
  inv.workspace_id = ex->who.workspace_id;
  inv.email = email;
  inv.role = role;
  inv.invited_by_user_id = ex->who.user_id;
  inv.created_at = rfc3339(now_s);
  inv.expires_at = rfc3339(now_s + kInvitationTtlS);
  std::string token = std::string(kInvitationPrefix) + random_hex(32);
  submit(
      app,
      [inv, hash = crypto::hex(crypto::sha256(token)),
       audit = audit_of(*ex, "invitation.create", "invitation", inv.id,
                        details_of({{"email", inv.email}, {"role", inv.role}}))](store::Connection& w) {
        return audited(w, store::insert_invitation(w, inv, hash, inv.created_at), audit);
      },
      [ex, inv, token](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        json::Out out;
        out.begin_object();
        out.member("id", inv.id);
        out.member("email", inv.email);
        out.member("role", inv.role);
        out.member("expires_at", inv.expires_at);
        out.member("token", token);
        out.end_object();
        reply_secret(ex, 201, out);
      });
}

// DELETE /api/v1/workspaces/{workspaceId}/invitations/{invitationId}: its
// token answers 410 from now on.
void revoke_invitation(App& app, const ExchangePtr& ex) {
  std::string id(ex->req.param("invitationId"));
  submit(
      app,
      [id, workspace = ex->who.workspace_id,
       audit = audit_of(*ex, "invitation.revoke", "invitation", id)](store::Connection& w) {
        return audited(w, store::revoke_invitation(w, id, workspace, now_rfc3339()), audit);
      },
      [ex](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        reply_no_content(ex);
      });
}

// POST /api/v1/invitations/{token}/accept: the signed-in user whose email the
// invitation names becomes a member with its role, once; 410 once it is
// used, revoked or expired. 200 {id, workspace_id, user_id, email, role,
// created_at}: the new membership.
void accept_invitation(App& app, const ExchangePtr& ex) {
  std::string_view token = ex->req.param("token");
  if (token.size() > kMaxTokenChars || !token.starts_with(kInvitationPrefix))
    return reply_problem(ex, 404, "invitation not found");
  submit(
      app,
      [hash = crypto::hex(crypto::sha256(token)), user = ex->who.user_id, email = ex->who.email,
       limits = license_limits(app.config), audit = audit_of(*ex, "invitation.accept", "invitation", "")](
          store::Connection& w) mutable -> Result<Joined> {
        auto inv = store::find_invitation_by_token(w, hash);
        if (!inv) return std::move(inv).take_problem();
        if (strcasecmp(inv->email.c_str(), email.c_str()) != 0)
          return fail(403, "this invitation is for another email address");
        std::string now = now_rfc3339();
        auto accepted = store::mark_invitation_accepted(w, inv->id, user, now);
        if (!accepted) return std::move(accepted).take_problem();
        if (!*accepted) return fail(410, "the invitation is " + store::invitation_status(*inv, now));
        if (auto st = store::check_license_room(w, limits, store::Licensed::kMembers, user); !st)
          return std::move(st).take_problem();
        Joined j{inv->workspace_id, {new_id(), user, email, std::nullopt, inv->role, now}};
        auto added = store::insert_member(w, j.workspace_id, j.member);
        if (!added) return std::move(added).take_problem();
        if (!*added) return fail(409, "you are already a member of the workspace");
        audit.workspace_id = j.workspace_id;
        audit.target_id = inv->id;
        audit.details = details_of({{"user_id", user}, {"role", inv->role}});
        if (auto st = store::insert_audit(w, audit); !st) return std::move(st).take_problem();
        return j;
      },
      [ex](Result<Joined> j) {
        if (!j) return reply_problem(ex, j.problem());
        json::Out out;
        out.begin_object();
        out.member("id", j->member.id);
        out.member("workspace_id", j->workspace_id);
        out.member("user_id", j->member.user_id);
        out.member("email", j->member.email);
        out.member("role", j->member.role);
        out.member("created_at", j->member.created_at);
        out.end_object();
        reply(ex, 200, out);
      });
}

}  // namespace crewship::api
