#include "ipc/routes.h"

#include "daemon/app.h"
#include "daemon/problem.h"
#include "store/crew_store.h"

namespace crewship::ipc {
namespace {

bool is_write(http::Method m) { return m != http::Method::kGet && m != http::Method::kHead; }

}  // namespace

// Checked before routing, so an unauthenticated caller learns nothing about
// which paths exist. A crew token is checked against its crew's current
// token generation, so a revoked one (or one of a deleted crew) gets 401.
// Writes with a bound token (what a container holds) are rate limited per
// token; the master token stays on the host and is not.
bool guard(App& app, Exchange& ex, const Access*, http::Response* deny) {
  auto token = ex.req.header("X-Internal-Token");
  InternalAuth::Scope scope;
  Status store_ok;
  auto generation = [&](std::string_view crew_id) -> int64_t {
    auto g = store::crew_token_generation(app.store.reader(), crew_id);
    if (g) return *g;
    if (g.problem().status != 404) store_ok = g.problem();
    return -1;
  };
  bool valid = token && app.internal.verify(*token, &scope, generation);
  if (!store_ok) {
    *deny = problem_response(ex, store_ok.problem());
    return false;
  }
  if (!valid) {
    *deny = problem(401, token ? "invalid internal token" : "missing X-Internal-Token", ex.req.path);
    return false;
  }
  if (!scope.workspace_id.empty() && is_write(ex.req.method)) {
    std::string key = scope.workspace_id + '.' + scope.crew_id;
    if (int64_t wait = app.ipc_token_rate.take(key, static_cast<int64_t>(uv_now(app.loop))); wait > 0) {
      *deny = problem_response(ex, fail(429, "too many writes with this token; slow down",
                                        RateLimiter::retry_after(wait)));
      return false;
    }
  }
  ex.who.kind = Principal::Kind::kInternal;
  ex.who.workspace_id = std::move(scope.workspace_id);
  ex.who.crew_id = std::move(scope.crew_id);
  return true;
}

}  // namespace crewship::ipc
