// Crews: a workspace's teams of agents, each sharing one container, and
// their per-crew members. Every crew route is workspace-scoped; a crew of
// another workspace answers exactly like one that does not exist, and a
// soft-deleted crew is gone from every read (its slug is free again).
#include <optional>

#include "api/common.h"
#include "api/resource_json.h"
#include "api/routes.h"
#include "daemon/ids.h"
#include "daemon/json_input.h"
#include "store/crew_store.h"
#include "store/user_store.h"

namespace crewship::api {

void write_crew(json::Out& out, const store::Crew& c) {
  out.begin_object();
  out.member("id", c.id);
  out.member("workspace_id", c.workspace_id);
  out.member("name", c.name);
  out.member("slug", c.slug);
  nullable(out, "description", c.description);
  nullable(out, "color", c.color);
  nullable(out, "avatar_style", c.avatar_style);
  out.member("autonomy_level", c.autonomy_level);
  out.member("max_ephemeral_agents", c.max_ephemeral_agents);
  out.member("container_memory_mb", c.container_memory_mb);
  out.key("container_cpus");
  out.w().Double(c.container_cpus);
  if (c.created_by_user_id) out.member("created_by_user_id", *c.created_by_user_id);
  out.member("created_at", c.created_at);
  out.member("updated_at", c.updated_at);
  out.key("_count");
  out.begin_object();
  out.member("agents", c.agents);
  out.member("members", c.members);
  out.end_object();
  out.end_object();
}

namespace {

// Answers with the live crew id of the caller's workspace, or 404.
void reply_crew(App& app, const ExchangePtr& ex, int status, const std::string& id) {
  auto crew = store::get_crew(app.store.reader(), id, ex->who.workspace_id);
  if (!crew) return reply_problem(ex, crew.problem());
  json::Out out;
  write_crew(out, *crew);
  reply(ex, status, out);
}

constexpr std::string_view kSlugTaken = "a crew with this slug exists in the workspace";

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

std::optional<std::string> given(const json::Field<std::string>& f) {
  return f.has_value() ? std::optional<std::string>(f.value) : std::nullopt;
}

store::Clearable clearable(const json::Field<std::string>& f) { return {f.present, given(f)}; }

}  // namespace

// GET /api/v1/crews?workspace_id=
void list_crews(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  reply_list(ex, store::list_crews(app.store.reader(), ex->who.workspace_id, page.limit, page.offset),
             write_crew);
}

// POST /api/v1/crews?workspace_id=: the creator becomes the crew's OWNER.
void create_crew(App& app, const ExchangePtr& ex) {
  CrewInput in;
  if (!read_crew(ex, true, &in)) return;
  store::NewCrew crew;
  crew.name = in.name.value;
  crew.slug = in.slug.value;
  crew.description = given(in.description);
  crew.color = given(in.color);
  crew.avatar_style = given(in.avatar_style);
  if (in.autonomy_level.has_value()) crew.autonomy_level = in.autonomy_level.value;
  if (in.max_ephemeral_agents.has_value()) crew.max_ephemeral_agents = in.max_ephemeral_agents.value;
  if (in.container_memory_mb.has_value()) crew.container_memory_mb = in.container_memory_mb.value;
  if (in.container_cpus.has_value()) crew.container_cpus = in.container_cpus.value;
  std::string id = new_id();
  submit(
      app,
      [crew, id, workspace = ex->who.workspace_id, user = ex->who.user_id, now = now_rfc3339(),
       limits = license_limits(app.config),
       audit = audit_of(*ex, "crew.create", "crew", id, details_of({{"slug", crew.slug}}))](store::Connection& w) -> Status {
        auto taken = store::crew_slug_taken(w, workspace, crew.slug, id);
        if (!taken) return std::move(taken).take_problem();
        if (*taken) return fail(409, std::string(kSlugTaken));
        if (auto st = store::check_license_room(w, limits, store::Licensed::kCrews); !st) return st;
        return audited(w, store::insert_crew(w, id, workspace, crew, user, now), audit);
      },
      [&app, ex, id](Status st) {
        if (!st) return reply_problem(ex, st.problem());
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
  store::CrewPatch patch;
  patch.name = given(in.name);
  patch.slug = given(in.slug);
  patch.autonomy_level = given(in.autonomy_level);
  patch.description = clearable(in.description);
  patch.color = clearable(in.color);
  patch.avatar_style = clearable(in.avatar_style);
  if (in.max_ephemeral_agents.present) patch.max_ephemeral_agents = in.max_ephemeral_agents.value;
  if (in.container_memory_mb.present) patch.container_memory_mb = in.container_memory_mb.value;
  if (in.container_cpus.present) patch.container_cpus = in.container_cpus.value;
  std::string id(ex->req.param("crewId"));
  submit(
      app,
      [patch, id, workspace = ex->who.workspace_id, user = ex->who.user_id,
       any_crew = ex->who.role >= Role::kAdmin, now = now_rfc3339(),
       audit = audit_of(*ex, "crew.update", "crew", id)](store::Connection& w) -> Status {
        auto rights = store::crew_rights(w, id, workspace, user);
        if (!rights) return std::move(rights).take_problem();
        if (!any_crew && !rights->creator && !rights->crew_admin)
          return fail(403, "a MANAGER can only edit crews they created or administer");
        if (patch.slug) {
          auto taken = store::crew_slug_taken(w, workspace, *patch.slug, id);
          if (!taken) return std::move(taken).take_problem();
          if (*taken) return fail(409, std::string(kSlugTaken));
        }
        return audited(w, store::update_crew(w, id, workspace, patch, now), audit);
      },
      [&app, ex, id](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        reply_crew(app, ex, 200, id);
      });
}

// DELETE /api/v1/crews/{crewId}: soft delete, refused while live agents
// remain in the crew.
void delete_crew(App& app, const ExchangePtr& ex) {
  submit(
      app,
      [id = std::string(ex->req.param("crewId")), workspace = ex->who.workspace_id, now = now_rfc3339(),
       audit = audit_of(*ex, "crew.delete", "crew", std::string(ex->req.param("crewId")))](store::Connection& w) -> Status {
        if (auto crew = store::find_crew(w, id, workspace); !crew) return std::move(crew).take_problem();
        auto has_agents = store::crew_has_agents(w, id);
        if (!has_agents) return std::move(has_agents).take_problem();
        if (*has_agents) return fail(409, "the crew still has agents; delete or move them first");
        return audited(w, store::delete_crew(w, id, now), audit);
      },
      [&app, ex](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        app.presence_changed(ex->who.workspace_id);  // a roster filtered to this crew now 404s
        reply_no_content(ex);
      });
}

// GET /api/v1/crews/{crewId}/members
void list_crew_members(App& app, const ExchangePtr& ex) {
  std::string_view id = ex->req.param("crewId");
  if (auto crew = store::find_crew(app.store.reader(), id, ex->who.workspace_id); !crew)
    return reply_problem(ex, crew.problem());
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  reply_list(ex, store::list_crew_members(app.store.reader(), id, page.limit, page.offset),
             [](json::Out& out, const store::CrewMember& m) {
               out.begin_object();
               out.member("user_id", m.user_id);
               out.member("email", m.email);
               nullable(out, "name", m.name);
               out.member("role", m.role);
               out.member("created_at", m.created_at);
               out.end_object();
             });
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
  std::string now = now_rfc3339();
  submit(
      app,
      [now, role = role.value, by_id = user_id.has_value(),
       who = user_id.has_value() ? user_id.value : email.value,
       crew = std::string(ex->req.param("crewId")),
       workspace = ex->who.workspace_id,
       audit = audit_of(*ex, "crew.member_add", "crew", std::string(ex->req.param("crewId")))](store::Connection& w) mutable
      -> Result<store::UserRef> {
        if (auto c = store::find_crew(w, crew, workspace); !c) return std::move(c).take_problem();
        auto user = store::find_workspace_user(w, workspace, by_id, who);
        if (!user) return user;
        auto added = store::insert_crew_member(w, crew, user->id, role, now);
        if (!added) return std::move(added).take_problem();
        if (!*added) return fail(409, "this user is already a member of the crew");
        audit.details = details_of({{"user_id", user->id}, {"role", role}});
        if (auto st = store::insert_audit(w, audit); !st) return std::move(st).take_problem();
        return user;
      },
      [ex, now, role = role.value](Result<store::UserRef> user) {
        if (!user) return reply_problem(ex, user.problem());
        json::Out out;
        out.begin_object();
        out.member("user_id", user->id);
        out.member("email", user->email);
        nullable(out, "name", user->name);
        out.member("role", role);
        out.member("created_at", now);
        out.end_object();
        reply(ex, 201, out);
      });
}

// DELETE /api/v1/crews/{crewId}/members/{userId}
void remove_crew_member(App& app, const ExchangePtr& ex) {
  submit(
      app,
      [crew = std::string(ex->req.param("crewId")), user = std::string(ex->req.param("userId")),
       workspace = ex->who.workspace_id,
       audit = audit_of(*ex, "crew.member_remove", "crew", std::string(ex->req.param("crewId")),
                        details_of({{"user_id", ex->req.param("userId")}}))](store::Connection& w) -> Status {
        if (auto c = store::find_crew(w, crew, workspace); !c) return std::move(c).take_problem();
        auto removed = store::delete_crew_member(w, crew, user);
        if (!removed) return std::move(removed).take_problem();
        if (!*removed) return fail(404, "this user is not a member of the crew");
        return store::insert_audit(w, audit);
      },
      [ex](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        reply_no_content(ex);
      });
}

}  // namespace crewship::api
