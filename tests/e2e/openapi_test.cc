// The OpenAPI documents as the real binary serves them, and the log answers
// whose truncation they document: a page and a follow that start below the
// first entry kept say so in the same headers.
#include <criterion/criterion.h>

#include <cstdio>
#include <string>

#include <sys/socket.h>
#include <unistd.h>

#include "daemon/dirs.h"
#include "tests/support/api.h"

using namespace crewship::test;

namespace {

// The head of a streamed answer (it never ends by itself).
std::string stream_head(const TestDaemon& d, const std::string& path, const std::string& token) {
  int fd = connect_tcp(d.port);
  cr_assert(fd >= 0);
  cr_assert(send_all(fd, "GET " + path + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + token + "\r\n\r\n"));
  std::string got;
  char buf[4096];
  while (got.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return got;
}

// An agent whose log kept entries from offset 10 on: the older ones were
// rotated away.
std::string agent_with_rotated_log(const TestDaemon& d, const Session& owner) {
  std::string id = create_id(d, owner.token, "/api/v1/agents?workspace_id=" + owner.workspace_id,
                             R"({"name":"Logger","slug":"logger"})");
  std::string dir = d.dir + "/logs/agents/" + id;
  cr_assert_eq(crewship::make_dirs(dir, 0700), 0);
  FILE* f = fopen((dir + "/00000000000000000010.jsonl").c_str(), "w");
  cr_assert(f != nullptr);
  for (int i = 10; i < 13; ++i)
    fprintf(f, "{\"ts\":\"2026-01-01T00:00:00.000000000Z\",\"stream\":\"stdout\",\"content\":\"n=%d\"}\n", i);
  fclose(f);
  return id;
}

}  // namespace

TestSuite(openapi_e2e);

Test(openapi_e2e, the_public_document_needs_no_auth_and_the_internal_one_the_token) {
  TestDaemon d(api_options());
  Reply pub = call(d, "GET", "/api/v1/openapi.json");
  cr_assert_eq(pub.status, 200);
  cr_assert(pub.header("Content-Type").value_or("").starts_with("application/json"));
  auto doc = json_of(pub);
  cr_assert_str_eq(doc["openapi"].GetString(), "3.1.0");
  cr_assert(doc["paths"].HasMember("/api/v1/agents/{agentId}/logs"));
  cr_assert_not(doc["paths"].HasMember("/api/v1/internal/health"), "IPC routes stay out of the public one");
  cr_assert(doc["components"]["securitySchemes"].HasMember("cliToken"));

  cr_assert_eq(call(d, "GET", "/api/v1/internal/openapi.json").status, 404, "not on the TCP listener");
  expect_problem(ipc_call(d, "GET", "/api/v1/internal/openapi.json", "", "nope"), 401, "internal token");
  Reply ipc = ipc_call(d, "GET", "/api/v1/internal/openapi.json");
  cr_assert_eq(ipc.status, 200);
  auto internal = json_of(ipc);
  cr_assert(internal["paths"].HasMember("/api/v1/internal/presence"));
  cr_assert_not(internal["paths"].HasMember("/api/v1/crews"));
  // Built once: the same bytes each time.
  cr_assert_eq(call(d, "GET", "/api/v1/openapi.json").body, pub.body);
}

Test(openapi_e2e, a_log_page_and_a_follow_below_the_first_kept_entry_say_truncated) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string id = agent_with_rotated_log(d, owner);
  std::string logs = "/api/v1/agents/" + id + "/logs?workspace_id=" + owner.workspace_id;

  Reply page = call(d, "GET", logs + "&offset=0", owner.token);
  cr_assert_eq(page.status, 200, "%s", page.body.c_str());
  cr_assert_eq(page.header("X-Log-Truncated").value_or(""), "true");
  cr_assert_eq(page.header("X-Log-First-Offset").value_or(""), "10");
  cr_assert_eq(json_of(page).Size(), 3u);

  std::string head = stream_head(d, logs + "&offset=0&follow=1", owner.token);
  cr_assert(head.starts_with("HTTP/1.1 200"), "%s", head.c_str());
  cr_assert(head.find("application/x-ndjson") != std::string::npos, "%s", head.c_str());
  cr_assert(head.find("X-Log-Truncated: true\r\n") != std::string::npos, "%s", head.c_str());
  cr_assert(head.find("X-Log-First-Offset: 10\r\n") != std::string::npos, "%s", head.c_str());

  // From a kept entry on: nothing was lost, and neither says otherwise.
  std::string kept = stream_head(d, logs + "&offset=11&follow=1", owner.token);
  cr_assert(kept.starts_with("HTTP/1.1 200"), "%s", kept.c_str());
  cr_assert(kept.find("X-Log-Truncated") == std::string::npos, "%s", kept.c_str());
  cr_assert_not(call(d, "GET", logs + "&offset=11", owner.token).header("X-Log-Truncated").has_value());

  // On the socket, the envelope says it too.
  auto env = json_of(ipc_call(d, "GET", "/api/v1/internal/agents/" + id + "/logs?offset=2"));
  cr_assert(env["truncated"].GetBool());
  cr_assert_eq(env["first_offset"].GetInt64(), 10);
}
