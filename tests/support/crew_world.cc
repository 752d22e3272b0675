#include "tests/support/crew_world.h"

#include <chrono>
#include <thread>

#include <criterion/criterion.h>

#include "tests/support/engine.h"

namespace crewship::test {

std::string q(const World& w) { return "?workspace_id=" + w.owner.workspace_id; }

std::string create(const World& w, const std::string& path, const std::string& body) {
  Reply r = call(*w.d, "POST", path + q(w), w.owner.token, body);
  cr_assert_eq(r.status, 201, "POST %s: %d %s", path.c_str(), r.status, r.body.c_str());
  return json_of(r)["id"].GetString();
}

World make_world(const std::string& engine, const std::string& slug, std::vector<std::string> more_env) {
  World w;
  w.engine = engine;
  cr_assert(!engine.empty(), "this engine is not available on this machine");
  std::vector<std::string> env = {"DOCKER_HOST=unix://" + engine, "CREWSHIP_SANDBOX_IMAGE=" + engines().image,
                                  "CREWSHIP_CONTAINER_NETWORK=none", "CREWSHIP_ENGINE_TIMEOUT=5s",
                                  "CREWSHIP_STOP_GRACE=2s"};
  env.insert(env.end(), more_env.begin(), more_env.end());
  w.d = std::make_unique<TestDaemon>(api_options(std::move(env)));
  cr_assert(w.d->started());
  w.owner = bootstrap(*w.d);
  w.crew = create(w, "/api/v1/crews", R"({"name":"Crew","slug":"crew-)" + slug + R"("})");
  w.slug = slug;
  w.agent = create(w, "/api/v1/agents",
                   R"({"name":"Agent","slug":")" + slug + R"(","crew_id":")" + w.crew + R"("})");
  return w;
}

Reply ipc(const World& w, const std::string& method, const std::string& path, const std::string& body) {
  std::string raw = method + " " + path + " HTTP/1.1\r\nHost: t\r\nX-Internal-Token: " + w.d->token + "\r\n";
  if (method == "POST") raw += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  auto r = request_unix(w.d->socket, raw + "\r\n" + body, 30000);
  cr_assert(r.has_value(), "no answer on the IPC socket to %s", path.c_str());
  return *r;
}

Reply get(const World& w, const std::string& path) {
  return call(*w.d, "GET", path + (path.find('?') == std::string::npos ? q(w) : "&" + q(w).substr(1)), w.owner.token);
}

std::string container_id(const World& w) {
  Reply r = call(*w.d, "POST", "/api/v1/crews/" + w.crew + "/container/start" + q(w), w.owner.token);
  cr_assert_eq(r.status, 200, "container start: %d %s", r.status, r.body.c_str());
  auto doc = json_of(r);
  cr_assert_str_eq(doc["state"].GetString(), "running");
  return doc["container_id"].GetString();
}

rapidjson::Document wait_run(const World& w, const std::string& agent, const std::string& run_id, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 100) {
    auto runs = json_of(get(w, "/api/v1/agents/" + agent + "/runs"));
    for (const auto& x : runs.GetArray()) {
      if (run_id == x["id"].GetString() && std::string(x["status"].GetString()) != "RUNNING") {
        rapidjson::Document one;
        one.CopyFrom(x, one.GetAllocator());
        return one;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  cr_assert_fail("run %s did not end", run_id.c_str());
  return {};
}

rapidjson::Document run(const World& w, const std::string& cmd_json, int timeout_ms) {
  Reply r = ipc(w, "POST", "/api/v1/internal/agents/" + w.agent + "/start", R"({"cmd":)" + cmd_json + "}");
  cr_assert_eq(r.status, 202, "start: %d %s", r.status, r.body.c_str());
  return wait_run(w, w.agent, json_of(r)["run_id"].GetString(), timeout_ms);
}

}  // namespace crewship::test
