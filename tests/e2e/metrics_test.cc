// GET /metrics: where it is served, who may read it, and that the counts
// follow the traffic exactly.
#include <criterion/criterion.h>

#include <cstdlib>
#include <regex>

#include "tests/support/api.h"

using namespace crewship::test;

TestSuite(metrics, .timeout = 60);

namespace {

DaemonOptions metrics_options() { return api_options({"CREWSHIP_METRICS_ADDR=127.0.0.1:0"}); }

int metrics_port(const TestDaemon& d) {
  cr_assert(d.wait_log("metrics listening on 127.0.0.1:"), "%s", d.log().c_str());
  std::smatch m;
  std::string log = d.log();
  cr_assert(std::regex_search(log, m, std::regex("metrics listening on 127\\.0\\.0\\.1:(\\d+)")));
  return std::atoi(m[1].str().c_str());
}

std::string scrape(int port) {
  auto r = request_tcp(port, "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  cr_assert(r.has_value());
  cr_assert_eq(r->status, 200, "%s", r->body.c_str());
  std::string type = r->header("Content-Type").value_or("");
  cr_assert_str_eq(type.c_str(), "text/plain; version=0.0.4; charset=utf-8");
  return r->body;
}

// The value of the sample whose name and labels are exactly series; 0 when absent.
double value(const std::string& text, const std::string& series) {
  size_t at = 0;
  while ((at = text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') return std::atof(text.c_str() + at + series.size() + 1);
    at += series.size();
  }
  return 0;
}

}  // namespace

Test(metrics, counts_requests_by_route_method_and_code) {
  TestDaemon d(metrics_options());
  int port = metrics_port(d);
  const std::string health = R"(crewshipd_http_requests_total{listener="api",route="/api/health",method="GET",code="200"})";
  const std::string agent = R"(crewshipd_http_requests_total{listener="api",route="/api/v1/agents/{agentId}",method="GET",code="401"})";
  const std::string unmatched = R"(crewshipd_http_requests_total{listener="api",route="unmatched",method="GET",code="404"})";
  const std::string count = R"(crewshipd_http_request_duration_seconds_count{listener="api"})";
  std::string before = scrape(port);
  for (int i = 0; i < 3; ++i) cr_assert_eq(call(d, "GET", "/api/health").status, 200);
  // Two ids, one route template: one series.
  cr_assert_eq(call(d, "GET", "/api/v1/agents/a1").status, 401);
  cr_assert_eq(call(d, "GET", "/api/v1/agents/a2").status, 401);
  cr_assert_eq(call(d, "GET", "/no/such/path/x1").status, 404);
  std::string after = scrape(port);
  cr_assert_eq(value(after, health) - value(before, health), 3, "%s", after.c_str());
  cr_assert_eq(value(after, agent) - value(before, agent), 2, "%s", after.c_str());
  cr_assert_eq(value(after, unmatched) - value(before, unmatched), 1, "%s", after.c_str());
  cr_assert_eq(value(after, count) - value(before, count), 6, "%s", after.c_str());
  cr_assert(after.find("a1") == std::string::npos, "a path, not its template, became a label");
  cr_assert(after.find("/no/such") == std::string::npos);
  // The metrics listener counts its own scrapes.
  cr_assert_eq(value(after, R"(crewshipd_http_requests_total{listener="metrics",route="/metrics",method="GET",code="200"})"), 1);
  cr_assert_geq(value(after, R"(crewshipd_http_connections{listener="metrics"})"), 1);
  cr_assert_gt(value(after, "process_resident_memory_bytes"), 1 << 20);
  cr_assert_gt(value(after, "process_open_fds"), 3);
  cr_assert_gt(value(after, "process_start_time_seconds"), 1.7e9);
}

Test(metrics, presence_writes_and_the_writer) {
  TestDaemon d(metrics_options());
  int port = metrics_port(d);
  Session owner = bootstrap(d);
  std::string agent = create_id(d, owner.token, "/api/v1/agents?workspace_id=" + owner.workspace_id,
                                R"({"name":"Metered","slug":"metered"})");
  std::string before = scrape(port);
  for (const char* s : {"busy", "busy", "online"}) {
    Reply r = ipc_call(d, "POST", "/api/v1/internal/presence",
                       R"({"agent_id":")" + agent + R"(","status":")" + s + "\"}");
    cr_assert(r.status >= 200 && r.status < 300, "%d %s", r.status, r.body.c_str());
  }
  std::string after = scrape(port);
  auto delta = [&](const std::string& series) { return value(after, series) - value(before, series); };
  cr_assert_eq(delta(R"(crewshipd_presence_writes_total{status="busy"})"), 2, "%s", after.c_str());
  cr_assert_eq(delta(R"(crewshipd_presence_writes_total{status="online"})"), 1);
  cr_assert_eq(delta(R"(crewshipd_presence_writes_total{status="offline"})"), 0);
  cr_assert_geq(delta("crewshipd_writer_batch_size_sum"), 3);
  cr_assert_geq(delta("crewshipd_writer_commit_seconds_count"), 1);
  cr_assert_eq(value(after, R"(crewshipd_writer_batch_size_bucket{le="+Inf"})"), value(after, "crewshipd_writer_batch_size_count"));
  cr_assert_eq(delta(R"(crewshipd_http_requests_total{listener="ipc",route="/api/v1/internal/presence",method="POST",code="200"})") +
                   delta(R"(crewshipd_http_requests_total{listener="ipc",route="/api/v1/internal/presence",method="POST",code="201"})"),
               3);
}

Test(metrics, never_on_the_public_port) {
  TestDaemon d(metrics_options());
  Session owner = bootstrap(d);
  expect_problem(call(d, "GET", "/metrics"), 404, "");
  expect_problem(call(d, "GET", "/metrics", owner.token), 404, "");
}

Test(metrics, ipc_needs_the_master_token) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  cr_assert(d.log().find("metrics listening") == std::string::npos, "no metrics listener unless asked for");
  auto r = request_unix(d.socket, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
  cr_assert(r.has_value());
  expect_problem(*r, 401, "X-Internal-Token");
  r = request_unix(d.socket, "GET /metrics HTTP/1.1\r\nHost: t\r\nX-Internal-Token: nope\r\n\r\n");
  cr_assert(r.has_value());
  expect_problem(*r, 401, "invalid");
  Reply bound = ipc_call(d, "GET", "/metrics", "", bound_token(d, "workspace", owner.workspace_id));
  cr_assert_eq(bound.status, 403, "%s", bound.body.c_str());
  Reply ok = ipc_call(d, "GET", "/metrics");
  cr_assert_eq(ok.status, 200, "%s", ok.body.c_str());
  cr_assert(ok.body.find("# TYPE crewshipd_http_requests_total counter\n") != std::string::npos);
  cr_assert_eq(value(ok.body, R"(crewshipd_http_requests_total{listener="ipc",route="/metrics",method="GET",code="401"})"), 2);
  // Still serving after the refusals.
  cr_assert_eq(call(d, "GET", "/api/health").status, 200);
}

Test(metrics, bad_address_refuses_to_start) {
  std::string dir = make_temp_dir(), out;
  int rc = run({daemon_binary(), "--metrics-addr=localhost", "--port=0"},
               {"CREWSHIP_DATA_DIR=" + dir, "DOCKER_HOST=unix://" + dir + "/none.sock"}, &out);
  remove_tree(dir);
  cr_assert_neq(rc, 0, "%s", out.c_str());
  cr_assert(out.find("CREWSHIP_METRICS_ADDR") != std::string::npos, "%s", out.c_str());
}
