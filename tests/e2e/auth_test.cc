// Identity end to end: bootstrap, sign-up, sign-in (JSON and form), sessions,
// sign-out revocation, refresh, lockout, CLI tokens, WebSocket tokens and the
// NextAuth-shaped helpers.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <sstream>
#include <thread>
#include <vector>

#include <algorithm>

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tests/support/api.h"

using namespace crewship::test;

namespace {

std::string cookie_of(const Reply& r) { return r.header("Set-Cookie").value_or(""); }

std::string body_of(std::string_view email, std::string_view password) {
  return R"({"email":")" + std::string(email) + R"(","password":")" + std::string(password) + R"("})";
}

}  // namespace

TestSuite(auth, .timeout = 120);

Test(auth, bootstrap_once) {
  TestDaemon d(api_options());
  // Nothing is set up yet: the session endpoint says so without an error.
  Reply empty = call(d, "GET", "/api/auth/session");
  cr_assert_eq(empty.status, 200);
  cr_assert_eq(empty.body, "{}");

  Reply bad = call(d, "POST", "/api/v1/bootstrap", "", R"({"email":"nope","password":"password123"})");
  cr_assert_eq(bad.status, 400);
  Reply weak = call(d, "POST", "/api/v1/bootstrap", "", R"({"email":"a@b.co","password":"short"})");
  cr_assert_eq(weak.status, 400);
  cr_assert(weak.body.find("password") != std::string::npos);
  Reply missing = call(d, "POST", "/api/v1/bootstrap", "", R"({"password":"password123"})");
  cr_assert_eq(missing.status, 400);
  cr_assert(missing.body.find("email is required") != std::string::npos, "%s", missing.body.c_str());

  Reply r = call(d, "POST", "/api/v1/bootstrap", "",
                 R"({"email":"owner@example.com","password":"password123","name":"Olga","workspace_name":"Acme Labs"})");
  cr_assert_eq(r.status, 201, "%s", r.body.c_str());
  auto doc = json_of(r);
  cr_assert_str_eq(doc["user"]["email"].GetString(), "owner@example.com");
  cr_assert_str_eq(doc["user"]["name"].GetString(), "Olga");
  cr_assert_str_eq(doc["workspace"]["name"].GetString(), "Acme Labs");
  cr_assert_str_eq(doc["workspace"]["slug"].GetString(), "acme-labs");
  std::string cookie = cookie_of(r);
  cr_assert(cookie.rfind("authjs.session-token=", 0) == 0, "%s", cookie.c_str());
  for (const char* attr : {"HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="})
    cr_assert(cookie.find(attr) != std::string::npos, "cookie lacks %s: %s", attr, cookie.c_str());
  // 30 days from the session's creation, which may lie a second or two before
  // the answer (the session row commits first).
  long max_age = std::stol(cookie.substr(cookie.find("Max-Age=") + 8));
  cr_assert(max_age >= 2592000 - 2 && max_age <= 2592000, "Max-Age=%ld", max_age);
  cr_assert(cookie.find("Secure") == std::string::npos);

  Reply again = call(d, "POST", "/api/v1/bootstrap", "",
                     R"({"email":"other@example.com","password":"password123"})");
  cr_assert_eq(again.status, 409);
}

Test(auth, concurrent_bootstraps_make_one_owner) {
  TestDaemon d(api_options());
  std::vector<std::thread> threads;
  std::vector<int> statuses(6);
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      statuses[i] = call(d, "POST", "/api/v1/bootstrap", "",
                         body_of("u" + std::to_string(i) + "@example.com", "password123"))
                        .status;
    });
  }
  for (auto& t : threads) t.join();
  int created = 0;
  for (int s : statuses) {
    cr_assert(s == 201 || s == 409, "status %d", s);
    created += s == 201;
  }
  cr_assert_eq(created, 1);
}

Test(auth, session_cookie_and_bearer) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  Reply via_bearer = call(d, "GET", "/api/auth/session", owner.token);
  auto doc = json_of(via_bearer);
  cr_assert_str_eq(doc["user"]["id"].GetString(), owner.user_id.c_str());
  cr_assert(doc["expires"].IsString());
  Reply via_cookie = call(d, "GET", "/api/auth/session", "", "",
                          "Cookie: theme=dark; authjs.session-token=" + owner.token + "\r\n");
  cr_assert_str_eq(json_of(via_cookie)["user"]["id"].GetString(), owner.user_id.c_str());
  Reply via_secure = call(d, "GET", "/api/v1/workspaces", "", "",
                          "Cookie: __Secure-authjs.session-token=" + owner.token + "\r\n");
  cr_assert_neq(via_secure.status, 401);

  // A tampered or foreign token is refused.
  std::string tampered = owner.token;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  cr_assert_eq(call(d, "GET", "/api/v1/ws-token", tampered).status, 401);
  cr_assert_eq(call(d, "GET", "/api/v1/ws-token", "not.a.jwt").status, 401);
  cr_assert_eq(call(d, "GET", "/api/v1/ws-token", "").status, 401);
  auto r401 = call(d, "GET", "/api/v1/ws-token");
  cr_assert_eq(r401.header("Content-Type").value_or(""), "application/problem+json");
}

Test(auth, login_json_form_and_https_cookie) {
  TestDaemon d(api_options());
  bootstrap(d, "owner@example.com", "password123");
  Reply json_login = call(d, "POST", "/api/auth/callback/credentials", "", body_of("OWNER@example.com", "password123"));
  cr_assert_eq(json_login.status, 200, "email is case-insensitive: %s", json_login.body.c_str());
  auto doc = json_of(json_login);
  cr_assert(doc["user"]["id"].IsString() && doc["expires"].IsString());

  // The form post carries NextAuth's CSRF token and its cookie.
  auto csrf = request_tcp(d.port, "GET /api/auth/csrf HTTP/1.1\r\nHost: t\r\nX-Forwarded-Proto: https\r\n\r\n");
  cr_assert_eq(csrf->status, 200);
  std::string token = json_of(*csrf)["csrfToken"].GetString();
  std::string csrf_cookie = cookie_of(*csrf);
  csrf_cookie = csrf_cookie.substr(0, csrf_cookie.find(';'));
  cr_assert(csrf_cookie.rfind("__Host-authjs.csrf-token=", 0) == 0, "%s", csrf_cookie.c_str());
  auto form_post = [&](const std::string& fields, const std::string& cookie) {
    return request_tcp(d.port, "POST /api/auth/callback/credentials HTTP/1.1\r\nHost: t\r\n"
                               "Content-Type: application/x-www-form-urlencoded\r\nX-Forwarded-Proto: https\r\n" +
                                   (cookie.empty() ? "" : "Cookie: " + cookie + "\r\n") +
                                   "Content-Length: " + std::to_string(fields.size()) + "\r\n\r\n" + fields);
  };
  std::string fields = "email=owner%40example.com&password=password123";
  // Issue: form posts never had their csrfToken checked.
  cr_assert_eq(form_post(fields, csrf_cookie)->status, 403, "no csrfToken");
  cr_assert_eq(form_post(fields + "&csrfToken=" + token, "")->status, 403, "no CSRF cookie");
  cr_assert_eq(form_post(fields + "&csrfToken=" + std::string(token.size(), '0'), csrf_cookie)->status, 403,
               "another token");
  std::string forged = "__Host-authjs.csrf-token=" + token + "%7C" + std::string(64, 'a');
  cr_assert_eq(form_post(fields + "&csrfToken=" + token, forged)->status, 403, "a cookie without our proof");
  auto r = form_post(fields + "&csrfToken=" + token, csrf_cookie);
  cr_assert_eq(r->status, 200, "%s", r->body.c_str());
  std::string cookie = cookie_of(*r);
  cr_assert(cookie.rfind("__Secure-authjs.session-token=", 0) == 0, "%s", cookie.c_str());
  cr_assert(cookie.find("; Secure") != std::string::npos);

  cr_assert_eq(call(d, "POST", "/api/auth/callback/credentials", "", body_of("owner@example.com", "wrong-password")).status, 401);
  cr_assert_eq(call(d, "POST", "/api/auth/callback/credentials", "", body_of("ghost@example.com", "password123")).status, 401);
  cr_assert_eq(call(d, "POST", "/api/auth/callback/credentials", "", "{").status, 400);
}

Test(auth, lockout_after_repeated_failures) {
  TestDaemon d(api_options({"CREWSHIP_LOGIN_MAX_FAILURES=3", "CREWSHIP_LOGIN_LOCKOUT=2s"}));
  bootstrap(d, "owner@example.com", "password123");
  for (int i = 0; i < 3; ++i)
    cr_assert_eq(call(d, "POST", "/api/auth/callback/credentials", "", body_of("owner@example.com", "nope-nope")).status, 401);
  Reply locked = call(d, "POST", "/api/auth/callback/credentials", "", body_of("owner@example.com", "password123"));
  cr_assert_eq(locked.status, 429, "even the right password waits: %s", locked.body.c_str());
  cr_assert(locked.header("Retry-After").has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  cr_assert_eq(call(d, "POST", "/api/auth/callback/credentials", "", body_of("owner@example.com", "password123")).status, 200);
  // A success resets the count: two more failures do not lock.
  for (int i = 0; i < 2; ++i)
    call(d, "POST", "/api/auth/callback/credentials", "", body_of("owner@example.com", "nope-nope"));
  cr_assert_eq(call(d, "POST", "/api/auth/callback/credentials", "", body_of("owner@example.com", "password123")).status, 200);
}

Test(auth, signout_revokes_and_refresh_rotates) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  auto second = login(d, "owner@example.com", "correct horse battery");
  cr_assert(second.has_value());

  Reply refreshed = call(d, "POST", "/api/auth/token/refresh", second->token);
  cr_assert_eq(refreshed.status, 200, "%s", refreshed.body.c_str());
  std::string cookie = cookie_of(refreshed);
  std::string fresh = cookie.substr(cookie.find('=') + 1, cookie.find(';') - cookie.find('=') - 1);
  cr_assert_neq(fresh, second->token);
  cr_assert_eq(call(d, "GET", "/api/v1/ws-token", second->token).status, 401, "the old session is revoked");
  cr_assert_eq(call(d, "GET", "/api/v1/ws-token", fresh).status, 200);

  Reply out = call(d, "POST", "/api/auth/signout", owner.token);
  cr_assert_eq(out.status, 200);
  cr_assert(cookie_of(out).find("Max-Age=0") != std::string::npos, "cookie cleared");
  cr_assert_eq(call(d, "GET", "/api/v1/ws-token", owner.token).status, 401, "signed-out token refused");
  cr_assert_eq(call(d, "GET", "/api/auth/session", owner.token).body, "{}");
  cr_assert_eq(call(d, "GET", "/api/v1/ws-token", fresh).status, 200, "other sessions live on");
  cr_assert_eq(call(d, "POST", "/api/auth/signout").status, 200, "signing out twice is fine");
}

Test(auth, signup_gate) {
  TestDaemon closed;
  cr_assert_eq(call(closed, "POST", "/api/v1/auth/signup", "", body_of("a@example.com", "password123")).status, 403);
  TestDaemon d(api_options());
  Reply r = call(d, "POST", "/api/v1/auth/signup", "", body_of("a@example.com", "password123"));
  cr_assert_eq(r.status, 201, "%s", r.body.c_str());
  cr_assert(!cookie_of(r).empty());
  cr_assert_eq(call(d, "POST", "/api/v1/auth/signup", "", body_of("A@example.com", "password123")).status, 409);
}

Test(auth, cli_tokens) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  cr_assert_eq(call(d, "POST", "/api/v1/auth/cli-token", owner.token, R"({"name":""})").status, 400);
  cr_assert_eq(call(d, "POST", "/api/v1/auth/cli-token", owner.token, R"({"name":7})").status, 400);
  Reply made = call(d, "POST", "/api/v1/auth/cli-token", owner.token, R"({"name":"laptop"})");
  cr_assert_eq(made.status, 201, "%s", made.body.c_str());
  auto doc = json_of(made);
  std::string token = doc["token"].GetString(), id = doc["id"].GetString();
  cr_assert_eq(token.size(), 13u + 64u);
  cr_assert(token.rfind("crewship_cli_", 0) == 0);
  cr_assert_str_eq(doc["name"].GetString(), "laptop");

  Reply valid = call(d, "GET", "/api/v1/auth/cli-token/validate", token);
  cr_assert_eq(valid.status, 200);
  auto v = json_of(valid);
  cr_assert(v["valid"].GetBool());
  cr_assert_str_eq(v["user"]["id"].GetString(), owner.user_id.c_str());
  cr_assert_str_eq(v["token"]["id"].GetString(), id.c_str());
  cr_assert_str_eq(v["token"]["name"].GetString(), "laptop");

  // last_used_at is written behind the request, without it waiting.
  Reply list;
  for (int i = 0; i < 100; ++i) {
    list = call(d, "GET", "/api/v1/auth/cli-tokens", owner.token);
    if (list.body.find("\"last_used_at\":null") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  cr_assert(list.body.find(token) == std::string::npos, "no secrets in the list");
  auto arr = json_of(list);
  cr_assert_eq(arr.Size(), 1u);
  cr_assert(arr[0]["last_used_at"].IsString(), "validate touched it: %s", list.body.c_str());

  // Another user cannot revoke it; the owner can, and it stops working.
  Session other = signup(d, "other@example.com");
  cr_assert_eq(call(d, "DELETE", "/api/v1/auth/cli-tokens/" + id, other.token).status, 404);
  cr_assert_eq(call(d, "DELETE", "/api/v1/auth/cli-tokens/" + id, owner.token).status, 204);
  cr_assert_eq(call(d, "GET", "/api/v1/auth/cli-token/validate", token).status, 401);
  cr_assert_eq(call(d, "DELETE", "/api/v1/auth/cli-tokens/" + id, owner.token).status, 404);
  cr_assert_eq(call(d, "GET", "/api/v1/auth/cli-token/validate", "crewship_cli_" + std::string(64, '0')).status, 401);
}

Test(auth, ws_token_and_nextauth_helpers) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  auto ws = json_of(call(d, "GET", "/api/v1/ws-token", owner.token));
  std::string wst = ws["token"].GetString();
  cr_assert(ws["expires_at"].IsString());
  // A WebSocket token is not a session.
  cr_assert_eq(call(d, "GET", "/api/v1/auth/cli-tokens", wst).status, 401);

  auto csrf = call(d, "GET", "/api/auth/csrf");
  cr_assert_eq(json_of(csrf)["csrfToken"].GetStringLength(), 64u);
  cr_assert(cookie_of(csrf).rfind("authjs.csrf-token=", 0) == 0);
  auto prov = json_of(call(d, "GET", "/api/auth/providers"));
  cr_assert_str_eq(prov["credentials"]["type"].GetString(), "credentials");
  Reply signin = call(d, "GET", "/api/auth/signin");
  cr_assert_eq(signin.status, 302);
  Reply err = call(d, "GET", "/api/auth/error?error=%3Cscript%3E");
  cr_assert_eq(err.header("Location").value_or(""), "/login?error=Default");
}

// Argon2id runs on the thread pool: the loop keeps answering while 20
// sign-ins are being checked.
Test(auth, loop_not_blocked_by_logins) {
  TestDaemon d(api_options());
  bootstrap(d, "owner@example.com", "password123");
  std::vector<std::thread> logins;
  for (int i = 0; i < 20; ++i)
    logins.emplace_back([&] { call(d, "POST", "/api/auth/callback/credentials", "", body_of("owner@example.com", "password123")); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Client c(connect_tcp(d.port));
  long worst_us = 0;
  for (int i = 0; i < 50; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    cr_assert(c.send(get("/api/health")));
    auto r = c.read();
    cr_assert(r.has_value());
    worst_us = std::max<long>(worst_us, std::chrono::duration_cast<std::chrono::microseconds>(
                                            std::chrono::steady_clock::now() - t0).count());
  }
  for (auto& t : logins) t.join();
  // Not a benchmark (see tests/bench/logins.sh): a hash on the loop would hold
  // each of these requests behind up to 20 hashes of ~50 ms; the bound is far
  // from both.
  cr_assert_lt(worst_us, 250000, "health took %ld us during logins", worst_us);
}

// Argon2id runs in a helper process; if it dies, sign-ins fail cleanly and the
// next one starts a new helper.
Test(auth, hash_worker_restarts) {
  TestDaemon d(api_options());
  bootstrap(d, "owner@example.com", "password123");
  std::string children = read_file("/proc/" + std::to_string(d.pid) + "/task/" + std::to_string(d.pid) + "/children");
  int worker = std::atoi(children.c_str());
  cr_assert_gt(worker, 0, "no helper process: '%s'", children.c_str());
  std::string cmdline = read_file("/proc/" + std::to_string(worker) + "/cmdline");
  cr_assert(cmdline.find("hash-worker") != std::string::npos);
  kill(worker, SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  cr_assert(d.wait_log("password worker exited", 3000));
  Reply r = call(d, "POST", "/api/auth/callback/credentials", "", body_of("owner@example.com", "password123"));
  cr_assert_eq(r.status, 200, "a new helper answers: %s", r.body.c_str());
  cr_assert_eq(call(d, "GET", "/api/health").status, 200);
}

// The hashing pool: CREWSHIP_HASH_WORKERS processes share the sign-ins.
Test(auth, hash_workers_pool) {
  TestDaemon d(with_env({"CREWSHIP_HASH_WORKERS=2"}));
  bootstrap(d, "owner@example.com", "password123");
  std::vector<std::thread> logins;
  for (int i = 0; i < 4; ++i)
    logins.emplace_back([&d] { call(d, "POST", "/api/auth/callback/credentials", "", body_of("owner@example.com", "password123")); });
  for (auto& t : logins) t.join();
  std::string children = read_file("/proc/" + std::to_string(d.pid) + "/task/" + std::to_string(d.pid) + "/children");
  int workers = 0;
  std::istringstream pids(children);
  for (int pid; pids >> pid;)
    if (read_file("/proc/" + std::to_string(pid) + "/cmdline").find("hash-worker") != std::string::npos) ++workers;
  cr_assert_eq(workers, 2, "children: '%s'", children.c_str());
}

// Issue: the hash queue was unbounded, so 150 anonymous sign-ins delayed a
// real user's by 12.8 s. Beyond CREWSHIP_HASH_QUEUE a sign-in is refused at
// once with 503, never queued.
Test(auth, hash_queue_is_bounded) {
  TestDaemon d(with_env({"CREWSHIP_HASH_WORKERS=1", "CREWSHIP_HASH_QUEUE=2", "CREWSHIP_LOGIN_MAX_FAILURES=1000"}));
  bootstrap(d, "owner@example.com", "password123");
  std::atomic<int> refused{0}, other{0};
  std::vector<std::thread> burst;
  for (int i = 0; i < 24; ++i)
    burst.emplace_back([&, i] {
      std::string who = "nobody" + std::to_string(i) + "@example.com";
      Reply r = call(d, "POST", "/api/auth/callback/credentials", "", body_of(who, "wrong-password"));
      if (r.status == 503) ++refused;
      else if (r.status != 401) ++other;
    });
  for (auto& t : burst) t.join();
  cr_assert_gt(refused.load(), 0, "24 sign-ins at once with a queue of 2: none refused");
  cr_assert_eq(other.load(), 0);
  Reply ok = call(d, "POST", "/api/auth/callback/credentials", "", body_of("owner@example.com", "password123"));
  cr_assert_eq(ok.status, 200, "%s", ok.body.c_str());
}

// Issue: the overview creates a CLI token with no body at all; it gets a
// default name, cli-<date>.
Test(auth, cli_token_without_a_body) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  for (const char* body : {"", "{}"}) {
    Reply unnamed = call(d, "POST", "/api/v1/auth/cli-token", owner.token, body);
    cr_assert_eq(unnamed.status, 201, "body '%s': %s", body, unnamed.body.c_str());
    std::string name = json_of(unnamed)["name"].GetString();
    cr_assert(name.size() == 14 && name.rfind("cli-20", 0) == 0, "%s", name.c_str());
  }
  cr_assert_eq(call(d, "POST", "/api/v1/auth/cli-token", owner.token, R"({"name":null})").status, 400);
}

// Issue: 60 sign-ins at once gave 59 x 401 and then a 200 with the right
// password: every one was checked before any failure was counted. Checks
// under way now count against the lockout, so no guess beyond it is checked;
// a burst of 100 keeps the daemon under 64 MiB. (The per-address rate is
// opened wide here: this is about the lockout.)
Test(auth, lockout_holds_under_a_burst) {
  TestDaemon d(api_options({"CREWSHIP_LOGIN_MAX_FAILURES=3", "CREWSHIP_LOGIN_LOCKOUT=60s",
                            "CREWSHIP_LOGIN_RATE=1000000"}));
  bootstrap(d, "owner@example.com", "password123");
  std::atomic<int> checked{0}, refused{0}, other{0};
  std::vector<std::thread> burst;
  for (int i = 0; i < 100; ++i)
    burst.emplace_back([&] {
      Reply r = call(d, "POST", "/api/auth/callback/credentials", "", body_of("owner@example.com", "wrong-guess"));
      if (r.status == 401) ++checked;
      else if ((r.status == 429 || r.status == 503) && r.header("Retry-After")) ++refused;
      else ++other;
    });
  // Once the burst is under way (a check takes tens of milliseconds).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Reply right = call(d, "POST", "/api/auth/callback/credentials", "", body_of("owner@example.com", "password123"));
  for (auto& t : burst) t.join();
  cr_assert_leq(checked.load(), 3, "guesses checked: %d", checked.load());
  cr_assert_eq(checked.load() + refused.load(), 100, "other answers: %d", other.load());
  cr_assert(right.status == 429 || right.status == 503, "the right password during the burst: %d %s", right.status,
            right.body.c_str());
  cr_assert(right.header("Retry-After").has_value());
  std::string status = read_file("/proc/" + std::to_string(d.pid) + "/status");
  size_t at = status.find("VmHWM:");
  cr_assert_neq(at, std::string::npos);
  long peak_kb = std::stol(status.substr(at + 6));
  cr_log_info("burst of 100: %d checked, %d refused, peak RSS %ld kB", checked.load(), refused.load(), peak_kb);
  cr_assert_lt(peak_kb, 64 * 1024, "peak RSS %ld kB", peak_kb);
}

namespace {

// A sign-in sent from a given loopback address (127.0.0.0/8 is all local).
Reply login_from(const TestDaemon& d, const char* from, std::string_view email, std::string_view password) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert_geq(fd, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, from, &local.sin_addr);
  cr_assert_eq(bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local), 0, "bind %s", from);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(d.port));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  cr_assert_eq(connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  Client c(fd);
  std::string body = body_of(email, password);
  c.send("POST /api/auth/callback/credentials HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  auto r = c.read(10000);
  cr_assert(r.has_value(), "no answer from %s", from);
  return *r;
}

int64_t elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

// Each client address may try CREWSHIP_LOGIN_RATE sign-ins a minute (a burst
// of half of that, at least 5); beyond, 429 with Retry-After, while another
// address signs in as usual.
Test(auth, sign_in_rate_per_address) {
  TestDaemon d(api_options({"CREWSHIP_LOGIN_RATE=6"}));
  bootstrap(d, "owner@example.com", "password123");
  int refused = 0, checked = 0;
  std::string retry;
  for (int i = 0; i < 9; ++i) {
    Reply r = login_from(d, "127.0.0.1", "nobody" + std::to_string(i) + "@example.com", "wrong-password");
    if (r.status == 401) ++checked;
    if (r.status == 429) {
      ++refused;
      retry = r.header("Retry-After").value_or("");
      cr_assert(json_of(r)["detail"].GetString() == std::string("too many sign-ins from this address; try again later"));
    }
  }
  cr_assert_eq(checked, 5, "the burst: %d checked", checked);
  cr_assert_eq(refused, 4);
  cr_assert(!retry.empty() && std::stoi(retry) >= 1 && std::stoi(retry) <= 10, "Retry-After %s", retry.c_str());
  Reply other = login_from(d, "127.0.0.2", "owner@example.com", "password123");
  cr_assert_eq(other.status, 200, "another address: %d %s", other.status, other.body.c_str());
  cr_assert_eq(login_from(d, "127.0.0.1", "owner@example.com", "password123").status, 429, "still refused");
}

// A queued check that waited beyond CREWSHIP_HASH_WAIT is answered 503 and
// never started; the queue drains and the next sign-in works.
Test(auth, queued_check_has_a_deadline) {
  TestDaemon d(api_options({"CREWSHIP_HASH_WORKERS=1", "CREWSHIP_HASH_WAIT=100ms", "CREWSHIP_LOGIN_RATE=1000000",
                            "CREWSHIP_LOGIN_MAX_FAILURES=1000"}));
  bootstrap(d, "owner@example.com", "password123");
  std::atomic<int> late{0}, checked{0}, other{0};
  std::vector<std::thread> burst;
  for (int i = 0; i < 12; ++i)
    burst.emplace_back([&, i] {
      Reply r = call(d, "POST", "/api/auth/callback/credentials", "",
                     body_of("nobody" + std::to_string(i) + "@example.com", "wrong-password"));
      if (r.status == 401) ++checked;
      else if (r.status == 503 && r.body.find("waited too long") != std::string::npos && r.header("Retry-After")) ++late;
      else ++other;
    });
  for (auto& t : burst) t.join();
  cr_assert_gt(late.load(), 0, "12 checks on one worker within 100 ms: %d checked", checked.load());
  cr_assert_gt(checked.load(), 0);
  cr_assert_eq(other.load(), 0);
  auto start = std::chrono::steady_clock::now();
  Reply ok = call(d, "POST", "/api/auth/callback/credentials", "", body_of("owner@example.com", "password123"));
  cr_assert_eq(ok.status, 200, "%s", ok.body.c_str());
  cr_assert_lt(elapsed_ms(start), 2000, "the expired checks were skipped, not run");
}

// An unknown email, a wrong password and a locked account take the same
// time: each costs one password check (a locked account's against a dummy
// hash), so timing does not tell which accounts exist or are locked.
Test(auth, sign_in_timing_is_uniform) {
  TestDaemon d(api_options({"CREWSHIP_LOGIN_MAX_FAILURES=6", "CREWSHIP_LOGIN_LOCKOUT=60s",
                            "CREWSHIP_LOGIN_RATE=1000000"}));
  bootstrap(d, "owner@example.com", "password123");
  signup(d, "locked@example.com", "password123");
  for (int i = 0; i < 6; ++i)
    call(d, "POST", "/api/auth/callback/credentials", "", body_of("locked@example.com", "wrong-password"));
  call(d, "POST", "/api/auth/callback/credentials", "", body_of("warm@example.com", "wrong-password"));  // dummy hash
  auto median_ms = [&](const std::string& email, int expect) {
    std::vector<int64_t> took;
    for (int i = 0; i < 5; ++i) {
      auto start = std::chrono::steady_clock::now();
      Reply r = call(d, "POST", "/api/auth/callback/credentials", "", body_of(email, "wrong-password"));
      took.push_back(elapsed_ms(start));
      cr_assert_eq(r.status, expect, "%s: %d %s", email.c_str(), r.status, r.body.c_str());
    }
    std::sort(took.begin(), took.end());
    return std::max<int64_t>(took[2], 1);
  };
  int64_t unknown = median_ms("nobody@example.com", 401);
  int64_t wrong = median_ms("owner@example.com", 401);
  int64_t lock = median_ms("locked@example.com", 429);
  cr_log_info("medians: unknown %lld ms, wrong %lld ms, locked %lld ms", static_cast<long long>(unknown),
              static_cast<long long>(wrong), static_cast<long long>(lock));
  int64_t lo = std::min({unknown, wrong, lock}), hi = std::max({unknown, wrong, lock});
  cr_assert_leq(hi, 3 * lo, "medians: unknown %lld ms, wrong %lld ms, locked %lld ms", static_cast<long long>(unknown),
                static_cast<long long>(wrong), static_cast<long long>(lock));
  cr_assert_geq(lock, unknown / 2, "a locked account is not answered sooner");
}

// A password longer than any allowed one, sent as a form, is refused with 400
// and never reaches (and ends) a hashing worker.
Test(auth, overlong_form_password) {
  TestDaemon d(api_options({"CREWSHIP_HASH_WORKERS=1"}));
  bootstrap(d, "owner@example.com", "password123");
  auto csrf = request_tcp(d.port, "GET /api/auth/csrf HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string token = json_of(*csrf)["csrfToken"].GetString();
  std::string cookie = cookie_of(*csrf).substr(0, cookie_of(*csrf).find(';'));
  std::string fields = "email=owner%40example.com&password=" + std::string(70000, 'x') + "&csrfToken=" + token;
  auto r = request_tcp(d.port, "POST /api/auth/callback/credentials HTTP/1.1\r\nHost: t\r\n"
                               "Content-Type: application/x-www-form-urlencoded\r\nCookie: " + cookie +
                               "\r\nContent-Length: " + std::to_string(fields.size()) + "\r\n\r\n" + fields);
  cr_assert(r.has_value());
  cr_assert_eq(r->status, 400, "%s", r->body.c_str());
  cr_assert(!d.wait_log("password worker exited", 300));
  cr_assert_eq(call(d, "POST", "/api/auth/callback/credentials", "", body_of("owner@example.com", "password123")).status, 200);
}

// Issue: a text/plain POST carrying the session cookie created a crew. A
// mutation signed in by the cookie must be JSON (or bodiless without a
// Content-Type) and come from this site; bearer tokens are not checked.
Test(auth, cookie_mutations_need_json_from_this_site) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string path = "/api/v1/crews?workspace_id=" + owner.workspace_id;
  std::string cookie = "Cookie: authjs.session-token=" + owner.token + "\r\n";
  auto post = [&](const std::string& type, const std::string& extra, const std::string& slug,
                  const std::string& auth = "") {
    std::string body = R"({"name":"Crew )" + slug + R"(","slug":")" + slug + R"("})";
    std::string raw = "POST " + path + " HTTP/1.1\r\nHost: test\r\n" + (auth.empty() ? cookie : auth) + extra +
                      (type.empty() ? "" : "Content-Type: " + type + "\r\n") +
                      "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    auto r = request_tcp(d.port, raw);
    cr_assert(r.has_value());
    return *r;
  };
  Reply plain = post("text/plain", "", "plain");
  cr_assert_eq(plain.status, 415, "%d %s", plain.status, plain.body.c_str());
  cr_assert_eq(plain.header("Content-Type").value_or(""), "application/problem+json");
  cr_assert_eq(post("application/x-www-form-urlencoded", "", "form").status, 415);
  cr_assert_eq(post("", "", "untyped").status, 415, "a body without a type");
  Reply cross = post("application/json", "Origin: https://evil.example\r\n", "cross");
  cr_assert_eq(cross.status, 403, "%d %s", cross.status, cross.body.c_str());
  cr_assert_eq(post("application/json", "Origin: http://test.evil.example\r\n", "cross2").status, 403);
  cr_assert_eq(post("application/json", "Origin: null\r\n", "null").status, 403);
  cr_assert_eq(post("application/json", "Sec-Fetch-Site: cross-site\r\n", "fetch").status, 403);
  cr_assert_eq(post("application/json", "Sec-Fetch-Site: same-site\r\n", "sibling").status, 403);
  // Nothing of those was created.
  cr_assert_eq(list_of(d, path, owner.token).Size(), 0u);

  cr_assert_eq(post("application/json; charset=utf-8", "Origin: http://test\r\nSec-Fetch-Site: same-origin\r\n",
                    "same").status, 201);
  cr_assert_eq(post("application/json", "", "cli").status, 201, "no Origin: not a browser");
  cr_assert_eq(post("text/plain", "", "bearer", "Authorization: Bearer " + owner.token + "\r\n").status, 201,
               "bearer tokens are exempt");
  // Bodiless: no Content-Type is fine, a form's is not; reads are never checked.
  std::string crew = json_of(call(d, "GET", path, owner.token))[0]["id"].GetString();
  std::string del = "DELETE /api/v1/crews/" + crew + "?workspace_id=" + owner.workspace_id + " HTTP/1.1\r\nHost: test\r\n" +
                    cookie;
  cr_assert_eq(request_tcp(d.port, del + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n\r\n")->status,
               415);
  Reply gone = *request_tcp(d.port, del + "Origin: http://test\r\n\r\n");
  cr_assert(gone.status == 200 || gone.status == 204, "%d %s", gone.status, gone.body.c_str());
  cr_assert_eq(request_tcp(d.port, "GET " + path + " HTTP/1.1\r\nHost: test\r\nOrigin: https://evil.example\r\n" + cookie +
                                       "\r\n")->status, 200);
}
