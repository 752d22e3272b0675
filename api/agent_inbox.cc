// GET /api/v1/agents/{agentId}/inbox?workspace_id=: what waits on an agent,
// in one answer:
//   {"approvals_pending", "assignments_open", "escalations_open",
//    "peer_messages": [], "cost_usd_this_month", "llm_calls_this_month",
//    "tokens_used_this_month"}
// approvals_pending counts the open blocking inbox items addressed to the
// agent, assignments_open its assignments not in a terminal state. There is
// no table of escalations, peer messages or costs yet: those are 0 and [].
#include "api/common.h"
#include "api/routes.h"
#include "store/agent_store.h"
#include "store/hire_store.h"
#include "store/inbox_store.h"

namespace crewship::api {

void agent_inbox(App& app, const ExchangePtr& ex) {
  store::Connection& c = app.store.reader();
  auto agent = store::find_agent(c, ex->req.param("agentId"), ex->who.workspace_id, "");
  if (!agent) return reply_problem(ex, agent.problem());
  auto approvals = store::count_open_blocking(c, agent->id);
  if (!approvals) return reply_problem(ex, approvals.problem());
  auto assignments = store::open_assignments(c, agent->id);
  if (!assignments) return reply_problem(ex, assignments.problem());
  json::Out out;
  out.begin_object();
  out.member("approvals_pending", *approvals);
  out.member("assignments_open", *assignments);
  out.member("escalations_open", int64_t{0});
  out.key("peer_messages");
  out.begin_array();
  out.end_array();
  out.key("cost_usd_this_month");
  out.w().Double(0.0);
  out.member("llm_calls_this_month", int64_t{0});
  out.member("tokens_used_this_month", int64_t{0});
  out.end_object();
  reply(ex, 200, out);
}

}  // namespace crewship::api
