// Agent resources under load:
//   1. chat-message paging at 1,000,000 messages in one chat: latency of
//      GET /api/v1/chats/{id}/messages?offset=999000&limit=50 (and offset=0),
//      sequential on one keep-alive connection. The messages are written
//      straight into the database in one transaction, as a long-lived chat
//      would have left them (the IPC append path is the writer's, measured
//      by the presence benchmark).
//   2. webhook trigger throughput: sequential triggers with valid secrets in
//      rounds of one per agent (AGENTS agents of one crew), each starting a
//      run of the adapter in the crew container (needs an engine), the next
//      round once every run ended: 202s per second of triggering, their
//      latency, and runs per second end to end.
//   resources [ENGINE_SOCKET [IMAGE]] [--messages N] [--pages N] [--triggers N] [--agents N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sqlite3.h>
#include <unistd.h>

#include "tests/bench/stats.h"
#include "tests/support/api.h"

using namespace crewship::test;
using Clock = std::chrono::steady_clock;
using crewship::bench::Stats;
using crewship::bench::stats_of;

namespace {

std::string id_of(const Reply& r) {
  if (r.status != 201) {
    std::fprintf(stderr, "%d %s\n", r.status, r.body.c_str());
    std::exit(1);
  }
  return json_of(r)["id"].GetString();
}

// One request on a keep-alive connection; the answer, or exit.
Reply roundtrip(Client& c, const std::string& raw) {
  if (!c.send(raw)) std::exit(1);
  auto r = c.read(20000);
  if (!r) {
    std::fprintf(stderr, "no answer\n");
    std::exit(1);
  }
  return *r;
}

void fill_chat(const TestDaemon& d, const std::string& chat, long n) {
  sqlite3* db = nullptr;
  sqlite3_open_v2((d.dir + "/crewship.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  sqlite3_busy_timeout(db, 10000);
  std::string sql =
      "BEGIN; WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < " + std::to_string(n) +
      ") INSERT INTO chat_messages (id, chat_id, seq, role, content, created_at)"
      " SELECT 'm' || n, '" + chat + "', n, CASE n % 2 WHEN 0 THEN 'assistant' ELSE 'user' END,"
      " 'message ' || n || ': ' || substr(hex(randomblob(60)), 1, 100), '2026-01-01T00:00:00Z' FROM s; COMMIT;";
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "fill: %s\n", err);
    std::exit(1);
  }
  sqlite3_close(db);
}

void chat_paging(long messages, int pages) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string q = "?workspace_id=" + owner.workspace_id;
  std::string agent = id_of(call(d, "POST", "/api/v1/agents" + q, owner.token, R"({"name":"Chatty","slug":"chatty"})"));
  std::string chat = id_of(call(d, "POST", "/api/v1/agents/" + agent + "/chats" + q, owner.token, "{}"));
  auto t0 = Clock::now();
  fill_chat(d, chat, messages);
  std::printf("chat paging: %ld messages written in %.1f s\n", messages,
              std::chrono::duration<double>(Clock::now() - t0).count());

  Client api(connect_tcp(d.port));
  for (long offset : {0L, messages / 2, messages - 1000}) {
    std::string raw = "GET /api/v1/chats/" + chat + "/messages?offset=" + std::to_string(offset) +
                      "&limit=50 HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer " + owner.token + "\r\n\r\n";
    std::vector<double> ms;
    for (int i = 0; i < pages; ++i) {
      auto s = Clock::now();
      Reply r = roundtrip(api, raw);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
      if (i == 0) {
        auto doc = json_of(r);
        if (r.status != 200 || doc["messages"].Size() != 50 || doc["messages"][0]["seq"].GetInt64() != offset + 1) {
          std::fprintf(stderr, "wrong page at offset %ld: %d\n", offset, r.status);
          std::exit(1);
        }
      }
    }
    Stats st = stats_of(ms);
    std::printf("  offset=%-7ld limit=50  %d pages  p50 %.3f  p99 %.3f  mean %.3f ms\n", offset, pages, st.p50,
                st.p99, st.mean);
  }
}

void webhook_throughput(const std::string& engine, const std::string& image, int triggers, int agents) {
  TestDaemon d(api_options({"DOCKER_HOST=unix://" + engine, "CREWSHIP_SANDBOX_IMAGE=" + image,
                            "CREWSHIP_CONTAINER_NETWORK=none", "CREWSHIP_WEBHOOK_RATE=1000000",
                            "CREWSHIP_ENGINE_MAX_INFLIGHT=256", "CREWSHIP_ENGINE_MAX_INFLIGHT_PER_CREW=256"}));
  Session owner = bootstrap(d);
  std::string q = "?workspace_id=" + owner.workspace_id;
  std::string crew = id_of(call(d, "POST", "/api/v1/crews" + q, owner.token, R"({"name":"Hooks","slug":"hooks"})"));
  if (call(d, "POST", "/api/v1/crews/" + crew + "/container/start" + q, owner.token).status != 200) std::exit(1);
  std::vector<std::pair<std::string, std::string>> hooks;  // agent, secret
  for (int i = 0; i < agents; ++i) {
    std::string agent = id_of(call(d, "POST", "/api/v1/agents" + q, owner.token,
                                   R"({"name":"Hook )" + std::to_string(i) + R"(","slug":"hook-)" +
                                       std::to_string(i) + R"(","crew_id":")" + crew + R"("})"));
    Reply s = call(d, "POST", "/api/v1/agents/" + agent + "/webhook-secret" + q, owner.token);
    hooks.emplace_back(agent, json_of(s)["secret"].GetString());
  }
  std::string body = R"({"action":"opened","pull_request":{"number":42,"title":"Fix the flaky deploy"}})";
  Client api(connect_tcp(d.port));
  std::string running = "GET /api/v1/runs" + q + "&status=RUNNING&limit=1 HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer " +
                        owner.token + "\r\n\r\n";
  // Rounds of one trigger per agent, each round once every run of the last
  // one ended: the triggers' own time, and the runs' end to end.
  std::vector<double> accepted;
  int busy = 0, other = 0;
  double triggering = 0;
  auto t0 = Clock::now();
  for (int i = 0; i < triggers; ++i) {
    if (i > 0 && i % agents == 0) {
      while (json_of(roundtrip(api, running)).Size() > 0) usleep(2000);
    }
    const auto& [agent, secret] = hooks[static_cast<size_t>(i % agents)];
    std::string raw = "POST /api/v1/webhooks/" + crew + "/" + agent + "/trigger HTTP/1.1\r\nHost: b\r\n"
                      "X-Webhook-Secret: " + secret + "\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body;
    auto s = Clock::now();
    Reply r = roundtrip(api, raw);
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - s).count();
    triggering += ms / 1000;
    if (r.status == 202) {
      accepted.push_back(ms);
    } else if (r.status == 409) {
      ++busy;
    } else {
      ++other;
      if (other == 1) std::fprintf(stderr, "first unexpected answer: %d %s\n", r.status, r.body.c_str());
    }
  }
  while (json_of(roundtrip(api, running)).Size() > 0) usleep(2000);
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (accepted.empty()) std::exit(1);
  Stats st = stats_of(accepted);
  std::printf("webhook triggers: %d sequential, rounds of %d agents: %zu started, %d agent busy (409), %d other\n"
              "  triggers alone %.0f/s (202 latency p50 %.2f  p99 %.2f  mean %.2f ms); runs end to end %.1f/s\n",
              triggers, agents, accepted.size(), busy, other, accepted.size() / triggering, st.p50, st.p99, st.mean,
              accepted.size() / secs);
}

}  // namespace

int main(int argc, char** argv) {
  std::string engine, image = "crewship-sandbox:latest";
  long messages = 1'000'000;
  int pages = 2000, triggers = 500, agents = 16;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::atol(argv[++i]) : 0L; };
    if (a == "--messages") messages = next();
    else if (a == "--pages") pages = static_cast<int>(next());
    else if (a == "--triggers") triggers = static_cast<int>(next());
    else if (a == "--agents") agents = static_cast<int>(next());
    else if (engine.empty()) engine = a;
    else image = a;
  }
  if (messages < 2000 || pages < 1 || triggers < 1 || agents < 1) {
    std::fprintf(stderr, "usage: %s [ENGINE_SOCKET [IMAGE]] [--messages N>=2000] [--pages N] [--triggers N] [--agents N]\n",
                 argv[0]);
    return 2;
  }
  chat_paging(messages, pages);
  if (engine.empty()) {
    std::printf("webhook triggers: skipped (no ENGINE_SOCKET)\n");
  } else {
    webhook_throughput(engine, image, triggers, agents);
  }
  return 0;
}
