// Hired (ephemeral) agents under the crew's autonomy policy:
//   POST /api/v1/agents/hire                    201 live, 202 PENDING_REVIEW
//   POST /api/v1/agents/{agentId}/rehire        200: a live one's TTL extended, a ghost live again
//   POST /api/v1/agents/{agentId}/approve-hire  200: PENDING_REVIEW -> IDLE
// All three need the create role. The policy:
//   strict  403, nothing written;
//   guided  202, PENDING_REVIEW, a blocking hire_approval inbox item;
//   trusted 201, a non-blocking visibility inbox item;
//   full    201, the journal entry only.
// Every check (crew, template, lead, quota) and every row of a hire is one
// writer job, so concurrent hires cannot pass a crew's quota between them.
// After a hire commits, the workspace's Anthropic credentials are assigned
// to the new agent, best effort.
#include <ctime>

#include "api/common.h"
#include "api/realtime.h"
#include "api/routes.h"
#include "daemon/ids.h"
#include "daemon/log.h"
#include "store/agent_store.h"
#include "store/credential_store.h"
#include "store/hire_store.h"
#include "store/inbox_store.h"
#include "store/template_store.h"

namespace crewship::api {
namespace {

constexpr int64_t kDefaultTtlMinutes = 30;
constexpr int64_t kMaxTtlMinutes = 1440;
constexpr int64_t kMaxReasonChars = 2000;
constexpr size_t kMaxHireReasonBytes = 16 << 10;  // the oldest lines go beyond
constexpr size_t kSlugBaseMax = 50 - 11;          // room for "-eph-" and 6 hex digits

// 1-1440 minutes; none, 0 or less: 30.
int64_t ttl_minutes(const json::Field<int64_t>& f) {
  if (!f.has_value() || f.value <= 0) return kDefaultTtlMinutes;
  return std::min(f.value, kMaxTtlMinutes);
}

std::string deadline(int64_t minutes) { return rfc3339(time(nullptr) + minutes * 60); }

// The policy decision for a crew's autonomy level.
std::string_view decision_of(std::string_view autonomy) {
  if (autonomy == "strict") return "rejected";
  if (autonomy == "guided") return "inbox_approve";
  if (autonomy == "trusted") return "auto_log_journal";
  return "auto_journal";
}

Problem rejected(std::string_view what) {
  return fail(403, std::string(what) + " rejected: the crew's autonomy_level is strict (decision: rejected)");
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

// "[<now>] <verb>: <reason>" after the lines before (oldest dropped past the cap).
std::string reason_log(const std::optional<std::string>& before, std::string_view verb, std::string_view reason,
                       std::string_view now) {
  std::string line = "[" + std::string(now) + "] " + std::string(verb) + ": " + std::string(reason);
  if (!before || before->empty()) return line;
  std::string_view old = *before;
  while (old.size() + 1 + line.size() > kMaxHireReasonBytes && !old.empty()) {
    size_t nl = old.find('\n');
    old = nl == std::string_view::npos ? std::string_view() : old.substr(nl + 1);
  }
  return old.empty() ? line : std::string(old) + "\n" + line;
}

Problem quota_reached(int64_t max) {
  return fail(429, "the crew's quota of " + std::to_string(max) +
                       " live ephemeral agents (max_ephemeral_agents) is reached: rehire a ghost or raise the quota");
}

// A quota slot for one more live ephemeral in crew, or 429.
Status quota_slot(store::Connection& w, const store::CrewPolicy& crew) {
  auto live = store::live_ephemerals(w, crew.id);
  if (!live) return std::move(live).take_problem();
  if (*live >= crew.max_ephemeral_agents) return quota_reached(crew.max_ephemeral_agents);
  return {};
}

// The hire answer: the agent's ephemeral side, as the store has it now.
void reply_hire(App& app, const ExchangePtr& ex, int status, const std::string& id,
                const std::string& inbox_item_id, std::string_view decision) {
  auto e = store::load_ephemeral(app.store.reader(), id, ex->who.workspace_id);
  if (!e) return reply_problem(ex, e.problem());
  json::Out out;
  out.begin_object();
  out.member("id", e->agent.id);
  nullable(out, "crew_id", e->agent.crew_id.empty() ? std::nullopt : std::optional<std::string>(e->agent.crew_id));
  out.member("workspace_id", e->agent.workspace_id);
  out.member("slug", e->agent.slug);
  out.member("name", e->agent.name);
  out.member("status", e->agent.status);
  out.member("ephemeral", e->ephemeral);
  nullable(out, "expires_at", e->expires_at);
  nullable(out, "expired_at", e->expired_at);
  nullable(out, "parent_lead_id", e->parent_lead_id);
  nullable(out, "hire_reason", e->hire_reason);
  out.member("pending_review", e->agent.status == "PENDING_REVIEW");
  if (!inbox_item_id.empty()) out.member("inbox_item_id", inbox_item_id);
  out.member("decision", decision);
  out.end_object();
  reply(ex, status, out);
}

// ---------------------------------------------------------------------------
// Credentials of a new hire.

struct EnvOf {
  std::string_view type, env_var_name;
};
constexpr EnvOf kAnthropicEnv[] = {{"API_KEY", "ANTHROPIC_API_KEY"}, {"AI_CLI_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"}};

std::string_view env_var_of(std::string_view type) {
  for (const EnvOf& e : kAnthropicEnv)
    if (e.type == type) return e.env_var_name;
  return {};
}

void journal_after(App& app, store::JournalEntry e, std::function<void()> then) {
  submit(
      app, [e](store::Connection& w) { return store::append_journal(w, e); },
      [e, then](Status st) {
        if (!st) LOG_ERROR("journal %s of agent %s: %s", e.kind.c_str(), e.agent_id.c_str(), st.problem().cause.c_str());
        then();
      });
}

// Assigns the workspace's first-created Anthropic API_KEY and AI_CLI_TOKEN
// to agent_id (as ANTHROPIC_API_KEY, CLAUDE_CODE_OAUTH_TOKEN), with audit
// rows, in one write after the hire's. None: credential.auto_assign_empty
// in the journal; a failure: credential.auto_assign_failed. Then then(),
// whatever happened: the hire stands.
void auto_assign_credentials(App& app, const ExchangePtr& ex, const std::string& agent_id,
                             const std::string& crew_id, std::function<void()> then) {
  store::JournalEntry base{ex->who.workspace_id, crew_id, agent_id, "", "{}"};
  submit(
      app,
      [base, user = ex->who.user_id, now = now_rfc3339()](store::Connection& w) -> Result<size_t> {
        auto creds = store::first_credentials_by_type(w, base.workspace_id, "ANTHROPIC", kAnthropicEnv[0].type,
                                                      kAnthropicEnv[1].type);
        if (!creds) return std::move(creds).take_problem();
        if (creds->empty()) {
          store::JournalEntry e = base;
          e.kind = "credential.auto_assign_empty";
          e.payload = details_of({{"provider", "ANTHROPIC"}});
          if (auto st = store::append_journal(w, e); !st) return std::move(st).take_problem();
          return size_t{0};
        }
        for (const store::Credential& c : *creds) {
          store::CredentialAssignment a;
          a.id = new_id();
          a.agent_id = base.agent_id;
          a.credential_id = c.id;
          a.env_var_name = env_var_of(c.type);
          a.created_at = now;
          auto added = store::insert_credential_assignment(w, a);
          if (!added) return std::move(added).take_problem();
          store::AuditEntry audit{base.workspace_id, "credential.assign", user, "agent", base.agent_id,
                                  details_of({{"credential_id", c.id}, {"env_var_name", a.env_var_name},
                                              {"assignment_id", a.id}, {"auto", "hire"}})};
          if (auto st = store::insert_audit(w, audit); !st) return std::move(st).take_problem();
        }
        return creds->size();
      },
      [&app, base, then](Result<size_t> n) {
        if (n) return then();
        LOG_WARN("agent %s: credentials not assigned after its hire: %s", base.agent_id.c_str(),
                 n.problem().cause.empty() ? n.problem().detail.c_str() : n.problem().cause.c_str());
        store::JournalEntry e = base;
        e.kind = "credential.auto_assign_failed";
        e.payload = details_of({{"provider", "ANTHROPIC"}, {"error", n.problem().detail}});
        journal_after(app, std::move(e), then);
      });
}

// ---------------------------------------------------------------------------
// Input.

struct HireInput {
  json::Field<std::string> crew_id, crew_slug, template_slug, reason, model, parent_lead_id;
  json::Field<int64_t> ttl_minutes;
};

bool read_reason(const ExchangePtr& ex, json::Reader& r, json::Field<std::string>* reason) {
  r.string("reason", reason, {.min = 1, .max = kMaxReasonChars, .required = true, .nullable = false});
  if (!r.ok()) {
    reply_problem(ex, 400, r.error());
    return false;
  }
  if (trimmed(reason->value).empty()) {
    reply_problem(ex, 400, "reason must not be blank");
    return false;
  }
  reason->value = std::string(trimmed(reason->value));
  return true;
}

bool read_hire(const ExchangePtr& ex, HireInput* in) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return false;
  json::Reader r(doc);
  r.string("crew_id", &in->crew_id, {.min = 0, .max = 128})
      .string("crew_slug", &in->crew_slug, {.min = 0, .max = 50})
      .string("template_slug", &in->template_slug, {.min = 1, .max = 50, .required = true, .nullable = false})
      .string("model", &in->model, {.min = 0, .max = 128})
      .string("parent_lead_id", &in->parent_lead_id, {.min = 0, .max = 128})
      .integer("ttl_minutes", &in->ttl_minutes, {.min = -1'000'000'000, .max = 1'000'000'000});
  if (!read_reason(ex, r, &in->reason)) return false;
  bool by_id = in->crew_id.has_value() && !in->crew_id.value.empty();
  bool by_slug = in->crew_slug.has_value() && !in->crew_slug.value.empty();
  if (by_id == by_slug) {
    reply_problem(ex, 400, "give exactly one of crew_id and crew_slug");
    return false;
  }
  if (!valid_slug(in->template_slug.value)) {
    reply_problem(ex, 400, "template_slug: " + std::string(kBadSlug));
    return false;
  }
  return true;
}

struct Hired {
  std::string crew_id, inbox_item_id, decision, slug, status, expires_at;
};

// The whole hire, in the writer's transaction: nothing of it stays when any
// step fails.
Result<Hired> hire_in(store::Connection& w, const HireInput& in, const std::string& id,
                      const std::string& workspace, const std::string& user, const std::string& now,
                      const store::AuditEntry& audit) {
  auto crew = store::crew_policy(w, workspace, in.crew_id.has_value() ? in.crew_id.value : "",
                                 in.crew_slug.has_value() ? in.crew_slug.value : "");
  if (!crew) return std::move(crew).take_problem();
  if (crew->autonomy_level == "strict") return rejected("hire");
  auto t = store::find_template(w, workspace, in.template_slug.value);
  if (!t) return std::move(t).take_problem();
  std::optional<std::string> lead;
  if (in.parent_lead_id.has_value() && !in.parent_lead_id.value.empty()) {
    auto is_lead = store::is_crew_lead(w, in.parent_lead_id.value, workspace, crew->id);
    if (!is_lead) return std::move(is_lead).take_problem();
    if (!*is_lead) return fail(400, "parent_lead_id must be a LEAD agent of the crew");
    lead = in.parent_lead_id.value;
  }
  if (auto st = quota_slot(w, *crew); !st) return std::move(st).take_problem();

  Hired h;
  h.crew_id = crew->id;
  h.decision = decision_of(crew->autonomy_level);
  h.status = crew->autonomy_level == "guided" ? "PENDING_REVIEW" : "IDLE";
  int64_t ttl = ttl_minutes(in.ttl_minutes);
  h.expires_at = deadline(ttl);
  store::AgentFields f;
  f.name = t->name;
  f.crew_id = crew->id;
  f.role_title = t->role_title;
  f.system_prompt = t->system_prompt;
  f.cli_adapter = t->cli_adapter;
  f.llm_model = in.model.has_value() && !in.model.value.empty() ? std::optional<std::string>(in.model.value)
                                                                 : t->llm_model;
  std::string base = t->slug.substr(0, kSlugBaseMax);
  Status inserted = fail(409, "no free ephemeral slug");
  for (int attempt = 0; attempt < 3 && !inserted; ++attempt) {
    f.slug = base + "-eph-" + random_hex(3);
    f.avatar_seed = f.slug;
    inserted = store::insert_agent(w, id, workspace, user, now, f);
    if (!inserted && inserted.problem().status != 409) return std::move(inserted).take_problem();
  }
  if (!inserted) return std::move(inserted).take_problem();
  h.slug = f.slug;
  store::HireColumns cols{h.status, h.expires_at, reason_log(std::nullopt, "hire", in.reason.value, now), lead};
  if (auto st = store::mark_ephemeral(w, id, cols); !st) return std::move(st).take_problem();

  std::string payload = details_of({{"decision", h.decision}, {"crew_id", crew->id},
                                    {"template_slug", t->slug}, {"reason", in.reason.value},
                                    {"expires_at", h.expires_at}, {"hired_by", user}});
  if (crew->autonomy_level == "guided" || crew->autonomy_level == "trusted") {
    store::InboxItem item;
    item.id = new_id();
    item.workspace_id = workspace;
    item.agent_id = id;
    item.kind = crew->autonomy_level == "guided" ? "hire_approval" : "visibility";
    item.blocking = crew->autonomy_level == "guided";
    item.payload = payload;
    item.created_at = now;
    if (auto st = store::insert_inbox_item(w, item); !st) return std::move(st).take_problem();
    h.inbox_item_id = item.id;
  }
  if (auto st = store::append_journal(w, {workspace, crew->id, id, "agent.hired", payload}); !st)
    return std::move(st).take_problem();
  store::AuditEntry a = audit;
  a.details = details_of({{"slug", h.slug}, {"crew_id", crew->id}, {"template_slug", t->slug},
                          {"decision", h.decision}, {"ttl_minutes", std::to_string(ttl)}});
  if (auto st = store::insert_audit(w, a); !st) return std::move(st).take_problem();
  return h;
}

void publish_agent(App& app, const std::string& workspace, const std::string& crew, std::string_view event,
                   const std::string& agent_id, std::string_view status, std::string_view decision) {
  json::Out d;
  d.begin_object();
  d.member("agent_id", agent_id);
  d.member("crew_id", crew);
  d.member("status", status);
  if (!decision.empty()) d.member("decision", decision);
  d.end_object();
  publish_event(app, workspace, crew, event, d.take());
}

}  // namespace

// POST /api/v1/agents/hire?workspace_id=
void hire_agent(App& app, const ExchangePtr& ex) {
  HireInput in;
  if (!read_hire(ex, &in)) return;
  std::string id = new_id();
  submit(
      app,
      [in, id, workspace = ex->who.workspace_id, user = ex->who.user_id, now = now_rfc3339(),
       audit = audit_of(*ex, "agent.hire", "agent", id)](store::Connection& w) {
        return hire_in(w, in, id, workspace, user, now, audit);
      },
      [&app, ex, id](Result<Hired> h) {
        if (!h) return reply_problem(ex, h.problem());
        app.presence_changed(ex->who.workspace_id);
        publish_agent(app, ex->who.workspace_id, h->crew_id, "agent.hired", id, h->status, h->decision);
        bool pending = h->status == "PENDING_REVIEW";
        auto_assign_credentials(app, ex, id, h->crew_id, [&app, ex, id, pending, h = *h] {
          reply_hire(app, ex, pending ? 202 : 201, id, h.inbox_item_id, h.decision);
        });
      });
}

// POST /api/v1/agents/{agentId}/rehire?workspace_id=
void rehire_agent(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return;
  json::Field<std::string> reason;
  json::Field<int64_t> ttl;
  json::Reader r(doc);
  r.integer("ttl_minutes", &ttl, {.min = -1'000'000'000, .max = 1'000'000'000});
  if (!read_reason(ex, r, &reason)) return;
  std::string id(ex->req.param("agentId"));
  submit(
      app,
      [id, reason = reason.value, minutes = ttl_minutes(ttl), workspace = ex->who.workspace_id,
       now = now_rfc3339(), audit = audit_of(*ex, "agent.rehire", "agent", id)](store::Connection& w) -> Result<std::string> {
        auto e = store::load_ephemeral(w, id, workspace);
        if (!e) return std::move(e).take_problem();
        if (!e->ephemeral) return fail(404, "the agent is not ephemeral: only hired agents are rehired");
        auto crew = store::crew_policy(w, workspace, e->agent.crew_id, "");
        if (!crew) return std::move(crew).take_problem();
        if (crew->autonomy_level == "strict") return rejected("rehire");
        bool ghost = e->expired_at.has_value();
        if (ghost) {
          if (auto st = quota_slot(w, *crew); !st) return std::move(st).take_problem();
        }
        std::string expires_at = deadline(minutes);
        std::string log = reason_log(e->hire_reason, "rehire", reason, now);
        if (auto st = store::extend_ephemeral(w, id, expires_at, log, now); !st) return std::move(st).take_problem();
        std::string decision(crew->autonomy_level == "full" ? "auto_journal" : "auto_log_journal");
        std::string payload = details_of({{"decision", decision}, {"reason", reason}, {"expires_at", expires_at},
                                          {"ghost", ghost ? "true" : "false"}});
        if (auto st = store::append_journal(w, {workspace, crew->id, id, "agent.rehired", payload}); !st)
          return std::move(st).take_problem();
        store::AuditEntry a = audit;
        a.details = details_of({{"ttl_minutes", std::to_string(minutes)}, {"ghost", ghost ? "true" : "false"}});
        if (auto st = store::insert_audit(w, a); !st) return std::move(st).take_problem();
        return decision;
      },
      [&app, ex, id](Result<std::string> decision) {
        if (!decision) return reply_problem(ex, decision.problem());
        app.presence_changed(ex->who.workspace_id);
        reply_hire(app, ex, 200, id, "", *decision);
      });
}

// POST /api/v1/agents/{agentId}/approve-hire?workspace_id=
void approve_hire(App& app, const ExchangePtr& ex) {
  std::string id(ex->req.param("agentId"));
  submit(
      app,
      [id, workspace = ex->who.workspace_id, user = ex->who.user_id, now = now_rfc3339(),
       audit = audit_of(*ex, "agent.hire_approved", "agent", id)](store::Connection& w) -> Result<std::string> {
        auto agent = store::find_agent(w, id, workspace, "");
        if (!agent) return std::move(agent).take_problem();
        auto approved = store::approve_pending(w, id, workspace, now);
        if (!approved) return std::move(approved).take_problem();
        if (!*approved) return fail(409, "the agent is not pending review (approved already, or not hired under guided autonomy)");
        auto resolved = store::resolve_open_inbox_items(w, id, "hire_approval", user, now);
        if (!resolved) return std::move(resolved).take_problem();
        std::string payload = details_of({{"approved_by", user}});
        if (auto st = store::append_journal(w, {workspace, agent->crew_id, id, "agent.hire_approved", payload}); !st)
          return std::move(st).take_problem();
        if (auto st = store::insert_audit(w, audit); !st) return std::move(st).take_problem();
        return agent->crew_id;
      },
      [&app, ex, id](Result<std::string> crew) {
        if (!crew) return reply_problem(ex, crew.problem());
        app.presence_changed(ex->who.workspace_id);
        publish_agent(app, ex->who.workspace_id, *crew, "agent.hire_approved", id, "IDLE", "");
        json::Out out;
        out.begin_object();
        out.member("id", id);
        out.member("status", "IDLE");
        nullable(out, "crew_id", crew->empty() ? std::nullopt : std::optional<std::string>(*crew));
        out.end_object();
        reply(ex, 200, out);
      });
}

}  // namespace crewship::api
