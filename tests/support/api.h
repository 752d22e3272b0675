// End-to-end helpers for the public API: sign in, call with a token, read JSON.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "tests/support/harness.h"

namespace crewship::test {

struct Session {
  std::string token;         // session JWT (send as Authorization: Bearer)
  std::string user_id;
  std::string workspace_id;  // the bootstrap workspace, when there is one
};

// One request on a fresh connection to the public port. token may be empty;
// body, when given, is sent as application/json.
Reply call(const TestDaemon& d, std::string_view method, std::string_view path,
           std::string_view token = "", std::string_view body = "",
           std::string_view extra_headers = "");

// Asserts that the body parses. Strings of the result stay valid for the rest
// of the test, even when the document was a temporary.
rapidjson::Document json_of(const Reply& r);
// GET path with token; asserts 200 and a JSON array.
rapidjson::Document list_of(const TestDaemon& d, const std::string& path, const std::string& token);
// The string member key of every element of a JSON array.
std::vector<std::string> members_of(const rapidjson::Value& list, const char* key);

// POST /api/v1/bootstrap: the first user, OWNER of a new workspace.
Session bootstrap(const TestDaemon& d, std::string_view email = "owner@example.com",
                  std::string_view password = "correct horse battery");
// POST /api/auth/callback/credentials; the token comes from Set-Cookie.
std::optional<Session> login(const TestDaemon& d, std::string_view email, std::string_view password);
// POST /api/v1/auth/signup (the daemon needs CREWSHIP_ALLOW_SIGNUP=true), then login.
Session signup(const TestDaemon& d, std::string_view email,
               std::string_view password = "correct horse battery");
// Signs a new user up and adds them to owner's workspace with role
// (OWNER, ADMIN, MANAGER, MEMBER or VIEWER).
Session member(const TestDaemon& d, const Session& owner, std::string_view email, std::string_view role);

// Asserts a problem+json answer of status whose detail names what.
void expect_problem(const Reply& r, int status, std::string_view what);
// One request on the IPC socket with token (default: the master token).
Reply ipc_call(const TestDaemon& d, std::string_view method, std::string_view path, std::string_view body = "",
               std::string_view token = "");
// `crewshipd token <kind> <id>` for d's data dir: a crew- or workspace-bound
// internal token.
std::string bound_token(const TestDaemon& d, const std::string& kind, const std::string& id);
// Runs statement on d's database (a second connection, as a damaged or
// older instance would have written it).
void sql(const TestDaemon& d, const std::string& statement);
// The first column of every row query yields on d's database, as text
// (NULL as ""), read on a second connection.
std::vector<std::string> sql_column(const TestDaemon& d, const std::string& query);
// The first column of the first row query yields on d's database, as text
// ("" for NULL or no row).
std::string sql_text(const TestDaemon& d, const std::string& query);
// POSTs body to path, asserts 201 and returns the answer's id.
std::string create_id(const TestDaemon& d, const std::string& token, const std::string& path,
                      const std::string& body);
// The owner's (bootstrap) workspace with two crews, Core and Ops, and an
// agent in each: Dev (slug dev) in Core, Ops (slug ops) in Ops.
struct TwoCrews {
  TestDaemon* d;
  Session owner;
  std::string ws, crew, other_crew, agent, other_agent;
};
TwoCrews two_crews(TestDaemon& d);
// The audit rows of ws (of action when given), newest first.
rapidjson::Document audit_of(const TestDaemon& d, const Session& s, const std::string& action = "");
// Every file under dir, recursively, that holds needle (empty: none).
std::vector<std::string> files_holding(const std::string& dir, std::string_view needle);

// The daemon settings these helpers need (signup open).
DaemonOptions api_options(std::vector<std::string> more_env = {});

// Sends each body as `PUT paths[i]` with token, all at once, one connection
// and thread each, while sampling the daemon's VmRSS and its upload dir.
struct ConcurrentPuts {
  std::vector<Reply> replies;  // status 0: no answer
  long peak_rss_kib = 0;
  bool saw_uploads = false;    // <data>/tmp held a file meanwhile
};
ConcurrentPuts concurrent_puts(const TestDaemon& d, const std::vector<std::string>& paths,
                               const std::string& token, const std::vector<std::string>& bodies);
// The files in <data>/tmp, where save bodies are written.
std::vector<std::string> uploads(const TestDaemon& d);
// n bytes from a seed, the same for the same seed.
std::string seeded_bytes(size_t n, uint8_t seed);
std::string sha256_hex(std::string_view data);

}  // namespace crewship::test
