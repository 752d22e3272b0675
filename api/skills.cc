// A workspace's skills catalog and agents' skill assignments:
//   POST   /api/v1/skills                         {name, slug, description?, content?} (create)
//   GET    /api/v1/skills                         (read)
//   GET    /api/v1/agents/{agentId}/skills        (read)
//   POST   /api/v1/agents/{agentId}/skills        {skill_id, config?} (create): 201 {id}, or 200
//                                                 {id, already_assigned: true} when it already is
//   DELETE /api/v1/agents/{agentId}/skills/{skillId} (create): 204
#include "api/agent_ref.h"
#include "api/common.h"
#include "api/routes.h"
#include "daemon/ids.h"
#include "store/agent_store.h"
#include "store/skill_store.h"

namespace crewship::api {
namespace {

constexpr int64_t kMaxContent = 256 << 10;
constexpr int64_t kMaxConfig = 64 << 10;

void write_skill(json::Out& out, const store::Skill& k) {
  out.begin_object();
  out.member("id", k.id);
  out.member("workspace_id", k.workspace_id);
  out.member("name", k.name);
  out.member("slug", k.slug);
  nullable(out, "description", k.description);
  nullable(out, "content", k.content);
  if (k.created_by_user_id) out.member("created_by_user_id", *k.created_by_user_id);
  out.member("created_at", k.created_at);
  out.member("updated_at", k.updated_at);
  out.end_object();
}

void write_assignment(json::Out& out, const store::SkillAssignment& a) {
  out.begin_object();
  out.member("id", a.id);
  out.member("skill_id", a.skill_id);
  nullable(out, "config", a.config);
  out.member("created_at", a.created_at);
  out.key("skill");
  out.begin_object();
  out.member("name", a.skill_name);
  out.member("slug", a.skill_slug);
  out.end_object();
  out.end_object();
}

std::optional<std::string> given(const json::Field<std::string>& f) {
  return f.has_value() ? std::optional<std::string>(f.value) : std::nullopt;
}

}  // namespace

// POST /api/v1/skills?workspace_id=
void create_skill(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return;
  json::Field<std::string> name, slug, description, content;
  json::Reader r(doc);
  r.string("name", &name, {.min = 2, .max = 100, .required = true, .nullable = false})
      .string("slug", &slug, {.min = 2, .max = 50, .required = true, .nullable = false})
      .string("description", &description, {.min = 0, .max = 2000})
      .string("content", &content, {.min = 0, .max = kMaxContent});
  if (!r.ok()) return reply_problem(ex, 400, r.error());
  if (!check_name_and_slug(ex, name, slug)) return;
  store::Skill k;
  k.id = new_id();
  k.workspace_id = ex->who.workspace_id;
  k.name = name.value;
  k.slug = slug.value;
  k.description = given(description);
  k.content = given(content);
  if (!ex->who.user_id.empty()) k.created_by_user_id = ex->who.user_id;
  k.created_at = k.updated_at = now_rfc3339();
  submit(
      app,
      [k, audit = audit_of(*ex, "skill.create", "skill", k.id, details_of({{"slug", k.slug}}))](
          store::Connection& w) -> Status {
        if (auto st = store::insert_skill(w, k); !st) return st;
        return store::insert_audit(w, audit);
      },
      [ex, k](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        json::Out out;
        write_skill(out, k);
        reply(ex, 201, out);
      });
}

// GET /api/v1/skills?workspace_id=
void list_skills(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  reply_list(ex, store::list_skills(app.store.reader(), ex->who.workspace_id, page.limit, page.offset), write_skill);
}

// GET /api/v1/agents/{agentId}/skills?workspace_id=
void list_agent_skills(App& app, const ExchangePtr& ex) {
  AgentRef agent;
  if (!find_agent(app, ex, &agent)) return;
  reply_list(ex, store::list_skill_assignments(app.store.reader(), agent.id), write_assignment);
}

// POST /api/v1/agents/{agentId}/skills?workspace_id=
void assign_skill(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return;
  json::Field<std::string> skill_id, config;
  json::Reader r(doc);
  r.string("skill_id", &skill_id, {.min = 1, .max = 128, .required = true, .nullable = false})
      .string("config", &config, {.min = 0, .max = kMaxConfig});
  if (!r.ok()) return reply_problem(ex, 400, r.error());
  store::SkillAssignment a;
  a.id = new_id();
  a.agent_id = ex->req.param("agentId");
  a.skill_id = skill_id.value;
  a.config = given(config);
  a.created_at = now_rfc3339();
  struct Assigned {
    std::string id;
    bool fresh = false;
  };
  submit(
      app,
      [a, workspace = ex->who.workspace_id,
       audit = audit_of(*ex, "skill.assign", "agent", a.agent_id,
                        details_of({{"skill_id", a.skill_id}, {"assignment_id", a.id}}))](
          store::Connection& w) -> Result<Assigned> {
        if (auto agent = store::find_agent(w, a.agent_id, workspace, ""); !agent) return std::move(agent).take_problem();
        if (auto k = store::find_skill(w, a.skill_id, workspace); !k) return std::move(k).take_problem();
        auto existing = store::find_skill_assignment(w, a.agent_id, a.skill_id);
        if (!existing) return std::move(existing).take_problem();
        if (*existing) return Assigned{**existing, false};
        if (auto st = store::insert_skill_assignment(w, a); !st) return std::move(st).take_problem();
        if (auto st = store::insert_audit(w, audit); !st) return std::move(st).take_problem();
        return Assigned{a.id, true};
      },
      [ex](Result<Assigned> done) {
        if (!done) return reply_problem(ex, done.problem());
        json::Out out;
        out.begin_object();
        out.member("id", done->id);
        if (!done->fresh) out.member("already_assigned", true);
        out.end_object();
        reply(ex, done->fresh ? 201 : 200, out);
      });
}

// DELETE /api/v1/agents/{agentId}/skills/{skillId}?workspace_id=: 404 when
// the skill is not assigned to the agent.
void remove_skill(App& app, const ExchangePtr& ex) {
  std::string agent_id(ex->req.param("agentId")), skill_id(ex->req.param("skillId"));
  submit(
      app,
      [agent_id, skill_id, workspace = ex->who.workspace_id,
       audit = audit_of(*ex, "skill.remove", "agent", agent_id, details_of({{"skill_id", skill_id}}))](
          store::Connection& w) -> Status {
        if (auto agent = store::find_agent(w, agent_id, workspace, ""); !agent) return std::move(agent).take_problem();
        auto removed = store::delete_skill_assignment(w, agent_id, skill_id);
        if (!removed) return std::move(removed).take_problem();
        if (!*removed) return fail(404, "the skill is not assigned to this agent");
        return store::insert_audit(w, audit);
      },
      [ex](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        reply_no_content(ex);
      });
}

}  // namespace crewship::api
