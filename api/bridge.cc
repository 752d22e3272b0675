#include "api/bridge.h"

#include <algorithm>

#include "api/common.h"
#include "daemon/ids.h"
#include "daemon/log.h"
#include "store/errors.h"
#include "store/run_store.h"

namespace crewship::api {

void start_bridge(App& app) {
  app.bridge = std::make_unique<Bridge>();
  // Until the probe has spoken, calls go to the first place discovery looks.
  std::string error, socket;
  auto candidates = container::engine_candidates(app.config.docker_host, &error);
  if (!candidates.empty()) socket = candidates.front();
  container::EngineLimits limits;
  limits.timeout_ms = static_cast<uint64_t>(app.config.engine_timeout_ms);
  limits.pool.max_in_flight = static_cast<size_t>(app.config.engine_max_inflight);
  limits.pool.max_in_flight_per_key = static_cast<size_t>(app.config.engine_max_inflight_crew);
  app.bridge->crews = std::make_unique<container::CrewService>(
      app.loop, app.config, app.store, app.presence, container::make_http_engine(app.loop, socket, limits),
      [&app](const std::string& workspace_id, const std::string& crew_id, int64_t generation) {
        return app.internal.crew_token(workspace_id, crew_id, generation);
      },
      [](log::Level level, const std::string& text) { CREWSHIP_LOG(level, "%s", text.c_str()); });
  // Runs that were under way when crewshipd last stopped lost their output.
  write(app, [ended = now_rfc3339_nanos()](store::Connection& c) { return store::mark_lost_runs(c, ended); },
        [](int rc) {
          if (rc != SQLITE_OK) LOG_ERROR("marking lost runs: %s", store::store_failure(rc).cause.c_str());
        });
}

void engine_found(App& app) {
  container::CrewService& c = crews(app);
  if (c.stopped()) return;
  if (app.engine.reachable) c.engine().set_socket_path(app.engine.socket);
  c.follow_events();
}

struct StopRetry {
  uv_timer_t timer;
  App* app;
  AgentRef agent;
  std::string run_id;
  uint64_t next_ms;
};

namespace {

constexpr uint64_t kStopRetryFirstMs = 1000, kStopRetryMaxMs = 60000;

void close_retry(StopRetry* r) {
  r->app->bridge->stop_retries.erase(r->agent.id);
  uv_close(reinterpret_cast<uv_handle_t*>(&r->timer), [](uv_handle_t* h) { delete static_cast<StopRetry*>(h->data); });
}

bool run_lasts(App& app, const AgentRef& agent, const std::string& run_id) {
  auto run = app.bridge->runs.find(agent.id);
  return run != app.bridge->runs.end() && run->second->id == run_id && !crews(app).stopped();
}

void stop_again_after(App& app, const AgentRef& agent, std::string run_id, uint64_t wait_ms) {
  stop_agent_processes(app, agent, [&app, agent, run_id = std::move(run_id), wait_ms](Status st) mutable {
    if (st) return;
    if (!run_lasts(app, agent, run_id)) return;
    LOG_WARN("agent %s: its run %s could not be stopped (%s); asking again in %llu ms", agent.id.c_str(),
             run_id.c_str(), st.problem().detail.c_str(), static_cast<unsigned long long>(wait_ms));
    if (auto old = app.bridge->stop_retries.find(agent.id); old != app.bridge->stop_retries.end())
      close_retry(old->second);
    auto* r = new StopRetry{{}, &app, agent, std::move(run_id), std::min(2 * wait_ms, kStopRetryMaxMs)};
    uv_timer_init(app.loop, &r->timer);
    r->timer.data = r;
    app.bridge->stop_retries[agent.id] = r;
    uv_timer_start(
        &r->timer,
        [](uv_timer_t* t) {
          auto* r = static_cast<StopRetry*>(t->data);
          App& app = *r->app;
          AgentRef agent = r->agent;
          std::string run_id = r->run_id;
          uint64_t next_ms = r->next_ms;
          close_retry(r);
          if (run_lasts(app, agent, run_id)) stop_again_after(app, agent, std::move(run_id), next_ms);
        },
        wait_ms, 0);
  });
}

}  // namespace

void stop_until_gone(App& app, const AgentRef& agent, std::string run_id) {
  stop_again_after(app, agent, std::move(run_id), kStopRetryFirstMs);
}

void stop_bridge(App& app) {
  if (!app.bridge) return;  // crewshipd stopped before it got this far
  Bridge& b = *app.bridge;
  if (b.crews->stopped()) return;
  // Calls and runs under way end now (their callers answer 502), then log
  // followers end their streams; the bridge itself stays until the end, for
  // callbacks that come late.
  b.crews->stop();
  b.logs.clear();
  std::vector<StopRetry*> waiting;
  for (auto& [agent, r] : b.stop_retries) waiting.push_back(r);
  for (StopRetry* r : waiting) close_retry(r);
}

bool bridge_open(App& app, const ExchangePtr& ex) {
  if (!crews(app).stopped()) return true;
  reply_problem(ex, fail(503, "shutting down", 1));
  return false;
}

container::CrewService& crews(App& app) { return *app.bridge->crews; }

container::AgentLog& agent_log(App& app, const AgentRef& agent) {
  auto& log = app.bridge->logs[agent.id];
  if (!log) {
    // Keyed by the agent alone, so that a move to another crew keeps it;
    // older versions kept it under the crew's directory.
    log = std::make_unique<container::AgentLog>(app.loop, app.config.data_dir + "/logs/agents/" + agent.id,
                                                app.config.agent_log_max_bytes,
                                                app.config.data_dir + "/logs/crews");
  }
  return *log;
}

}  // namespace crewship::api
