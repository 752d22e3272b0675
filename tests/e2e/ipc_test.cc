// The IPC listener: Unix socket, X-Internal-Token on every request, internal
// routes only there.
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <rapidjson/document.h>

#include "tests/support/harness.h"

using namespace crewship::test;

TestSuite(ipc, .timeout = 60);

namespace {
std::string internal_get(const std::string& path, const std::string& token) {
  return get(path, token.empty() ? "" : "X-Internal-Token: " + token + "\r\n");
}
}  // namespace

Test(ipc, token_required) {
  TestDaemon d;
  cr_assert_eq(d.token.size(), 64u, "generated token: %s", d.log().c_str());
  auto none = request_unix(d.socket, internal_get("/api/v1/internal/health", ""));
  cr_assert(none.has_value());
  cr_assert_eq(none->status, 401);
  cr_assert_eq(none->header("Content-Type").value_or(""), "application/problem+json");
  std::string wrong = d.token;
  wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
  cr_assert_eq(request_unix(d.socket, internal_get("/api/v1/internal/health", wrong))->status, 401);
  cr_assert_eq(request_unix(d.socket, internal_get("/api/v1/internal/health", d.token + "0"))->status, 401);
  // Unknown paths answer 401 too: nothing is revealed without the token.
  cr_assert_eq(request_unix(d.socket, internal_get("/api/v1/internal/nothing", ""))->status, 401);
  cr_assert_eq(request_unix(d.socket, internal_get("/api/v1/internal/nothing", d.token))->status, 404);

  auto ok = request_unix(d.socket, internal_get("/api/v1/internal/health", d.token));
  cr_assert_eq(ok->status, 200);
  rapidjson::Document doc;
  doc.Parse(ok->body.c_str());
  cr_assert_str_eq(doc["status"].GetString(), "ok");
  cr_assert_str_eq(doc["service"].GetString(), "crewshipd");
  cr_assert(doc["version"].IsString());
  cr_assert(doc["uptime_secs"].IsInt64());
}

Test(ipc, configured_token) {
  std::string token(48, 'q');
  TestDaemon d(with_env({"CREWSHIP_INTERNAL_TOKEN=" + token}));
  cr_assert_eq(request_unix(d.socket, internal_get("/api/v1/internal/health", token))->status, 200);
  struct stat st;
  cr_assert_neq(stat((d.dir + "/internal-token").c_str(), &st), 0, "no token file when configured");
}

Test(ipc, internal_paths_404_on_tcp) {
  TestDaemon d;
  auto r = request_tcp(d.port, internal_get("/api/v1/internal/health", d.token));
  cr_assert(r.has_value());
  cr_assert_eq(r->status, 404);
  // And the public health is not on the socket's table.
  cr_assert_eq(request_unix(d.socket, internal_get("/api/health", d.token))->status, 404);
}

Test(ipc, socket_mode_0660) {
  TestDaemon d;
  struct stat st;
  cr_assert_eq(stat(d.socket.c_str(), &st), 0);
  cr_assert(S_ISSOCK(st.st_mode));
  cr_assert_eq(st.st_mode & 0777, 0660, "mode %o", st.st_mode & 0777);
}

Test(ipc, limits_apply_on_the_socket_too) {
  TestDaemon d(with_env({"CREWSHIP_MAX_HEADER_BYTES=2KiB"}));
  auto r = request_unix(d.socket, internal_get("/api/v1/internal/health", d.token) +
                                      "");
  cr_assert_eq(r->status, 200);
  auto big = request_unix(d.socket, get("/api/v1/internal/health", "X-Internal-Token: " + d.token +
                                                                       "\r\nX-Big: " + std::string(3000, 'b') + "\r\n"));
  cr_assert(big.has_value());
  cr_assert_eq(big->status, 431);
  Client c(connect_unix(d.socket));
  cr_assert(c.send("NOT HTTP\r\n\r\n"));
  cr_assert_eq(c.read()->status, 400);
  cr_assert_eq(request_unix(d.socket, internal_get("/api/v1/internal/health", d.token))->status, 200);
}
