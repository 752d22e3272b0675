// Agent runs and their logs:
//   POST /api/v1/internal/agents/{agentId}/start {cmd, env?, chat_id?} -> 202 {run_id}
//   GET  .../agents/{agentId}/runs                 newest first
//   GET  /api/v1/runs?workspace_id=&agent_id=&status=  the workspace's, newest first
//   GET  .../agents/{agentId}/logs?offset=&limit=&follow=1
// A run is an exec in the crew container as uid 1001 in /output/<slug>; its
// stdout and stderr become log entries line by line; its end writes the exit
// code, the agent's status and presence. The agent's assigned credentials
// are opened into that exec's environment only, never the container's.
#include <cerrno>
#include <optional>

#include <fcntl.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/bridge.h"
#include "api/realtime.h"
#include "api/common.h"
#include "api/routes.h"
#include "daemon/ids.h"
#include "daemon/log.h"
#include "daemon/offload.h"
#include "store/credential_store.h"
#include "store/keeper_store.h"
#include "store/presence_service.h"
#include "store/run_store.h"

namespace crewship::api {
namespace {

constexpr size_t kMaxArgs = 256;
constexpr size_t kMaxArgBytes = 64 << 10;
constexpr size_t kMaxEnv = 128;
constexpr size_t kFollowRoom = 256 << 10;  // unsent bytes under which a follower is sent more


bool valid_env_name(std::string_view n) {
  if (n.empty() || n.size() > 128 || std::isdigit(static_cast<unsigned char>(n[0])) != 0) return false;
  for (char c : n)
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_') return false;
  return !n.starts_with("CREWSHIP_");  // crewshipd's own
}

bool read_run_input(const ExchangePtr& ex, RunRequest* in) {
  rapidjson::Document doc;
  if (!read_json(ex, &doc)) return false;
  auto fail = [&ex](std::string_view detail) {
    reply_problem(ex, 400, detail);
    return false;
  };
  auto cmd = doc.FindMember("cmd");
  if (cmd == doc.MemberEnd() || !cmd->value.IsArray() || cmd->value.Empty() || cmd->value.Size() > kMaxArgs)
    return fail("cmd must be an array of 1-256 strings");
  for (const auto& a : cmd->value.GetArray()) {
    if (!a.IsString() || a.GetStringLength() > kMaxArgBytes ||
        std::string_view(a.GetString(), a.GetStringLength()).find('\0') != std::string_view::npos)
      return fail("cmd must hold strings of at most 64 KiB without NUL");
    in->cmd.emplace_back(a.GetString(), a.GetStringLength());
  }
  if (in->cmd[0].empty()) return fail("cmd[0] must name a program");
  if (auto env = doc.FindMember("env"); env != doc.MemberEnd() && !env->value.IsNull()) {
    if (!env->value.IsObject() || env->value.MemberCount() > kMaxEnv)
      return fail("env must be an object of at most 128 strings");
    for (const auto& m : env->value.GetObject()) {
      std::string_view name(m.name.GetString(), m.name.GetStringLength());
      if (!valid_env_name(name)) return fail("env names must be [A-Za-z_][A-Za-z0-9_]* and not CREWSHIP_*");
      if (!m.value.IsString() || m.value.GetStringLength() > kMaxArgBytes ||
          std::string_view(m.value.GetString(), m.value.GetStringLength()).find('\0') != std::string_view::npos)
        return fail("env values must be strings of at most 64 KiB without NUL");
      in->env.push_back(std::string(name) + "=" + m.value.GetString());
    }
  }
  if (auto chat = doc.FindMember("chat_id"); chat != doc.MemberEnd() && !chat->value.IsNull()) {
    if (!chat->value.IsString() || chat->value.GetStringLength() == 0 || chat->value.GetStringLength() > 128)
      return fail("chat_id must be a non-empty string");
    in->chat_id = chat->value.GetString();
  }
  return true;
}

// The head of a log answer that starts at first, past the offset asked for.
std::vector<http::Header> truncated_headers(int64_t first) {
  return {{"X-Log-Truncated", "true"}, {"X-Log-First-Offset", std::to_string(first)}};
}

// A run as GET .../runs lists it.
void write_run(json::Out& out, const store::RunRow& run) {
  out.begin_object();
  out.member("id", run.id);
  out.member("agent_id", run.agent_id);
  out.member("workspace_id", run.workspace_id);
  nullable_text(out, "chat_id", run.chat_id);
  out.key("cmd");
  out.w().RawValue(run.cmd_json.data(), run.cmd_json.size(), rapidjson::kArrayType);
  out.member("status", run.status);
  out.member("source", run.source);
  out.key("exit_code");
  run.exit_code ? void(out.w().Int64(*run.exit_code)) : void(out.w().Null());
  nullable_text(out, "error", run.error);
  out.member("started_at", run.started_at);
  nullable_text(out, "ended_at", run.ended_at);
  out.end_object();
}

// Cuts a stream's output into log entries at newlines; a line longer than
// the log's limit is cut there too.
void capture(App& app, Run& run, int stream, std::string_view piece) {
  std::string& partial = run.partial[stream == 1 ? 0 : 1];
  const char* name = stream == 1 ? "stdout" : "stderr";
  container::AgentLog& log = agent_log(app, run.agent);
  while (!piece.empty()) {
    size_t nl = piece.find('\n');
    size_t take = std::min(nl == std::string_view::npos ? piece.size() : nl,
                           container::AgentLog::kMaxContent - partial.size());
    partial.append(piece.substr(0, take));
    piece.remove_prefix(take);
    bool line_end = !piece.empty() && piece.front() == '\n';
    if (line_end) piece.remove_prefix(1);
    if (line_end || partial.size() == container::AgentLog::kMaxContent) {
      log.append(name, partial);
      partial.clear();
    }
  }
}

// run.started / run.finished on the workspace's events channel.
void publish_run(App& app, std::string_view event, const std::string& run_id, const store::PresenceChange& c,
                 std::string_view status, std::optional<int64_t> exit_code) {
  json::Out d;
  d.begin_object();
  d.member("run_id", run_id);
  d.member("agent_id", c.agent_id);
  if (!c.crew_id.empty()) d.member("crew_id", c.crew_id);
  d.member("status", status);
  if (exit_code) d.member("exit_code", *exit_code);
  d.end_object();
  publish_event(app, c.workspace_id, c.crew_id, event, d.take());
}

void remove_stdin_file(App& app, const Run& run) {
  if (!run.stdin_file.empty()) offload(app.loop, [path = run.stdin_file] { ::unlink(path.c_str()); }, [] {});
}

// The exec ended: the last partial lines go to the log, then the run's end
// is written.
void run_ended(App& app, const std::string& agent_id, container::ExecResult&& r) {
  auto node = app.bridge->runs.extract(agent_id);
  if (node.empty()) return;
  Run& run = *node.mapped();
  container::AgentLog& log = agent_log(app, run.agent);
  if (!run.partial[0].empty()) log.append("stdout", run.partial[0]);
  if (!run.partial[1].empty()) log.append("stderr", run.partial[1]);
  remove_stdin_file(app, run);
  if (r.err == UV_ECANCELED) return;  // crewshipd stops; the next start marks the run LOST

  Status o = exec_status(r);
  std::string status = run.stopping ? "STOPPED" : !o.ok() || r.exit_code != 0 ? "FAILED" : "SUCCEEDED";
  std::string error = o.ok() ? std::string() : o.problem().detail;
  if (!o.ok()) log.append("stderr", "crewshipd: " + error);
  LOG_INFO("agent %s: run %s %s (exit %lld)", agent_id.c_str(), run.id.c_str(), status.c_str(),
           static_cast<long long>(r.exit_code));

  store::PresenceUpdate u;
  u.agent_id = run.agent.id;
  u.workspace_id = run.agent.workspace_id;
  u.crew_id = run.agent.crew_id;
  u.status = "online";
  json::Out d;
  d.begin_object();
  if (run.stopping) {
    d.member("reason", "stopped");
  } else {
    d.member("run_id", run.id);
    d.member("exit_code", r.exit_code);
    if (status == "FAILED") d.member("error", error.empty() ? "exit code " + std::to_string(r.exit_code) : error);
  }
  d.end_object();
  u.details = d.take();
  u.error = status == "FAILED";
  bool stopped = run.stopping;
  app.presence.set(
      std::move(u),
      [&app, run_id = run.id, status, exit_code = r.exit_code](Status st, const store::PresenceChange& c) {
        if (st) return publish_run(app, "run.finished", run_id, c, status, exit_code);
        LOG_ERROR("agent %s: the end of its run was not recorded: %s", c.agent_id.c_str(), st.problem().cause.c_str());
      },
      [run_id = run.id, status, error, exit_code = r.exit_code, stopped](store::Connection& c,
                                                                         const store::PresenceWrite& w) {
        if (int rc = store::end_run(c, run_id, status, exit_code, error, w.since); rc != SQLITE_OK) return rc;
        return stopped ? store::mark_agent_stopped(c, w.agent_id) : SQLITE_OK;
      });
}

using Started = std::function<void(Result<std::string>)>;

// The run's row and busy presence are committed: the exec starts.
void launch(App& app, const std::string& agent_id, const std::string& container,
            const std::shared_ptr<RunRequest>& in, const Started& started) {
  Run& run = *app.bridge->runs.find(agent_id)->second;
  // Stopped while it was starting, or crewshipd is stopping: the run ends
  // before its exec begins.
  bool stopped = crews(app).stopped();
  if (run.stopping || stopped) {
    std::string id = run.id;
    container::ExecResult never;
    never.err = stopped ? UV_ECANCELED : 0;
    run_ended(app, agent_id, std::move(never));
    return stopped ? started(fail(503, "shutting down", 1)) : started(id);
  }
  container::ExecSpec spec;
  spec.container = container;
  spec.cmd = in->cmd;
  spec.workdir = "/output/" + run.agent.slug;
  // crewshipd's own first: `crewship-hook stop` finds the agent's processes
  // by the start of their environment.
  spec.env = {"CREWSHIP_AGENT_ID=" + run.agent.id, "CREWSHIP_RUN_ID=" + run.id,
              "CREWSHIP_AGENT_SLUG=" + run.agent.slug, "HOME=/home/agent"};
  spec.env.insert(spec.env.end(), in->env.begin(), in->env.end());
  in->env.clear();  // the opened credentials live on in the exec's spec only
  spec.timeout_ms = 0;  // as long as the agent works
  spec.key = run.agent.crew_id;
  std::string id = run.id;
  auto* exec = crews(app).engine().exec(
      std::move(spec), [&app, agent_id](int stream, std::string_view piece) {
        auto r = app.bridge->runs.find(agent_id);
        if (r != app.bridge->runs.end()) capture(app, *r->second, stream, piece);
      },
      [&app, agent_id](container::ExecResult&& r) { run_ended(app, agent_id, std::move(r)); });
  if (exec == nullptr) {
    container::ExecResult busy;
    busy.err = UV_EBUSY;
    run_ended(app, agent_id, std::move(busy));
    return started(engine_failure(UV_EBUSY, "exec"));
  }
  started(id);
}

// The crew's container runs and the agent's workspace exists: the run's row
// and busy presence are written, then the exec starts.
void begin_run(App& app, const AgentRef& agent, const std::string& container,
               const std::shared_ptr<RunRequest>& in, const Started& started) {
  const std::string run_id = app.bridge->runs[agent.id]->id;
  store::PresenceUpdate u;
  u.agent_id = agent.id;
  u.workspace_id = agent.workspace_id;
  u.crew_id = agent.crew_id;
  u.status = "busy";
  u.details = R"({"run_id":")" + run_id + R"("})";
  json::Out cmd;
  cmd.begin_array();
  for (const std::string& a : in->cmd) cmd.str(a);
  cmd.end_array();
  app.presence.set(
      std::move(u),
      [&app, container, in, started](Status st, const store::PresenceChange& c) {
        if (!st) {
          auto node = app.bridge->runs.extract(c.agent_id);
          if (!node.empty()) remove_stdin_file(app, *node.mapped());
          return started(st.problem());
        }
        publish_run(app, "run.started", app.bridge->runs[c.agent_id]->id, c, "RUNNING", std::nullopt);
        launch(app, c.agent_id, container, in, started);
      },
      [run_id, in, cmd_json = cmd.take()](store::Connection& c, const store::PresenceWrite& w) {
        int rc = store::insert_run(
            c, {run_id, w.agent_id, w.workspace_id, w.crew_id, in->chat_id, cmd_json, w.since, in->source});
        for (const auto& [credential_id, env_var_name] : in->opened) {
          if (rc != SQLITE_OK) return rc;
          rc = store::insert_keeper_request(
                   c, {new_id(), w.workspace_id, credential_id, w.agent_id, run_id, env_var_name, w.since})
                   ? SQLITE_OK
                   : SQLITE_ABORT;
        }
        if (rc != SQLITE_OK || !in->audit) return rc;
        store::AuditEntry audit = *in->audit;
        audit.details = details_of({{"run_id", run_id}, {"source", in->source}});
        return store::insert_audit(c, audit) ? SQLITE_OK : SQLITE_ABORT;
      });
}

// The agent's credentials, opened, as NAME=value entries that replace any of
// the request's own env entries of the same names.
Status open_credentials(App& app, const AgentRef& agent, RunRequest* in) {
  auto sealed = store::credentials_to_inject(app.store.reader(), agent.id);
  if (!sealed) return std::move(sealed).take_problem();
  if (sealed->empty()) return {};
  std::vector<std::string> env;
  for (const store::SealedEnv& s : *sealed) {
    SecretText value;
    if (!app.vault.open(s.sealed, &value)) {
      Problem p = fail(500, "credential " + s.credential_id + " could not be opened");
      p.cause = "credential " + s.credential_id + " of agent " + agent.id +
                " does not open under this vault key (ENCRYPTION_KEY or " + Vault::kFileName + " changed?)";
      return p;
    }
    env.push_back(s.env_var_name + "=" + value.value);
    in->opened.emplace_back(s.credential_id, s.env_var_name);
  }
  for (std::string& e : in->env) {
    std::string_view name = std::string_view(e).substr(0, e.find('='));
    bool shadowed = false;
    for (const store::SealedEnv& s : *sealed) shadowed = shadowed || s.env_var_name == name;
    if (!shadowed) env.push_back(std::move(e));
  }
  in->env = std::move(env);
  return {};
}

// Writes the run's stdin to <crew storage>/.crewship/stdin/<run id> (0644:
// the exec runs as uid 1001), off the loop.
void write_stdin_file(App& app, const AgentRef& agent, const std::string& run_id, std::string text,
                      std::function<void(Status, std::string host, std::string inside)> done) {
  std::string dir = crew_storage_dir(app.config, agent.crew_id) + "/.crewship";
  auto rc = std::make_shared<int>(0);
  std::string host = dir + "/stdin/" + run_id;
  offload(
      app.loop,
      [dir, run_id, text = std::move(text), rc] {
        // Each step refuses a symlink: nothing a container planted leads out.
        ::mkdir(dir.c_str(), 0755);
        int top = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (top < 0) {
          *rc = -errno;
          return;
        }
        ::mkdirat(top, "stdin", 0755);
        int sub = ::openat(top, "stdin", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int fd = sub < 0 ? -1 : ::openat(sub, run_id.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        *rc = fd < 0 ? -errno : 0;
        for (size_t off = 0; fd >= 0 && off < text.size();) {
          ssize_t n = ::write(fd, text.data() + off, text.size() - off);
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) {
            *rc = -EIO;
            break;
          }
          off += static_cast<size_t>(n);
        }
        if (fd >= 0) ::close(fd);
        if (*rc != 0 && fd >= 0) ::unlinkat(sub, run_id.c_str(), 0);
        if (sub >= 0) ::close(sub);
        ::close(top);
      },
      [rc, host, run_id, done = std::move(done)] {
        if (*rc != 0) {
          Problem p = fail(500, "the run's input could not be written");
          p.cause = host + ": " + std::strerror(-*rc);
          return done(p, {}, {});
        }
        done({}, host, "/output/.crewship/stdin/" + run_id);
      });
}

}  // namespace

void start_run(App& app, const AgentRef& agent, std::shared_ptr<RunRequest> in, Started started) {
  if (app.bridge->runs.contains(agent.id)) return started(fail(409, "the agent is already running"));
  if (Status st = open_credentials(app, agent, in.get()); !st) return started(st.problem());
  auto run = std::make_unique<Run>();
  run->id = new_id();
  run->agent = agent;
  app.bridge->runs[agent.id] = std::move(run);  // holds the agent's place while it starts

  auto give_up = [&app, agent, started](const Problem& why) {
    app.bridge->runs.erase(agent.id);
    started(why);
  };
  crews(app).ensure(agent.crew_id, [&app, agent, in, give_up, started](Result<std::string> found) {
    if (!found) return give_up(found.problem());
    crews(app).prepare_agent_dir(agent, [&app, agent, in, give_up, started, container = *found](Status dir) {
      if (!dir) return give_up(dir.problem());
      if (!in->stdin_text) return begin_run(app, agent, container, in, started);
      std::string run_id = app.bridge->runs[agent.id]->id;
      write_stdin_file(app, agent, run_id, std::move(*in->stdin_text),
                       [&app, agent, in, give_up, started, container](Status st, std::string host, std::string inside) {
                         if (!st) return give_up(st.problem());
                         app.bridge->runs[agent.id]->stdin_file = host;
                         // sh gives the command the file as stdin; the file's
                         // path and the command stay separate arguments.
                         std::vector<std::string> cmd = {"sh", "-c", "exec \"$@\" < \"$0\"", inside};
                         cmd.insert(cmd.end(), in->cmd.begin(), in->cmd.end());
                         in->cmd = std::move(cmd);
                         in->stdin_text.reset();
                         begin_run(app, agent, container, in, started);
                       });
    });
  });
}

std::function<void(Result<std::string>)> reply_run_started(const ExchangePtr& ex) {
  return [ex](Result<std::string> run_id) {
    if (!run_id) return reply_problem(ex, run_id.problem());
    json::Out out;
    out.begin_object();
    out.member("run_id", *run_id);
    out.end_object();
    reply(ex, 202, out);
  };
}

// POST /api/v1/internal/agents/{agentId}/start
void start_agent_run(App& app, const ExchangePtr& ex) {
  if (!bridge_open(app, ex)) return;
  auto in = std::make_shared<RunRequest>();
  if (!read_run_input(ex, in.get())) return;
  AgentRef agent;
  if (!find_agent(app, ex, &agent, true)) return;
  start_run(app, agent, in, reply_run_started(ex));
}

// GET /api/v1/agents/{agentId}/runs
void list_agent_runs(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 20, 100, &page)) return;
  AgentRef agent;
  if (!find_agent(app, ex, &agent)) return;
  auto runs = store::list_runs(app.store.reader(), agent.id, page.limit, page.offset);
  if (!runs) return reply_problem(ex, runs.problem());
  json::Out out;
  out.begin_array();
  for (const store::RunRow& run : *runs) write_run(out, run);
  out.end_array();
  reply_list(ex, "runs", out.take());
}

// GET /api/v1/runs?workspace_id=&agent_id=&status=: the workspace's runs,
// newest first. An agent_id that is not a live agent of the workspace 404s.
void list_workspace_runs(App& app, const ExchangePtr& ex) {
  Page page;
  if (!read_page(ex, 20, 100, &page)) return;
  std::optional<std::string> agent_id = ex->req.query_param("agent_id"), status = ex->req.query_param("status");
  if (agent_id && agent_id->empty()) agent_id.reset();
  if (status && status->empty()) status.reset();
  if (status && *status != "RUNNING" && *status != "SUCCEEDED" && *status != "FAILED" && *status != "STOPPED" &&
      *status != "LOST")
    return reply_problem(ex, 400, "status must be one of RUNNING, SUCCEEDED, FAILED, STOPPED, LOST");
  if (agent_id) {
    if (auto a = store::find_agent(app.store.reader(), *agent_id, ex->who.workspace_id, ""); !a)
      return reply_problem(ex, a.problem());
  }
  reply_list(ex,
             store::list_workspace_runs(app.store.reader(), ex->who.workspace_id, agent_id, status, page.limit,
                                        page.offset),
             write_run);
}

// GET /api/v1/agents/{agentId}/logs?offset=&limit=&follow=1
// Offsets count entries since the log began; rotation keeps them.
void agent_logs(App& app, const ExchangePtr& ex) {
  if (!bridge_open(app, ex)) return;
  Page page;
  if (!read_page(ex, 100, 500, &page)) return;
  auto follow = ex->req.query_param("follow");
  if (follow && *follow != "0" && *follow != "1" && *follow != "true" && *follow != "false")
    return reply_problem(ex, 400, "follow must be 1 or 0");
  AgentRef agent;
  if (!find_agent(app, ex, &agent)) return;
  container::AgentLog& log = agent_log(app, agent);
  if (follow && (*follow == "1" || *follow == "true")) {
    // One JSON entry per line from offset on, until the client leaves. An
    // offset below the first entry kept starts there, and the head says so
    // as a page's does.
    log.first_kept([&log, ex, offset = page.offset](int64_t first) {
      if (ex->client_gone()) return;
      std::vector<http::Header> headers;
      if (offset < first) headers = truncated_headers(first);
      ex->begin_stream(200, "application/x-ndjson", std::move(headers));
      auto* f = log.follow(
          offset,
          [ex](const std::string& line) {
            std::string chunk;
            chunk.reserve(line.size() + 1);
            chunk.append(line).push_back('\n');
            return ex->write_chunk(chunk);
          },
          [ex] { return ex->queued_bytes() < kFollowRoom; }, [ex] { ex->end_stream(); });
      ex->on_gone = [&log, f] { log.unfollow(f); };
    });
    return;
  }
  log.read(page.offset, page.limit, [ex](container::AgentLog::Page got) {
    std::string body = ex->who.kind == Principal::Kind::kInternal ? "{\"logs\":[" : "[";
    for (size_t i = 0; i < got.lines.size(); ++i) {
      if (i > 0) body += ',';
      body += got.lines[i];
    }
    body += ']';
    // Entries below the offset asked for were rotated away: the answer starts
    // at the first one kept, and says so (in the envelope on the socket; the
    // public answer is a bare array, so there in headers only).
    if (ex->who.kind == Principal::Kind::kInternal) {
      if (got.truncated) body += ",\"truncated\":true,\"first_offset\":" + std::to_string(got.first);
      body += '}';
    }
    http::Response r = http::Response::json(200, std::move(body));
    if (got.truncated) r.headers = truncated_headers(got.first);
    ex->respond(std::move(r));
  });
}

}  // namespace crewship::api
