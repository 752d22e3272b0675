// Webhook triggers of agents:
//   POST /api/v1/agents/{agentId}/webhook-secret (manage): creates or rotates
//        the secret, shown once: 201 {secret}. Only its keyed hash is kept.
//   POST /api/v1/webhooks/{crewId}/{agentId}/trigger, X-Webhook-Secret: any
//        JSON body up to 1 MiB; 202 {run_id}. The run is the agent's CLI
//        adapter (kAdapters) with the payload rendered into its prompt on stdin.
#include <ctime>

#include "api/agent_ref.h"
#include "api/auth.h"
#include "api/bridge.h"
#include "api/common.h"
#include "api/routes.h"
#include "daemon/crypto.h"
#include "daemon/ids.h"
#include "daemon/problem.h"
#include "store/agent_store.h"
#include "store/webhook_store.h"

namespace crewship::api {
namespace {

// Each CLI adapter's non-interactive command line; the prompt is its stdin.
struct Adapter {
  std::string_view name;
  std::initializer_list<const char*> argv;
};
const Adapter kAdapters[] = {
    {"CLAUDE_CODE", {"claude", "-p"}},
    {"CODEX_CLI", {"codex", "exec", "-"}},
    {"GEMINI_CLI", {"gemini"}},
    {"OPENCODE", {"opencode", "run"}},
    {"CURSOR_CLI", {"cursor-agent", "-p"}},
    {"FACTORY_DROID", {"droid", "exec"}},
};

const Adapter* adapter_of(std::string_view name) {
  for (const Adapter& a : kAdapters)
    if (a.name == name) return &a;
  return nullptr;
}

std::string render_prompt(std::string_view agent_name, std::string_view payload) {
  std::string p = "A webhook triggered this run of ";
  p += agent_name;
  p += " at ";
  p += now_rfc3339();
  p += ". Act on its payload:\n\n```json\n";
  p += payload;
  p += "\n```\n";
  return p;
}

http::Response unauthorized(const Exchange& ex) {
  return problem(401, "a valid X-Webhook-Secret is required", ex.req.path);
}

}  // namespace

bool webhook_guard(App& app, Exchange& ex, http::Response* deny) {
  auto given = ex.req.header("X-Webhook-Secret");
  if (!given || given->empty() || given->size() > 256) return *deny = unauthorized(ex), false;
  std::string_view agent_id = ex.req.param("agentId");
  // An unknown agent has no secret: the same 401, so ids cannot be probed.
  auto agent = store::find_agent(app.store.reader(), agent_id, "", "");
  if (!agent) {
    if (agent.problem().status == 404) return *deny = unauthorized(ex), false;
    return *deny = problem_response(ex, agent.problem()), false;
  }
  auto hash = store::webhook_secret_hash(app.store.reader(), agent->id);
  if (!hash) return *deny = problem_response(ex, hash.problem()), false;
  if (!*hash || !crypto::equal(app.vault.keyed_hash(*given), **hash)) return *deny = unauthorized(ex), false;
  if (agent->crew_id.empty() || agent->crew_id != ex.req.param("crewId"))
    return *deny = problem(404, "agent not found in this crew", ex.req.path), false;

  int64_t now = time(nullptr);
  App::WebhookWindow& w = app.webhook_windows[agent->id];
  if (w.minute != now / 60) w = {now / 60, 0};
  if (++w.count > app.config.webhook_rate) {
    *deny = problem(429, "too many webhook triggers for this agent", ex.req.path);
    deny->headers.push_back({"Retry-After", std::to_string(60 - now % 60)});
    return false;
  }
  ex.who.workspace_id = agent->workspace_id;
  ex.who.crew_id = agent->crew_id;
  return true;
}

// POST /api/v1/agents/{agentId}/webhook-secret?workspace_id=
void rotate_webhook_secret(App& app, const ExchangePtr& ex) {
  std::string agent_id(ex->req.param("agentId"));
  SecretText secret;
  secret.value = random_hex(32);
  submit(
      app,
      [agent_id, workspace = ex->who.workspace_id, hash = app.vault.keyed_hash(secret.value),
       audit = audit_of(*ex, "webhook.secret_rotated", "agent", agent_id),
       now = now_rfc3339()](store::Connection& w) -> Status {
        if (auto a = store::find_agent(w, agent_id, workspace, ""); !a) return std::move(a).take_problem();
        if (auto st = store::set_webhook_secret(w, agent_id, hash, now); !st) return st;
        return store::insert_audit(w, audit);
      },
      [ex, secret](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        json::Out out;
        out.begin_object();
        out.member("secret", secret.value);
        out.end_object();
        reply(ex, 201, out);
      });
}

// POST /api/v1/webhooks/{crewId}/{agentId}/trigger (webhook_guard passed)
void trigger_webhook(App& app, const ExchangePtr& ex) {
  if (!bridge_open(app, ex)) return;
  rapidjson::Document doc;
  std::string error;
  if (!json::parse_value(ex->req.body, &doc, &error)) return reply_problem(ex, 400, error);
  AgentRef agent;
  if (!find_agent(app, ex, &agent, true)) return;
  auto full = store::get_agent(app.store.reader(), agent.id, agent.workspace_id);
  if (!full) return reply_problem(ex, full.problem());
  const Adapter* adapter = adapter_of(full->fields.cli_adapter);
  if (adapter == nullptr)
    return reply_problem(ex, 409, "the agent's cli_adapter " + full->fields.cli_adapter + " has no command line");
  auto in = std::make_shared<RunRequest>();
  for (const char* a : adapter->argv) in->cmd.emplace_back(a);
  in->source = "webhook";
  in->stdin_text = render_prompt(agent.name, ex->req.body);
  in->audit = audit_of(*ex, "webhook.triggered", "agent", agent.id);
  start_run(app, agent, in, reply_run_started(ex));
}

}  // namespace crewship::api
