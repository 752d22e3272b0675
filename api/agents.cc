// Agents: a workspace's AI coding agents and their lifecycle (create, read,
// update, soft delete); the status aggregates dashboards poll are in
// agent_stats.cc. Every route is workspace-scoped; an agent or crew of another
// workspace answers exactly like one that does not exist, and a soft-deleted
// agent is gone from every read (its slug is free again).
//
// Rules the store enforces with partial unique indexes, so that two racing
// requests cannot both win: one live slug per workspace (agents_slug) and at
// most one live LEAD per crew (agents_one_lead). Writes check existence and
// permissions inside the writer's work, atomically with the change.
#include <optional>

#include "api/common.h"
#include "api/resource_json.h"
#include "api/routes.h"
#include "daemon/ids.h"
#include "daemon/json_input.h"
#include "store/agent_store.h"
#include "store/hire_store.h"
#include "store/crew_store.h"

namespace crewship::api {

// ---------------------------------------------------------------------------
// Output: the agent object, in the seed's field order.

void write_agent(json::Out& out, const store::Agent& agent) {
  const store::AgentFields& a = agent.fields;
  out.begin_object();
  out.member("id", agent.id);
  nullable(out, "crew_id", a.crew_id);
  out.member("workspace_id", agent.workspace_id);
  out.member("name", a.name);
  out.member("slug", a.slug);
  nullable(out, "description", a.description);
  nullable(out, "role_title", a.role_title);
  out.member("agent_role", a.agent_role);
  nullable(out, "lead_mode", a.lead_mode);
  out.member("status", agent.status);
  out.member("cli_adapter", a.cli_adapter);
  nullable(out, "llm_provider", a.llm_provider);
  nullable(out, "llm_model", a.llm_model);
  nullable(out, "system_prompt", a.system_prompt);
  nullable(out, "avatar_seed", a.avatar_seed);
  nullable(out, "avatar_style", a.avatar_style);
  out.member("timeout_seconds", a.timeout_seconds);
  out.member("tool_profile", a.tool_profile);
  out.member("memory_enabled", a.memory_enabled);
  nullable(out, "cli_tools", a.cli_tools);
  nullable(out, "schedule_cron", a.schedule_cron);
  nullable(out, "schedule_prompt", a.schedule_prompt);
  out.member("schedule_enabled", a.schedule_enabled);
  nullable(out, "schedule_last_run", agent.schedule_last_run);
  nullable(out, "schedule_next_run", agent.schedule_next_run);
  // omitempty in the seed: absent rather than null.
  if (a.mcp_config_json && !a.mcp_config_json->empty()) out.member("mcp_config_json", *a.mcp_config_json);
  out.member("created_at", agent.created_at);
  out.member("updated_at", agent.updated_at);
  out.key("crew");
  if (!agent.crew) {
    out.w().Null();
  } else {
    out.begin_object();
    out.member("name", agent.crew->name);
    out.member("slug", agent.crew->slug);
    nullable(out, "color", agent.crew->color);
    nullable(out, "avatar_style", agent.crew->avatar_style);
    out.end_object();
  }
  out.key("_count");
  out.begin_object();
  out.member("skills", agent.skills);
  out.member("credentials", agent.credentials);
  out.member("chats", agent.chats);
  out.end_object();
  // omitempty in the seed: legacy rows have no creator.
  if (agent.created_by_user_id && !agent.created_by_user_id->empty())
    out.member("created_by_user_id", *agent.created_by_user_id);
  out.member("ephemeral", agent.ephemeral);
  nullable(out, "expires_at", agent.expires_at);
  nullable(out, "expired_at", agent.expired_at);
  nullable(out, "parent_lead_id", agent.parent_lead_id);
  nullable(out, "hire_reason", agent.hire_reason);
  out.end_object();
}

namespace {

// Answers with the live agent id of the caller's workspace, or 404.
void reply_agent(App& app, const ExchangePtr& ex, int status, std::string_view id) {
  auto agent = store::get_agent(app.store.reader(), id, ex->who.workspace_id);
  if (!agent) return reply_problem(ex, agent.problem());
  json::Out out;
  write_agent(out, *agent);
  reply(ex, status, out);
}

// ---------------------------------------------------------------------------
// Input: the settable fields of an agent.

using store::Text;
using Agent = store::AgentFields;

struct Input {
  json::Field<std::string> name, slug, crew_id, agent_role, lead_mode, cli_adapter, tool_profile;
  json::Field<std::string> description, role_title, llm_provider, llm_model, system_prompt,
      avatar_seed, avatar_style, cli_tools, schedule_cron, schedule_prompt, mcp_config_json;
  json::Field<int64_t> timeout_seconds;
  json::Field<bool> memory_enabled, schedule_enabled;

  bool empty() const {
    return !(name.present || slug.present || crew_id.present || agent_role.present ||
             lead_mode.present || cli_adapter.present || tool_profile.present ||
             description.present || role_title.present || llm_provider.present ||
             llm_model.present || system_prompt.present || avatar_seed.present ||
             avatar_style.present || cli_tools.present || schedule_cron.present ||
             schedule_prompt.present || mcp_config_json.present || timeout_seconds.present ||
             memory_enabled.present || schedule_enabled.present);
  }
};

// Optional free-text fields: null or "" clears them.
struct TextField {
  const char* name;
  int64_t max;
  json::Field<std::string> Input::*in;
  Text Agent::*column;
};
constexpr TextField kTextFields[] = {
    {"description", 2000, &Input::description, &Agent::description},
    {"role_title", 100, &Input::role_title, &Agent::role_title},
    {"llm_provider", 64, &Input::llm_provider, &Agent::llm_provider},
    {"llm_model", 128, &Input::llm_model, &Agent::llm_model},
    {"system_prompt", 100000, &Input::system_prompt, &Agent::system_prompt},
    {"avatar_seed", 128, &Input::avatar_seed, &Agent::avatar_seed},
    {"avatar_style", 64, &Input::avatar_style, &Agent::avatar_style},
    {"cli_tools", 2000, &Input::cli_tools, &Agent::cli_tools},
    {"schedule_cron", 128, &Input::schedule_cron, &Agent::schedule_cron},
    {"schedule_prompt", 10000, &Input::schedule_prompt, &Agent::schedule_prompt},
    {"mcp_config_json", 100000, &Input::mcp_config_json, &Agent::mcp_config_json},
};


// Standard five- or six-field cron (robfig/cron style, with names, ?, L, W
// and #) or one of its descriptors. A plausibility check, not a parser: the
// scheduler owns the exact grammar.
bool valid_cron(std::string_view e) {
  if (!e.empty() && e[0] == '@') {
    for (std::string_view d : {"@yearly", "@annually", "@monthly", "@weekly", "@daily",
                               "@midnight", "@hourly"})
      if (e == d) return true;
    std::string_view every = "@every ";
    if (e.substr(0, every.size()) != every || e.size() == every.size()) return false;
    for (char c : e.substr(every.size()))
      if (!((c >= '0' && c <= '9') || c == '.' || c == 'h' || c == 'm' || c == 's' || c == 'u' ||
            c == 'n'))
        return false;
    return true;
  }
  int fields = 0;
  bool in_field = false;
  for (char c : e) {
    if (c == ' ' || c == '\t') {
      in_field = false;
      continue;
    }
    bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              c == '*' || c == '/' || c == ',' || c == '-' || c == '?' || c == '#';
    if (!ok) return false;
    if (!in_field) ++fields;
    in_field = true;
  }
  return fields == 5 || fields == 6;
}

// An MCP config: a JSON object holding an "mcpServers" object.
bool valid_mcp_config(const std::string& text, std::string* error) {
  rapidjson::Document doc;
  std::string why;
  if (!json::parse_object(text, &doc, &why)) {
    *error = "mcp_config_json must be a JSON object: " + why;
    return false;
  }
  auto it = doc.FindMember("mcpServers");
  if (it == doc.MemberEnd() || !it->value.IsObject()) {
    *error = "mcp_config_json must contain an mcpServers object";
    return false;
  }
  return true;
}

// Reads and checks the request's fields (name and slug required on create).
// Answers 400 naming the field and returns false on bad input.
bool read_input(const ExchangePtr& ex, bool create, Input* in) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return false;
  // Members outside the settable ones (status, id, _count, crew...) are
  // ignored and never change, as in the original API: a form may send back
  // the whole agent it read.
  json::Reader r(doc);
  r.string("name", &in->name, {.min = 2, .max = 100, .required = create, .nullable = false})
      .string("slug", &in->slug, {.min = 2, .max = 50, .required = create, .nullable = false})
      .string("crew_id", &in->crew_id, {.min = 0, .max = 128})
      .one_of("agent_role", &in->agent_role, {"AGENT", "LEAD"}, {.nullable = false})
      .one_of("lead_mode", &in->lead_mode, {"active", "passive"}, {})
      .one_of("cli_adapter", &in->cli_adapter, kCliAdapters, {.nullable = false})
      .one_of("tool_profile", &in->tool_profile, {"MINIMAL", "CODING", "FULL"}, {.nullable = false})
      .integer("timeout_seconds", &in->timeout_seconds, {.min = 1, .max = 86400, .nullable = false})
      .boolean("memory_enabled", &in->memory_enabled, {.nullable = false})
      .boolean("schedule_enabled", &in->schedule_enabled, {.nullable = false});
  for (const TextField& f : kTextFields) r.string(f.name, &(in->*f.in), {.min = 0, .max = f.max});
  if (!r.ok()) {
    reply_problem(ex, 400, r.error());
    return false;
  }
  if (!check_name_and_slug(ex, in->name, in->slug)) return false;
  if (in->schedule_cron.has_value() && !in->schedule_cron.value.empty() &&
      !valid_cron(in->schedule_cron.value)) {
    reply_problem(ex, 400, "schedule_cron must be a cron expression (5 or 6 fields, or @daily etc.)");
    return false;
  }
  std::string error;
  if (in->mcp_config_json.has_value() && !in->mcp_config_json.value.empty() &&
      !valid_mcp_config(in->mcp_config_json.value, &error)) {
    reply_problem(ex, 400, error);
    return false;
  }
  return true;
}

// Lays the request's fields over *a and settles the role rules: a LEAD needs
// a crew and has a lead_mode ("active" unless given), an AGENT has none (one
// sent for it is dropped).
// Returns an error for a 400, or an empty string.
std::string apply(const Input& in, Agent* a) {
  if (in.name.present) a->name = in.name.value;
  if (in.slug.present) a->slug = in.slug.value;
  if (in.crew_id.present) a->crew_id = text_of(in.crew_id);
  if (in.agent_role.present) a->agent_role = in.agent_role.value;
  if (in.lead_mode.present) a->lead_mode = text_of(in.lead_mode);
  if (in.cli_adapter.present) a->cli_adapter = in.cli_adapter.value;
  if (in.tool_profile.present) a->tool_profile = in.tool_profile.value;
  if (in.timeout_seconds.present) a->timeout_seconds = in.timeout_seconds.value;
  if (in.memory_enabled.present) a->memory_enabled = in.memory_enabled.value;
  if (in.schedule_enabled.present) a->schedule_enabled = in.schedule_enabled.value;
  for (const TextField& f : kTextFields)
    if ((in.*f.in).present) a->*f.column = text_of(in.*f.in);

  if (a->agent_role == "LEAD") {
    if (!a->crew_id) return "crew_id is required for a LEAD agent";
    if (!a->lead_mode) a->lead_mode = "active";
  } else {
    a->lead_mode.reset();  // a form may send it for every role: only a LEAD keeps one
  }
  if (a->schedule_enabled && !a->schedule_cron) return "schedule_enabled requires schedule_cron";
  return {};
}

// The per-agent edit gate (canEditAgent): OWNER and ADMIN edit any agent; a
// MANAGER only agents they created or agents of crews where they are crew
// OWNER or ADMIN.
Result<Agent> load_for_edit(store::Connection& w, const std::string& id, const std::string& workspace,
                            const std::string& user, bool any_agent) {
  auto a = store::load_agent_for_edit(w, id, workspace, user);
  if (!a) return std::move(a).take_problem();
  if (!any_agent && !a->creator && !a->crew_admin)
    return fail(403, "a MANAGER can only edit agents they created or agents of crews they administer");
  return std::move(a->fields);
}

}  // namespace

// GET /api/v1/agents?workspace_id=[&crew_id=][&limit=&offset=]: live agents
// ordered by created_at, id. A crew_id that is not a live crew of the
// workspace answers 404; an empty one means no filter.
void list_agents(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  Text crew = ex->req.query_param("crew_id");
  if (crew && !crew->empty()) {
    if (auto c = store::find_crew(app.store.reader(), *crew, ex->who.workspace_id); !c)
      return reply_problem(ex, c.problem());
  } else {
    crew.reset();
  }
  reply_list(ex, store::list_agents(app.store.reader(), ex->who.workspace_id, crew, page.limit, page.offset),
             write_agent);
}

// POST /api/v1/agents?workspace_id=: 201 with the agent; the caller is its
// creator. 404 when crew_id is not a live crew of the workspace; 409 for a
// taken slug or a crew that already has a LEAD.
void create_agent(App& app, const ExchangePtr& ex) {
  Input in;
  if (!read_input(ex, true, &in)) return;
  Agent a;
  if (std::string error = apply(in, &a); !error.empty()) return reply_problem(ex, 400, error);

  std::string id = new_id();
  submit(
      app,
      [a, id, workspace = ex->who.workspace_id, user = ex->who.user_id, now = now_rfc3339(),
       limits = license_limits(app.config),
       audit = audit_of(*ex, "agent.create", "agent", id, details_of({{"slug", a.slug}}))](store::Connection& w) -> Status {
        if (a.crew_id) {
          if (auto c = store::find_crew(w, *a.crew_id, workspace); !c) return std::move(c).take_problem();
        }
        if (auto st = audited(w, store::insert_agent(w, id, workspace, user, now, a), audit); !st) return st;
        return store::check_license_kept(w, limits, store::Licensed::kAgents);
      },
      [&app, ex, id](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        reply_agent(app, ex, 201, id);
      });
}

// GET /api/v1/agents/{agentId}?workspace_id=
void get_agent(App& app, const ExchangePtr& ex) { reply_agent(app, ex, 200, ex->req.param("agentId")); }

// PATCH /api/v1/agents/{agentId}?workspace_id=: only the given fields change;
// null (or "") clears an optional text field. status is not settable here.
// The LEAD rules hold for the result: a LEAD keeps a crew (400) and a crew
// keeps at most one LEAD (409).
void update_agent(App& app, const ExchangePtr& ex) {
  Input in;
  if (!read_input(ex, false, &in)) return;
  std::string id(ex->req.param("agentId"));
  submit(
      app,
      [in, id, workspace = ex->who.workspace_id, user = ex->who.user_id,
       any_agent = ex->who.role >= Role::kAdmin, now = now_rfc3339(),
       audit = audit_of(*ex, "agent.update", "agent", id)](store::Connection& w) -> Status {
        auto a = load_for_edit(w, id, workspace, user, any_agent);
        if (!a) return std::move(a).take_problem();
        if (in.empty()) return {};
        Text old_crew = a->crew_id;
        if (std::string error = apply(in, &*a); !error.empty()) return fail(400, error);
        if (a->crew_id != old_crew) {
          // A hire counts against its crew's quota: it stays in that crew.
          auto e = store::load_ephemeral(w, id, workspace);
          if (!e) return std::move(e).take_problem();
          if (e->ephemeral) return fail(409, "a hired agent stays in the crew it was hired into");
        }
        if (a->crew_id && a->crew_id != old_crew) {
          if (auto c = store::find_crew(w, *a->crew_id, workspace); !c) return std::move(c).take_problem();
        }
        return audited(w, store::update_agent(w, id, workspace, now, *a), audit);
      },
      [&app, ex, id](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        app.presence_changed(ex->who.workspace_id);  // the roster shows the agent's crew
        reply_agent(app, ex, 200, id);
      });
}

// DELETE /api/v1/agents/{agentId}?workspace_id=: soft delete behind the same
// edit gate as PATCH; 200 {"id", "deleted": true, "success": true} (the
// older Agents page documents {"success": true}).
void delete_agent(App& app, const ExchangePtr& ex) {
  std::string id(ex->req.param("agentId"));
  submit(
      app,
      [id, workspace = ex->who.workspace_id, user = ex->who.user_id,
       any_agent = ex->who.role >= Role::kAdmin, now = now_rfc3339(),
       audit = audit_of(*ex, "agent.delete", "agent", id)](store::Connection& w) -> Status {
        if (auto a = load_for_edit(w, id, workspace, user, any_agent); !a)
          return std::move(a).take_problem();
        return audited(w, store::delete_agent(w, id, now), audit);
      },
      [&app, ex, id](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        app.presence_changed(ex->who.workspace_id);  // deleted agents leave the roster
        json::Out out;
        out.begin_object();
        out.member("id", id);
        out.member("deleted", true);
        out.member("success", true);
        out.end_object();
        reply(ex, 200, out);
      });
}

}  // namespace crewship::api
