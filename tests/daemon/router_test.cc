#include <criterion/criterion.h>

#include "daemon/router.h"

using namespace crewship;
using M = http::Method;

namespace {
void h1(App&, const ExchangePtr&) {}
void h2(App&, const ExchangePtr&) {}
void h3(App&, const ExchangePtr&) {}

const Route kRoutes[] = {
    {M::kGet, "/api/health", h1},
    {M::kGet, "/api/v1/agents/{id}", h2},
    {M::kPatch, "/api/v1/agents/{id}", h3, Auth::kUser, Role::kManager},
    {M::kGet, "/api/v1/agents/{id}/logs", h3},
    {M::kPut, "/api/v1/agents/{id}/files/save", h1, Auth::kUser, Role::kMember, 32 << 20},
    {M::kGet, "/api/v1/crews/{crew}/agents/{agent}", h2},
};
using Params = std::vector<std::pair<std::string_view, std::string_view>>;
}  // namespace

TestSuite(router);

Test(router, literal_and_captures) {
  Router r(kRoutes);
  Params p;
  cr_assert_eq(r.match(M::kGet, "/api/health", &p).route, &kRoutes[0]);
  cr_assert(p.empty());
  auto m = r.match(M::kGet, "/api/v1/crews/c1/agents/a%202", &p);
  cr_assert_eq(m.route, &kRoutes[5]);
  cr_assert_eq(p.size(), 2u);
  cr_assert_eq(p[0].first, "crew");
  cr_assert_eq(p[0].second, "c1");
  cr_assert_eq(p[1].first, "agent");
  cr_assert_eq(p[1].second, "a%202");
}

Test(router, method_selects_route_and_head_is_get) {
  Router r(kRoutes);
  Params p;
  cr_assert_eq(r.match(M::kPatch, "/api/v1/agents/x", &p).route, &kRoutes[2]);
  p.clear();
  cr_assert_eq(r.match(M::kHead, "/api/v1/agents/x", &p).route, &kRoutes[1]);
  cr_assert_eq(kRoutes[4].body_limit, 32 << 20);
}

Test(router, unknown_path_and_wrong_method) {
  Router r(kRoutes);
  Params p;
  auto none = r.match(M::kGet, "/api/v1/nothing", &p);
  cr_assert_null(none.route);
  cr_assert(none.allow.empty());
  auto wrong = r.match(M::kDelete, "/api/v1/agents/x", &p);
  cr_assert_null(wrong.route);
  cr_assert_eq(wrong.allow, "GET, HEAD, PATCH");
  cr_assert(p.empty(), "no captures leak from a failed match");
}

Test(router, segments_must_match_exactly) {
  Router r(kRoutes);
  Params p;
  for (const char* path : {"/api/health/", "/api/healthz", "//api/health", "api/health", "",
                           "/api/v1/agents/", "/api/v1/agents//logs", "/api/v1/agents/x/logs/y",
                           "/API/health"}) {
    cr_assert_null(r.match(M::kGet, path, &p).route, "matched '%s'", path);
    cr_assert(p.empty(), "captures left after '%s'", path);
  }
}
