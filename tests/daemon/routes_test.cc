// The composition root's tables and the adapters that mount handlers written
// against App on the HTTP core, driven without sockets.
#include <criterion/criterion.h>

#include <string_view>

#include "api/bridge.h"    // App owns a Bridge
#include "api/realtime.h"  // and a Hub
#include "daemon/routes.h"

using namespace crewship;
using M = http::Method;

namespace {

App* g_seen_app = nullptr;
Exchange* g_seen_ex = nullptr;

void probe(App& app, const ExchangePtr& ex) {
  g_seen_app = &app;
  g_seen_ex = ex.get();
}

bool probe_guard(App& app, Exchange& ex, const Access* access, http::Response* deny) {
  g_seen_app = &app;
  g_seen_ex = &ex;
  if (access != nullptr && access->auth == Auth::kInternal) return true;
  deny->status = 401;
  return false;
}

const Route* find(const std::vector<Route>& routes, M method, std::string_view pattern) {
  for (const Route& r : routes)
    if (r.method == method && r.pattern == pattern) return &r;
  return nullptr;
}

}  // namespace

TestSuite(routes);

Test(routes, bind_hands_the_app_and_the_handlers_exchange) {
  App app;
  RouteHandler h = bind<probe>(app);
  cr_assert_eq(h.ctx, &app);
  http::ExchangePtr ex = new_exchange();
  h(ex);
  cr_assert_eq(g_seen_app, &app);
  cr_assert_eq(static_cast<http::Exchange*>(g_seen_ex), ex.get());
}

Test(routes, bind_guard_hands_the_routes_access) {
  App app;
  RouteGuard g = bind_guard<probe_guard>(app);
  constexpr Access kInternal{Auth::kInternal};
  Route internal{M::kGet, "/i", {}, &kInternal};
  Route open{M::kGet, "/o", {}};
  http::ExchangePtr ex = new_exchange();
  http::Response deny;
  cr_assert(g.fn(g.ctx, *ex, &internal, &deny));
  cr_assert_eq(g_seen_app, &app);
  cr_assert_not(g.fn(g.ctx, *ex, &open, &deny), "a route without Access reaches the guard as null");
  cr_assert_eq(deny.status, 401);
  cr_assert_not(g.fn(g.ctx, *ex, nullptr, &deny), "no route matched");
}

Test(routes, every_route_is_bound_to_the_app) {
  App app;
  for (const auto& routes : {api_routes(app), ipc_routes(app)}) {
    for (const Route& r : routes) {
      cr_assert_not_null(r.handler.fn, "%.*s", static_cast<int>(r.pattern.size()), r.pattern.data());
      cr_assert_eq(r.handler.ctx, &app, "%.*s", static_cast<int>(r.pattern.size()), r.pattern.data());
    }
  }
}

Test(routes, every_ipc_route_is_internal) {
  App app;
  for (const Route& r : ipc_routes(app)) {
    // The WebSocket endpoint has the same path on both listeners; /metrics
    // is where scrapers look, and is never on the public one.
    cr_assert(r.pattern.starts_with("/api/v1/internal/") || r.pattern == "/ws" || r.pattern == "/metrics");
    const Access* a = access_of(&r);
    cr_assert(a != nullptr && a->auth == Auth::kInternal, "%.*s", static_cast<int>(r.pattern.size()),
              r.pattern.data());
  }
  for (const Route& r : api_routes(app))
    cr_assert_not(r.pattern.starts_with("/api/v1/internal/") || r.pattern == "/metrics");
  auto metrics = metrics_routes(app);
  cr_assert_eq(metrics.size(), 1);
  cr_assert(metrics[0].pattern == "/metrics" && metrics[0].method == http::Method::kGet);
}

Test(routes, policy_and_body_limits_as_declared) {
  App app;
  std::vector<Route> api = api_routes(app);
  const Route* health = find(api, M::kGet, "/api/health");
  cr_assert(health != nullptr && access_of(health) == nullptr);
  const Route* patch = find(api, M::kPatch, "/api/v1/workspaces/{workspaceId}");
  cr_assert(patch != nullptr && access_of(patch)->auth == Auth::kUser && access_of(patch)->min_role == kManage);
  const Route* save = find(api, M::kPut, "/api/v1/agents/{agentId}/files/save");
  cr_assert(save != nullptr && save->body_limit == 32 << 20);
  std::vector<Route> ipc = ipc_routes(app);
  const Route* upsert = find(ipc, M::kPost, "/api/v1/internal/presence");
  cr_assert(upsert != nullptr && upsert->body_limit == 64 << 10);
}
