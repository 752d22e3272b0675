// An agent's self-learning posture: whether allowed persona suggestions
// apply by themselves (on) or wait in the inbox (off, the default), with who
// last flipped it, when and why.
#include "api/common.h"
#include "api/routes.h"
#include "daemon/ids.h"
#include "store/persona_store.h"

namespace crewship::api {
namespace {

constexpr int64_t kMaxReasonChars = 1000;

void reply_learning(const ExchangePtr& ex, std::string_view agent_id, const store::Learning& l) {
  json::Out out;
  out.begin_object();
  out.member("agent_id", agent_id);
  out.member("enabled", l.enabled);
  if (l.set_by_user_id) out.member("set_by_user_id", *l.set_by_user_id);
  if (l.set_at) out.member("set_at", *l.set_at);
  if (l.reason) out.member("reason", *l.reason);
  out.end_object();
  reply(ex, 200, out);
}

// s without the white space around it.
std::string_view trimmed(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

}  // namespace

// GET /api/v1/agents/{agentId}/learning: {agent_id, enabled, set_by_user_id,
// set_at, reason}; the last three omitted until the flag was first set.
void get_learning(App& app, const ExchangePtr& ex) {
  std::string id(ex->req.param("agentId"));
  auto l = store::get_learning(app.store.reader(), id, ex->who.workspace_id);
  if (!l) return reply_problem(ex, l.problem());
  reply_learning(ex, id, *l);
}

// PATCH /api/v1/agents/{agentId}/learning {enabled, reason}: both required
// (a null enabled is no direction; the reason is kept trimmed); the GET
// shape of the new state.
void set_learning(App& app, const ExchangePtr& ex) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return;
  json::Field<bool> enabled;
  json::Field<std::string> reason;
  json::Reader in(doc);
  in.boolean("enabled", &enabled, {.required = true, .nullable = false})
      .string("reason", &reason, {.max = kMaxReasonChars, .required = true, .nullable = false});
  if (!in.ok()) return reply_problem(ex, 400, in.error());
  std::string why(trimmed(reason.value));
  if (why.empty()) return reply_problem(ex, 400, "reason must not be empty");
  std::string id(ex->req.param("agentId"));
  store::Learning l{enabled.value, ex->who.user_id, now_rfc3339(), why};
  submit(
      app,
      [id, l, workspace = ex->who.workspace_id,
       audit = audit_of(*ex, "learning.set", "agent", id,
                        details_of({{"enabled", enabled.value ? "true" : "false"}, {"reason", why}}))](
          store::Connection& w) {
        return audited(w, store::set_learning(w, id, workspace, l.enabled, *l.set_by_user_id, *l.reason, *l.set_at),
                       audit);
      },
      [ex, id, l](Status st) {
        if (!st) return reply_problem(ex, st.problem());
        reply_learning(ex, id, l);
      });
}

}  // namespace crewship::api
