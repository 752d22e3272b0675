// Workspaces and their members. A workspace is the tenant: its members hold
// one role each (OWNER > ADMIN > MANAGER > MEMBER > VIEWER), and the guard
// has already checked that role for every route with a {workspaceId}.
#include <optional>

#include "api/common.h"
#include "api/realtime.h"
#include "api/routes.h"
#include "daemon/ids.h"
#include "daemon/json_input.h"
#include "store/user_store.h"
#include "store/workspace_store.h"

namespace crewship::api {
namespace {

constexpr int kSlugAttempts = 8;


void write_workspace(json::Out& out, const store::Workspace& w, Role role) {
  out.begin_object();
  out.member("id", w.id);
  out.member("name", w.name);
  out.member("slug", w.slug);
  out.member("role", role_name(role));
  out.member("created_at", w.created_at);
  out.member("updated_at", w.updated_at);
  out.key("_count");
  out.begin_object();
  out.member("members", w.members);
  out.member("crews", w.crews);
  out.member("agents", w.agents);
  out.end_object();
  out.end_object();
}

// {id,name,slug,role,created_at,updated_at,_count:{members,crews,agents}} of
// the caller's workspace.
void reply_workspace(App& app, const ExchangePtr& ex, int status) {
  auto w = store::find_workspace(app.store.reader(), ex->who.workspace_id);
  if (!w) return reply_problem(ex, w.problem());
  json::Out out;
  write_workspace(out, *w, ex->who.role);
  reply(ex, status, out);
}

void write_member(json::Out& out, const store::Member& m) {
  out.begin_object();
  out.member("id", m.id);
  out.member("user_id", m.user_id);
  out.member("email", m.email);
  nullable(out, "name", m.name);
  out.member("role", m.role);
  out.member("created_at", m.created_at);
  out.end_object();
}

}  // namespace

// GET /api/v1/workspaces: the caller's workspaces with their role in each.
void list_workspaces(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  reply_list(ex, store::list_user_workspaces(app.store.reader(), ex->who.user_id, page.limit, page.offset),
             [](json::Out& out, const store::UserWorkspace& w) {
               out.begin_object();
               out.member("id", w.id);
               out.member("name", w.name);
               out.member("slug", w.slug);
               out.member("role", w.role);
               out.member("created_at", w.created_at);
               out.member("updated_at", w.updated_at);
               out.end_object();
             });
}

// POST /api/v1/workspaces {name, slug?}: the caller becomes its OWNER. A
// slug derived from the name gets a random suffix when taken; an explicit
// one that is taken answers 409.
void create_workspace(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return;
  json::Field<std::string> name, slug;
  json::Reader r(doc);
  r.string("name", &name, {.min = 1, .max = 100, .required = true})
      .string("slug", &slug, {.min = 2, .max = 50});
  if (!r.ok()) return reply_problem(ex, 400, r.error());
  if (!check_name_and_slug(ex, name, slug)) return;

  bool explicit_slug = slug.has_value();
  std::string base = explicit_slug ? slug.value : slugify(name.value).substr(0, 45);
  while (!explicit_slug && base.size() > 2 && base.back() == '-') base.pop_back();
  std::string id = new_id(), now = now_rfc3339();
  submit(
      app,
      [id, now, base, explicit_slug, name = name.value, user = ex->who.user_id,
       limits = license_limits(app.config)](store::Connection& w) -> Result<std::string> {
        std::string candidate = base;
        for (int i = 0;; ++i) {
          auto taken = store::workspace_slug_taken(w, candidate);
          if (!taken) return std::move(taken).take_problem();
          if (!*taken) break;
          if (explicit_slug || i == kSlugAttempts) return fail(409, "slug is already taken");
          candidate = base + "-" + random_hex(2);
        }
        // The creator becomes its OWNER: a member too.
        for (auto kind : {store::Licensed::kWorkspaces, store::Licensed::kMembers})
          if (auto st = store::check_license_room(w, limits, kind, user); !st) return std::move(st).take_problem();
        if (auto st = store::insert_workspace(w, id, name, candidate, user, now); !st)
          return std::move(st).take_problem();
        return candidate;
      },
      [ex, id, now, name = name.value](Result<std::string> slug) {
        if (!slug) return reply_problem(ex, slug.problem());
        json::Out out;
        out.begin_object();
        out.member("id", id);
        out.member("name", name);
        out.member("slug", *slug);
        out.member("role", "OWNER");
        out.member("created_at", now);
        out.member("updated_at", now);
        out.end_object();
        reply(ex, 201, out);
      });
}

// GET /api/v1/workspaces/{workspaceId}
void get_workspace(App& app, const ExchangePtr& ex) {
  reply_workspace(app, ex, 200);
}

// PATCH /api/v1/workspaces/{workspaceId} {name?, slug?}
void update_workspace(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return;
  json::Field<std::string> name, slug;
  json::Reader r(doc);
  r.string("name", &name, {.min = 1, .max = 100, .nullable = false})
      .string("slug", &slug, {.min = 2, .max = 50, .nullable = false});
  if (!r.ok()) return reply_problem(ex, 400, r.error());
  if (!check_name_and_slug(ex, name, slug)) return;
  if (!name.present && !slug.present) return reply_workspace(app, ex, 200);

  auto given = [](const json::Field<std::string>& f) {
    return f.present ? std::optional<std::string>(f.value) : std::nullopt;
  };
  submit(
      app,
      [id = ex->who.workspace_id, name = given(name), slug = given(slug),
       now = now_rfc3339()](store::Connection& w) {
        return store::update_workspace(w, id, name, slug, now);
      },
      [&app, ex](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        reply_workspace(app, ex, 200);
      });
}

// GET /api/v1/workspaces/{workspaceId}/members, in the order they joined.
void list_members(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  reply_list(ex, store::list_members(app.store.reader(), ex->who.workspace_id, page.limit, page.offset),
             write_member);
}

// POST /api/v1/workspaces/{workspaceId}/members {email, role}: adds an
// existing user. Only an OWNER may grant OWNER.
void add_member(App& app, const ExchangePtr& ex) {
  std::string email, role;
  if (!read_grant(ex, &email, &role)) return;

  store::Member m;
  m.id = new_id();
  m.role = role;
  m.created_at = now_rfc3339();
  submit(
      app,
      [m, workspace = ex->who.workspace_id, email, limits = license_limits(app.config),
       audit = audit_of(*ex, "member.add", "member", m.id)](store::Connection& w) mutable -> Result<store::Member> {
        auto user = store::find_user_by_email(w, email);
        if (!user) return std::move(user).take_problem();
        if (auto st = store::check_license_room(w, limits, store::Licensed::kMembers, user->id); !st)
          return std::move(st).take_problem();
        m.user_id = user->id;
        m.email = user->email;
        m.name = user->name;
        auto added = store::insert_member(w, workspace, m);
        if (!added) return std::move(added).take_problem();
        if (!*added) return fail(409, "this user is already a member of the workspace");
        audit.details = details_of({{"user_id", m.user_id}, {"role", m.role}});
        if (auto st = store::insert_audit(w, audit); !st) return std::move(st).take_problem();
        return m;
      },
      [ex](Result<store::Member> added) {
        if (!added) return reply_problem(ex, added.problem());
        json::Out out;
        write_member(out, *added);
        reply(ex, 201, out);
      });
}

// DELETE /api/v1/workspaces/{workspaceId}/members/{memberId}: also drops the
// user's memberships of this workspace's crews. The last OWNER stays; only
// an OWNER removes an OWNER.
void remove_member(App& app, const ExchangePtr& ex) {
  auto removed = std::make_shared<std::string>();  // the user, known once the writer found the member
  submit(
      app,
      [workspace = ex->who.workspace_id, member = std::string(ex->req.param("memberId")),
       caller_is_owner = ex->who.role == Role::kOwner, removed,
       audit = audit_of(*ex, "member.remove", "member", std::string(ex->req.param("memberId")))](
          store::Connection& w) mutable -> Status {
        auto m = store::find_member(w, member, workspace);
        if (!m) return std::move(m).take_problem();
        if (m->role == "OWNER") {
          if (!caller_is_owner) return fail(403, "only an OWNER can remove an OWNER");
          auto owners = store::count_owners(w, workspace);
          if (!owners) return std::move(owners).take_problem();
          if (*owners <= 1) return fail(409, "cannot remove the last OWNER of a workspace");
        }
        *removed = m->user_id;
        audit.details = details_of({{"user_id", m->user_id}, {"role", m->role}});
        return audited(w, store::remove_member(w, member, m->user_id, workspace), audit);
      },
      [&app, ex, removed](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        // Their live pushes end: no event of the workspace reaches them again.
        drop_user_clients(app, *removed);
        reply_no_content(ex);
      });
}

}  // namespace crewship::api
