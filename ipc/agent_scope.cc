#include "ipc/agent_scope.h"

#include "daemon/app.h"

namespace crewship::ipc {

bool agent_in_scope(App& app, const ExchangePtr& ex, std::string_view agent_id, store::AgentRef* out) {
  auto agent = store::find_agent(app.store.reader(), agent_id, {}, {});
  if (!agent) {
    reply_problem(ex, agent.problem());
    return false;
  }
  const Principal& who = ex->who;
  if ((!who.workspace_id.empty() && who.workspace_id != agent->workspace_id) ||
      (!who.crew_id.empty() && who.crew_id != agent->crew_id)) {
    reply_problem(ex, 403, "agent is outside this token's scope");
    return false;
  }
  *out = std::move(agent).value();
  return true;
}

}  // namespace crewship::ipc
