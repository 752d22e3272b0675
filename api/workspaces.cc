// Workspaces and their members. A workspace is the tenant: its members hold
// one role each (OWNER > ADMIN > MANAGER > MEMBER > VIEWER), and the guard
// has already checked that role for every route with a {workspaceId}.
#include <memory>

#include "api/common.h"
#include "store/workspace_store.h"
#include "api/routes.h"
#include "daemon/ids.h"
#include "daemon/json_input.h"

namespace crewship::api {
namespace {

constexpr int kSlugAttempts = 8;


// The guard takes the workspace from ?workspace_id= before the path, so a
// caller could pass the check for one workspace and name another in the
// path; the path must be the workspace that was checked.
// {id,name,slug,role,created_at,updated_at,_count:{members,crews,agents}} of
// a workspace the caller belongs to; false when it does not exist.
bool write_workspace(App& app, json::Out& out, const std::string& id, Role role) {
  auto s = app.store.reader().prepare(
      "SELECT w.id, w.name, w.slug, w.created_at, w.updated_at,"
      " (SELECT count(*) FROM workspace_members m WHERE m.workspace_id = w.id),"
      " (SELECT count(*) FROM crews c WHERE c.workspace_id = w.id AND c.deleted_at IS NULL),"
      " (SELECT count(*) FROM agents a WHERE a.workspace_id = w.id AND a.deleted_at IS NULL)"
      " FROM workspaces w WHERE w.id = ?1");
  s.bind(1, id);
  if (s.step() != SQLITE_ROW) return false;
  out.begin_object();
  out.member("id", s.text(0));
  out.member("name", s.text(1));
  out.member("slug", s.text(2));
  out.member("role", role_name(role));
  out.member("created_at", s.text(3));
  out.member("updated_at", s.text(4));
  out.key("_count");
  out.begin_object();
  out.member("members", s.int64(5));
  out.member("crews", s.int64(6));
  out.member("agents", s.int64(7));
  out.end_object();
  out.end_object();
  return true;
}

void reply_workspace(App& app, const ExchangePtr& ex, int status) {
  json::Out out;
  if (!write_workspace(app, out, ex->who.workspace_id, ex->who.role))
    return reply_problem(ex, 404, "workspace not found");
  reply(ex, status, out);
}

struct Member {
  std::string id, user_id, email, name, role, created_at;
  bool has_name = false;
};

void write_member(json::Out& out, const Member& m) {
  out.begin_object();
  out.member("id", m.id);
  out.member("user_id", m.user_id);
  out.member("email", m.email);
  out.key("name");
  if (m.has_name) {
    out.str(m.name);
  } else {
    out.w().Null();
  }
  out.member("role", m.role);
  out.member("created_at", m.created_at);
  out.end_object();
}

}  // namespace

// GET /api/v1/workspaces: the caller's workspaces with their role in each.
// Within one second (the timestamps' resolution) rowid keeps creation order.
void list_workspaces(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  auto s = app.store.reader().prepare(
      "SELECT w.id, w.name, w.slug, m.role, w.created_at, w.updated_at"
      " FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id"
      " WHERE m.user_id = ?1 ORDER BY w.created_at, w.rowid LIMIT ?2 OFFSET ?3");
  s.bind(1, ex->who.user_id);
  s.bind(2, page.limit);
  s.bind(3, page.offset);
  reply_rows(ex, s, {"id", "name", "slug", "role", "created_at", "updated_at"});
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
  auto chosen = std::make_shared<std::string>();
  write(
      app,
      [id, now, base, explicit_slug, name = name.value, user = ex->who.user_id,
       chosen](store::Connection& db) {
        std::string candidate = base;
        for (int i = 0;; ++i) {
          auto q = db.prepare("SELECT 1 FROM workspaces WHERE slug = ?1");
          q.bind(1, candidate);
          int step = q.step();
          if (step == SQLITE_DONE) break;
          if (step != SQLITE_ROW) return sqlite3_extended_errcode(db.db());
          if (explicit_slug || i == kSlugAttempts) return SQLITE_CONSTRAINT_UNIQUE;
          candidate = base + "-" + random_hex(2);
        }
        if (int rc = store::insert_workspace(db, id, name, candidate, user, now); rc != SQLITE_OK) return rc;
        *chosen = candidate;
        return SQLITE_OK;
      },
      [ex, id, now, name = name.value, chosen](int rc) {
        if (is_constraint(rc)) return reply_problem(ex, 409, "slug is already taken");
        if (rc != SQLITE_OK) return reply_store_error(ex, rc);
        json::Out out;
        out.begin_object();
        out.member("id", id);
        out.member("name", name);
        out.member("slug", *chosen);
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

  write(
      app,
      [id = ex->who.workspace_id, name, slug, now = now_rfc3339()](store::Connection& db) {
        auto u = db.prepare(
            "UPDATE workspaces SET name = coalesce(?2, name), slug = coalesce(?3, slug),"
            " updated_at = ?4 WHERE id = ?1");
        u.bind(1, id);
        if (name.present) {
          u.bind(2, name.value);
        } else {
          u.bind_null(2);
        }
        if (slug.present) {
          u.bind(3, slug.value);
        } else {
          u.bind_null(3);
        }
        u.bind(4, now);
        return u.step() == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(db.db());
      },
      [&app, ex](int rc) {
        if (is_constraint(rc)) return reply_problem(ex, 409, "slug is already taken");
        if (rc != SQLITE_OK) return reply_store_error(ex, rc);
        reply_workspace(app, ex, 200);
      });
}

// GET /api/v1/workspaces/{workspaceId}/members, in the order they joined.
void list_members(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  auto s = app.store.reader().prepare(
      "SELECT m.id, m.user_id, u.email, u.name, m.role, m.created_at"
      " FROM workspace_members m JOIN users u ON u.id = m.user_id"
      " WHERE m.workspace_id = ?1 ORDER BY m.created_at, m.rowid LIMIT ?2 OFFSET ?3");
  s.bind(1, ex->who.workspace_id);
  s.bind(2, page.limit);
  s.bind(3, page.offset);
  reply_rows(ex, s, {"id", "user_id", "email", "name", "role", "created_at"});
}

// POST /api/v1/workspaces/{workspaceId}/members {email, role}: adds an
// existing user. Only an OWNER may grant OWNER.
void add_member(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return;
  json::Field<std::string> email, role;
  json::Reader r(doc);
  r.string("email", &email, {.min = 3, .max = 254, .required = true})
      .one_of("role", &role, {"OWNER", "ADMIN", "MANAGER", "MEMBER", "VIEWER"}, {.required = true});
  if (!r.ok()) return reply_problem(ex, 400, r.error());
  if (role.value == "OWNER" && ex->who.role != Role::kOwner)
    return reply_problem(ex, 403, "only an OWNER can grant the OWNER role");

  enum Outcome { kAdded, kNoUser, kAlreadyMember };
  struct Result {
    Outcome outcome = kAdded;
    Member member;
  };
  auto res = std::make_shared<Result>();
  res->member.id = new_id();
  res->member.role = role.value;
  res->member.created_at = now_rfc3339();
  write(
      app,
      [res, workspace = ex->who.workspace_id, email = email.value](store::Connection& db) {
        Member& m = res->member;
        {
          auto u = db.prepare("SELECT id, email, name FROM users WHERE email = ?1");
          u.bind(1, email);
          if (u.step() != SQLITE_ROW) {
            res->outcome = kNoUser;
            return SQLITE_ABORT;
          }
          m.user_id = u.text(0);
          m.email = u.text(1);
          m.has_name = !u.is_null(2);
          m.name = u.text(2);
        }
        auto i = db.prepare(
            "INSERT INTO workspace_members(id, workspace_id, user_id, role, created_at)"
            " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (workspace_id, user_id) DO NOTHING");
        i.bind(1, m.id);
        i.bind(2, workspace);
        i.bind(3, m.user_id);
        i.bind(4, m.role);
        i.bind(5, m.created_at);
        if (i.step() != SQLITE_DONE) return sqlite3_extended_errcode(db.db());
        if (sqlite3_changes(db.db()) == 0) {
          res->outcome = kAlreadyMember;
          return SQLITE_ABORT;
        }
        return SQLITE_OK;
      },
      [ex, res](int rc) {
        if (res->outcome == kNoUser) return reply_problem(ex, 404, "no user with this email");
        if (res->outcome == kAlreadyMember)
          return reply_problem(ex, 409, "this user is already a member of the workspace");
        if (rc != SQLITE_OK) return reply_store_error(ex, rc);
        json::Out out;
        write_member(out, res->member);
        reply(ex, 201, out);
      });
}

// DELETE /api/v1/workspaces/{workspaceId}/members/{memberId}: also drops the
// user's memberships of this workspace's crews. The last OWNER stays; only
// an OWNER removes an OWNER.
void remove_member(App& app, const ExchangePtr& ex) {
  enum Outcome { kRemoved, kNotFound, kOwnerOnly, kLastOwner };
  auto outcome = std::make_shared<Outcome>(kRemoved);
  write(
      app,
      [outcome, workspace = ex->who.workspace_id, member = std::string(ex->req.param("memberId")),
       caller_is_owner = ex->who.role == Role::kOwner](store::Connection& db) {
        std::string user_id;
        bool owner = false;
        {
          auto s = db.prepare(
              "SELECT user_id, role FROM workspace_members WHERE id = ?1 AND workspace_id = ?2");
          s.bind(1, member);
          s.bind(2, workspace);
          if (s.step() != SQLITE_ROW) {
            *outcome = kNotFound;
            return SQLITE_ABORT;
          }
          user_id = s.text(0);
          owner = s.text(1) == "OWNER";
        }
        if (owner && !caller_is_owner) {
          *outcome = kOwnerOnly;
          return SQLITE_ABORT;
        }
        if (owner) {
          auto n = db.prepare(
              "SELECT count(*) FROM workspace_members WHERE workspace_id = ?1 AND role = 'OWNER'");
          n.bind(1, workspace);
          if (n.step() != SQLITE_ROW) return sqlite3_extended_errcode(db.db());
          if (n.int64(0) <= 1) {
            *outcome = kLastOwner;
            return SQLITE_ABORT;
          }
        }
        auto c = db.prepare(
            "DELETE FROM crew_members WHERE user_id = ?1"
            " AND crew_id IN (SELECT id FROM crews WHERE workspace_id = ?2)");
        c.bind(1, user_id);
        c.bind(2, workspace);
        if (c.step() != SQLITE_DONE) return sqlite3_extended_errcode(db.db());
        auto d = db.prepare("DELETE FROM workspace_members WHERE id = ?1");
        d.bind(1, member);
        return d.step() == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(db.db());
      },
      [ex, outcome](int rc) {
        switch (*outcome) {
          case kNotFound:
            return reply_problem(ex, 404, "member not found");
          case kOwnerOnly:
            return reply_problem(ex, 403, "only an OWNER can remove an OWNER");
          case kLastOwner:
            return reply_problem(ex, 409, "cannot remove the last OWNER of a workspace");
          case kRemoved:
            break;
        }
        if (rc != SQLITE_OK) return reply_store_error(ex, rc);
        reply_no_content(ex);
      });
}

}  // namespace crewship::api
