// The activity feed on a large workspace: JOURNAL presence transitions (a
// million by default) of 100 agents in 20 crews, plus audit rows and runs
// (started and finished), written straight into the database of a running
// crewshipd in one transaction, as a long-lived instance would have left
// them. Then, sequential on one keep-alive connection:
//   1. the first page (limit 50), of the workspace and of one crew;
//   2. a walk to the entry 900,000 deep by next_before (pages of 200), and
//      that deep page (limit 50) asked again and again;
//   3. walks of 100 pages of 50 from the top, following next_before;
//   4. for comparison, the journal's page at that depth by OFFSET, in SQL.
// Each prints requests/s and the latency p50/p99/mean in ms. crewshipd runs
// on core 0 and this program on core 1 when the machine has two cores.
//   activity [--journal N] [--audit N] [--runs N] [--repeat N] [--walks N]
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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

void print(const char* what, size_t n, const Stats& s) {
  std::printf("  %-44s %6zu req  %8.0f req/s  p50 %7.3f  p99 %7.3f  mean %7.3f ms\n", what, n, 1000.0 / s.mean, s.p50, s.p99,
              s.mean);
}

std::string id_of(const Reply& r) {
  if (r.status != 201) {
    std::fprintf(stderr, "%d %s\n", r.status, r.body.c_str());
    std::exit(1);
  }
  return json_of(r)["id"].GetString();
}

void pin(pid_t pid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(pid, sizeof set, &set);
}

// The rows, spread over the last hours before now, 1 ms apart per source.
void fill(const TestDaemon& d, const std::string& ws, long journal, long audit, long runs) {
  sqlite3* db = nullptr;
  sqlite3_open_v2((d.dir + "/crewship.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  sqlite3_busy_timeout(db, 30000);
  // n ms before now as RFC 3339 with nanoseconds, of row n of a series.
  auto at = [](const std::string& n) {
    return std::string("strftime('%Y-%m-%dT%H:%M:%S', (unixepoch() * 1000 - ") + n + ") / 1000, 'unixepoch')"
           " || printf('.%03d000000Z', (unixepoch() * 1000 - " + n + ") % 1000)";
  };
  std::string series = "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ";
  std::string agents = "(SELECT id, crew_id, row_number() OVER (ORDER BY id) - 1 AS k FROM agents WHERE workspace_id = '" +
                       ws + "')";
  std::string sql =
      "BEGIN;" + series + std::to_string(journal) +
      ") INSERT INTO journal(workspace_id, crew_id, agent_id, kind, payload, created_at)"
      " SELECT '" + ws + "', a.crew_id, a.id, 'agent.status_change',"
      " json_object('status', CASE n % 3 WHEN 0 THEN 'busy' WHEN 1 THEN 'online' ELSE 'blocked' END,"
      " 'prev', CASE n % 3 WHEN 0 THEN 'online' WHEN 1 THEN 'blocked' ELSE 'busy' END,"
      " 'details', json_object('current_task_id', 'T-' || n)), " + at("(" + std::to_string(journal) + " - n)") +
      " FROM s JOIN " + agents + " a ON a.k = n % 100 ORDER BY n;" +
      series + std::to_string(audit) +
      ") INSERT INTO audit_logs(id, workspace_id, action, target_type, target_id, details, created_at)"
      " SELECT 'au' || n, '" + ws + "', 'agent.update', 'agent', a.id, '{\"field\":\"role_title\"}', " +
      at("(" + std::to_string(audit) + " - n) * 97") + " FROM s JOIN " + agents + " a ON a.k = n % 100 ORDER BY n;" +
      series + std::to_string(runs) +
      ") INSERT INTO agent_runs(id, agent_id, workspace_id, crew_id, cmd, status, exit_code, started_at, ended_at)"
      " SELECT 'run' || n, a.id, '" + ws + "', a.crew_id, '[\"claude\",\"-p\"]', 'SUCCEEDED', 0, " +
      at("(" + std::to_string(runs) + " - n) * 41 + 20") + ", " + at("(" + std::to_string(runs) + " - n) * 41") +
      " FROM s JOIN " + agents + " a ON a.k = n % 100 ORDER BY n; COMMIT;";
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "fill: %s\n", err);
    std::exit(1);
  }
  // As a long-lived instance's would be, the rows are in the database file,
  // not in a WAL of hundreds of MB that every read looks pages up in.
  if (sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, &err) != SQLITE_OK)
    std::fprintf(stderr, "checkpoint: %s\n", err);
  sqlite3_close(db);
}

// For comparison: the journal's page as deep by OFFSET, in SQL on a
// connection of this program (what a page would cost without the cursor).
void offset_page(const TestDaemon& d, const std::string& ws, long deep) {
  sqlite3* db = nullptr;
  sqlite3_open_v2((d.dir + "/crewship.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  std::string sql = "SELECT id, payload, created_at FROM journal WHERE workspace_id = '" + ws +
                    "' AND kind = 'agent.status_change' ORDER BY created_at DESC, id DESC LIMIT 50 OFFSET " +
                    std::to_string(deep);
  std::vector<double> ms;
  for (int i = 0; i < 5; ++i) {
    auto s = Clock::now();
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) std::exit(1);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
  }
  sqlite3_close(db);
  Stats st = stats_of(ms);
  std::printf("  %-44s %6d qry  p50 %7.1f  mean %7.1f ms (the journal alone, in SQL)\n", "the same depth by OFFSET",
              5, st.p50, st.mean);
}

struct Feed {
  Client* api;
  std::string token, base;
  // One page; its entries and cursor, or exit.
  size_t get(const std::string& query, std::string* next) {
    std::string raw = "GET " + base + query + " HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer " + token + "\r\n\r\n";
    if (!api->send(raw)) std::exit(1);
    auto r = api->read(20000);
    if (!r || r->status != 200) {
      std::fprintf(stderr, "%s: %d %s\n", query.c_str(), r ? r->status : 0, r ? r->body.c_str() : "no answer");
      std::exit(1);
    }
    auto doc = json_of(*r);
    *next = doc["next_before"].IsString() ? doc["next_before"].GetString() : "";
    return doc["entries"].Size();
  }
  Stats repeat(const std::string& query, int n) {
    std::vector<double> ms;
    std::string next;
    for (int i = 0; i < n; ++i) {
      auto s = Clock::now();
      get(query, &next);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    }
    return stats_of(ms);
  }
};

}  // namespace

int main(int argc, char** argv) {
  long journal = 1'000'000, audit = 20'000, runs = 20'000;
  int repeat = 2000, walks = 20;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::atol(argv[++i]) : -1; };
    if (a == "--journal") journal = next();
    else if (a == "--audit") audit = next();
    else if (a == "--runs") runs = next();
    else if (a == "--repeat") repeat = static_cast<int>(next());
    else if (a == "--walks") walks = static_cast<int>(next());
    else journal = -1;
  }
  if (journal < 1000 || audit < 0 || runs < 0 || repeat < 1 || walks < 1) {
    std::fprintf(stderr, "usage: %s [--journal N>=1000] [--audit N] [--runs N] [--repeat N] [--walks N]\n", argv[0]);
    return 2;
  }
  // Nothing is pruned while it runs.
  TestDaemon d(api_options({"CREWSHIP_JOURNAL_MAX_ROWS=0", "CREWSHIP_JOURNAL_RETENTION=3650d"}));
  Session owner = bootstrap(d);
  std::string q = "?workspace_id=" + owner.workspace_id;
  std::string first_crew;
  for (int c = 0; c < 20; ++c) {
    std::string crew = id_of(call(d, "POST", "/api/v1/crews" + q, owner.token,
                                  R"({"name":"Crew )" + std::to_string(c) + R"(","slug":"crew-)" + std::to_string(c) + R"("})"));
    if (c == 0) first_crew = crew;
    for (int a = 0; a < 5; ++a) {
      std::string slug = "agent-" + std::to_string(c) + "-" + std::to_string(a);
      id_of(call(d, "POST", "/api/v1/agents" + q, owner.token,
                 R"({"name":")" + slug + R"(","slug":")" + slug + R"(","crew_id":")" + crew + R"("})"));
    }
  }
  auto t0 = Clock::now();
  fill(d, owner.workspace_id, journal, audit, runs);
  long total = journal + audit + 2 * runs + 120;  // + the crews' and agents' audit rows
  std::printf("activity: %ld journal rows, %ld audit rows, %ld runs (%ld entries) written in %.1f s\n", journal, audit,
              runs, total, std::chrono::duration<double>(Clock::now() - t0).count());
  if (sysconf(_SC_NPROCESSORS_ONLN) >= 2) {
    pin(d.pid, 0);
    pin(0, 1);
  }

  Client api(connect_tcp(d.port));
  Feed feed{&api, owner.token, "/api/v1/activity" + q};
  std::string next;
  feed.repeat("&limit=50", 200);  // warm the caches
  print("first page, limit=50", repeat, feed.repeat("&limit=50", repeat));
  print("first page of one crew, limit=50", repeat, feed.repeat("&limit=50&crew_id=" + first_crew, repeat));

  const long deep = std::min(900'000L, total - 100);
  std::vector<double> walk_ms;
  long passed = 0;
  std::string cursor;
  while (passed < deep) {
    auto s = Clock::now();
    passed += static_cast<long>(feed.get("&limit=200" + (cursor.empty() ? "" : "&before=" + cursor), &next));
    walk_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    if (next.empty()) {
      std::fprintf(stderr, "the feed ended after %ld entries\n", passed);
      return 1;
    }
    cursor = next;
  }
  char what[80];
  std::snprintf(what, sizeof what, "walk to entry %ld, limit=200", passed);
  print(what, walk_ms.size(), stats_of(walk_ms));
  std::snprintf(what, sizeof what, "deep page (after %ld), limit=50", passed);
  print(what, repeat, feed.repeat("&limit=50&before=" + cursor, repeat));

  std::vector<double> page_ms, walk_total_ms;
  for (int w = 0; w < walks; ++w) {
    std::string before;
    auto start = Clock::now();
    for (int p = 0; p < 100; ++p) {
      auto s = Clock::now();
      size_t n = feed.get("&limit=50" + (before.empty() ? "" : "&before=" + before), &before);
      page_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
      if (n != 50 || before.empty()) {
        std::fprintf(stderr, "page %d of walk %d: %zu entries\n", p, w, n);
        return 1;
      }
    }
    walk_total_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  print("100 pages of 50 from the top, each page", page_ms.size(), stats_of(page_ms));
  Stats whole = stats_of(walk_total_ms);
  std::printf("  %-44s %6d walks  p50 %7.1f  p99 %7.1f  mean %7.1f ms a walk\n", "100 pages of 50, whole walks", walks,
              whole.p50, whole.p99, whole.mean);
  print("first page again, limit=50", repeat, feed.repeat("&limit=50", repeat));
  offset_page(d, owner.workspace_id, passed);
  std::printf("  daemon VmRSS %ld kB\n", rss_kib(d.pid));
  return 0;
}
