// Crews: a workspace's teams of agents, each sharing one container, and
// their per-crew members. Every crew route is workspace-scoped; a crew of
// another workspace answers exactly like one that does not exist, and a
// soft-deleted crew is gone from every read (its slug is free again).
#include <memory>

#include "api/common.h"
#include "api/routes.h"
#include "daemon/ids.h"
#include "daemon/json_input.h"

namespace crewship::api {
namespace {

constexpr std::string_view kNoCrew = "crew not found";

// The columns write_crew() expects, with the live agents and the members.
#define CREW_SELECT                                                                          \
  "SELECT c.id, c.workspace_id, c.name, c.slug, c.description, c.color, c.avatar_style,"     \
  " c.autonomy_level, c.max_ephemeral_agents, c.container_memory_mb, c.container_cpus,"      \
  " c.created_by_user_id, c.created_at, c.updated_at,"                                       \
  " (SELECT count(*) FROM agents a WHERE a.crew_id = c.id AND a.deleted_at IS NULL),"        \
  " (SELECT count(*) FROM crew_members m WHERE m.crew_id = c.id)"                            \
  " FROM crews c"

void write_crew(json::Out& out, const store::StmtLease& s) {
  out.begin_object();
  out.member("id", s.text(0));
  out.member("workspace_id", s.text(1));
  out.member("name", s.text(2));
  out.member("slug", s.text(3));
  nullable(out, "description", s, 4);
  nullable(out, "color", s, 5);
  nullable(out, "avatar_style", s, 6);
  out.member("autonomy_level", s.text(7));
  out.member("max_ephemeral_agents", s.int64(8));
  out.member("container_memory_mb", s.int64(9));
  out.key("container_cpus");
  out.w().Double(sqlite3_column_double(s.get(), 10));
  if (!s.is_null(11)) out.member("created_by_user_id", s.text(11));
  out.member("created_at", s.text(12));
  out.member("updated_at", s.text(13));
  out.key("_count");
  out.begin_object();
  out.member("agents", s.int64(14));
  out.member("members", s.int64(15));
  out.end_object();
  out.end_object();
}

// Answers with the live crew id of the caller's workspace, or 404.
void reply_crew(App& app, const ExchangePtr& ex, int status, const std::string& id) {
  auto s = app.store.reader().prepare(
      CREW_SELECT " WHERE c.id = ?1 AND c.workspace_id = ?2 AND c.deleted_at IS NULL");
  s.bind(1, id);
  s.bind(2, ex->who.workspace_id);
  if (s.step() != SQLITE_ROW) return reply_problem(ex, 404, kNoCrew);
  json::Out out;
  write_crew(out, s);
  reply(ex, status, out);
}

bool crew_exists(App& app, const ExchangePtr& ex, std::string_view id) {
  auto s = app.store.reader().prepare(
      "SELECT 1 FROM crews WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL");
  s.bind(1, id);
  s.bind(2, ex->who.workspace_id);
  return s.step() == SQLITE_ROW;
}

// Writer side: SQLITE_ROW when the crew is live in the workspace,
// SQLITE_DONE when not, else an error.
int find_crew(store::Connection& db, const std::string& id, const std::string& workspace) {
  auto s = db.prepare(
      "SELECT 1 FROM crews WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL");
  s.bind(1, id);
  s.bind(2, workspace);
  int rc = s.step();
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? rc : sqlite3_extended_errcode(db.db());
}


struct CrewInput {
  json::Field<std::string> name, slug, description, color, avatar_style, autonomy_level;
  json::Field<int64_t> max_ephemeral_agents, container_memory_mb;
  json::Field<double> container_cpus;
};

// The crew fields of a create (name and slug required) or an update (all
// optional; null clears description, color and avatar_style). Answers 400
// and returns false on bad input.
bool read_crew(const ExchangePtr& ex, bool create, CrewInput* in) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return false;
  json::Reader r(doc);
  r.string("name", &in->name, {.min = 2, .max = 100, .required = create, .nullable = false})
      .string("slug", &in->slug, {.min = 2, .max = 50, .required = create, .nullable = false})
      .string("description", &in->description, {.min = 0, .max = 2000})
      .string("color", &in->color, {.min = 0, .max = 32})
      .string("avatar_style", &in->avatar_style, {.min = 0, .max = 64})
      .one_of("autonomy_level", &in->autonomy_level, {"strict", "guided", "trusted", "full"},
              {.nullable = false})
      .integer("max_ephemeral_agents", &in->max_ephemeral_agents,
               {.min = 0, .max = 100, .nullable = false})
      .integer("container_memory_mb", &in->container_memory_mb,
               {.min = 256, .max = 262144, .nullable = false})
      .number("container_cpus", &in->container_cpus, 0.1, 64, {.nullable = false});
  if (!r.ok()) {
    reply_problem(ex, 400, r.error());
    return false;
  }
  if (!check_name_and_slug(ex, in->name, in->slug)) return false;
  return true;
}

void bind_text(store::StmtLease& s, int i, const json::Field<std::string>& f) {
  if (f.has_value()) {
    s.bind(i, f.value);
  } else {
    s.bind_null(i);
  }
}

int slug_taken(store::Connection& db, const std::string& workspace, const std::string& slug,
               const std::string& except_id, bool* taken) {
  auto s = db.prepare(
      "SELECT 1 FROM crews WHERE workspace_id = ?1 AND slug = ?2 AND id != ?3 AND deleted_at IS NULL");
  s.bind(1, workspace);
  s.bind(2, slug);
  s.bind(3, except_id);
  int rc = s.step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite3_extended_errcode(db.db());
  *taken = rc == SQLITE_ROW;
  return SQLITE_OK;
}

}  // namespace

// GET /api/v1/crews?workspace_id=
void list_crews(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  auto s = app.store.reader().prepare(
      CREW_SELECT " WHERE c.workspace_id = ?1 AND c.deleted_at IS NULL"
                  " ORDER BY c.created_at, c.id LIMIT ?2 OFFSET ?3");
  s.bind(1, ex->who.workspace_id);
  s.bind(2, page.limit);
  s.bind(3, page.offset);
  json::Out out;
  out.begin_array();
  while (s.step() == SQLITE_ROW) write_crew(out, s);
  out.end_array();
  reply(ex, 200, out);
}

// POST /api/v1/crews?workspace_id=: the creator becomes the crew's OWNER.
void create_crew(App& app, const ExchangePtr& ex) {
  CrewInput in;
  if (!read_crew(ex, true, &in)) return;
  std::string id = new_id();
  auto taken = std::make_shared<bool>(false);
  write(
      app,
      [in, id, taken, workspace = ex->who.workspace_id, user = ex->who.user_id,
       now = now_rfc3339()](store::Connection& db) {
        if (int rc = slug_taken(db, workspace, in.slug.value, id, taken.get()); rc != SQLITE_OK)
          return rc;
        if (*taken) return SQLITE_ABORT;
        auto c = db.prepare(
            "INSERT INTO crews(id, workspace_id, name, slug, description, color, avatar_style,"
            " autonomy_level, max_ephemeral_agents, container_memory_mb, container_cpus,"
            " created_by_user_id, created_at, updated_at)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)");
        c.bind(1, id);
        c.bind(2, workspace);
        c.bind(3, in.name.value);
        c.bind(4, in.slug.value);
        bind_text(c, 5, in.description);
        bind_text(c, 6, in.color);
        bind_text(c, 7, in.avatar_style);
        c.bind(8, in.autonomy_level.has_value() ? in.autonomy_level.value : "guided");
        c.bind(9, in.max_ephemeral_agents.has_value() ? in.max_ephemeral_agents.value : 3);
        c.bind(10, in.container_memory_mb.has_value() ? in.container_memory_mb.value : 4096);
        sqlite3_bind_double(c.get(), 11, in.container_cpus.has_value() ? in.container_cpus.value : 2.0);
        c.bind(12, user);
        c.bind(13, now);
        if (c.step() != SQLITE_DONE) return sqlite3_extended_errcode(db.db());
        auto m = db.prepare(
            "INSERT INTO crew_members(crew_id, user_id, role, created_at) VALUES (?1, ?2, 'OWNER', ?3)");
        m.bind(1, id);
        m.bind(2, user);
        m.bind(3, now);
        return m.step() == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(db.db());
      },
      [&app, ex, id, taken](int rc) {
        if (*taken) return reply_problem(ex, 409, "a crew with this slug exists in the workspace");
        if (rc != SQLITE_OK) return reply_store_error(ex, rc);
        reply_crew(app, ex, 201, id);
      });
}

// GET /api/v1/crews/{crewId}
void get_crew(App& app, const ExchangePtr& ex) {
  reply_crew(app, ex, 200, std::string(ex->req.param("crewId")));
}

// PATCH /api/v1/crews/{crewId}: OWNER and ADMIN edit any crew; a MANAGER
// only crews they created or hold ADMIN or OWNER of.
void update_crew(App& app, const ExchangePtr& ex) {
  CrewInput in;
  if (!read_crew(ex, false, &in)) return;
  enum Outcome { kUpdated, kNotFound, kForbidden, kSlugTaken };
  auto outcome = std::make_shared<Outcome>(kUpdated);
  std::string id(ex->req.param("crewId"));
  write(
      app,
      [in, id, outcome, workspace = ex->who.workspace_id, user = ex->who.user_id,
       any_crew = ex->who.role >= Role::kAdmin, now = now_rfc3339()](store::Connection& db) {
        {
          auto s = db.prepare(
              "SELECT c.created_by_user_id = ?3, (SELECT m.role IN ('OWNER', 'ADMIN') FROM crew_members m"
              "   WHERE m.crew_id = c.id AND m.user_id = ?3)"
              " FROM crews c WHERE c.id = ?1 AND c.workspace_id = ?2 AND c.deleted_at IS NULL");
          s.bind(1, id);
          s.bind(2, workspace);
          s.bind(3, user);
          int rc = s.step();
          if (rc == SQLITE_DONE) {
            *outcome = kNotFound;
            return SQLITE_ABORT;
          }
          if (rc != SQLITE_ROW) return sqlite3_extended_errcode(db.db());
          if (!any_crew && s.int64(0) != 1 && s.int64(1) != 1) {
            *outcome = kForbidden;
            return SQLITE_ABORT;
          }
        }
        if (in.slug.present) {
          bool taken = false;
          if (int rc = slug_taken(db, workspace, in.slug.value, id, &taken); rc != SQLITE_OK)
            return rc;
          if (taken) {
            *outcome = kSlugTaken;
            return SQLITE_ABORT;
          }
        }
        auto u = db.prepare(
            "UPDATE crews SET name = coalesce(?3, name), slug = coalesce(?4, slug),"
            " description = CASE WHEN ?5 THEN ?6 ELSE description END,"
            " color = CASE WHEN ?7 THEN ?8 ELSE color END,"
            " avatar_style = CASE WHEN ?9 THEN ?10 ELSE avatar_style END,"
            " autonomy_level = coalesce(?11, autonomy_level),"
            " max_ephemeral_agents = coalesce(?12, max_ephemeral_agents),"
            " container_memory_mb = coalesce(?13, container_memory_mb),"
            " container_cpus = coalesce(?14, container_cpus), updated_at = ?15"
            " WHERE id = ?1 AND workspace_id = ?2");
        u.bind(1, id);
        u.bind(2, workspace);
        bind_text(u, 3, in.name);
        bind_text(u, 4, in.slug);
        u.bind(5, int64_t{in.description.present});
        bind_text(u, 6, in.description);
        u.bind(7, int64_t{in.color.present});
        bind_text(u, 8, in.color);
        u.bind(9, int64_t{in.avatar_style.present});
        bind_text(u, 10, in.avatar_style);
        bind_text(u, 11, in.autonomy_level);
        if (in.max_ephemeral_agents.present) {
          u.bind(12, in.max_ephemeral_agents.value);
        } else {
          u.bind_null(12);
        }
        if (in.container_memory_mb.present) {
          u.bind(13, in.container_memory_mb.value);
        } else {
          u.bind_null(13);
        }
        if (in.container_cpus.present) {
          sqlite3_bind_double(u.get(), 14, in.container_cpus.value);
        } else {
          u.bind_null(14);
        }
        u.bind(15, now);
        return u.step() == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(db.db());
      },
      [&app, ex, id, outcome](int rc) {
        switch (*outcome) {
          case kNotFound:
            return reply_problem(ex, 404, kNoCrew);
          case kForbidden:
            return reply_problem(ex, 403, "a MANAGER can only edit crews they created or administer");
          case kSlugTaken:
            return reply_problem(ex, 409, "a crew with this slug exists in the workspace");
          case kUpdated:
            break;
        }
        if (rc != SQLITE_OK) return reply_store_error(ex, rc);
        reply_crew(app, ex, 200, id);
      });
}

// DELETE /api/v1/crews/{crewId}: soft delete, refused while live agents
// remain in the crew.
void delete_crew(App& app, const ExchangePtr& ex) {
  enum Outcome { kDeleted, kNotFound, kHasAgents };
  auto outcome = std::make_shared<Outcome>(kDeleted);
  write(
      app,
      [outcome, id = std::string(ex->req.param("crewId")), workspace = ex->who.workspace_id,
       now = now_rfc3339()](store::Connection& db) {
        int rc = find_crew(db, id, workspace);
        if (rc != SQLITE_ROW) {
          if (rc == SQLITE_DONE) *outcome = kNotFound;
          return rc == SQLITE_DONE ? SQLITE_ABORT : rc;
        }
        {
          auto a = db.prepare("SELECT 1 FROM agents WHERE crew_id = ?1 AND deleted_at IS NULL LIMIT 1");
          a.bind(1, id);
          rc = a.step();
          if (rc == SQLITE_ROW) {
            *outcome = kHasAgents;
            return SQLITE_ABORT;
          }
          if (rc != SQLITE_DONE) return sqlite3_extended_errcode(db.db());
        }
        auto u = db.prepare("UPDATE crews SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1");
        u.bind(1, id);
        u.bind(2, now);
        return u.step() == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(db.db());
      },
      [&app, ex, outcome](int rc) {
        if (*outcome == kNotFound) return reply_problem(ex, 404, kNoCrew);
        if (*outcome == kHasAgents)
          return reply_problem(ex, 409, "the crew still has agents; delete or move them first");
        if (rc != SQLITE_OK) return reply_store_error(ex, rc);
        app.presence_changed(ex->who.workspace_id);  // a roster filtered to this crew now 404s
        reply_no_content(ex);
      });
}

// GET /api/v1/crews/{crewId}/members
void list_crew_members(App& app, const ExchangePtr& ex) {
  std::string_view id = ex->req.param("crewId");
  if (!crew_exists(app, ex, id)) return reply_problem(ex, 404, kNoCrew);
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  auto s = app.store.reader().prepare(
      "SELECT m.user_id, u.email, u.name, m.role, m.created_at"
      " FROM crew_members m JOIN users u ON u.id = m.user_id"
      " WHERE m.crew_id = ?1 ORDER BY m.created_at, m.user_id LIMIT ?2 OFFSET ?3");
  s.bind(1, id);
  s.bind(2, page.limit);
  s.bind(3, page.offset);
  reply_rows(ex, s, {"user_id", "email", "name", "role", "created_at"});
}

// POST /api/v1/crews/{crewId}/members {user_id | email, role}: the user must
// be a member of the workspace. Adding someone who already is a crew member
// answers 409 rather than changing their role, so a retried or stale request
// never silently re-ranks anyone.
void add_crew_member(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return;
  json::Field<std::string> user_id, email, role;
  json::Reader r(doc);
  r.string("user_id", &user_id, {.min = 1, .max = 128})
      .string("email", &email, {.min = 3, .max = 254})
      .one_of("role", &role, {"OWNER", "ADMIN", "MEMBER"}, {.required = true});
  if (!r.ok()) return reply_problem(ex, 400, r.error());
  if (user_id.has_value() == email.has_value())
    return reply_problem(ex, 400, user_id.has_value() ? "give user_id or email, not both"
                                                      : "user_id or email is required");

  enum Outcome { kAdded, kCrewMissing, kNoUser, kAlreadyMember };
  struct Result {
    Outcome outcome = kAdded;
    std::string user_id, email, name;
    bool has_name = false;
  };
  auto res = std::make_shared<Result>();
  std::string now = now_rfc3339();
  write(
      app,
      [res, now, role = role.value, by_id = user_id.has_value(),
       who = user_id.has_value() ? user_id.value : email.value,
       crew = std::string(ex->req.param("crewId")),
       workspace = ex->who.workspace_id](store::Connection& db) {
        int rc = find_crew(db, crew, workspace);
        if (rc != SQLITE_ROW) {
          if (rc == SQLITE_DONE) res->outcome = kCrewMissing;
          return rc == SQLITE_DONE ? SQLITE_ABORT : rc;
        }
        {
          auto u = by_id ? db.prepare("SELECT u.id, u.email, u.name FROM users u"
                                      " JOIN workspace_members w ON w.user_id = u.id"
                                      " WHERE w.workspace_id = ?1 AND u.id = ?2")
                         : db.prepare("SELECT u.id, u.email, u.name FROM users u"
                                      " JOIN workspace_members w ON w.user_id = u.id"
                                      " WHERE w.workspace_id = ?1 AND u.email = ?2");
          u.bind(1, workspace);
          u.bind(2, who);
          rc = u.step();
          if (rc == SQLITE_DONE) {
            res->outcome = kNoUser;
            return SQLITE_ABORT;
          }
          if (rc != SQLITE_ROW) return sqlite3_extended_errcode(db.db());
          res->user_id = u.text(0);
          res->email = u.text(1);
          res->has_name = !u.is_null(2);
          res->name = u.text(2);
        }
        auto i = db.prepare(
            "INSERT INTO crew_members(crew_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4)"
            " ON CONFLICT (crew_id, user_id) DO NOTHING");
        i.bind(1, crew);
        i.bind(2, res->user_id);
        i.bind(3, role);
        i.bind(4, now);
        if (i.step() != SQLITE_DONE) return sqlite3_extended_errcode(db.db());
        if (sqlite3_changes(db.db()) == 0) {
          res->outcome = kAlreadyMember;
          return SQLITE_ABORT;
        }
        return SQLITE_OK;
      },
      [ex, res, now, role = role.value](int rc) {
        switch (res->outcome) {
          case kCrewMissing:
            return reply_problem(ex, 404, kNoCrew);
          case kNoUser:
            return reply_problem(ex, 404, "no such user in this workspace");
          case kAlreadyMember:
            return reply_problem(ex, 409, "this user is already a member of the crew");
          case kAdded:
            break;
        }
        if (rc != SQLITE_OK) return reply_store_error(ex, rc);
        json::Out out;
        out.begin_object();
        out.member("user_id", res->user_id);
        out.member("email", res->email);
        out.key("name");
        if (res->has_name) {
          out.str(res->name);
        } else {
          out.w().Null();
        }
        out.member("role", role);
        out.member("created_at", now);
        out.end_object();
        reply(ex, 201, out);
      });
}

// DELETE /api/v1/crews/{crewId}/members/{userId}
void remove_crew_member(App& app, const ExchangePtr& ex) {
  enum Outcome { kRemoved, kCrewMissing, kNotMember };
  auto outcome = std::make_shared<Outcome>(kRemoved);
  write(
      app,
      [outcome, crew = std::string(ex->req.param("crewId")),
       user = std::string(ex->req.param("userId")),
       workspace = ex->who.workspace_id](store::Connection& db) {
        int rc = find_crew(db, crew, workspace);
        if (rc != SQLITE_ROW) {
          if (rc == SQLITE_DONE) *outcome = kCrewMissing;
          return rc == SQLITE_DONE ? SQLITE_ABORT : rc;
        }
        auto d = db.prepare("DELETE FROM crew_members WHERE crew_id = ?1 AND user_id = ?2");
        d.bind(1, crew);
        d.bind(2, user);
        if (d.step() != SQLITE_DONE) return sqlite3_extended_errcode(db.db());
        if (sqlite3_changes(db.db()) == 0) {
          *outcome = kNotMember;
          return SQLITE_ABORT;
        }
        return SQLITE_OK;
      },
      [ex, outcome](int rc) {
        if (*outcome == kCrewMissing) return reply_problem(ex, 404, kNoCrew);
        if (*outcome == kNotMember) return reply_problem(ex, 404, "this user is not a member of the crew");
        if (rc != SQLITE_OK) return reply_store_error(ex, rc);
        reply_no_content(ex);
      });
}

#undef CREW_SELECT

}  // namespace crewship::api
