// A workspace's onboarding:
//   GET  /api/v1/onboarding/status?workspace_id=  {completed, completed_at?, steps}
//   POST /api/v1/onboarding/complete              marks it complete (manage)
//   POST /api/v1/onboarding/setup                 a crew and its LEAD agent (manage)
// The steps are what the data shows: the workspace exists, and a live crew,
// agent and credential do. Setup is idempotent on crew_slug: a second call
// creates nothing and answers the pair the first made with 200, so a client
// retrying after a lost answer can tell "made now" (201) from "already there".
#include <optional>

#include "api/common.h"
#include "api/resource_json.h"
#include "api/routes.h"
#include "daemon/ids.h"
#include "daemon/json_input.h"
#include "store/agent_store.h"
#include "store/crew_store.h"
#include "store/onboarding_store.h"
#include "store/template_store.h"

namespace crewship::api {
namespace {

void reply_status(App& app, const ExchangePtr& ex) {
  auto o = store::onboarding_of(app.store.reader(), ex->who.workspace_id);
  if (!o) return reply_problem(ex, o.problem());
  json::Out out;
  out.begin_object();
  out.member("completed", o->completed_at.has_value());
  if (o->completed_at) out.member("completed_at", *o->completed_at);
  out.key("steps");
  out.begin_object();
  out.member("workspace", true);
  out.member("crew", o->crew);
  out.member("agent", o->agent);
  out.member("credential", o->credential);
  out.end_object();
  out.end_object();
  reply(ex, 200, out);
}

struct SetupInput {
  json::Field<std::string> crew_name, crew_slug, template_slug, lead_name;
};

bool read_setup(const ExchangePtr& ex, SetupInput* in) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return false;
  json::Reader r(doc);
  r.only({"crew_name", "crew_slug", "template_slug", "lead_name"})
      .string("crew_name", &in->crew_name, {.min = 2, .max = 100, .required = true})
      .string("crew_slug", &in->crew_slug, {.min = 2, .max = 50, .required = true})
      .string("template_slug", &in->template_slug, {.min = 2, .max = 50})
      .string("lead_name", &in->lead_name, {.min = 2, .max = 100});
  if (!r.ok()) {
    reply_problem(ex, 400, r.error());
    return false;
  }
  if (!check_name_and_slug(ex, in->crew_name, in->crew_slug)) return false;
  if (in->template_slug.has_value() && !valid_slug(in->template_slug.value)) {
    reply_problem(ex, 400, "template_slug: " + std::string(kBadSlug));
    return false;
  }
  if (in->lead_name.has_value() && blank(in->lead_name.value)) {
    reply_problem(ex, 400, "lead_name must not be blank");
    return false;
  }
  return true;
}

struct SetupDone {
  std::string crew_id, agent_id;
  bool created = false;
};

// The LEAD's slug: the crew's with "-lead", within 50 characters; with
// suffix ("-<hex>") when that one is taken.
std::string lead_slug(std::string_view crew_slug, std::string_view suffix = {}) {
  return std::string(crew_slug.substr(0, 45 - suffix.size())) + "-lead" + std::string(suffix);
}

// "<crew name> Lead" within the 100 characters an agent's name may have:
// the crew's name is cut at a code point to 95.
std::string lead_name(std::string_view crew_name) {
  size_t points = 0, end = 0;
  for (; end < crew_name.size(); ++end) {
    bool starts_point = (static_cast<unsigned char>(crew_name[end]) & 0xC0) != 0x80;
    if (starts_point && ++points > 95) break;
  }
  return std::string(crew_name.substr(0, end)) + " Lead";
}

}  // namespace

// GET /api/v1/onboarding/status?workspace_id=
void onboarding_status(App& app, const ExchangePtr& ex) { reply_status(app, ex); }

// POST /api/v1/onboarding/complete: 200 with the status; completing again
// keeps the first completion time.
void onboarding_complete(App& app, const ExchangePtr& ex) {
  submit(
      app,
      [workspace = ex->who.workspace_id, user = ex->who.user_id, now = now_rfc3339(),
       audit = audit_of(*ex, "onboarding.complete", "workspace", ex->who.workspace_id)](
          store::Connection& w) -> Status {
        auto at = store::complete_onboarding(w, workspace, user, now);
        if (!at) return std::move(at).take_problem();
        return audited(w, {}, audit);
      },
      [&app, ex](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        reply_status(app, ex);
      });
}

// POST /api/v1/onboarding/setup {crew_name, crew_slug, template_slug?,
// lead_name?}: in one transaction the crew (its caller its OWNER) and its
// LEAD agent, from the template when one is named; 201 {crew, agent}. A live
// crew of that slug with a LEAD answers 200 with both and changes nothing;
// one without a LEAD is 409. Licence limits on crews and agents hold (402).
void onboarding_setup(App& app, const ExchangePtr& ex) {
  SetupInput in;
  if (!read_setup(ex, &in)) return;
  store::NewCrew crew;
  crew.name = in.crew_name.value;
  crew.slug = in.crew_slug.value;
  store::AgentFields lead;
  lead.name = in.lead_name.has_value() ? in.lead_name.value : lead_name(crew.name);
  lead.slug = lead_slug(crew.slug);
  lead.agent_role = "LEAD";
  lead.lead_mode = "active";  // as POST /api/v1/agents makes a LEAD
  std::optional<std::string> template_slug;
  if (in.template_slug.has_value()) template_slug = in.template_slug.value;
  bool named_lead = in.lead_name.has_value();
  SetupDone fresh{new_id(), new_id(), true};
  lead.crew_id = fresh.crew_id;
  submit(
      app,
      [crew, lead, template_slug, named_lead, fresh, workspace = ex->who.workspace_id, user = ex->who.user_id,
       now = now_rfc3339(), limits = license_limits(app.config),
       crew_audit = audit_of(*ex, "crew.create", "crew", fresh.crew_id, details_of({{"slug", crew.slug}})),
       agent_audit = audit_of(*ex, "agent.create", "agent", fresh.agent_id, details_of({{"slug", lead.slug}}))](
          store::Connection& w) mutable -> Result<SetupDone> {
        auto existing = store::find_crew_lead(w, workspace, crew.slug);
        if (!existing) return std::move(existing).take_problem();
        if (*existing) {
          if ((*existing)->lead_id.empty()) return fail(409, "a crew with this slug exists without a LEAD agent");
          return SetupDone{(*existing)->crew_id, (*existing)->lead_id, false};
        }
        if (template_slug) {
          auto t = store::find_template(w, workspace, *template_slug);
          if (!t) return std::move(t).take_problem();
          if (!named_lead) lead.name = t->name;
          lead.role_title = t->role_title;
          lead.system_prompt = t->system_prompt;
          lead.cli_adapter = t->cli_adapter;
          lead.llm_model = t->llm_model;
        }
        for (auto kind : {store::Licensed::kCrews, store::Licensed::kAgents})
          if (auto st = store::check_license_room(w, limits, kind); !st) return std::move(st).take_problem();
        if (auto st = audited(w, store::insert_crew(w, fresh.crew_id, workspace, crew, user, now), crew_audit); !st)
          return std::move(st).take_problem();
        // The crew is new, so a 409 is the slug: another agent holds it.
        Status made = store::insert_agent(w, fresh.agent_id, workspace, user, now, lead);
        if (!made && made.problem().status == 409) {
          lead.slug = lead_slug(crew.slug, "-" + random_hex(3));
          made = store::insert_agent(w, fresh.agent_id, workspace, user, now, lead);
        }
        if (auto st = audited(w, std::move(made), agent_audit); !st) return std::move(st).take_problem();
        return fresh;
      },
      [&app, ex](Result<SetupDone> done) {
        if (!done) return reply_problem(ex, done.problem());
        auto crew = store::get_crew(app.store.reader(), done->crew_id, ex->who.workspace_id);
        if (!crew) return reply_problem(ex, crew.problem());
        auto agent = store::get_agent(app.store.reader(), done->agent_id, ex->who.workspace_id);
        if (!agent) return reply_problem(ex, agent.problem());
        json::Out out;
        out.begin_object();
        out.key("crew");
        write_crew(out, *crew);
        out.key("agent");
        write_agent(out, *agent);
        out.end_object();
        reply(ex, done->created ? 201 : 200, out);
      });
}

}  // namespace crewship::api
