#include "ipc/routes.h"

#include "daemon/app.h"
#include "daemon/problem.h"

namespace crewship::ipc {

// Checked before routing, so an unauthenticated caller learns nothing about
// which paths exist.
bool guard(App& app, Exchange& ex, const Access*, http::Response* deny) {
  auto token = ex.req.header("X-Internal-Token");
  InternalAuth::Scope scope;
  if (token && app.internal.verify(*token, &scope)) {
    ex.who.kind = Principal::Kind::kInternal;
    ex.who.workspace_id = std::move(scope.workspace_id);
    ex.who.crew_id = std::move(scope.crew_id);
    return true;
  }
  *deny = problem(401, token ? "invalid internal token" : "missing X-Internal-Token",
                  ex.req.path);
  return false;
}

}  // namespace crewship::ipc
