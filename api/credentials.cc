// The credentials vault of a workspace and agents' credential assignments:
//   POST   /api/v1/credentials                  {name, provider, type, value} (manage)
//   GET    /api/v1/credentials                  without values (read)
//   DELETE /api/v1/credentials/{credentialId}   soft delete (manage)
//   GET    /api/v1/agents/{agentId}/credentials (read)
//   POST   /api/v1/agents/{agentId}/credentials {credential_id, env_var_name, priority?} (manage)
//   DELETE /api/v1/agents/{agentId}/credentials/{assignmentId} (manage)
// A value is sealed on the loop as it arrives and only the sealed bytes and
// a hint go to the store; no answer, log line or audit row carries it.
#include <sodium.h>

#include "api/agent_ref.h"
#include "api/common.h"
#include "api/routes.h"
#include "daemon/ids.h"
#include "store/agent_store.h"
#include "store/credential_store.h"

namespace crewship::api {
namespace {

constexpr size_t kMaxValueBytes = 16 << 10;

void write_credential(json::Out& out, const store::Credential& c) {
  out.begin_object();
  out.member("id", c.id);
  out.member("name", c.name);
  out.member("provider", c.provider);
  out.member("type", c.type);
  out.member("hint", c.hint);
  out.member("created_at", c.created_at);
  out.member("updated_at", c.updated_at);
  out.end_object();
}

void write_assignment(json::Out& out, const store::CredentialAssignment& a) {
  out.begin_object();
  out.member("id", a.id);
  out.member("agent_id", a.agent_id);
  out.member("credential_id", a.credential_id);
  out.member("env_var_name", a.env_var_name);
  out.member("priority", a.priority);
  out.member("created_at", a.created_at);
  out.key("credential");
  out.begin_object();
  out.member("id", a.credential_id);
  out.member("name", a.name);
  out.member("provider", a.provider);
  out.member("type", a.type);
  out.member("hint", a.hint);
  out.end_object();
  out.end_object();
}

// The last 4 characters at most, and never more than half of the value, so
// a short secret is not shown whole.
std::string hint_of(std::string_view value) {
  size_t chars = json::utf8_length(value);
  size_t keep = std::min<size_t>(4, chars / 2);
  size_t i = value.size();
  while (keep > 0 && i > 0) {
    --i;
    if ((static_cast<unsigned char>(value[i]) & 0xC0) != 0x80) --keep;
  }
  return std::string(value.substr(i));
}

// ^[A-Z_][A-Z0-9_]{0,127}$, and not CREWSHIP_* (crewshipd's own variables).
bool valid_env_var_name(std::string_view n) {
  if (n.empty() || n.size() > 128 || (n[0] >= '0' && n[0] <= '9')) return false;
  for (char c : n)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return !n.starts_with("CREWSHIP_");
}

}  // namespace

// POST /api/v1/credentials?workspace_id=
void create_credential(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return;
  json::Field<std::string> name, provider, type, value;
  json::Reader r(doc);
  r.string("name", &name, {.min = 2, .max = 100, .required = true, .nullable = false})
      .one_of("provider", &provider, {"ANTHROPIC", "OPENAI", "GOOGLE", "GITHUB", "CUSTOM"},
              {.required = true, .nullable = false})
      .one_of("type", &type, {"API_KEY", "AI_CLI_TOKEN", "OAUTH_TOKEN", "SECRET"},
              {.required = true, .nullable = false})
      .string("value", &value, {.min = 1, .max = kMaxValueBytes, .required = true, .nullable = false});
  if (!r.ok()) return reply_problem(ex, 400, r.error());
  if (blank(name.value)) return reply_problem(ex, 400, "name must not be blank");
  if (value.value.size() > kMaxValueBytes) return reply_problem(ex, 400, "value must be 1 B-16 KiB");
  store::Credential c;
  c.id = new_id();
  c.workspace_id = ex->who.workspace_id;
  c.name = name.value;
  c.provider = provider.value;
  c.type = type.value;
  c.hint = hint_of(value.value);
  c.created_at = c.updated_at = now_rfc3339();
  std::string sealed = app.vault.seal(value.value);
  sodium_memzero(value.value.data(), value.value.size());
  // The body holds the value too: wipe it before the answer is built.
  sodium_memzero(ex->req.body.data(), ex->req.body.size());
  submit(
      app,
      [c, sealed = std::move(sealed), audit = audit_of(*ex, "credential.create", "credential", c.id,
                                                       details_of({{"name", c.name}, {"provider", c.provider}, {"type", c.type}})),
       user = ex->who.user_id](store::Connection& w) -> Status {
        if (auto st = store::insert_credential(w, c, sealed, user); !st) return st;
        return store::insert_audit(w, audit);
      },
      [ex, c](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        json::Out out;
        write_credential(out, c);
        reply(ex, 201, out);
      });
}

// GET /api/v1/credentials?workspace_id=
void list_credentials(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 50, 100, &page)) return;
  reply_list(ex, store::list_credentials(app.store.reader(), ex->who.workspace_id, page.limit, page.offset),
             write_credential);
}

// DELETE /api/v1/credentials/{credentialId}?workspace_id=
void delete_credential(App& app, const ExchangePtr& ex) {
  std::string id(ex->req.param("credentialId"));
  submit(
      app,
      [id, workspace = ex->who.workspace_id, audit = audit_of(*ex, "credential.delete", "credential", id),
       now = now_rfc3339()](store::Connection& w) mutable -> Status {
        auto c = store::find_credential(w, id, workspace);
        if (!c) return std::move(c).take_problem();
        if (auto st = store::delete_credential(w, id, now); !st) return st;
        audit.details = details_of({{"name", c->name}});
        return store::insert_audit(w, audit);
      },
      [ex](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        reply_no_content(ex);
      });
}

// GET /api/v1/agents/{agentId}/credentials?workspace_id=
void list_agent_credentials(App& app, const ExchangePtr& ex) {
  AgentRef agent;
  if (!find_agent(app, ex, &agent)) return;
  reply_list(ex, store::list_credential_assignments(app.store.reader(), agent.id), write_assignment);
}

// POST /api/v1/agents/{agentId}/credentials?workspace_id=
void assign_credential(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return;
  json::Field<std::string> credential_id, env_var_name;
  json::Field<int64_t> priority;
  json::Reader r(doc);
  r.string("credential_id", &credential_id, {.min = 1, .max = 128, .required = true, .nullable = false})
      .string("env_var_name", &env_var_name, {.min = 1, .max = 128, .required = true, .nullable = false})
      .integer("priority", &priority, {.min = -1'000'000, .max = 1'000'000});
  if (!r.ok()) return reply_problem(ex, 400, r.error());
  if (!valid_env_var_name(env_var_name.value))
    return reply_problem(ex, 400, "env_var_name must match ^[A-Z_][A-Z0-9_]{0,127}$ and not start with CREWSHIP_");
  store::CredentialAssignment a;
  a.id = new_id();
  a.agent_id = ex->req.param("agentId");
  a.credential_id = credential_id.value;
  a.env_var_name = env_var_name.value;
  a.priority = priority.has_value() ? priority.value : 0;
  a.created_at = now_rfc3339();
  submit(
      app,
      [a, workspace = ex->who.workspace_id,
       audit = audit_of(*ex, "credential.assign", "agent", a.agent_id,
                        details_of({{"credential_id", a.credential_id}, {"env_var_name", a.env_var_name},
                                    {"assignment_id", a.id}}))](store::Connection& w) -> Status {
        if (auto agent = store::find_agent(w, a.agent_id, workspace, ""); !agent) return std::move(agent).take_problem();
        if (auto c = store::find_credential(w, a.credential_id, workspace); !c) return std::move(c).take_problem();
        auto added = store::insert_credential_assignment(w, a);
        if (!added) return std::move(added).take_problem();
        if (!*added) return fail(409, "the credential is already assigned to this agent");
        return store::insert_audit(w, audit);
      },
      [ex, id = a.id](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        json::Out out;
        out.begin_object();
        out.member("id", id);
        out.end_object();
        reply(ex, 201, out);
      });
}

// DELETE /api/v1/agents/{agentId}/credentials/{assignmentId}?workspace_id=
void unassign_credential(App& app, const ExchangePtr& ex) {
  std::string agent_id(ex->req.param("agentId")), id(ex->req.param("assignmentId"));
  submit(
      app,
      [agent_id, id, workspace = ex->who.workspace_id,
       audit = audit_of(*ex, "credential.unassign", "agent", agent_id)](store::Connection& w) mutable -> Status {
        if (auto agent = store::find_agent(w, agent_id, workspace, ""); !agent) return std::move(agent).take_problem();
        auto removed = store::delete_credential_assignment(w, agent_id, id);
        if (!removed) return std::move(removed).take_problem();
        audit.details = details_of({{"credential_id", removed->credential_id},
                                    {"env_var_name", removed->env_var_name}, {"assignment_id", id}});
        return store::insert_audit(w, audit);
      },
      [ex, id](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        json::Out out;
        out.begin_object();
        out.member("id", id);
        out.member("success", true);
        out.end_object();
        reply(ex, 200, out);
      });
}

}  // namespace crewship::api
