// An agent's proposal to change its own persona, the one path by which an
// agent's wish reaches its PERSONA.md. The crew's autonomy decides: strict,
// guided and trusted queue it in the inbox for an operator; full applies it
// at once, unless the agent's self-learning is off, which queues it too.
#include "api/common.h"
#include "api/persona.h"
#include "api/routes.h"
#include "daemon/ids.h"
#include "store/agent_store.h"
#include "store/inbox_store.h"

namespace crewship::api {
namespace {

constexpr int64_t kMaxRationaleChars = 2000;

struct Outcome {
  std::string decision;  // inbox_approve or auto_journal
  bool apply = false;
  bool gated_off = false;  // full autonomy demoted by self-learning off
};

Outcome decide(const store::PersonaAgent& a) {
  if (a.autonomy_level != "full") return {"inbox_approve", false, false};
  if (!a.self_learning) return {"inbox_approve", false, true};
  return {"auto_journal", true, false};
}

struct Proposal {
  store::PersonaAgent agent;
  std::string content;
  std::optional<std::string> rationale;
  std::string by;  // who proposed: the caller's user id, else the agent itself
  std::string timestamp;
  Outcome outcome;
};

void reply_outcome(const ExchangePtr& ex, const Proposal& p) {
  json::Out out;
  out.begin_object();
  out.member("agent_id", p.agent.id);
  out.member("decision", p.outcome.decision);
  out.member("bytes", static_cast<int64_t>(p.content.size()));
  if (p.rationale) out.member("rationale", *p.rationale);
  out.member("timestamp", p.timestamp);
  out.member("applied", p.outcome.apply);
  if (!p.outcome.apply) out.member("pending", true);
  if (p.outcome.gated_off) out.member("self_learning_gate", "off");
  out.end_object();
  reply(ex, 200, out);
}

// The inbox item and its audit row, in one transaction.
void queue(App& app, const ExchangePtr& ex, std::shared_ptr<Proposal> p, store::AuditEntry audit) {
  store::InboxItem item;
  item.id = new_id();
  item.workspace_id = p->agent.workspace_id;
  item.agent_id = p->agent.id;
  item.kind = "persona_suggestion";
  item.blocking = false;  // the agent keeps working; an operator decides
  item.created_at = p->timestamp;
  json::Out payload;
  payload.begin_object();
  payload.member("content", p->content);
  if (p->rationale) payload.member("rationale", *p->rationale);
  payload.member("bytes", static_cast<int64_t>(p->content.size()));
  payload.member("suggested_by", p->by);
  payload.member("decision", p->outcome.decision);
  payload.end_object();
  item.payload = payload.take();
  audit.action = "persona.suggest_pending";
  std::string details = "{\"decision\":\"" + p->outcome.decision + "\",\"bytes\":" +
                        std::to_string(p->content.size()) + ",\"inbox_item_id\":\"" + item.id + "\"";
  if (p->outcome.gated_off) details += ",\"self_learning_gate\":\"off\"";
  audit.details = details + "}";
  submit(
      app,
      [item, audit, agent = p->agent](store::Connection& w) -> Status {
        if (auto a = store::find_agent(w, agent.id, agent.workspace_id, ""); !a) return std::move(a).take_problem();
        if (auto st = store::insert_inbox_item(w, item); !st) return st;
        return store::insert_audit(w, audit);
      },
      [ex, p](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        reply_outcome(ex, *p);
      });
}

}  // namespace

// POST /api/v1/agents/{agentId}/persona/suggest {content, rationale?}, and its
// IPC twin for the agent's own crew-bound token: 200 {agent_id, decision,
// bytes, rationale, timestamp, applied, pending, self_learning_gate}; never
// the inbox item's id.
void suggest_persona(App& app, const ExchangePtr& ex) {
  auto p = std::make_shared<Proposal>();
  if (!find_persona_agent(app, ex, &p->agent)) return;
  rapidjson::Document doc;
  if (!read_persona_content(ex, &doc, &p->content)) return;
  json::Field<std::string> rationale;
  json::Reader in(doc);
  in.string("rationale", &rationale, {.max = kMaxRationaleChars});
  if (!in.ok()) return reply_problem(ex, 400, in.error());
  if (rationale.has_value()) p->rationale = rationale.value;
  bool internal = ex->who.kind == Principal::Kind::kInternal;
  p->by = internal ? p->agent.id : ex->who.user_id;
  p->timestamp = now_rfc3339();
  p->outcome = decide(p->agent);
  // Self-learning lets the agent's own proposals apply; a person's applies
  // only when they could have written it (PUT needs the manage role).
  if (p->outcome.apply && !internal && ex->who.role < kManage) p->outcome = {"inbox_approve", false, false};
  // An internal caller's token may span workspaces (the master token): the
  // row belongs to the agent's.
  store::AuditEntry audit = audit_of(*ex, "", "agent", p->agent.id);
  audit.workspace_id = p->agent.workspace_id;
  if (!p->outcome.apply) return queue(app, ex, p, std::move(audit));
  audit.action = "persona.suggest_applied";
  // The policy was read before the write was queued; it is read again inside
  // it, so a crew made stricter (or self-learning switched off) meanwhile
  // never lets the suggestion through.
  auto still_applies = [](const store::PersonaAgent& now) -> Status {
    if (decide(now).apply) return {};
    return fail(409, "the crew's autonomy or the agent's self-learning changed while the suggestion was "
                     "being written; nothing was applied, send it again");
  };
  write_agent_layer(
      app, p->agent, p->content, p->by, std::move(audit),
      [ex, p](Result<store::MemoryVersion> v) {
        if (!v) return reply_problem(ex, v.problem());
        reply_outcome(ex, *p);
      },
      still_applies);
}

}  // namespace crewship::api
