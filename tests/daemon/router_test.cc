#include <criterion/criterion.h>

#include "daemon/router.h"

using namespace crewship;
using M = http::Method;

namespace {
void h1(void*, const http::ExchangePtr&) {}
void h2(void*, const http::ExchangePtr&) {}
void h3(void*, const http::ExchangePtr&) {}

// The router hands policy through untouched; what it points to is not its business.
const int kPolicy = 0;

const Route kRoutes[] = {
    {M::kGet, "/api/health", {h1}},
    {M::kGet, "/api/v1/agents/{id}", {h2}},
    {M::kPatch, "/api/v1/agents/{id}", {h3}, &kPolicy},
    {M::kGet, "/api/v1/agents/{id}/logs", {h3}},
    {M::kPut, "/api/v1/agents/{id}/files/save", {h1}, &kPolicy, 32 << 20},
    {M::kGet, "/api/v1/crews/{crew}/agents/{agent}", {h2}},
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
  cr_assert_eq(kRoutes[2].policy, &kPolicy);
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

// A literal segment wins over a capture for every method, wherever the
// literal route sits in the table.
Test(router, literal_segment_wins_over_capture_for_every_method) {
  const Route routes[] = {
      {M::kGet, "/agents/{id}", {h1}},
      {M::kPatch, "/agents/{id}", {h1}},
      {M::kDelete, "/agents/{id}", {h1}},
      {M::kPost, "/agents/hire", {h2}},
      {M::kGet, "/agents/{id}/runs", {h1}},
      {M::kGet, "/agents/stats/{day}", {h3}},
      {M::kGet, "/{kind}/stats/today", {h2}},
  };
  Router r(routes);
  Params p;
  cr_assert_eq(r.match(M::kPost, "/agents/hire", &p).route, &routes[3]);
  cr_assert(p.empty());
  // "hire" is no id: the other methods of {id} do not see it.
  auto get = r.match(M::kGet, "/agents/hire", &p);
  cr_assert_null(get.route);
  cr_assert_eq(get.allow, "POST");
  cr_assert(p.empty());
  // Any other segment is an id.
  auto patch = r.match(M::kPatch, "/agents/a1", &p);
  cr_assert_eq(patch.route, &routes[1]);
  cr_assert_eq(p.size(), 1u);
  cr_assert_eq(p[0].second, "a1");
  p.clear();
  auto post = r.match(M::kPost, "/agents/a1", &p);
  cr_assert_null(post.route);
  cr_assert_eq(post.allow, "GET, HEAD, PATCH, DELETE");
  // The first segment where two patterns differ decides.
  auto day = r.match(M::kGet, "/agents/stats/today", &p);
  cr_assert_eq(day.route, &routes[5]);
  cr_assert_eq(p.size(), 1u);
  cr_assert_eq(p[0].first, "day");
  p.clear();
  cr_assert_eq(r.match(M::kGet, "/crews/stats/today", &p).route, &routes[6]);
}

