#include "tests/support/api.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include <criterion/criterion.h>
#include <sodium.h>
#include <sqlite3.h>

namespace crewship::test {

Reply call(const TestDaemon& d, std::string_view method, std::string_view path,
           std::string_view token, std::string_view body, std::string_view extra_headers) {
  std::string raw(method);
  raw += " ";
  raw += path;
  raw += " HTTP/1.1\r\nHost: test\r\n";
  if (!token.empty()) {
    raw += "Authorization: Bearer ";
    raw += token;
    raw += "\r\n";
  }
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    raw += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  raw += extra_headers;
  raw += "\r\n";
  raw += body;
  auto r = request_tcp(d.port, raw, 20000);
  cr_assert(r.has_value(), "no answer to %.*s %.*s", static_cast<int>(method.size()), method.data(),
            static_cast<int>(path.size()), path.data());
  return *r;
}

// Every parsed value lives in one allocator that is never freed (each test is
// a process of its own): a string read off a temporary document stays valid
// inside Criterion's assertion macros, which keep pointers past the full
// expression.
rapidjson::Document json_of(const Reply& r) {
  static rapidjson::MemoryPoolAllocator<> keep;
  rapidjson::Document doc(&keep);
  doc.Parse(r.body.c_str());
  cr_assert_not(doc.HasParseError(), "not JSON (status %d): %s", r.status, r.body.c_str());
  return doc;
}

rapidjson::Document list_of(const TestDaemon& d, const std::string& path, const std::string& token) {
  Reply r = call(d, "GET", path, token);
  cr_assert_eq(r.status, 200, "%s: %s", path.c_str(), r.body.c_str());
  auto doc = json_of(r);
  cr_assert(doc.IsArray(), "%s", r.body.c_str());
  return doc;
}

std::vector<std::string> members_of(const rapidjson::Value& list, const char* key) {
  std::vector<std::string> out;
  for (const auto& e : list.GetArray()) out.emplace_back(e[key].GetString());
  return out;
}

namespace {
std::string token_from_cookie(const Reply& r) {
  auto c = r.header("Set-Cookie");
  if (!c) return {};
  size_t eq = c->find('=');
  size_t semi = c->find(';');
  return c->substr(eq + 1, semi - eq - 1);
}
}  // namespace

Session bootstrap(const TestDaemon& d, std::string_view email, std::string_view password) {
  std::string body = R"({"email":")" + std::string(email) + R"(","password":")" +
                     std::string(password) + R"(","name":"Owner","workspace_name":"Acme"})";
  Reply r = call(d, "POST", "/api/v1/bootstrap", "", body);
  cr_assert_eq(r.status, 201, "bootstrap: %d %s", r.status, r.body.c_str());
  auto doc = json_of(r);
  Session s;
  s.token = token_from_cookie(r);
  s.user_id = doc["user"]["id"].GetString();
  s.workspace_id = doc["workspace"]["id"].GetString();
  cr_assert(!s.token.empty(), "bootstrap sets the session cookie");
  return s;
}

std::optional<Session> login(const TestDaemon& d, std::string_view email, std::string_view password) {
  std::string body = R"({"email":")" + std::string(email) + R"(","password":")" + std::string(password) + R"("})";
  Reply r = call(d, "POST", "/api/auth/callback/credentials", "", body);
  if (r.status != 200) return std::nullopt;
  auto doc = json_of(r);
  Session s;
  s.token = token_from_cookie(r);
  s.user_id = doc["user"]["id"].GetString();
  return s;
}

Session signup(const TestDaemon& d, std::string_view email, std::string_view password) {
  std::string body = R"({"email":")" + std::string(email) + R"(","password":")" + std::string(password) +
                     R"(","name":"User"})";
  Reply r = call(d, "POST", "/api/v1/auth/signup", "", body);
  cr_assert_eq(r.status, 201, "signup: %d %s", r.status, r.body.c_str());
  auto s = login(d, email, password);
  cr_assert(s.has_value(), "login after signup");
  return *s;
}

Session member(const TestDaemon& d, const Session& owner, std::string_view email, std::string_view role) {
  Session s = signup(d, email);
  std::string body = R"({"email":")" + std::string(email) + R"(","role":")" + std::string(role) + R"("})";
  Reply r = call(d, "POST", "/api/v1/workspaces/" + owner.workspace_id + "/members", owner.token, body);
  cr_assert_eq(r.status, 201, "add member: %d %s", r.status, r.body.c_str());
  s.workspace_id = owner.workspace_id;
  return s;
}

void expect_problem(const Reply& r, int status, std::string_view what) {
  cr_assert_eq(r.status, status, "want %d, got %d: %s", status, r.status, r.body.c_str());
  cr_assert_eq(r.header("Content-Type").value_or(""), "application/problem+json");
  auto doc = json_of(r);
  cr_assert_eq(doc["status"].GetInt(), status);
  std::string detail = doc["detail"].GetString();
  cr_assert(detail.find(what) != std::string::npos, "detail \"%s\" should name \"%.*s\"", detail.c_str(),
            static_cast<int>(what.size()), what.data());
  cr_assert_eq(std::string(doc["error"].GetString()), detail, "error carries the detail");
}

Reply ipc_call(const TestDaemon& d, std::string_view method, std::string_view path, std::string_view body,
               std::string_view token) {
  std::string raw(method);
  raw += " ";
  raw += path;
  raw += " HTTP/1.1\r\nHost: t\r\nX-Internal-Token: ";
  raw += token.empty() ? std::string_view(d.token) : token;
  raw += "\r\n";
  if (!body.empty() || method == "POST") {
    raw += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  raw += "\r\n";
  raw += body;
  auto r = request_unix(d.socket, raw, 30000);
  cr_assert(r.has_value(), "no answer to %.*s %.*s", static_cast<int>(method.size()), method.data(),
            static_cast<int>(path.size()), path.data());
  return *r;
}

std::string bound_token(const TestDaemon& d, const std::string& kind, const std::string& id) {
  std::string out;
  int rc = run({daemon_binary(), "token", kind, id}, {"CREWSHIP_DATA_DIR=" + d.dir}, &out);
  cr_assert_eq(rc, 0, "token %s %s: %s", kind.c_str(), id.c_str(), out.c_str());
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string create_id(const TestDaemon& d, const std::string& token, const std::string& path,
                      const std::string& body) {
  Reply r = call(d, "POST", path, token, body);
  cr_assert_eq(r.status, 201, "POST %s %s: %d %s", path.c_str(), body.c_str(), r.status, r.body.c_str());
  return json_of(r)["id"].GetString();
}

TwoCrews two_crews(TestDaemon& d) {
  TwoCrews w{&d, bootstrap(d), {}, {}, {}, {}, {}};
  w.ws = w.owner.workspace_id;
  std::string q = "?workspace_id=" + w.ws;
  w.crew = create_id(d, w.owner.token, "/api/v1/crews" + q, R"({"name":"Core","slug":"core"})");
  w.other_crew = create_id(d, w.owner.token, "/api/v1/crews" + q, R"({"name":"Ops","slug":"ops"})");
  w.agent = create_id(d, w.owner.token, "/api/v1/agents" + q,
                      R"({"name":"Dev","slug":"dev","crew_id":")" + w.crew + R"("})");
  w.other_agent = create_id(d, w.owner.token, "/api/v1/agents" + q,
                            R"({"name":"Ops","slug":"ops","crew_id":")" + w.other_crew + R"("})");
  return w;
}

rapidjson::Document audit_of(const TestDaemon& d, const Session& s, const std::string& action) {
  std::string path = "/api/v1/audit?limit=100&workspace_id=" + s.workspace_id;
  if (!action.empty()) path += "&action=" + action;
  return list_of(d, path, s.token);
}

std::vector<std::string> files_holding(const std::string& dir, std::string_view needle) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string path = it->path().string();
    if (read_file(path).find(needle) != std::string::npos) out.push_back(path);
  }
  return out;
}

DaemonOptions api_options(std::vector<std::string> more_env) {
  DaemonOptions o;
  o.env = {"CREWSHIP_ALLOW_SIGNUP=true"};
  o.env.insert(o.env.end(), more_env.begin(), more_env.end());
  return o;
}

void sql(const TestDaemon& d, const std::string& statement) {
  sqlite3* db = nullptr;
  cr_assert_eq(sqlite3_open_v2((d.dir + "/crewship.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr),
               SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &err);
  std::string message = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  cr_assert_eq(rc, SQLITE_OK, "%s: %s", statement.c_str(), message.c_str());
}

std::vector<std::string> sql_column(const TestDaemon& d, const std::string& query) {
  sqlite3* db = nullptr;
  cr_assert_eq(sqlite3_open_v2((d.dir + "/crewship.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db, query.c_str(), -1, &s, nullptr);
  std::string error = rc == SQLITE_OK ? "" : sqlite3_errmsg(db);
  std::vector<std::string> out;
  while (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(s, 0);
    out.emplace_back(t != nullptr ? reinterpret_cast<const char*>(t) : "");
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  cr_assert_eq(rc, SQLITE_OK, "%s: %s", query.c_str(), error.c_str());
  return out;
}

std::string sql_text(const TestDaemon& d, const std::string& query) {
  std::vector<std::string> rows = sql_column(d, query);
  return rows.empty() ? std::string() : rows.front();
}

ConcurrentPuts concurrent_puts(const TestDaemon& d, const std::vector<std::string>& paths,
                               const std::string& token, const std::vector<std::string>& bodies) {
  ConcurrentPuts out;
  out.replies.resize(paths.size());
  std::atomic<size_t> running{paths.size()};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < paths.size(); ++i) {
    threads.emplace_back([&, i] {
      Client c(connect_tcp(d.port));
      std::string head = "PUT " + paths[i] + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + token +
                         "\r\nContent-Length: " + std::to_string(bodies[i].size()) + "\r\n\r\n";
      if (c.send(head) && c.send(bodies[i])) {
        if (auto r = c.read(60000)) out.replies[i] = std::move(*r);
      }
      --running;
    });
  }
  auto start = std::chrono::steady_clock::now();
  while (running > 0 && std::chrono::steady_clock::now() - start < std::chrono::seconds(120)) {
    out.peak_rss_kib = std::max(out.peak_rss_kib, rss_kib(d.pid));
    out.saw_uploads = out.saw_uploads || !uploads(d).empty();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& t : threads) t.join();
  return out;
}

std::vector<std::string> uploads(const TestDaemon& d) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(d.dir + "/tmp", ec)) names.push_back(e.path().filename());
  return names;
}

std::string seeded_bytes(size_t n, uint8_t seed) {
  std::string out(n, '\0');
  unsigned char key[randombytes_SEEDBYTES] = {seed, 1};
  randombytes_buf_deterministic(out.data(), n, key);
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char mac[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(mac, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  char hex[2 * sizeof mac + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return hex;
}

}  // namespace crewship::test
