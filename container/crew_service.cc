#include "container/crew_service.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <sys/stat.h>
#include <unistd.h>

#include <rapidjson/document.h>

#include "daemon/dirs.h"
#include "daemon/http.h"
#include "daemon/json.h"
#include "daemon/offload.h"
#include "store/crew_store.h"

namespace crewship::container {
namespace {

constexpr int kAgentUid = 1001;  // the user agents run as in crew containers
constexpr uint64_t kEventsBackoffMaxMs = 30'000;
constexpr std::string_view kSocketInContainer = "/run/crewship/crewship.sock";

std::string label_filter(const std::string& crew_id) {
  json::Out f;
  f.begin_object();
  f.strings("label", {"crewship.crew_id=" + crew_id});
  f.end_object();
  return f.take();
}

std::string real_path(const std::string& path) {
  std::error_code ec;
  auto real = std::filesystem::canonical(path, ec);
  return ec ? path : real.string();
}

std::string member_text(const rapidjson::Value& o, const char* key) {
  auto m = o.FindMember(key);
  return m != o.MemberEnd() && m->value.IsString() ? std::string(m->value.GetString()) : std::string();
}

Problem with_cause(int status, std::string detail, std::string cause) {
  Problem p = fail(status, std::move(detail));
  p.cause = std::move(cause);
  return p;
}

}  // namespace

// The host paths a crew container mounts, checked to exist (the engine would
// make a missing bind source, as a root-owned directory).
struct CrewService::MountPlan {
  std::string storage, socket, hook;                 // as bound
  std::string storage_real, socket_real, hook_real;  // the same, symlinks resolved
  std::string socket_gid;                            // empty: unknown
  Status status;  // a problem when a source is missing

  // On the thread pool: creates the crew's storage and checks every source.
  void check_sources() {
    // 0755 whatever the umask: the agents in the container (uid 1001) go
    // through it to their own directories.
    int made = make_dirs(storage, 0755);
    struct stat st;
    if (made != 0) {
      status = with_cause(500, std::string("cannot create the crew's storage: ") + strerror(-made),
                          "crew storage " + storage + ": " + strerror(-made));
    } else if (::stat(socket.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
      status = with_cause(500, "the IPC socket to mount into the crew's container is missing",
                          "IPC socket " + socket + " is missing: not mounting it");
    } else {
      socket_gid = std::to_string(st.st_gid);
      if (std::string why = hook_binary_problem(hook); !why.empty())
        status = with_cause(500, "crewship-hook to mount into the crew's container is missing",
                            "crewship-hook " + hook + " " + why + ": not mounting it");
    }
    storage_real = real_path(storage);
    socket_real = real_path(socket);
    hook_real = real_path(hook);
  }

  // Whether the mounts of an inspected container are the ones create_body makes now.
  bool matches(const rapidjson::Value& inspect) const {
    auto mounts = inspect.FindMember("Mounts");
    if (mounts == inspect.MemberEnd() || !mounts->value.IsArray()) return false;
    auto has = [&mounts](std::string_view dst, const std::string& src, const std::string& src_real) {
      for (const auto& m : mounts->value.GetArray()) {
        if (!m.IsObject()) continue;
        std::string s = member_text(m, "Source");
        if (member_text(m, "Destination") == dst && (s == src || s == src_real)) return true;
      }
      return false;
    };
    return has("/output", storage, storage_real) && has(kSocketInContainer, socket, socket_real) &&
           has(kHookInContainer, hook, hook_real);
  }
};

namespace {

// Whether an inspected container's environment holds entry.
bool has_env(const rapidjson::Value& inspect, const std::string& entry) {
  auto config = inspect.FindMember("Config");
  if (config == inspect.MemberEnd() || !config->value.IsObject()) return false;
  auto env = config->value.FindMember("Env");
  if (env == config->value.MemberEnd() || !env->value.IsArray()) return false;
  for (const auto& e : env->value.GetArray())
    if (e.IsString() && e.GetString() == entry) return true;
  return false;
}

}  // namespace

void CrewService::token_rotated(const std::string& crew_id) {
  auto it = container_of_.find(crew_id);
  if (it == container_of_.end()) return;
  mounts_checked_.erase(it->second);
  container_of_.erase(it);
}

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

std::string crew_storage_dir(const Config& config, const std::string& crew_id) {
  return config.data_dir + "/storage/crews/" + crew_id;
}

std::string agent_storage_dir(const Config& config, const store::AgentRef& agent) {
  return crew_storage_dir(config, agent.crew_id) + "/" + agent.slug;
}

Problem engine_failure(int err, std::string_view what) {
  if (err == UV_EBUSY) return fail(503, "too many container engine calls under way", 1);
  std::string detail = "container engine ";
  detail += err == UV_ETIMEDOUT ? "did not answer in time" : "unreachable";
  detail += " (";
  detail += what;
  detail += ": ";
  detail += uv_strerror(err);
  detail += ")";
  return fail(502, std::move(detail));
}

Problem reply_failure(const EngineReply& r, std::string_view what) {
  if (r.err != 0) return engine_failure(r.err, what);
  return fail(502, std::string(what) + ": " + r.message());
}

const std::string_view kNotRunning = "the crew's container is not running";

Status exec_status(const ExecResult& r) {
  if (r.err != 0) return engine_failure(r.err, "exec");
  if (r.status == 404 || r.status == 409) return fail(502, std::string(kNotRunning) + " (" + r.message + ")");
  if (r.status != 0) return fail(502, "exec: " + r.message);
  return {};
}

CrewService::CrewService(uv_loop_t* loop, const Config& config, store::Store& store,
                         store::PresenceService& presence, std::unique_ptr<Engine> engine, CrewToken crew_token,
                         Report report)
    : loop_(loop),
      config_(config),
      store_(store),
      presence_(presence),
      engine_(std::move(engine)),
      crew_token_(std::move(crew_token)),
      report_(std::move(report)),
      hook_(hook_binary(config)),
      events_retry_(new uv_timer_t) {
  uv_timer_init(loop_, events_retry_);
  events_retry_->data = this;
}

CrewService::~CrewService() = default;

void CrewService::stop() {
  if (stopped_) return;
  stopped_ = true;
  // Calls under way end now (their callers answer 502).
  engine_->close();
  uv_close(reinterpret_cast<uv_handle_t*>(events_retry_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

void CrewService::finish_start(const std::string& crew_id, Status st, const std::string& id) {
  if (st.ok()) container_of_[crew_id] = id;
  auto node = starting_.extract(crew_id);
  if (node.empty()) return;
  for (auto& waiter : node.mapped()) waiter(st, id);
}

void CrewService::plan_mounts(const std::string& crew_id, std::function<void(MountPlan&)> done) {
  auto plan = std::make_shared<MountPlan>();
  plan->storage = crew_storage_dir(config_, crew_id);
  plan->socket = config_.socket_path;
  plan->hook = hook_;
  offload(loop_, [plan] { plan->check_sources(); }, [plan, done = std::move(done)] { done(*plan); });
}

std::string CrewService::create_body(const store::CrewRef& crew, const MountPlan& plan) {
  json::Out b;
  b.begin_object();
  b.member("Image", config_.sandbox_image);
  b.strings("Entrypoint", {kHookInContainer, "init"});
  b.strings("Cmd", {});
  b.member("User", "0");
  b.member("WorkingDir", "/output");
  b.key("Labels");
  b.begin_object();
  b.member("crewship.crew_id", crew.id);
  b.member("crewship.workspace_id", crew.workspace_id);
  b.end_object();
  b.strings("Env", {"CREWSHIP_INTERNAL_TOKEN=" + crew_token_(crew.workspace_id, crew.id, crew.token_generation),
                    "CREWSHIP_SOCKET=" + std::string(kSocketInContainer), "CREWSHIP_CREW_ID=" + crew.id,
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
  if (!config_.container_network.empty()) b.member("NetworkMode", config_.container_network);
  b.end_object();
  b.end_object();
  return b.take();
}

// A container that is not what crewshipd would create now goes, and a new one
// is made in its place.
void CrewService::recreate(const std::string& crew_id, const std::string& id, std::string_view why) {
  report_(log::Level::kNotice, "crew " + crew_id + ": container " + id + " " + std::string(why) +
                                   ": removing it and creating it again");
  mounts_checked_.erase(id);
  container_of_.erase(crew_id);  // gone, whether or not the new one comes up
  bool ok = engine_->call("DELETE", "/containers/" + id + "?force=1", {}, crew_id,
                          [this, crew_id](EngineReply&& r) {
                            if (r.err != 0 || (r.status != 204 && r.status != 404))
                              return finish_start(crew_id, reply_failure(r, "remove"), {});
                            // A container made again gets a token of a new
                            // generation: whatever held the old one (the old
                            // container, a copy of its environment) is shut out.
                            auto now = std::make_shared<int64_t>(0);
                            store::submit(
                                store_.writer(),
                                [crew_id, now](store::Connection& w) {
                                  return store::bump_token_generation(w, crew_id, now.get());
                                },
                                [this, crew_id](Status st) {
                                  if (!st) return finish_start(crew_id, st, {});
                                  create(crew_id, false);
                                });
                          });
  if (!ok) finish_start(crew_id, engine_failure(UV_EBUSY, "remove"), {});
}

// recreate: a start the engine refuses is taken as a broken container (made
// by an older crewshipd, or by hand), which is then made again once.
void CrewService::start(const std::string& crew_id, const std::string& id, bool recreate_on_failure) {
  bool ok = engine_->call("POST", "/containers/" + id + "/start", {}, crew_id,
                          [this, crew_id, id, recreate_on_failure](EngineReply&& r) {
                            if (r.err == 0 && (r.status == 204 || r.status == 304))
                              return finish_start(crew_id, {}, id);
                            if (r.err == 0 && r.status != 404 && recreate_on_failure)
                              return recreate(crew_id, id, "did not start (" + r.message() + ")");
                            finish_start(crew_id, reply_failure(r, "start"), id);
                          });
  if (!ok) finish_start(crew_id, engine_failure(UV_EBUSY, "start"), id);
}

void CrewService::create(const std::string& crew_id, bool retry) {
  auto crew = store::find_crew(store_.reader(), crew_id, "");
  if (!crew) return finish_start(crew_id, crew.problem(), {});
  plan_mounts(crew_id, [this, crew_id, crew = std::move(crew).value(), retry](MountPlan& plan) {
    if (!plan.status) return finish_start(crew_id, plan.status, {});
    std::string name = "crewship-team-" + crew.slug + "-" + crew_id;
    bool ok = engine_->call(
        "POST", "/containers/create?name=" + name, create_body(crew, plan), crew_id,
        [this, crew_id, retry](EngineReply&& r) {
          // Podman answers a name conflict with 500 and "already in use".
          bool conflict = r.err == 0 && (r.status == 409 || (r.status == 500 && r.message().find("already in use") !=
                                                                                     std::string::npos));
          if (conflict && retry) {
            // Made by someone else meanwhile (another crewshipd, an old name): look again.
            return inspect(crew_id, [this, crew_id](Result<CrewContainer> c) {
              if (!c) return finish_start(crew_id, c.problem(), {});
              if (c->id.empty()) return create(crew_id, false);
              check(crew_id, *c);
            });
          }
          rapidjson::Document doc;
          if (r.err == 0 && r.status == 201) doc.Parse(r.body.data(), r.body.size());
          if (r.err != 0 || r.status != 201 || !doc.IsObject() || !doc.HasMember("Id") || !doc["Id"].IsString())
            return finish_start(crew_id, reply_failure(r, "create"), {});
          std::string id = doc["Id"].GetString();
          mounts_checked_.insert(id);
          start(crew_id, id, false);
        });
    if (!ok) finish_start(crew_id, engine_failure(UV_EBUSY, "create"), {});
  });
}

// An existing container is used when its mounts are the ones crewshipd makes
// now and it did not fail to start; otherwise it is made again.
void CrewService::check(const std::string& crew_id, const CrewContainer& c) {
  if (c.state == "running" && mounts_checked_.contains(c.id)) return finish_start(crew_id, {}, c.id);
  plan_mounts(crew_id, [this, crew_id, id = c.id](MountPlan& plan) {
    if (!plan.status) return finish_start(crew_id, plan.status, {});
    bool ok = engine_->call("GET", "/containers/" + id + "/json", {}, crew_id, [this, crew_id, id,
                                                                               plan](EngineReply&& r) {
      if (r.err == 0 && r.status == 404) return create(crew_id, true);  // gone meanwhile
      rapidjson::Document doc;
      if (r.err == 0 && r.status == 200) doc.Parse(r.body.data(), r.body.size());
      if (r.err != 0 || r.status != 200 || !doc.IsObject()) return finish_start(crew_id, reply_failure(r, "inspect"), {});
      std::string state, error;
      if (auto s = doc.FindMember("State"); s != doc.MemberEnd() && s->value.IsObject()) {
        state = member_text(s->value, "Status");
        error = member_text(s->value, "Error");
      }
      if (!plan.matches(doc)) return recreate(crew_id, id, "has other mounts");
      auto crew = store::find_crew(store_.reader(), crew_id, "");
      if (!crew) return finish_start(crew_id, crew.problem(), {});
      if (!has_env(doc, "CREWSHIP_INTERNAL_TOKEN=" + crew_token_(crew->workspace_id, crew_id, crew->token_generation)))
        return recreate(crew_id, id, "has a revoked token");
      if (state != "running" && !error.empty()) return recreate(crew_id, id, "failed to start (" + error + ")");
      mounts_checked_.insert(id);
      if (state == "running") return finish_start(crew_id, {}, id);
      start(crew_id, id, true);
    });
    if (!ok) finish_start(crew_id, engine_failure(UV_EBUSY, "inspect"), {});
  });
}

void CrewService::inspect(const std::string& crew_id, std::function<void(Result<CrewContainer>)> done) {
  bool ok = engine_->call(
      "GET", "/containers/json?all=1&filters=" + http::percent_encode(label_filter(crew_id)), {}, crew_id,
      [done](EngineReply&& r) {
        CrewContainer c;
        c.state = "missing";
        rapidjson::Document doc;
        if (r.err == 0 && r.status == 200) doc.Parse(r.body.data(), r.body.size());
        if (r.err != 0 || r.status != 200 || !doc.IsArray()) return done(reply_failure(r, "list"));
        if (doc.Empty() || !doc[0].IsObject()) return done(std::move(c));
        const auto& o = doc[0];
        c.id = member_text(o, "Id");
        c.state = member_text(o, "State");
        c.status = member_text(o, "Status");
        c.image = member_text(o, "Image");
        if (auto n = o.FindMember("Names"); n != o.MemberEnd() && n->value.IsArray() && !n->value.Empty() &&
                                            n->value[0].IsString()) {
          c.name = n->value[0].GetString();
          if (!c.name.empty() && c.name[0] == '/') c.name.erase(0, 1);
        }
        done(std::move(c));
      });
  if (!ok) done(engine_failure(UV_EBUSY, "list"));
}

void CrewService::ensure(const std::string& crew_id, std::function<void(Result<std::string>)> done) {
  auto& waiters = starting_[crew_id];
  waiters.push_back([done = std::move(done)](Status st, const std::string& id) {
    if (!st) return done(st.problem());
    done(id);
  });
  if (waiters.size() > 1) return;  // joins the start under way
  inspect(crew_id, [this, crew_id](Result<CrewContainer> c) {
    if (!c) return finish_start(crew_id, c.problem(), {});
    if (c->id.empty()) return create(crew_id, true);
    check(crew_id, *c);
  });
}

void CrewService::running(const std::string& crew_id, std::function<void(Result<std::string>)> done) {
  if (auto it = container_of_.find(crew_id); it != container_of_.end()) return done(it->second);
  inspect(crew_id, [this, crew_id, done](Result<CrewContainer> c) {
    if (!c) return done(c.problem());
    if (c->state != "running") return done(std::string());
    container_of_[crew_id] = c->id;
    done(c->id);
  });
}

void CrewService::prepare_agent_dir(const store::AgentRef& agent, std::function<void(Status)> done) {
  std::string dir = agent_storage_dir(config_, agent);
  if (agent_dirs_.contains(dir)) return done({});
  auto result = std::make_shared<Status>();
  offload(
      loop_,
      [dir, result] {
        int made = make_dirs(dir, 0755);
        struct stat st;
        if (made != 0) {
          *result = fail(500, std::string("cannot create the agent's workspace: ") + strerror(-made));
        } else if (::stat(dir.c_str(), &st) != 0) {
          *result = fail(500, "cannot create the agent's workspace");
        } else if ((st.st_uid != kAgentUid || st.st_gid != kAgentUid) && ::chown(dir.c_str(), kAgentUid, kAgentUid) != 0) {
          *result = fail(500, std::string("cannot hand the agent's workspace to uid 1001: ") + strerror(errno));
        }
      },
      [this, dir, result, done = std::move(done)] {
        if (result->ok()) agent_dirs_.insert(dir);
        done(*result);
      });
}

void CrewService::shared_exec(std::string key, ExecSpec spec, std::function<void(Status, const ExecResult&)> done) {
  auto& waiters = reads_[key];
  waiters.push_back([done = std::move(done)](const ExecResult& r) { done(exec_status(r), r); });
  if (waiters.size() > 1) return;  // the same read is under way
  std::string crew = spec.key;
  auto* e = engine_->exec(std::move(spec), nullptr, [this, key, crew](ExecResult&& r) {
    if (r.status == 404 || r.status == 409) container_of_.erase(crew);
    auto node = reads_.extract(key);
    if (node.empty()) return;
    for (auto& waiter : node.mapped()) waiter(r);
  });
  if (e == nullptr) {
    ExecResult busy;
    busy.err = UV_EBUSY;
    auto node = reads_.extract(key);
    for (auto& waiter : node.mapped()) waiter(busy);
  }
}

// A crew container died or stopped: its agents are offline.
void CrewService::on_container_exit(const std::string& crew_id, int64_t exit_code) {
  container_of_.erase(crew_id);
  report_(log::Level::kInfo, "crew " + crew_id + ": container exited (" + std::to_string(exit_code) + ")");
  std::string details = R"({"reason":"container_exit","exit_code":)" + std::to_string(exit_code) + "}";
  presence_.offline_crew(crew_id, std::move(details), [this](Result<size_t> swept) {
    if (!swept) report_(log::Level::kError, "presence after container exit: " + swept.problem().cause);
  });
}

void CrewService::on_event(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject() || member_text(doc, "Action") != "die") return;
  auto actor = doc.FindMember("Actor");
  if (actor == doc.MemberEnd() || !actor->value.IsObject()) return;
  auto attrs = actor->value.FindMember("Attributes");
  if (attrs == actor->value.MemberEnd() || !attrs->value.IsObject()) return;
  auto crew = attrs->value.FindMember("crewship.crew_id");
  if (crew == attrs->value.MemberEnd() || !crew->value.IsString()) return;
  int64_t code = -1;
  if (std::string c = member_text(attrs->value, "exitCode"); !c.empty()) code = std::strtoll(c.c_str(), nullptr, 10);
  on_container_exit(crew->value.GetString(), code);
}

void CrewService::follow_events() {
  if (!stopped_) watch_events();
}

void CrewService::retry_events() {
  events_backoff_ms_ = events_backoff_ms_ == 0 ? 500 : std::min(events_backoff_ms_ * 2, kEventsBackoffMaxMs);
  uv_timer_start(events_retry_, [](uv_timer_t* t) { static_cast<CrewService*>(t->data)->watch_events(); },
                 events_backoff_ms_, 0);
}

// Container events of crew containers, followed for the daemon's life and
// taken up again, with backoff, whenever the engine goes away.
void CrewService::watch_events() {
  events_ = engine_->events(
      // Podman's compatible service ignores event and label-key filters:
      // the rest is sorted out here.
      R"({"type":["container"]})",
      [this](std::string_view e) {
        events_backoff_ms_ = 0;
        on_event(e);
      },
      [this](int err) {
        events_ = nullptr;
        if (err == UV_ECANCELED || stopped_) return;
        report_(log::Level::kDebug, std::string("container events: ") + uv_strerror(err) + "; following again");
        container_of_.clear();  // what was running may not be any more
        retry_events();
      });
}

}  // namespace crewship::container
