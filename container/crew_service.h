// The crew-container service: each crew's container, created from the sandbox
// image with the crew's storage, the IPC socket and crewship-hook mounted,
// started when asked, and made again when it is not what crewshipd would
// make now; the agents' host directories; read-only execs shared by
// identical callers; the engine's container events (a crew container that
// exits takes its agents offline). Loop thread only; its file work runs on
// the thread pool. It logs nothing: what the daemon should hear goes to the
// report callback. It must outlive the loop's run (callbacks that come late
// find it stopped).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <uv.h>

#include "container/engine.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/result.h"
#include "store/agent_store.h"
#include "store/crew_store.h"
#include "store/presence_service.h"
#include "store/store.h"

namespace crewship::container {

// Where crew containers find crewship-hook (bind-mounted read-only).
constexpr std::string_view kHookInContainer = "/usr/local/bin/crewship-hook";
// The crewship-hook on the host that crew containers mount:
// CREWSHIP_HOOK_BINARY, else the one next to crewshipd.
std::string hook_binary(const Config& cfg);
// Empty when path is an executable regular file; else why not (blocking: a stat).
std::string hook_binary_problem(const std::string& path);

// <data>/storage/crews/<crew>: the crew's /output.
std::string crew_storage_dir(const Config& config, const std::string& crew_id);
// <data>/storage/crews/<crew>/<slug>: the agent's workspace (/output/<slug>).
std::string agent_storage_dir(const Config& config, const store::AgentRef& agent);

// what (an engine step) got no answer: err UV_EBUSY (a cap) is a 503 with
// Retry-After, anything else a 502.
Problem engine_failure(int err, std::string_view what);
// what got an answer that was not the one hoped for: 502 with the engine's message.
Problem reply_failure(const EngineReply& r, std::string_view what);
// What an exec's failure means to the caller.
Status exec_status(const ExecResult& r);
extern const std::string_view kNotRunning;  // the 502 detail of reads of a crew with no running container

struct CrewContainer {
  std::string id;     // empty: none exists
  std::string name;
  std::string state;  // the engine's: running, exited, created...; "missing" when none
  std::string status; // the engine's human text ("Up 3 minutes")
  std::string image;
};

class CrewService {
 public:
  // The crew-bound token a crew's container gets in its environment, at the
  // crew's token generation.
  using CrewToken = std::function<std::string(const std::string& workspace_id, const std::string& crew_id,
                                              int64_t generation)>;
  // What the daemon should log (a container made again, one that exited...).
  using Report = std::function<void(log::Level level, const std::string& text)>;

  CrewService(uv_loop_t* loop, const Config& config, store::Store& store, store::PresenceService& presence,
              std::unique_ptr<Engine> engine, CrewToken crew_token, Report report);
  ~CrewService();
  CrewService(const CrewService&) = delete;
  CrewService& operator=(const CrewService&) = delete;

  Engine& engine() { return *engine_; }
  // Follows the engine's container events from now on, again with backoff
  // whenever the stream ends.
  void follow_events();
  // Ends engine calls and the event stream; no new work after it. Call it
  // before the loop's last run.
  void stop();
  bool stopped() const { return stopped_; }

  // The crew's container as the engine reports it.
  void inspect(const std::string& crew_id, std::function<void(Result<CrewContainer>)> done);
  // Creates (when missing, or made again when broken) and starts the crew's
  // container; done gets its id. Concurrent calls for one crew share one start.
  void ensure(const std::string& crew_id, std::function<void(Result<std::string>)> done);
  // The running container of the crew (from what was seen, else the engine);
  // an empty id when the crew has none running.
  void running(const std::string& crew_id, std::function<void(Result<std::string>)> done);
  // The crew's container is known not to run any more.
  void forget_running(const std::string& crew_id) { container_of_.erase(crew_id); }

  // Makes the agent's /output/<slug> on the host, owned by uid/gid 1001.
  void prepare_agent_dir(const store::AgentRef& agent, std::function<void(Status)> done);

  // The crew's token generation moved on: its container is checked again at
  // the next start, and made again since its token is no longer valid.
  void token_rotated(const std::string& crew_id);
  // Runs a read-only exec; identical execs (same key) under way are joined.
  void shared_exec(std::string key, ExecSpec spec, std::function<void(Status, const ExecResult&)> done);

 private:
  struct MountPlan;
  void finish_start(const std::string& crew_id, Status st, const std::string& id);
  void plan_mounts(const std::string& crew_id, std::function<void(MountPlan&)> done);
  std::string create_body(const store::CrewRef& crew, const MountPlan& plan);
  void create(const std::string& crew_id, bool retry);
  void check(const std::string& crew_id, const CrewContainer& c);
  void recreate(const std::string& crew_id, const std::string& id, std::string_view why);
  void start(const std::string& crew_id, const std::string& id, bool recreate);
  void on_event(std::string_view text);
  void on_container_exit(const std::string& crew_id, int64_t exit_code);
  void watch_events();
  void retry_events();

  uv_loop_t* loop_;
  const Config& config_;
  store::Store& store_;
  store::PresenceService& presence_;
  std::unique_ptr<Engine> engine_;
  CrewToken crew_token_;
  Report report_;
  std::string hook_;  // the crewship-hook crew containers mount
  std::unordered_map<std::string, std::string> container_of_;  // crew id -> running container id
  std::unordered_map<std::string, std::vector<std::function<void(Status, const std::string&)>>> starting_;
  std::unordered_map<std::string, std::vector<std::function<void(const ExecResult&)>>> reads_;
  std::unordered_set<std::string> agent_dirs_;      // host dirs made and handed to uid 1001
  std::unordered_set<std::string> mounts_checked_;  // container ids whose mounts are crewshipd's
  Engine::Watch* events_ = nullptr;
  uv_timer_t* events_retry_ = nullptr;  // freed in its close callback
  uint64_t events_backoff_ms_ = 0;
  bool stopped_ = false;
};

}  // namespace crewship::container
