#include "api/ephemeral_sweep.h"

#include <memory>
#include <optional>

#include "api/bridge.h"
#include "api/realtime.h"
#include "daemon/ids.h"
#include "store/hire_store.h"
#include "store/inbox_store.h"
#include "store/run_store.h"

namespace crewship::api {
namespace {


struct Sweep {
  size_t left = 0;     // writes not answered yet
  size_t expired = 0;  // of them, ghosts made
  std::optional<Problem> failure;
  std::function<void(Result<size_t>)> done;
};

// The ghost is committed: the rest of what it means, on the loop.
void ghost_made(App& app, const AgentRef& agent, const std::string& expired_at) {
  json::Out d;
  d.begin_object();
  d.member("agent_id", agent.id);
  if (!agent.crew_id.empty()) d.member("crew_id", agent.crew_id);
  d.member("expired_at", expired_at);
  d.end_object();
  publish_event(app, agent.workspace_id, agent.crew_id, "agent.expired", d.take());
  auto run = app.bridge->runs.find(agent.id);
  if (run == app.bridge->runs.end() || crews(app).stopped()) return;
  // Its end (run_ended) writes the run's exit and keeps presence offline.
  run->second->stopping = true;
  run->second->expired = true;
  stop_until_gone(app, agent, run->second->id);
}

}  // namespace

void sweep_ephemerals(App& app, std::function<void(Result<size_t>)> done) {
  std::string now = now_rfc3339();
  auto due = store::due_ephemerals(app.store.reader(), now, static_cast<int64_t>(kEphemeralSweepBatch));
  if (!due) return done(std::move(due).take_problem());
  if (due->empty()) return done(size_t{0});
  auto sweep = std::make_shared<Sweep>();
  sweep->left = due->size();
  sweep->done = std::move(done);
  for (const AgentRef& agent : *due) {
    store::PresenceUpdate u;
    u.agent_id = agent.id;
    u.workspace_id = agent.workspace_id;
    u.crew_id = agent.crew_id;
    u.status = "offline";
    u.details = R"({"reason":"expired"})";
    // Set on the writer thread, read in done (the writer hands done over
    // after the commit): a rehire came between the read and the write.
    auto rehired = std::make_shared<bool>(false);
    app.presence.set(
        std::move(u),
        [&app, sweep, agent, now, rehired](Status st, const store::PresenceChange&) {
          if (st) {
            ++sweep->expired;
            ghost_made(app, agent, now);
          } else if (!*rehired && !sweep->failure) {
            sweep->failure = st.problem();
          }
          if (--sweep->left > 0) return;
          if (sweep->failure) return sweep->done(*sweep->failure);
          sweep->done(sweep->expired);
        },
        [now, rehired](store::Connection& c, const store::PresenceWrite& w) {
          auto won = store::expire_ephemeral(c, w.agent_id, now);
          if (!won) return SQLITE_ERROR;
          if (!*won) {
            *rehired = true;
            return SQLITE_ABORT;  // undoes the presence row too
          }
          if (int rc = store::stop_runs(c, w.agent_id, w.since); rc != SQLITE_OK) return rc;
          // A hire that was never approved leaves no waitpoint open behind it.
          if (!store::resolve_open_inbox_items(c, w.agent_id, "hire_approval", "expired", now)) return SQLITE_ERROR;
          json::Out p;
          p.begin_object();
          p.member("expired_at", now);
          p.member("reason", "expired");
          p.end_object();
          auto st = store::append_journal(c, {w.workspace_id, w.crew_id, w.agent_id, "agent.expired", p.take()});
          return st ? SQLITE_OK : SQLITE_ERROR;
        });
  }
}

}  // namespace crewship::api
