#include "api/bridge.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include <sys/stat.h>
#include <unistd.h>

#include <rapidjson/document.h>

#include "api/common.h"
#include "daemon/ids.h"
#include "daemon/offload.h"
#include "daemon/log.h"
#include "daemon/problem.h"
#include "store/crew_store.h"
#include "store/presence_service.h"
#include "store/run_store.h"

namespace crewship::api {
namespace {

constexpr int kAgentUid = 1001;  // the user agents run as in crew containers
constexpr uint64_t kEventsBackoffMaxMs = 30'000;

container::Engine* engine_of(App& app) { return app.bridge->engine.get(); }

using CrewRow = store::CrewRef;

std::string label_filter(const std::string& crew_id) {
  json::Out f;
  f.begin_object();
  f.strings("label", {"crewship.crew_id=" + crew_id});
  f.end_object();
  return f.take();
}

constexpr std::string_view kSocketInContainer = "/run/crewship/crewship.sock";

// The host paths a crew container mounts, checked to exist (the engine would
// make a missing bind source, as a root-owned directory).
struct MountPlan {
  std::string storage, socket, hook;                 // as bound
  std::string storage_real, socket_real, hook_real;  // the same, symlinks resolved
  std::string socket_gid;                            // empty: unknown
  std::string error;  // empty when every source exists; else the client's detail
  std::string cause;  // ... and the log's, naming the path
};

std::string real_path(const std::string& path) {
  std::error_code ec;
  auto real = std::filesystem::canonical(path, ec);
  return ec ? path : real.string();
}

// On the thread pool: creates the crew's storage and checks every source.
void check_mount_sources(MountPlan& p) {
  std::error_code ec;
  std::filesystem::create_directories(p.storage, ec);
  struct stat st;
  if (ec) {
    p.error = "cannot create the crew's storage: " + ec.message();
    p.cause = "crew storage " + p.storage + ": " + ec.message();
  } else if (::stat(p.socket.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
    p.error = "the IPC socket to mount into the crew's container is missing";
    p.cause = "IPC socket " + p.socket + " is missing: not mounting it";
  } else {
    p.socket_gid = std::to_string(st.st_gid);
    if (std::string why = hook_binary_problem(p.hook); !why.empty()) {
      p.error = "crewship-hook to mount into the crew's container is missing";
      p.cause = "crewship-hook " + p.hook + " " + why + ": not mounting it";
    }
  }
  p.storage_real = real_path(p.storage);
  p.socket_real = real_path(p.socket);
  p.hook_real = real_path(p.hook);
}

void plan_mounts(App& app, const std::string& crew_id, std::function<void(MountPlan&)> done) {
  auto plan = std::make_shared<MountPlan>();
  plan->storage = crew_storage_dir(app.config, crew_id);
  plan->socket = app.config.socket_path;
  plan->hook = app.bridge->hook;
  offload(app.loop, [plan] { check_mount_sources(*plan); }, [plan, done = std::move(done)] { done(*plan); });
}

// Whether the mounts of an inspected container are the ones create_body makes now.
bool mounts_match(const rapidjson::Value& inspect, const MountPlan& p) {
  auto mounts = inspect.FindMember("Mounts");
  if (mounts == inspect.MemberEnd() || !mounts->value.IsArray()) return false;
  auto has = [&mounts](std::string_view dst, const std::string& src, const std::string& src_real) {
    for (const auto& m : mounts->value.GetArray()) {
      if (!m.IsObject() || !m.HasMember("Source") || !m.HasMember("Destination") || !m["Source"].IsString() ||
          !m["Destination"].IsString())
        continue;
      std::string_view s = m["Source"].GetString();
      if (m["Destination"].GetString() == dst && (s == src || s == src_real)) return true;
    }
    return false;
  };
  return has("/output", p.storage, p.storage_real) && has(kSocketInContainer, p.socket, p.socket_real) &&
         has(kHookInContainer, p.hook, p.hook_real);
}

std::string create_body(App& app, const std::string& crew_id, const CrewRow& crew, const MountPlan& plan) {
  const Config& cfg = app.config;
  json::Out b;
  b.begin_object();
  b.member("Image", cfg.sandbox_image);
  b.strings("Entrypoint", {kHookInContainer, "init"});
  b.strings("Cmd", {});
  b.member("User", "0");
  b.member("WorkingDir", "/output");
  b.key("Labels");
  b.begin_object();
  b.member("crewship.crew_id", crew_id);
  b.member("crewship.workspace_id", crew.workspace_id);
  b.end_object();
  b.strings("Env", {"CREWSHIP_INTERNAL_TOKEN=" + app.internal.crew_token(crew.workspace_id, crew_id),
                    "CREWSHIP_SOCKET=" + std::string(kSocketInContainer), "CREWSHIP_CREW_ID=" + crew_id,
                    "CREWSHIP_WORKSPACE_ID=" + crew.workspace_id});
  b.key("HostConfig");
  b.begin_object();
  b.strings("Binds", {plan.storage + ":/output", plan.socket + ":" + std::string(kSocketInContainer),
                      plan.hook + ":" + std::string(kHookInContainer) + ":ro"});
  b.member("Memory", crew.memory_mb * 1024 * 1024);
  b.member("NanoCpus", static_cast<int64_t>(crew.cpus * 1e9));
  // The IPC socket is 0660: agents reach it through its group (in a
  // container of their own, even when that group is root's).
  if (!plan.socket_gid.empty()) b.strings("GroupAdd", {plan.socket_gid});
  if (!cfg.container_network.empty()) b.member("NetworkMode", cfg.container_network);
  b.end_object();
  b.end_object();
  return b.take();
}

void finish_start(App& app, const std::string& crew_id, Outcome o, const std::string& id) {
  if (o.ok()) app.bridge->container_of[crew_id] = id;
  auto node = app.bridge->starting.extract(crew_id);
  if (node.empty()) return;
  for (auto& waiter : node.mapped()) waiter(o, id);
}

void create_container(App& app, const std::string& crew_id, bool retry);
void check_container(App& app, const std::string& crew_id, const CrewContainer& c);

// A container that is not what crewshipd would create now goes, and a new one
// is made in its place.
void recreate_container(App& app, const std::string& crew_id, const std::string& id, std::string_view why) {
  LOG_NOTICE("crew %s: container %s %s: removing it and creating it again", crew_id.c_str(), id.c_str(),
             std::string(why).c_str());
  app.bridge->mounts_checked.erase(id);
  bool ok = engine_of(app)->call("DELETE", "/containers/" + id + "?force=1", {}, crew_id,
                                 [&app, crew_id](container::EngineReply&& r) {
                                   if (r.err != 0 || (r.status != 204 && r.status != 404))
                                     return finish_start(app, crew_id, reply_failure(r, "remove"), {});
                                   create_container(app, crew_id, false);
                                 });
  if (!ok) finish_start(app, crew_id, engine_failure(UV_EBUSY, "remove"), {});
}

// recreate: a start the engine refuses is taken as a broken container (made
// by an older crewshipd, or by hand), which is then made again once.
void start_container(App& app, const std::string& crew_id, const std::string& id, bool recreate) {
  bool ok = engine_of(app)->call("POST", "/containers/" + id + "/start", {}, crew_id,
                                 [&app, crew_id, id, recreate](container::EngineReply&& r) {
                                   if (r.err == 0 && (r.status == 204 || r.status == 304))
                                     return finish_start(app, crew_id, {}, id);
                                   if (r.err == 0 && r.status != 404 && recreate)
                                     return recreate_container(app, crew_id, id, "did not start (" + r.message() + ")");
                                   finish_start(app, crew_id, reply_failure(r, "start"), id);
                                 });
  if (!ok) finish_start(app, crew_id, engine_failure(UV_EBUSY, "start"), id);
}

void plan_failed(App& app, const std::string& crew_id, const MountPlan& plan) {
  LOG_ERROR("crew %s: %s", crew_id.c_str(), plan.cause.c_str());
  finish_start(app, crew_id, Outcome::fail(500, plan.error), {});
}

void create_container(App& app, const std::string& crew_id, bool retry) {
  auto found = store::find_crew(app.store.reader(), crew_id, {});
  if (!found) {
    if (!found.problem().cause.empty()) LOG_ERROR("crew %s: %s", crew_id.c_str(), found.problem().cause.c_str());
    return finish_start(app, crew_id, Outcome::fail(found.problem().status, found.problem().detail), {});
  }
  plan_mounts(app, crew_id, [&app, crew_id, crew = std::move(found).value(), retry](MountPlan& plan) {
    if (!plan.error.empty()) return plan_failed(app, crew_id, plan);
    std::string name = "crewship-team-" + crew.slug + "-" + crew_id;
    bool ok = engine_of(app)->call(
        "POST", "/containers/create?name=" + name, create_body(app, crew_id, crew, plan), crew_id,
        [&app, crew_id, retry](container::EngineReply&& r) {
          // Podman answers a name conflict with 500 and "already in use".
          bool conflict = r.err == 0 && (r.status == 409 || (r.status == 500 && r.message().find("already in use") !=
                                                                                     std::string::npos));
          if (conflict && retry) {
            // Made by someone else meanwhile (another crewshipd, an old name): look again.
            return inspect_crew_container(app, crew_id, [&app, crew_id](Outcome o, CrewContainer c) {
              if (!o.ok()) return finish_start(app, crew_id, o, {});
              if (c.id.empty()) return create_container(app, crew_id, false);
              check_container(app, crew_id, c);
            });
          }
          rapidjson::Document doc;
          if (r.err == 0 && r.status == 201) doc.Parse(r.body.data(), r.body.size());
          if (r.err != 0 || r.status != 201 || !doc.IsObject() || !doc.HasMember("Id") || !doc["Id"].IsString())
            return finish_start(app, crew_id, reply_failure(r, "create"), {});
          std::string id = doc["Id"].GetString();
          app.bridge->mounts_checked.insert(id);
          start_container(app, crew_id, id, false);
        });
    if (!ok) finish_start(app, crew_id, engine_failure(UV_EBUSY, "create"), {});
  });
}

// An existing container is used when its mounts are the ones crewshipd makes
// now and it did not fail to start; otherwise it is made again.
void check_container(App& app, const std::string& crew_id, const CrewContainer& c) {
  bool running = c.state == "running";
  if (running && app.bridge->mounts_checked.contains(c.id)) return finish_start(app, crew_id, {}, c.id);
  plan_mounts(app, crew_id, [&app, crew_id, id = c.id](MountPlan& plan) {
    if (!plan.error.empty()) return plan_failed(app, crew_id, plan);
    bool ok = engine_of(app)->call(
        "GET", "/containers/" + id + "/json", {}, crew_id, [&app, crew_id, id, plan](container::EngineReply&& r) {
          if (r.err == 0 && r.status == 404) return create_container(app, crew_id, true);  // gone meanwhile
          rapidjson::Document doc;
          if (r.err == 0 && r.status == 200) doc.Parse(r.body.data(), r.body.size());
          if (r.err != 0 || r.status != 200 || !doc.IsObject())
            return finish_start(app, crew_id, reply_failure(r, "inspect"), {});
          std::string state, error;
          if (auto s = doc.FindMember("State"); s != doc.MemberEnd() && s->value.IsObject()) {
            if (auto st = s->value.FindMember("Status"); st != s->value.MemberEnd() && st->value.IsString())
              state = st->value.GetString();
            if (auto e = s->value.FindMember("Error"); e != s->value.MemberEnd() && e->value.IsString())
              error = e->value.GetString();
          }
          if (!mounts_match(doc, plan)) return recreate_container(app, crew_id, id, "has other mounts");
          if (state != "running" && !error.empty())
            return recreate_container(app, crew_id, id, "failed to start (" + error + ")");
          app.bridge->mounts_checked.insert(id);
          if (state == "running") return finish_start(app, crew_id, {}, id);
          start_container(app, crew_id, id, true);
        });
    if (!ok) finish_start(app, crew_id, engine_failure(UV_EBUSY, "inspect"), {});
  });
}

// A crew container died or stopped: its agents are offline.
void on_container_exit(App& app, const std::string& crew_id, int64_t exit_code) {
  app.bridge->container_of.erase(crew_id);
  LOG_INFO("crew %s: container exited (%lld)", crew_id.c_str(), static_cast<long long>(exit_code));
  std::string details = R"({"reason":"container_exit","exit_code":)" + std::to_string(exit_code) + "}";
  app.presence.offline_crew(crew_id, std::move(details), [](Result<size_t> swept) {
    if (!swept) LOG_ERROR("presence after container exit: %s", swept.problem().cause.c_str());
  });
}

void on_event(App& app, std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return;
  auto action = doc.FindMember("Action");
  if (action == doc.MemberEnd() || !action->value.IsString() || std::string_view(action->value.GetString()) != "die")
    return;
  auto actor = doc.FindMember("Actor");
  if (actor == doc.MemberEnd() || !actor->value.IsObject()) return;
  auto attrs = actor->value.FindMember("Attributes");
  if (attrs == actor->value.MemberEnd() || !attrs->value.IsObject()) return;
  auto crew = attrs->value.FindMember("crewship.crew_id");
  if (crew == attrs->value.MemberEnd() || !crew->value.IsString()) return;
  int64_t code = -1;
  if (auto c = attrs->value.FindMember("exitCode"); c != attrs->value.MemberEnd() && c->value.IsString())
    code = std::strtoll(c->value.GetString(), nullptr, 10);
  on_container_exit(app, crew->value.GetString(), code);
}

void watch_events(App& app);

void retry_events(App& app) {
  Bridge& b = *app.bridge;
  b.events_backoff_ms = b.events_backoff_ms == 0 ? 500 : std::min(b.events_backoff_ms * 2, kEventsBackoffMaxMs);
  uv_timer_start(b.events_retry, [](uv_timer_t* t) { watch_events(*static_cast<App*>(t->data)); },
                 b.events_backoff_ms, 0);
}

// Container events of crew containers, followed for the daemon's life and
// taken up again, with backoff, whenever the engine goes away.
void watch_events(App& app) {
  Bridge& b = *app.bridge;
  b.events = b.engine->events(
      // Podman's compatible service ignores event and label-key filters:
      // the rest is sorted out here.
      R"({"type":["container"]})",
      [&app](std::string_view e) {
        app.bridge->events_backoff_ms = 0;
        on_event(app, e);
      },
      [&app](int err) {
        app.bridge->events = nullptr;
        if (err == UV_ECANCELED || app.bridge->stopped) return;
        LOG_DEBUG("container events: %s; following again", uv_strerror(err));
        app.bridge->container_of.clear();  // what was running may not be any more
        retry_events(app);
      });
}

}  // namespace

Outcome engine_failure(int err, std::string_view what) {
  if (err == UV_EBUSY) return Outcome::fail(503, "too many container engine calls under way");
  std::string detail = "container engine ";
  detail += err == UV_ETIMEDOUT ? "did not answer in time" : "unreachable";
  detail += " (";
  detail += what;
  detail += ": ";
  detail += uv_strerror(err);
  detail += ")";
  return Outcome::fail(502, std::move(detail));
}

Outcome reply_failure(const container::EngineReply& r, std::string_view what) {
  if (r.err != 0) return engine_failure(r.err, what);
  return Outcome::fail(502, std::string(what) + ": " + r.message());
}

const std::string_view kNotRunning = "the crew's container is not running";

std::string hook_binary(const Config& cfg) {
  if (!cfg.hook_binary.empty()) return cfg.hook_binary;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (ec ? std::filesystem::path("/usr/local/bin") : self.parent_path()) / "crewship-hook";
}

std::string hook_binary_problem(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::string("cannot be used: ") + strerror(errno);
  if (!S_ISREG(st.st_mode)) return "is not a regular file";
  if (::access(path.c_str(), X_OK) != 0) return "is not executable";
  return {};
}

void reply_outcome(const ExchangePtr& ex, const Outcome& o) {
  http::Response r = problem(o.status, o.detail, ex->req.path);
  if (o.status == 503) r.headers.push_back({"Retry-After", "1"});
  ex->respond(std::move(r));
}

void start_bridge(App& app) {
  app.bridge = std::make_unique<Bridge>();
  app.bridge->hook = hook_binary(app.config);
  // Until the probe has spoken, calls go to the first place discovery looks.
  std::string error, socket;
  auto candidates = container::engine_candidates(app.config.docker_host, &error);
  if (!candidates.empty()) socket = candidates.front();
  container::EngineLimits limits;
  limits.timeout_ms = static_cast<uint64_t>(app.config.engine_timeout_ms);
  limits.pool.max_in_flight = static_cast<size_t>(app.config.engine_max_inflight);
  limits.pool.max_in_flight_per_key = static_cast<size_t>(app.config.engine_max_inflight_crew);
  app.bridge->engine = container::make_http_engine(app.loop, socket, limits);
  app.bridge->events_retry = new uv_timer_t;
  uv_timer_init(app.loop, app.bridge->events_retry);
  app.bridge->events_retry->data = &app;
  // Runs that were under way when crewshipd last stopped lost their output.
  write(app, [ended = now_rfc3339_nanos()](store::Connection& c) { return store::mark_lost_runs(c, ended); },
        [](int rc) {
          if (rc != SQLITE_OK) LOG_ERROR("marking lost runs: %s", sqlite3_errstr(rc));
        });
}

void engine_found(App& app) {
  if (app.bridge->stopped) return;
  if (app.engine.reachable) app.bridge->engine->set_socket_path(app.engine.socket);
  watch_events(app);
}

void stop_bridge(App& app) {
  if (!app.bridge) return;  // crewshipd stopped before it got this far
  Bridge& b = *app.bridge;
  if (b.stopped) return;
  b.stopped = true;
  // Calls and runs under way end now (their callers answer 502), then log
  // followers end their streams; the bridge itself stays until the end, for
  // callbacks that come late.
  b.engine->close();
  b.logs.clear();
  uv_close(reinterpret_cast<uv_handle_t*>(b.events_retry),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

bool bridge_open(App& app, const ExchangePtr& ex) {
  if (!app.bridge->stopped) return true;
  reply_outcome(ex, Outcome::fail(503, "shutting down"));
  return false;
}

void inspect_crew_container(App& app, const std::string& crew_id,
                            std::function<void(Outcome, CrewContainer)> done) {
  bool ok = engine_of(app)->call(
      "GET", "/containers/json?all=1&filters=" + http::percent_encode(label_filter(crew_id)), {}, crew_id,
      [done](container::EngineReply&& r) {
        CrewContainer c;
        c.state = "missing";
        rapidjson::Document doc;
        if (r.err == 0 && r.status == 200) doc.Parse(r.body.data(), r.body.size());
        if (r.err != 0 || r.status != 200 || !doc.IsArray()) return done(reply_failure(r, "list"), c);
        if (doc.Empty()) return done({}, c);
        const auto& o = doc[0];
        auto text = [&o](const char* k) {
          auto m = o.FindMember(k);
          return m != o.MemberEnd() && m->value.IsString() ? std::string(m->value.GetString()) : std::string();
        };
        c.id = text("Id");
        c.state = text("State");
        c.status = text("Status");
        c.image = text("Image");
        if (auto n = o.FindMember("Names"); n != o.MemberEnd() && n->value.IsArray() && !n->value.Empty() &&
                                            n->value[0].IsString()) {
          c.name = n->value[0].GetString();
          if (!c.name.empty() && c.name[0] == '/') c.name.erase(0, 1);
        }
        done({}, std::move(c));
      });
  if (!ok) done(engine_failure(UV_EBUSY, "list"), {});
}

void ensure_crew_container(App& app, const std::string& crew_id,
                           std::function<void(Outcome, const std::string&)> done) {
  auto& waiters = app.bridge->starting[crew_id];
  waiters.push_back(std::move(done));
  if (waiters.size() > 1) return;  // joins the start under way
  inspect_crew_container(app, crew_id, [&app, crew_id](Outcome o, CrewContainer c) {
    if (!o.ok()) return finish_start(app, crew_id, o, {});
    if (c.id.empty()) return create_container(app, crew_id, true);
    check_container(app, crew_id, c);
  });
}

void running_container(App& app, const std::string& crew_id,
                       std::function<void(Outcome, const std::string&)> done) {
  if (auto it = app.bridge->container_of.find(crew_id); it != app.bridge->container_of.end())
    return done({}, it->second);
  inspect_crew_container(app, crew_id, [&app, crew_id, done](Outcome o, CrewContainer c) {
    if (!o.ok()) return done(o, {});
    if (c.state != "running") return done({}, {});
    app.bridge->container_of[crew_id] = c.id;
    done({}, c.id);
  });
}

Outcome prepare_agent_dir(App& app, const AgentRef& agent) {
  std::string dir = agent_storage_dir(app.config, agent);
  if (app.bridge->agent_dirs.contains(dir)) return {};
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Outcome::fail(500, "cannot create the agent's workspace: " + ec.message());
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return Outcome::fail(500, "cannot create the agent's workspace");
  if ((st.st_uid != kAgentUid || st.st_gid != kAgentUid) && ::chown(dir.c_str(), kAgentUid, kAgentUid) != 0)
    return Outcome::fail(500, std::string("cannot hand the agent's workspace to uid 1001: ") + strerror(errno));
  app.bridge->agent_dirs.insert(dir);
  return {};
}

Outcome exec_outcome(const container::ExecResult& r) {
  if (r.err != 0) return engine_failure(r.err, "exec");
  if (r.status == 404 || r.status == 409)
    return Outcome::fail(502, std::string(kNotRunning) + " (" + r.message + ")");
  if (r.status != 0) return Outcome::fail(502, "exec: " + r.message);
  return {};
}

void shared_exec(App& app, std::string key, container::ExecSpec spec,
                 std::function<void(Outcome, const container::ExecResult&)> done) {
  auto& waiters = app.bridge->reads[key];
  waiters.push_back([done = std::move(done)](const container::ExecResult& r) { done(exec_outcome(r), r); });
  if (waiters.size() > 1) return;  // the same read is under way
  std::string crew = spec.key;
  auto* e = engine_of(app)->exec(std::move(spec), nullptr, [&app, key, crew](container::ExecResult&& r) {
    if (r.status == 404 || r.status == 409) app.bridge->container_of.erase(crew);
    auto node = app.bridge->reads.extract(key);
    if (node.empty()) return;
    for (auto& waiter : node.mapped()) waiter(r);
  });
  if (e == nullptr) {
    container::ExecResult busy;
    busy.err = UV_EBUSY;
    auto node = app.bridge->reads.extract(key);
    for (auto& waiter : node.mapped()) waiter(busy);
  }
}

container::AgentLog& agent_log(App& app, const AgentRef& agent) {
  auto& log = app.bridge->logs[agent.id];
  if (!log) {
    log = std::make_unique<container::AgentLog>(
        app.loop, app.config.data_dir + "/logs/crews/" + agent.crew_id + "/agents/" + agent.id + "/current.jsonl");
  }
  return *log;
}

}  // namespace crewship::api
