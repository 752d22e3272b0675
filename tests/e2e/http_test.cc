// The HTTP/1.1 server core, end to end against the real binary.
#include <chrono>
#include <thread>

#include <criterion/criterion.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include "tests/support/harness.h"

using namespace crewship::test;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kHealth = get("/api/health");

void assert_problem(const Reply& r, int status) {
  cr_assert_eq(r.status, status, "status %d, body %s", r.status, r.body.c_str());
  cr_assert_eq(r.header("Content-Type").value_or(""), "application/problem+json");
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  cr_assert_not(d.HasParseError(), "%s", r.body.c_str());
  cr_assert_eq(d["status"].GetInt(), status);
  cr_assert(d.HasMember("title") && d.HasMember("detail") && d.HasMember("type") &&
            d.HasMember("instance") && d.HasMember("error"));
}

// The daemon still answers after whatever a test did to it.
void assert_serving(const TestDaemon& d) {
  auto r = request_tcp(d.port, kHealth);
  cr_assert(r.has_value(), "daemon stopped answering");
  cr_assert_eq(r->status, 200);
}

}  // namespace

TestSuite(http, .timeout = 60);

Test(http, health) {
  TestDaemon d;
  cr_assert_gt(d.port, 0, "daemon did not start: %s", d.log().c_str());
  auto r = request_tcp(d.port, kHealth);
  cr_assert(r.has_value());
  cr_assert_eq(r->status, 200);
  cr_assert_eq(r->body, R"({"status":"ok"})");
  cr_assert_eq(r->header("Content-Type").value_or(""), "application/json");
  cr_assert_eq(r->header("Content-Length").value_or(""), "15");
  cr_assert(r->header("Date").has_value());
  cr_assert(r->header("X-Request-Id").has_value());
}

Test(http, keep_alive_over_200_requests) {
  TestDaemon d;
  Client c(connect_tcp(d.port));
  cr_assert(c.ok());
  for (int i = 0; i < 200; ++i) {
    cr_assert(c.send(kHealth));
    auto r = c.read();
    cr_assert(r.has_value(), "request %d got no answer", i);
    cr_assert_eq(r->status, 200);
    cr_assert_not(r->header("Connection").has_value());
  }
}

Test(http, pipelined_requests_answered_in_order) {
  TestDaemon d;
  Client c(connect_tcp(d.port));
  std::string three = get("/api/health", "X-Request-Id: one\r\n") + get("/nope", "X-Request-Id: two\r\n") +
                      get("/api/health", "X-Request-Id: three\r\nConnection: close\r\n");
  cr_assert(c.send(three));
  const char* ids[] = {"one", "two", "three"};
  int statuses[] = {200, 404, 200};
  for (int i = 0; i < 3; ++i) {
    auto r = c.read();
    cr_assert(r.has_value(), "response %d missing", i);
    cr_assert_eq(r->status, statuses[i]);
    cr_assert_eq(r->header("X-Request-Id").value_or(""), ids[i]);
  }
  cr_assert(c.closed_by_peer(), "Connection: close honoured");
}

Test(http, request_id_echo_only_when_plain) {
  TestDaemon d;
  auto r = request_tcp(d.port, get("/api/health", "X-Request-Id: <script>\r\n"));
  cr_assert_neq(r->header("X-Request-Id").value_or("<script>"), "<script>");
}

Test(http, head_has_length_but_no_body) {
  TestDaemon d;
  Client c(connect_tcp(d.port));
  cr_assert(c.send("HEAD /api/health HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto r = c.read(5000, true);
  cr_assert(r.has_value());
  cr_assert_eq(r->status, 200);
  cr_assert_eq(r->header("Content-Length").value_or(""), "15");
  cr_assert(r->body.empty());
  // The connection is still in sync: the next answer parses.
  cr_assert(c.send(kHealth));
  auto next = c.read();
  cr_assert(next.has_value());
  cr_assert_eq(next->body, R"({"status":"ok"})");
}

Test(http, http10_closes_unless_keep_alive) {
  TestDaemon d;
  Client c(connect_tcp(d.port));
  cr_assert(c.send("GET /api/health HTTP/1.0\r\n\r\n"));
  auto r = c.read();
  cr_assert_eq(r->status, 200);
  cr_assert_eq(r->header("Connection").value_or(""), "close");
  cr_assert(c.closed_by_peer());
  Client k(connect_tcp(d.port));
  cr_assert(k.send("GET /api/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto r2 = k.read();
  cr_assert_eq(r2->header("Connection").value_or(""), "keep-alive");
  cr_assert(k.send("GET /api/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  cr_assert(k.read().has_value());
}

Test(http, unknown_path_404_and_wrong_method_405) {
  TestDaemon d;
  auto r = request_tcp(d.port, get("/api/v1/nothing/here"));
  assert_problem(*r, 404);
  auto m = request_tcp(d.port, "DELETE /api/health HTTP/1.1\r\nHost: t\r\n\r\n");
  assert_problem(*m, 405);
  cr_assert_eq(m->header("Allow").value_or(""), "GET, HEAD");
}

Test(http, malformed_request_400_then_still_serving) {
  TestDaemon d;
  const char* bad[] = {
      "GARBAGE\r\n\r\n",
      "GET /api/health HTTP/9.9\r\n\r\n",
      "GET /api/health HTTP/1.1\r\nBad Header\r\n\r\n",
      "GET /api/health HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
      "POST /api/v1/bootstrap HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "GET /api/health HTTP/1.1\r\nHost: a\x01b\r\n\r\n",
      // RFC 9112 5.1 and 5.2: whitespace in or after a field name, obs-fold.
      "GET /api/health HTTP/1.1\r\nHost : t\r\n\r\n",
      "GET /api/health HTTP/1.1\r\nX Y: t\r\n\r\n",
      "GET /api/health HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n",
      "GET /api/health HTTP/1.1\r\nX-A:\r\n\tb\r\n\r\n",
  };
  for (const char* raw : bad) {
    Client c(connect_tcp(d.port));
    cr_assert(c.send(raw));
    auto r = c.read();
    cr_assert(r.has_value(), "no answer to %s", raw);
    assert_problem(*r, 400);
    cr_assert_eq(r->header("Connection").value_or(""), "close");
    cr_assert(c.closed_by_peer(), "connection left open after %s", raw);
  }
  assert_serving(d);
}

Test(http, oversize_body_413) {
  TestDaemon d(with_env({"CREWSHIP_MAX_BODY_BYTES=4KiB"}));
  // Announced too large: refused before the body is read.
  Client c(connect_tcp(d.port));
  cr_assert(c.send("POST /api/v1/bootstrap HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n"));
  auto r = c.read();
  cr_assert(r.has_value());
  assert_problem(*r, 413);
  cr_assert(c.closed_by_peer());
  // Chunked, growing past the limit.
  Client k(connect_tcp(d.port));
  std::string chunk(3000, 'a');
  std::string raw = "POST /api/v1/bootstrap HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  raw += "bb8\r\n" + chunk + "\r\nbb8\r\n" + chunk + "\r\n0\r\n\r\n";
  cr_assert(k.send(raw));
  auto r2 = k.read();
  cr_assert(r2.has_value());
  assert_problem(*r2, 413);
  assert_serving(d);
}

Test(http, bodies_within_limit_are_read_whole) {
  TestDaemon d(with_env({"CREWSHIP_MAX_BODY_BYTES=4KiB"}));
  Client c(connect_tcp(d.port));
  // A full body (Content-Length, then chunked) is consumed and the connection
  // stays usable: the 400 (not JSON) proves the request was framed correctly.
  std::string body(4096, 'x');
  cr_assert(c.send("POST /api/v1/bootstrap HTTP/1.1\r\nHost: t\r\nContent-Length: 4096\r\n\r\n" + body));
  assert_problem(*c.read(), 400);
  cr_assert(c.send("POST /api/v1/bootstrap HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\nhello\r\n0\r\n\r\n"));
  assert_problem(*c.read(), 400);
  cr_assert(c.send(kHealth));
  cr_assert_eq(c.read()->status, 200);
}

Test(http, expect_100_continue) {
  TestDaemon d(with_env({"CREWSHIP_MAX_BODY_BYTES=4KiB"}));
  Client c(connect_tcp(d.port));
  cr_assert(c.send("POST /api/v1/bootstrap HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto cont = c.read();
  cr_assert(cont.has_value());
  cr_assert_eq(cont->status, 100);
  cr_assert(c.send("hello"));
  assert_problem(*c.read(), 400);
  // Too large: no 100, a 413 straight away.
  Client big(connect_tcp(d.port));
  cr_assert(big.send("POST /api/v1/bootstrap HTTP/1.1\r\nHost: t\r\nContent-Length: 99999\r\nExpect: 100-continue\r\n\r\n"));
  assert_problem(*big.read(), 413);
  // No route for it: no 100 either, the 405 at once, the body never read.
  Client wrong(connect_tcp(d.port));
  cr_assert(wrong.send("POST /api/health HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto refused = wrong.read();
  cr_assert(refused.has_value());
  assert_problem(*refused, 405);
  cr_assert_eq(refused->header("Connection").value_or(""), "close");
  // An expectation we do not know.
  auto r = request_tcp(d.port, "GET /api/health HTTP/1.1\r\nHost: t\r\nExpect: teapot\r\n\r\n");
  assert_problem(*r, 417);
}

Test(http, oversize_headers_431_and_url_414) {
  TestDaemon d(with_env({"CREWSHIP_MAX_HEADER_BYTES=2KiB", "CREWSHIP_MAX_HEADERS=10",
                        "CREWSHIP_MAX_URL_BYTES=512"}));
  auto big = request_tcp(d.port, get("/api/health", "X-Big: " + std::string(3000, 'h') + "\r\n"));
  cr_assert(big.has_value());
  assert_problem(*big, 431);
  std::string many;
  for (int i = 0; i < 12; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  auto count = request_tcp(d.port, get("/api/health", many));
  assert_problem(*count, 431);
  auto url = request_tcp(d.port, get("/api/health?q=" + std::string(600, 'u')));
  assert_problem(*url, 414);
  // Within the limits all is well.
  auto fine = request_tcp(d.port, get("/api/health?q=1", "X-Small: " + std::string(500, 's') + "\r\n"));
  cr_assert_eq(fine->status, 200);
}

Test(http, slow_header_sender_closed_after_timeout) {
  TestDaemon d(with_env({"CREWSHIP_HEADER_TIMEOUT=500ms"}));
  Client c(connect_tcp(d.port));
  auto start = Clock::now();
  cr_assert(c.send("GET /api/health HTTP/1.1\r\n"));
  // Trickle bytes: each one in time, the whole never.
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!c.send("X")) break;
  }
  auto r = c.read(3000);
  auto took = Clock::now() - start;
  cr_assert(r.has_value(), "no 408 before close");
  assert_problem(*r, 408);
  cr_assert(c.closed_by_peer());
  cr_assert(took < std::chrono::milliseconds(2000), "closed only after %lld ms",
            static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  assert_serving(d);
}

Test(http, slow_body_sender_closed_after_timeout) {
  TestDaemon d(with_env({"CREWSHIP_BODY_TIMEOUT=300ms"}));
  Client c(connect_tcp(d.port));
  cr_assert(c.send("POST /api/v1/bootstrap HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"));
  auto r = c.read(3000);
  cr_assert(r.has_value());
  assert_problem(*r, 408);
  cr_assert(c.closed_by_peer());
}

Test(http, idle_keep_alive_closed_after_timeout) {
  TestDaemon d(with_env({"CREWSHIP_IDLE_TIMEOUT=300ms"}));
  Client c(connect_tcp(d.port));
  cr_assert(c.send(kHealth));
  cr_assert_eq(c.read()->status, 200);
  auto start = Clock::now();
  cr_assert(c.closed_by_peer(3000));
  cr_assert(Clock::now() - start >= std::chrono::milliseconds(250));
  // A connection that never sends anything is closed too.
  Client silent(connect_tcp(d.port));
  cr_assert(silent.closed_by_peer(3000));
}

Test(http, idle_connections_do_not_delay_health) {
  TestDaemon d(with_env({"CREWSHIP_MAX_CONNECTIONS_PER_PEER=1000"}));
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 300; ++i) {
    idle.push_back(std::make_unique<Client>(connect_tcp(d.port)));
    cr_assert(idle.back()->ok(), "connection %d refused", i);
    if (i % 2 == 0) idle.back()->send("GET /api/health HTTP/1.1\r\n");  // half a request
  }
  auto start = Clock::now();
  auto r = request_tcp(d.port, kHealth);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  cr_assert(r.has_value());
  cr_assert_eq(r->status, 200);
  cr_assert_lt(took, 1000, "health took %lld ms behind 300 idle connections", static_cast<long long>(took));
}

Test(http, connection_cap_answers_503) {
  TestDaemon d(with_env({"CREWSHIP_MAX_CONNECTIONS=4"}));
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<Client>(connect_tcp(d.port)));
    cr_assert(held.back()->send(kHealth));
    cr_assert_eq(held.back()->read()->status, 200);
  }
  Client over(connect_tcp(d.port));
  auto r = over.read(3000);
  cr_assert(r.has_value(), "the fifth connection gets an answer");
  assert_problem(*r, 503);
  cr_assert(over.closed_by_peer());
  held.pop_back();  // one leaves; a new one is served
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  assert_serving(d);
}

Test(http, client_vanishing_mid_request_is_harmless) {
  TestDaemon d;
  for (int i = 0; i < 20; ++i) {
    int fd = connect_tcp(d.port);
    send_all(fd, "POST /api/health HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc");
    close(fd);
  }
  assert_serving(d);
}
