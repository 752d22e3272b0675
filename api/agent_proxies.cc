// Reading and stopping an agent in its crew's container, public (read role,
// stop: create role, debug: manage role) and on the IPC socket:
//   GET  .../agents/{agentId}/container-files?subdir=   entries below /home
//   GET  .../agents/{agentId}/git-log?limit=&before=     commits of /output/<slug>
//   POST .../agents/{agentId}/stop                       TERM, grace, KILL
//   GET  .../agents/{agentId}/debug
// Reads run as execs of uid 1001 with a deadline and an output cap; the same
// read asked again while one is under way joins it.
#include <sys/stat.h>

#include "api/agent_ref.h"
#include "api/bridge.h"
#include "api/common.h"
#include "api/routes.h"
#include "container/listing.h"
#include "daemon/offload.h"
#include "store/presence_service.h"
#include "store/run_store.h"

namespace crewship::api {
namespace {

constexpr uint64_t kReadTimeoutMs = 10'000;
constexpr size_t kReadMaxOutput = 512 << 10;
constexpr int64_t kDebugLogLines = 20;

// An exec that reads the agent's crew container as the agent's user.
void read_exec(App& app, const ExchangePtr& ex, const AgentRef& agent, std::string key,
               std::vector<std::string> cmd, std::string workdir,
               std::function<void(const container::ExecResult&)> done) {
  crews(app).running(agent.crew_id, [&app, ex, agent, key = std::move(key), cmd = std::move(cmd),
                                     workdir = std::move(workdir),
                                     done = std::move(done)](Result<std::string> container) mutable {
    if (!container) return reply_problem(ex, container.problem());
    if (container->empty()) return reply_problem(ex, fail(502, std::string(kNotRunning)));
    container::ExecSpec spec;
    spec.container = *container;
    spec.cmd = std::move(cmd);
    spec.workdir = std::move(workdir);
    spec.env = {"HOME=/home/agent"};
    spec.timeout_ms = kReadTimeoutMs;
    spec.max_output = kReadMaxOutput;
    spec.key = agent.crew_id;
    crews(app).shared_exec(agent.crew_id + '\n' + key, std::move(spec),
                           [ex, done = std::move(done)](Status st, const container::ExecResult& r) {
                             if (!st) return reply_problem(ex, st.problem());
                             done(r);
                           });
  });
}

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}


void reply_commits(const ExchangePtr& ex, const container::ExecResult& r) {
  // Not a repository (or no commits yet): git fails, and there is nothing to list.
  auto commits = r.exit_code == 0 ? container::parse_git_log(r.out) : std::vector<container::Commit>{};
  json::Out out;
  out.begin_array();
  for (const auto& c : commits) {
    out.begin_object();
    out.member("hash", c.hash);
    out.member("message", json::printable(c.message));
    out.member("author", json::printable(c.author));
    out.member("date", c.date);
    out.end_object();
  }
  out.end_array();
  reply_list(ex, "commits", out.take());
}

}  // namespace

// GET /api/v1/agents/{agentId}/container-files?subdir=
void container_files(App& app, const ExchangePtr& ex) {
  if (!bridge_open(app, ex)) return;
  std::string subdir;
  if (auto raw = ex->req.query_param("subdir"); raw && !raw->empty()) {
    if (!normalise_relative_path(*raw, &subdir))
      return reply_problem(ex, 400, "subdir" + std::string(kBadRelativePath));
  }
  AgentRef agent;
  if (!find_agent(app, ex, &agent, true)) return;
  std::string root = subdir.empty() ? "/home" : "/home/" + subdir;
  read_exec(app, ex, agent, "files\n" + root, container::list_files_command(root), "/",
            [ex, subdir](const container::ExecResult& r) {
              // find exits 1 when some entries were unreadable; what it listed still counts.
              auto entries = r.exit_code == 0 || r.exit_code == 1 || r.truncated
                                 ? container::parse_file_list(r.out)
                                 : std::vector<container::FileEntry>{};
              json::Out out;
              out.begin_array();
              for (const auto& e : entries) {
                out.begin_object();
                out.member("path", json::printable(subdir.empty() ? e.path : subdir + "/" + e.path));
                out.member("name", json::printable(e.name));
                out.member("size", e.size);
                out.member("is_dir", e.is_dir);
                out.member("mod_time", e.mod_time);
                out.end_object();
              }
              out.end_array();
              reply_list(ex, "files", out.take());
            });
}

// GET /api/v1/agents/{agentId}/git-log?limit=&before=
void git_log(App& app, const ExchangePtr& ex) {
  if (!bridge_open(app, ex)) return;
  Page page;
  if (!read_page(ex, 20, 100, &page)) return;
  std::string before = ex->req.query_param("before").value_or("");
  if (!before.empty() && !container::valid_commit_hash(before))
    return reply_problem(ex, 400, "before must be a commit hash");
  AgentRef agent;
  if (!find_agent(app, ex, &agent, true)) return;
  // Whether the agent has a workspace yet is a stat: on the thread pool.
  auto has_dir = std::make_shared<bool>(false);
  offload(
      app.loop, [has_dir, dir = agent_storage_dir(app.config, agent)] { *has_dir = is_dir(dir); },
      [&app, ex, agent, page, before, has_dir] {
        std::string workdir = *has_dir ? "/output/" + agent.slug : "/home";
        std::string key = "git\n" + workdir + '\n' + std::to_string(page.limit) + '\n' + before;
        read_exec(app, ex, agent, std::move(key), container::git_log_command(page.limit, before), workdir,
                  [ex](const container::ExecResult& r) { reply_commits(ex, r); });
      });
}

// Marks the agent stopped: its runs still RUNNING become STOPPED, the agent
// STOPPED, presence online {"reason":"stopped"}.
void record_stop(App& app, const ExchangePtr& ex, const AgentRef& agent) {
  store::PresenceUpdate u;
  u.agent_id = agent.id;
  u.workspace_id = agent.workspace_id;
  u.crew_id = agent.crew_id;
  u.status = "online";
  u.details = R"({"reason":"stopped"})";
  app.presence.set(
      std::move(u),
      [ex](Status st, const store::PresenceChange& c) {
        if (!st) return reply_problem(ex, st.problem());
        json::Out out;
        out.begin_object();
        out.member("id", c.agent_id);
        out.member("status", "STOPPED");
        out.end_object();
        reply(ex, 200, out);
      },
      [](store::Connection& c, const store::PresenceWrite& w) {
        if (int rc = store::stop_runs(c, w.agent_id, w.since); rc != SQLITE_OK) return rc;
        return store::mark_agent_stopped(c, w.agent_id);
      });
}

void stop_agent_processes(App& app, const AgentRef& agent, std::function<void(Status)> done) {
  if (agent.crew_id.empty()) return done({});
  crews(app).running(agent.crew_id, [&app, agent, done](Result<std::string> container) {
    if (!container) return done(container.problem());
    if (container->empty()) return done({});  // no container, no process left
    container::ExecSpec spec;
    spec.container = *container;
    // As the agent's own user: reading another user's /proc/<pid>/environ
    // takes CAP_SYS_PTRACE, which containers do not get.
    std::string grace = std::to_string(app.config.stop_grace_ms) + "ms";
    spec.cmd = {std::string(kHookInContainer), "stop", "--agent", agent.id, "--grace", grace};
    spec.timeout_ms = static_cast<uint64_t>(app.config.stop_grace_ms + app.config.engine_timeout_ms + 2000);
    spec.key = agent.crew_id;
    auto* e = crews(app).engine().exec(std::move(spec), nullptr, [done](container::ExecResult&& r) {
      if (Status st = exec_status(r); !st) return done(st);
      if (r.exit_code != 0) return done(fail(502, "stop failed: " + r.err_out));
      done({});
    });
    if (e == nullptr) done(engine_failure(UV_EBUSY, "stop"));
  });
}

// POST /api/v1/agents/{agentId}/stop
void stop_agent(App& app, const ExchangePtr& ex) {
  if (!bridge_open(app, ex)) return;
  AgentRef agent;
  if (!find_agent(app, ex, &agent)) return;
  auto run = app.bridge->runs.find(agent.id);
  if (run != app.bridge->runs.end()) run->second->stopping = true;
  stop_agent_processes(app, agent, [&app, ex, agent](Status st) {
    if (!st) return reply_problem(ex, st.problem());
    record_stop(app, ex, agent);
  });
}

// GET /api/v1/agents/{agentId}/debug
void agent_debug(App& app, const ExchangePtr& ex) {
  if (!bridge_open(app, ex)) return;
  AgentRef agent;
  if (!find_agent(app, ex, &agent)) return;
  auto out = std::make_shared<json::Out>();
  out->begin_object();
  out->key("agent");
  out->begin_object();
  out->member("id", agent.id);
  out->member("name", agent.name);
  out->member("slug", agent.slug);
  out->member("status", agent.status);
  out->key("crew_id");
  agent.crew_id.empty() ? void(out->w().Null()) : out->str(agent.crew_id);
  out->end_object();

  store::Connection& db = app.store.reader();
  auto presence = store::presence_of(db, agent.id);
  if (!presence) return reply_problem(ex, presence.problem());
  auto run = store::latest_run(db, agent.id);
  if (!run) return reply_problem(ex, run.problem());
  out->key("presence");
  if (const auto& p = *presence) {
    out->begin_object();
    out->member("status", p->status);
    out->member("since", p->since);
    out->key("details");
    p->details.empty() ? void(out->w().Null())
                       : void(out->w().RawValue(p->details.data(), p->details.size(), rapidjson::kObjectType));
    out->end_object();
  } else {
    out->w().Null();
  }
  out->key("run");
  if (const auto& r = *run) {
    out->begin_object();
    out->member("id", r->id);
    out->member("status", r->status);
    out->key("exit_code");
    r->exit_code ? void(out->w().Int64(*r->exit_code)) : void(out->w().Null());
    nullable_text(*out, "error", r->error);
    out->member("started_at", r->started_at);
    nullable_text(*out, "ended_at", r->ended_at);
    out->member("in_progress", app.bridge->runs.contains(agent.id));
    out->end_object();
  } else {
    out->w().Null();
  }

  auto with_logs = [&app, ex, agent, out]() {
    agent_log(app, agent).tail(kDebugLogLines, [ex, out](container::AgentLog::Lines lines) {
      out->key("logs");
      out->begin_array();
      for (const std::string& line : lines) out->w().RawValue(line.data(), line.size(), rapidjson::kObjectType);
      out->end_array();
      out->end_object();
      reply(ex, 200, *out);
    });
  };
  out->key("container");
  if (agent.crew_id.empty()) {
    out->w().Null();
    return with_logs();
  }
  crews(app).inspect(agent.crew_id, [out, with_logs](Result<CrewContainer> c) {
    out->begin_object();
    if (!c) {
      out->member("error", c.problem().detail);
    } else {
      out->member("id", c->id);
      out->member("name", c->name);
      out->member("state", c->state);
      out->member("status", c->status);
    }
    out->end_object();
    with_logs();
  });
}

}  // namespace crewship::api
