// Latency of the container proxies: git-log and container-files through
// crewshipd, next to the same exec (create, start with the output stream,
// inspect) issued directly to the engine. Sequential requests, so each
// figure is one request's whole path; crewshipd answers on a keep-alive
// connection, the direct execs open a connection per call as the CLI does.
//   proxies ENGINE_SOCKET [IMAGE] [N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <rapidjson/document.h>
#include <unistd.h>

#include "container/listing.h"
#include "tests/bench/stats.h"
#include "tests/support/api.h"
#include "tests/support/engine.h"

using namespace crewship::test;
using Clock = std::chrono::steady_clock;
using crewship::bench::Stats;
using crewship::bench::stats_of;

namespace {

template <typename F>
std::vector<double> time_n(int n, F&& f) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return ms;
}

std::string str(const rapidjson::Value& v, const char* k) { return v[k].GetString(); }

void report(const char* what, const Stats& via, const Stats& direct) {
  std::printf("%-16s crewshipd p50 %6.2f  p90 %6.2f  p99 %6.2f  mean %6.2f ms\n", what, via.p50, via.p90,
              via.p99, via.mean);
  std::printf("%-16s engine    p50 %6.2f  p90 %6.2f  p99 %6.2f  mean %6.2f ms\n", "", direct.p50, direct.p90,
              direct.p99, direct.mean);
  std::printf("%-16s overhead  p50 %+5.1f%%  mean %+5.1f%%\n", "", 100 * (via.p50 / direct.p50 - 1),
              100 * (via.mean / direct.mean - 1));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s ENGINE_SOCKET [IMAGE] [N]\n", argv[0]);
    return 2;
  }
  std::string engine = argv[1];
  std::string image = argc > 2 ? argv[2] : "crewship-sandbox:latest";
  int n = argc > 3 ? std::atoi(argv[3]) : 200;

  TestDaemon d(api_options({"DOCKER_HOST=unix://" + engine, "CREWSHIP_SANDBOX_IMAGE=" + image,
                            "CREWSHIP_CONTAINER_NETWORK=none"}));
  Session owner = bootstrap(d);
  std::string q = "?workspace_id=" + owner.workspace_id;
  std::string crew = str(json_of(call(d, "POST", "/api/v1/crews" + q, owner.token,
                                      R"({"name":"Bench","slug":"bench"})")), "id");
  std::string agent = str(json_of(call(d, "POST", "/api/v1/agents" + q, owner.token,
                                       R"({"name":"Coder","slug":"coder","crew_id":")" + crew + R"("})")), "id");
  std::string container = str(json_of(call(d, "POST", "/api/v1/crews/" + crew + "/container/start" + q,
                                           owner.token)), "container_id");
  // A repository of 30 commits and a home of 60 files.
  std::string setup = R"({"cmd":["sh","-c","git init -q . && for i in $(seq 1 30); do git -c user.name=B -c user.email=b@c commit -q --allow-empty -m \"c $i\"; done; for i in $(seq 1 20); do mkdir -p /home/agent/d$i && touch /home/agent/d$i/a /home/agent/d$i/b; done"]})";
  std::string raw = "POST /api/v1/internal/agents/" + agent + "/start HTTP/1.1\r\nHost: b\r\nX-Internal-Token: " +
                    d.token + "\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(setup.size()) + "\r\n\r\n" + setup;
  request_unix(d.socket, raw);
  for (int i = 0; i < 100; ++i) {
    auto runs = json_of(call(d, "GET", "/api/v1/agents/" + agent + "/runs" + "?workspace_id=" + owner.workspace_id,
                             owner.token));
    if (runs.Size() > 0 && std::string(runs[0]["status"].GetString()) != "RUNNING") break;
    usleep(100'000);
  }

  Client api(connect_tcp(d.port));
  auto via = [&](const std::string& path) {
    api.send("GET " + path + " HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer " + owner.token + "\r\n\r\n");
    auto r = api.read(10000);
    if (!r || r->status != 200) {
      std::fprintf(stderr, "%s: %d\n", path.c_str(), r ? r->status : 0);
      std::exit(1);
    }
  };
  auto direct = [&](const std::vector<std::string>& cmd, const std::string& workdir) {
    std::string out = engine_exec(engine, container, cmd, "1001:1001", workdir);
    if (out.empty()) {
      std::fprintf(stderr, "direct exec gave no output\n");
      std::exit(1);
    }
  };

  std::string git = "/api/v1/agents/" + agent + "/git-log" + q;
  std::string files = "/api/v1/agents/" + agent + "/container-files" + q;
  auto git_cmd = crewship::container::git_log_command(20, "");
  auto files_cmd = crewship::container::list_files_command("/home");
  for (int i = 0; i < 20; ++i) via(git), via(files), direct(git_cmd, "/output/coder"), direct(files_cmd, "/");

  // Interleaved rounds, so drift on the machine touches both sides alike.
  std::vector<double> via_git, direct_git, via_files, direct_files;
  // Which side goes first alternates too.
  for (int round = 0; round < 4; ++round) {
    std::vector<double> a, b, c, e;
    if (round % 2 == 0) {
      a = time_n(n / 4, [&] { via(git); });
      b = time_n(n / 4, [&] { direct(git_cmd, "/output/coder"); });
      c = time_n(n / 4, [&] { via(files); });
      e = time_n(n / 4, [&] { direct(files_cmd, "/"); });
    } else {
      e = time_n(n / 4, [&] { direct(files_cmd, "/"); });
      c = time_n(n / 4, [&] { via(files); });
      b = time_n(n / 4, [&] { direct(git_cmd, "/output/coder"); });
      a = time_n(n / 4, [&] { via(git); });
    }
    via_git.insert(via_git.end(), a.begin(), a.end());
    direct_git.insert(direct_git.end(), b.begin(), b.end());
    via_files.insert(via_files.end(), c.begin(), c.end());
    direct_files.insert(direct_files.end(), e.begin(), e.end());
  }
  std::printf("%d sequential requests each\n", n);
  report("git-log", stats_of(via_git), stats_of(direct_git));
  report("container-files", stats_of(via_files), stats_of(direct_files));
  return 0;
}
