// The container bridge: what the crew-container, proxy and run handlers share
// on the loop. The engine client, the crew containers found so far, starts
// and reads under way (identical ones are joined, not repeated), the runs in
// progress and the agents' logs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "api/agent_ref.h"
#include "container/agent_log.h"
#include "container/engine.h"
#include "daemon/app.h"

namespace crewship::api {

// How an engine-backed step ended, as the HTTP answer it leads to.
struct Outcome {
  int status = 200;    // 200 when it worked
  std::string detail;  // the problem's detail otherwise
  bool ok() const { return status == 200; }
  static Outcome fail(int status, std::string detail) { return {status, std::move(detail)}; }
};

// Answers the problem of a failed outcome; 503 carries Retry-After.
void reply_outcome(const ExchangePtr& ex, const Outcome& o);
// what (an engine step) got no answer: err UV_EBUSY (a cap) is a 503,
// anything else a 502.
Outcome engine_failure(int err, std::string_view what);
// what got an answer that was not the one hoped for: 502 with the engine's message.
Outcome reply_failure(const container::EngineReply& r, std::string_view what);

// Where crew containers find crewship-hook (bind-mounted read-only).
constexpr std::string_view kHookInContainer = "/usr/local/bin/crewship-hook";
// The crewship-hook on the host that crew containers mount:
// CREWSHIP_HOOK_BINARY, else the one next to crewshipd.
std::string hook_binary(const Config& cfg);
// Empty when path is an executable regular file; else why not (blocking: a stat).
std::string hook_binary_problem(const std::string& path);

struct CrewContainer {
  std::string id;     // empty: none exists
  std::string name;
  std::string state;  // the engine's: running, exited, created...; "missing" when none
  std::string status; // the engine's human text ("Up 3 minutes")
  std::string image;
};

struct Run {
  std::string id;
  AgentRef agent;
  bool stopping = false;
  std::string partial[2];  // stdout, stderr bytes after the last newline
};

struct Bridge {
  std::unique_ptr<container::Engine> engine;
  std::unordered_map<std::string, std::string> container_of;  // crew id -> running container id
  std::unordered_map<std::string, std::vector<std::function<void(Outcome, const std::string&)>>> starting;
  std::unordered_map<std::string, std::vector<std::function<void(const container::ExecResult&)>>> reads;
  std::unordered_map<std::string, std::unique_ptr<Run>> runs;  // by agent id
  std::unordered_map<std::string, std::unique_ptr<container::AgentLog>> logs;  // by agent id
  std::unordered_set<std::string> agent_dirs;  // host dirs made and handed to uid 1001
  std::unordered_set<std::string> mounts_checked;  // container ids whose mounts are crewshipd's
  std::string hook;  // the crewship-hook crew containers mount
  container::Engine::Watch* events = nullptr;
  bool stopped = false;  // crewshipd is stopping: no new engine work
  uv_timer_t* events_retry = nullptr;
  uint64_t events_backoff_ms = 0;
};

// Creates the bridge (before the listeners open), its calls going to the
// first socket discovery tries until engine_found() names the one that
// answered; then the engine's container events are followed.
void start_bridge(App& app);
void engine_found(App& app);
// Ends engine calls, runs, streams and log followers; marks nothing in the
// store. The bridge stays (stopped) until the App goes.
void stop_bridge(App& app);
// Answers 503 and returns false once the bridge has stopped.
bool bridge_open(App& app, const ExchangePtr& ex);

// The crew's container as the engine reports it.
void inspect_crew_container(App& app, const std::string& crew_id,
                            std::function<void(Outcome, CrewContainer)> done);
// Creates (when missing) and starts the crew's container; done gets its id.
// Concurrent calls for one crew share one start.
void ensure_crew_container(App& app, const std::string& crew_id,
                           std::function<void(Outcome, const std::string& id)> done);

// The running container of the crew (from what was seen, else the engine);
// an empty id (with an ok outcome) when the crew has none running.
void running_container(App& app, const std::string& crew_id,
                       std::function<void(Outcome, const std::string& id)> done);
extern const std::string_view kNotRunning;  // the 502 detail of reads then

// The agent's /output/<slug> on the host, made and owned by uid/gid 1001.
Outcome prepare_agent_dir(App& app, const AgentRef& agent);

// Runs a read-only exec; identical execs (same key) under way are joined.
// done gets the result, or an outcome that is not ok.
void shared_exec(App& app, std::string key, container::ExecSpec spec,
                 std::function<void(Outcome, const container::ExecResult&)> done);

container::AgentLog& agent_log(App& app, const AgentRef& agent);

// What an exec's failure means to the caller.
Outcome exec_outcome(const container::ExecResult& r);

}  // namespace crewship::api
