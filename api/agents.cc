// Agents: a workspace's AI coding agents, their lifecycle (create, read,
// update, soft delete) and the status aggregates that toolbars and dashboards
// poll. Every route is workspace-scoped; an agent or crew of another
// workspace answers exactly like one that does not exist, and a soft-deleted
// agent is gone from every read (its slug is free again).
//
// Rules the store enforces with partial unique indexes, so that two racing
// requests cannot both win: one live slug per workspace (agents_slug) and at
// most one live LEAD per crew (agents_one_lead). Writes check existence and
// permissions inside the writer's work, atomically with the change.
#include <memory>
#include <optional>

#include "api/common.h"
#include "api/routes.h"
#include "daemon/ids.h"
#include "daemon/json_input.h"

namespace crewship::api {
namespace {

constexpr std::string_view kNoAgent = "agent not found";
constexpr std::string_view kNoCrew = "crew not found";

// ---------------------------------------------------------------------------
// Output: the agent object, in the seed's field order.

// One statement per page: the crew and the _count members come from a join
// and correlated subqueries (each served by an index on agent_id).
#define AGENT_SELECT                                                                            \
  "SELECT a.id, a.crew_id, a.workspace_id, a.name, a.slug, a.description, a.role_title,"        \
  " a.agent_role, a.lead_mode, a.status, a.cli_adapter, a.llm_provider, a.llm_model,"           \
  " a.system_prompt, a.avatar_seed, a.avatar_style, a.timeout_seconds, a.tool_profile,"         \
  " a.memory_enabled, a.cli_tools, a.schedule_cron, a.schedule_prompt, a.schedule_enabled,"     \
  " a.schedule_last_run, a.schedule_next_run, a.mcp_config_json, a.created_at, a.updated_at,"   \
  " c.id, c.name, c.slug, c.color, c.avatar_style,"                                             \
  " (SELECT count(*) FROM agent_skills k WHERE k.agent_id = a.id),"                             \
  " (SELECT count(*) FROM agent_credentials r WHERE r.agent_id = a.id),"                        \
  " (SELECT count(*) FROM chats h WHERE h.agent_id = a.id),"                                    \
  " a.created_by_user_id, a.ephemeral, a.expires_at, a.expired_at, a.parent_lead_id,"           \
  " a.hire_reason"                                                                              \
  " FROM agents a LEFT JOIN crews c ON c.id = a.crew_id AND c.deleted_at IS NULL"

// Columns of AGENT_SELECT.
enum Col {
  kId, kCrewId, kWorkspaceId, kName, kSlug, kDescription, kRoleTitle, kAgentRole, kLeadMode,
  kStatus, kCliAdapter, kLlmProvider, kLlmModel, kSystemPrompt, kAvatarSeed, kAvatarStyle,
  kTimeout, kToolProfile, kMemory, kCliTools, kCron, kSchedulePrompt, kScheduleEnabled,
  kLastRun, kNextRun, kMcp, kCreatedAt, kUpdatedAt, kCrewRowId, kCrewName, kCrewSlug,
  kCrewColor, kCrewAvatar, kSkills, kCredentials, kChats, kCreatedBy, kEphemeral, kExpiresAt,
  kExpiredAt, kParentLead, kHireReason,
};

void write_agent(json::Out& out, const store::StmtLease& s) {
  out.begin_object();
  out.member("id", s.text(kId));
  nullable(out, "crew_id", s, kCrewId);
  out.member("workspace_id", s.text(kWorkspaceId));
  out.member("name", s.text(kName));
  out.member("slug", s.text(kSlug));
  nullable(out, "description", s, kDescription);
  nullable(out, "role_title", s, kRoleTitle);
  out.member("agent_role", s.text(kAgentRole));
  nullable(out, "lead_mode", s, kLeadMode);
  out.member("status", s.text(kStatus));
  out.member("cli_adapter", s.text(kCliAdapter));
  nullable(out, "llm_provider", s, kLlmProvider);
  nullable(out, "llm_model", s, kLlmModel);
  nullable(out, "system_prompt", s, kSystemPrompt);
  nullable(out, "avatar_seed", s, kAvatarSeed);
  nullable(out, "avatar_style", s, kAvatarStyle);
  out.member("timeout_seconds", s.int64(kTimeout));
  out.member("tool_profile", s.text(kToolProfile));
  out.member("memory_enabled", s.int64(kMemory) != 0);
  nullable(out, "cli_tools", s, kCliTools);
  nullable(out, "schedule_cron", s, kCron);
  nullable(out, "schedule_prompt", s, kSchedulePrompt);
  out.member("schedule_enabled", s.int64(kScheduleEnabled) != 0);
  nullable(out, "schedule_last_run", s, kLastRun);
  nullable(out, "schedule_next_run", s, kNextRun);
  // omitempty in the seed: absent rather than null.
  if (!s.is_null(kMcp) && !s.text(kMcp).empty()) out.member("mcp_config_json", s.text(kMcp));
  out.member("created_at", s.text(kCreatedAt));
  out.member("updated_at", s.text(kUpdatedAt));
  out.key("crew");
  if (s.is_null(kCrewRowId)) {
    out.w().Null();
  } else {
    out.begin_object();
    out.member("name", s.text(kCrewName));
    out.member("slug", s.text(kCrewSlug));
    nullable(out, "color", s, kCrewColor);
    nullable(out, "avatar_style", s, kCrewAvatar);
    out.end_object();
  }
  out.key("_count");
  out.begin_object();
  out.member("skills", s.int64(kSkills));
  out.member("credentials", s.int64(kCredentials));
  out.member("chats", s.int64(kChats));
  out.end_object();
  // omitempty in the seed: legacy rows have no creator.
  if (!s.is_null(kCreatedBy) && !s.text(kCreatedBy).empty())
    out.member("created_by_user_id", s.text(kCreatedBy));
  out.member("ephemeral", s.int64(kEphemeral) != 0);
  nullable(out, "expires_at", s, kExpiresAt);
  nullable(out, "expired_at", s, kExpiredAt);
  nullable(out, "parent_lead_id", s, kParentLead);
  nullable(out, "hire_reason", s, kHireReason);
  out.end_object();
}

// Answers with the live agent id of the caller's workspace, or 404.
void reply_agent(App& app, const ExchangePtr& ex, int status, std::string_view id) {
  auto s = app.store.reader().prepare(
      AGENT_SELECT " WHERE a.id = ?1 AND a.workspace_id = ?2 AND a.deleted_at IS NULL");
  s.bind(1, id);
  s.bind(2, ex->who.workspace_id);
  if (s.step() != SQLITE_ROW) return reply_problem(ex, 404, kNoAgent);
  json::Out out;
  write_agent(out, s);
  reply(ex, status, out);
}

// ---------------------------------------------------------------------------
// Input: the settable fields of an agent.

using Text = std::optional<std::string>;

// The columns a client sets, as stored. A create starts from the defaults, an
// update from the stored row; the request's fields are laid over either.
struct Agent {
  std::string name, slug;
  Text crew_id, description, role_title;
  std::string agent_role = "AGENT";
  Text lead_mode;
  std::string cli_adapter = "CLAUDE_CODE";
  Text llm_provider, llm_model, system_prompt, avatar_seed, avatar_style;
  int64_t timeout_seconds = 1800;
  std::string tool_profile = "CODING";
  bool memory_enabled = false;
  Text cli_tools, schedule_cron, schedule_prompt;
  bool schedule_enabled = false;
  Text mcp_config_json;
};

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

// Members the server manages: naming one is an error rather than silently
// ignored, so a client never believes it changed them. Other unknown members
// are ignored, as the original API does.
constexpr std::string_view kServerManaged[] = {
    "id", "workspace_id", "created_by_user_id", "ephemeral", "expires_at", "expired_at",
    "parent_lead_id", "hire_reason", "schedule_last_run", "schedule_next_run", "created_at",
    "updated_at", "deleted_at", "crew", "_count",
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
  if (doc.HasMember("status")) {
    reply_problem(ex, 400, create ? "status cannot be set; a new agent starts IDLE"
                                  : "status cannot be changed");
    return false;
  }
  for (std::string_view key : kServerManaged) {
    if (doc.HasMember(rapidjson::StringRef(key.data(), key.size()))) {
      reply_problem(ex, 400, std::string(key) + " is managed by the server and cannot be set");
      return false;
    }
  }
  json::Reader r(doc);
  r.string("name", &in->name, {.min = 2, .max = 100, .required = create, .nullable = false})
      .string("slug", &in->slug, {.min = 2, .max = 50, .required = create, .nullable = false})
      .string("crew_id", &in->crew_id, {.min = 0, .max = 128})
      .one_of("agent_role", &in->agent_role, {"AGENT", "LEAD"}, {.nullable = false})
      .one_of("lead_mode", &in->lead_mode, {"active", "passive"}, {})
      .one_of("cli_adapter", &in->cli_adapter,
              {"CLAUDE_CODE", "CODEX_CLI", "GEMINI_CLI", "OPENCODE", "CURSOR_CLI", "FACTORY_DROID"},
              {.nullable = false})
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

Text text_of(const json::Field<std::string>& f) {
  if (!f.has_value() || f.value.empty()) return std::nullopt;
  return f.value;
}

// Lays the request's fields over *a and settles the role rules: a LEAD needs
// a crew and has a lead_mode ("active" unless given), an AGENT has none.
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
    if (in.lead_mode.has_value()) return "lead_mode applies only to LEAD agents";
    a->lead_mode.reset();
  }
  if (a->schedule_enabled && !a->schedule_cron) return "schedule_enabled requires schedule_cron";
  return {};
}

// ---------------------------------------------------------------------------
// Writer side.

// The settable columns in the order bind_agent() binds them.
#define AGENT_COLUMNS                                                                          \
  "name, slug, crew_id, description, role_title, agent_role, lead_mode, cli_adapter,"          \
  " llm_provider, llm_model, system_prompt, avatar_seed, avatar_style, timeout_seconds,"       \
  " tool_profile, memory_enabled, cli_tools, schedule_cron, schedule_prompt, schedule_enabled," \
  " mcp_config_json"

void bind_text(store::StmtLease& s, int i, const Text& t) {
  if (t) {
    s.bind(i, *t);
  } else {
    s.bind_null(i);
  }
}

// Binds AGENT_COLUMNS to ?first .. ?first+20.
void bind_agent(store::StmtLease& s, int first, const Agent& a) {
  int i = first;
  s.bind(i++, a.name);
  s.bind(i++, a.slug);
  bind_text(s, i++, a.crew_id);
  bind_text(s, i++, a.description);
  bind_text(s, i++, a.role_title);
  s.bind(i++, a.agent_role);
  bind_text(s, i++, a.lead_mode);
  s.bind(i++, a.cli_adapter);
  bind_text(s, i++, a.llm_provider);
  bind_text(s, i++, a.llm_model);
  bind_text(s, i++, a.system_prompt);
  bind_text(s, i++, a.avatar_seed);
  bind_text(s, i++, a.avatar_style);
  s.bind(i++, a.timeout_seconds);
  s.bind(i++, a.tool_profile);
  s.bind(i++, int64_t{a.memory_enabled});
  bind_text(s, i++, a.cli_tools);
  bind_text(s, i++, a.schedule_cron);
  bind_text(s, i++, a.schedule_prompt);
  s.bind(i++, int64_t{a.schedule_enabled});
  bind_text(s, i++, a.mcp_config_json);
}

Text column_text(const store::StmtLease& s, int col) {
  if (s.is_null(col)) return std::nullopt;
  return std::string(s.text(col));
}

// Reads AGENT_COLUMNS starting at column first.
void read_agent(const store::StmtLease& s, int first, Agent* a) {
  int i = first;
  a->name = s.text(i++);
  a->slug = s.text(i++);
  a->crew_id = column_text(s, i++);
  a->description = column_text(s, i++);
  a->role_title = column_text(s, i++);
  a->agent_role = s.text(i++);
  a->lead_mode = column_text(s, i++);
  a->cli_adapter = s.text(i++);
  a->llm_provider = column_text(s, i++);
  a->llm_model = column_text(s, i++);
  a->system_prompt = column_text(s, i++);
  a->avatar_seed = column_text(s, i++);
  a->avatar_style = column_text(s, i++);
  a->timeout_seconds = s.int64(i++);
  a->tool_profile = s.text(i++);
  a->memory_enabled = s.int64(i++) != 0;
  a->cli_tools = column_text(s, i++);
  a->schedule_cron = column_text(s, i++);
  a->schedule_prompt = column_text(s, i++);
  a->schedule_enabled = s.int64(i++) != 0;
  a->mcp_config_json = column_text(s, i++);
}

// A write's answer when it is not the success answer: its work sets status
// and detail and returns SQLITE_ABORT to undo its savepoint.
struct Outcome {
  int status = 0;
  std::string detail;
  int fail(int st, std::string_view d) {
    status = st;
    detail = d;
    return SQLITE_ABORT;
  }
};

int error_of(store::Connection& db) { return sqlite3_extended_errcode(db.db()); }

// SQLITE_ROW when the crew is live in the workspace, SQLITE_DONE when not,
// else an error.
int find_crew(store::Connection& db, const std::string& id, const std::string& workspace) {
  auto s = db.prepare(
      "SELECT 1 FROM crews WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL");
  s.bind(1, id);
  s.bind(2, workspace);
  int rc = s.step();
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? rc : error_of(db);
}

// After an INSERT or UPDATE of agent id failed on a constraint: which of the
// unique rules it broke, as a 409, or rc itself when neither.
int explain_conflict(store::Connection& db, int rc, const std::string& workspace,
                     const std::string& id, const Agent& a, Outcome* out) {
  auto s = db.prepare(
      "SELECT 1 FROM agents WHERE workspace_id = ?1 AND slug = ?2 AND id != ?3"
      " AND deleted_at IS NULL");
  s.bind(1, workspace);
  s.bind(2, a.slug);
  s.bind(3, id);
  int step = s.step();
  if (step == SQLITE_ROW) return out->fail(409, "an agent with this slug exists in the workspace");
  if (step != SQLITE_DONE) return error_of(db);
  if (a.agent_role == "LEAD") return out->fail(409, "the crew already has a LEAD agent");
  return rc;
}

// Loads live agent id of the workspace for a change by user, applying the
// per-agent edit gate (canEditAgent): OWNER and ADMIN edit any agent; a
// MANAGER only agents they created or agents of crews where they are crew
// OWNER or ADMIN. SQLITE_OK with *a filled, or SQLITE_ABORT with *out set.
int load_for_edit(store::Connection& db, const std::string& id, const std::string& workspace,
                  const std::string& user, bool any_agent, Agent* a, Outcome* out) {
  auto s = db.prepare(
      "SELECT " AGENT_COLUMNS ", coalesce(a.created_by_user_id = ?3, 0),"
      " coalesce((SELECT m.role IN ('OWNER', 'ADMIN') FROM crew_members m"
      "   WHERE m.crew_id = a.crew_id AND m.user_id = ?3), 0)"
      " FROM agents a WHERE a.id = ?1 AND a.workspace_id = ?2 AND a.deleted_at IS NULL");
  s.bind(1, id);
  s.bind(2, workspace);
  s.bind(3, user);
  int rc = s.step();
  if (rc == SQLITE_DONE) return out->fail(404, kNoAgent);
  if (rc != SQLITE_ROW) return error_of(db);
  constexpr int kCreator = 21, kCrewAdmin = 22;
  if (!any_agent && s.int64(kCreator) != 1 && s.int64(kCrewAdmin) != 1)
    return out->fail(403, "a MANAGER can only edit agents they created or agents of crews they administer");
  read_agent(s, 0, a);
  return SQLITE_OK;
}

void reply_outcome(const ExchangePtr& ex, const Outcome& o, int rc) {
  if (o.status != 0) return reply_problem(ex, o.status, o.detail);
  reply_store_error(ex, rc);
}

}  // namespace

// GET /api/v1/agents/crews-status?workspace_id=
//   {"total","running","error","idle","queued"}: every bucket always present.
// Any status but RUNNING and ERROR (IDLE, STOPPED, PENDING_REVIEW, ...)
// counts as idle; queued counts QUEUED admission-queue assignments, not agents.
void crews_status(App& app, const ExchangePtr& ex) {
  auto s = app.store.reader().prepare(
      "SELECT count(*), coalesce(sum(a.status = 'RUNNING'), 0), coalesce(sum(a.status = 'ERROR'), 0),"
      " (SELECT count(*) FROM assignments q WHERE q.workspace_id = ?1 AND q.status = 'QUEUED')"
      " FROM agents a WHERE a.workspace_id = ?1 AND a.deleted_at IS NULL");
  s.bind(1, ex->who.workspace_id);
  if (int rc = s.step(); rc != SQLITE_ROW) return reply_store_error(ex, rc);
  int64_t total = s.int64(0), running = s.int64(1), error = s.int64(2);
  json::Out out;
  out.begin_object();
  out.member("total", total);
  out.member("running", running);
  out.member("error", error);
  out.member("idle", total - running - error);
  out.member("queued", s.int64(3));
  out.end_object();
  reply(ex, 200, out);
}

// GET /api/v1/agent-load?workspace_id=: load across the workspace's live
// agents, for dashboards. The seed gives no shape; this one is
//   {"total": N, "running": n, "idle": n, "error": n, "queued": n,
//    "utilization": running / total (0 when there are no agents),
//    "crews": [{"crew_id", "name", "slug", "total", "running", "idle",
//               "error", "utilization"}],       every live crew, even empty,
//                                               ordered by created_at, id
//    "unassigned": {"total", "running", "idle", "error", "utilization"}}
// with the status buckets of crews-status (all but RUNNING and ERROR is idle)
// and queued the QUEUED admission-queue assignments of the workspace.
void agent_load(App& app, const ExchangePtr& ex) {
  struct Load {
    int64_t total = 0, running = 0, error = 0;
    void write(json::Out& out) const {
      out.member("total", total);
      out.member("running", running);
      out.member("idle", total - running - error);
      out.member("error", error);
    }
    void write_utilization(json::Out& out) const {
      out.key("utilization");
      out.w().Double(total == 0 ? 0.0 : static_cast<double>(running) / static_cast<double>(total));
    }
  };
  Load all, unassigned;
  int64_t queued = 0;
  {
    auto s = app.store.reader().prepare(
        "SELECT count(*), coalesce(sum(a.status = 'RUNNING'), 0),"
        " coalesce(sum(a.status = 'ERROR'), 0), coalesce(sum(a.crew_id IS NULL), 0),"
        " coalesce(sum(a.crew_id IS NULL AND a.status = 'RUNNING'), 0),"
        " coalesce(sum(a.crew_id IS NULL AND a.status = 'ERROR'), 0),"
        " (SELECT count(*) FROM assignments q WHERE q.workspace_id = ?1 AND q.status = 'QUEUED')"
        " FROM agents a WHERE a.workspace_id = ?1 AND a.deleted_at IS NULL");
    s.bind(1, ex->who.workspace_id);
    if (int rc = s.step(); rc != SQLITE_ROW) return reply_store_error(ex, rc);
    all = {s.int64(0), s.int64(1), s.int64(2)};
    unassigned = {s.int64(3), s.int64(4), s.int64(5)};
    queued = s.int64(6);
  }
  json::Out out;
  out.begin_object();
  all.write(out);
  out.member("queued", queued);
  all.write_utilization(out);
  out.key("crews");
  out.begin_array();
  {
    auto s = app.store.reader().prepare(
        "SELECT c.id, c.name, c.slug, count(a.id), coalesce(sum(a.status = 'RUNNING'), 0),"
        " coalesce(sum(a.status = 'ERROR'), 0)"
        " FROM crews c LEFT JOIN agents a ON a.crew_id = c.id AND a.deleted_at IS NULL"
        " WHERE c.workspace_id = ?1 AND c.deleted_at IS NULL"
        " GROUP BY c.id ORDER BY c.created_at, c.id");
    s.bind(1, ex->who.workspace_id);
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      Load crew{s.int64(3), s.int64(4), s.int64(5)};
      out.begin_object();
      out.member("crew_id", s.text(0));
      out.member("name", s.text(1));
      out.member("slug", s.text(2));
      crew.write(out);
      crew.write_utilization(out);
      out.end_object();
    }
    if (rc != SQLITE_DONE) return reply_store_error(ex, rc);
  }
  out.end_array();
  out.key("unassigned");
  out.begin_object();
  unassigned.write(out);
  unassigned.write_utilization(out);
  out.end_object();
  out.end_object();
  reply(ex, 200, out);
}

// GET /api/v1/agents?workspace_id=[&crew_id=][&limit=&offset=]: live agents
// ordered by created_at, id. A crew_id that is not a live crew of the
// workspace answers 404; an empty one means no filter.
void list_agents(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  std::optional<std::string> crew = ex->req.query_param("crew_id");
  if (crew && crew->empty()) crew.reset();
  if (crew) {
    auto c = app.store.reader().prepare(
        "SELECT 1 FROM crews WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL");
    c.bind(1, *crew);
    c.bind(2, ex->who.workspace_id);
    if (c.step() != SQLITE_ROW) return reply_problem(ex, 404, kNoCrew);
  }
  auto s = app.store.reader().prepare(
      AGENT_SELECT " WHERE a.workspace_id = ?1 AND a.deleted_at IS NULL"
                   " AND (?2 IS NULL OR a.crew_id = ?2)"
                   " ORDER BY a.created_at, a.id LIMIT ?3 OFFSET ?4");
  s.bind(1, ex->who.workspace_id);
  bind_text(s, 2, crew);
  s.bind(3, page.limit);
  s.bind(4, page.offset);
  json::Out out;
  out.begin_array();
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) write_agent(out, s);
  if (rc != SQLITE_DONE) return reply_store_error(ex, rc);
  out.end_array();
  reply(ex, 200, out);
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
  auto outcome = std::make_shared<Outcome>();
  write(
      app,
      [a, id, outcome, workspace = ex->who.workspace_id, user = ex->who.user_id,
       now = now_rfc3339()](store::Connection& db) {
        if (a.crew_id) {
          int rc = find_crew(db, *a.crew_id, workspace);
          if (rc == SQLITE_DONE) return outcome->fail(404, kNoCrew);
          if (rc != SQLITE_ROW) return rc;
        }
        auto s = db.prepare(
            "INSERT INTO agents(id, workspace_id, created_by_user_id, created_at, updated_at, "
            AGENT_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
            " ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)");
        s.bind(1, id);
        s.bind(2, workspace);
        s.bind(3, user);
        s.bind(4, now);
        bind_agent(s, 5, a);
        if (s.step() == SQLITE_DONE) return SQLITE_OK;
        int rc = error_of(db);
        return is_constraint(rc) ? explain_conflict(db, rc, workspace, id, a, outcome.get()) : rc;
      },
      [&app, ex, id, outcome](int rc) {
        if (rc != SQLITE_OK) return reply_outcome(ex, *outcome, rc);
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
  auto outcome = std::make_shared<Outcome>();
  write(
      app,
      [in, id, outcome, workspace = ex->who.workspace_id, user = ex->who.user_id,
       any_agent = ex->who.role >= Role::kAdmin, now = now_rfc3339()](store::Connection& db) {
        Agent a;
        if (int rc = load_for_edit(db, id, workspace, user, any_agent, &a, outcome.get());
            rc != SQLITE_OK)
          return rc;
        if (in.empty()) return SQLITE_OK;
        Text old_crew = a.crew_id;
        if (std::string error = apply(in, &a); !error.empty()) return outcome->fail(400, error);
        if (a.crew_id && a.crew_id != old_crew) {
          int rc = find_crew(db, *a.crew_id, workspace);
          if (rc == SQLITE_DONE) return outcome->fail(404, kNoCrew);
          if (rc != SQLITE_ROW) return rc;
        }
        auto s = db.prepare(
            "UPDATE agents SET (" AGENT_COLUMNS ", updated_at) = (?3, ?4, ?5, ?6, ?7, ?8, ?9,"
            " ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?2)"
            " WHERE id = ?1");
        s.bind(1, id);
        s.bind(2, now);
        bind_agent(s, 3, a);
        if (s.step() == SQLITE_DONE) return SQLITE_OK;
        int rc = error_of(db);
        return is_constraint(rc) ? explain_conflict(db, rc, workspace, id, a, outcome.get()) : rc;
      },
      [&app, ex, id, outcome](int rc) {
        if (rc != SQLITE_OK) return reply_outcome(ex, *outcome, rc);
        app.presence_changed(ex->who.workspace_id);  // the roster shows the agent's crew
        reply_agent(app, ex, 200, id);
      });
}

// DELETE /api/v1/agents/{agentId}?workspace_id=: soft delete behind the same
// edit gate as PATCH; 200 {"id", "deleted": true}.
void delete_agent(App& app, const ExchangePtr& ex) {
  std::string id(ex->req.param("agentId"));
  auto outcome = std::make_shared<Outcome>();
  write(
      app,
      [id, outcome, workspace = ex->who.workspace_id, user = ex->who.user_id,
       any_agent = ex->who.role >= Role::kAdmin, now = now_rfc3339()](store::Connection& db) {
        Agent a;
        if (int rc = load_for_edit(db, id, workspace, user, any_agent, &a, outcome.get());
            rc != SQLITE_OK)
          return rc;
        auto s = db.prepare("UPDATE agents SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1");
        s.bind(1, id);
        s.bind(2, now);
        return s.step() == SQLITE_DONE ? SQLITE_OK : error_of(db);
      },
      [&app, ex, id, outcome](int rc) {
        if (rc != SQLITE_OK) return reply_outcome(ex, *outcome, rc);
        app.presence_changed(ex->who.workspace_id);  // deleted agents leave the roster
        json::Out out;
        out.begin_object();
        out.member("id", id);
        out.member("deleted", true);
        out.end_object();
        reply(ex, 200, out);
      });
}

#undef AGENT_COLUMNS
#undef AGENT_SELECT

}  // namespace crewship::api
