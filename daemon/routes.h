// The composition root's route tables, one per listener, and the adapters
// that mount the handler layer on the HTTP core: a handler or guard written
// against App gets the App as the route's (or server's) context.
#pragma once

#include <vector>

#include "daemon/app.h"
#include "daemon/handler.h"
#include "daemon/http_server.h"
#include "daemon/router.h"

namespace crewship {

// Handler fn of the handler layer as a route's handler, with app as context.
template <void (*Fn)(App&, const ExchangePtr&)>
RouteHandler bind(App& app) {
  return {[](void* ctx, const http::ExchangePtr& ex) {
            // The root's servers make every exchange a handler-layer Exchange.
            Fn(*static_cast<App*>(ctx), std::static_pointer_cast<Exchange>(ex));
          },
          &app};
}

// Guard fn of the handler layer as a server's guard, with app as context.
template <bool (*Fn)(App&, Exchange&, const Access*, http::Response*)>
RouteGuard bind_guard(App& app) {
  return {[](void* ctx, http::Exchange& ex, const Route* route, http::Response* deny) {
            return Fn(*static_cast<App*>(ctx), static_cast<Exchange&>(ex), access_of(route), deny);
          },
          &app};
}

// A listener's table and the router over it; the routes live as long as it.
struct RouteTable {
  explicit RouteTable(std::vector<Route> r) : routes(std::move(r)), router(routes) {}
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;
  const std::vector<Route> routes;
  const Router router;
};

// The public listener's routes (daemon/routes_api.cc) and the IPC
// listener's (daemon/routes_ipc.cc), bound to app, with their guards.
std::vector<Route> api_routes(App& app);
std::vector<Route> ipc_routes(App& app);
// The metrics listener's one route (CREWSHIP_METRICS_ADDR), in routes_ipc.cc.
std::vector<Route> metrics_routes(App& app);
RouteGuard api_guard(App& app);
RouteGuard ipc_guard(App& app);

}  // namespace crewship
