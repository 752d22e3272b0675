#include "daemon/daemon.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

#include <sodium.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/bridge.h"
#include "api/ephemeral_sweep.h"
#include "api/memory_files.h"
#include "api/realtime.h"
#include "api/upload_file.h"
#include "daemon/http_server.h"
#include "daemon/data_lock.h"
#include "daemon/dirs.h"
#include "daemon/listeners.h"
#include "daemon/ids.h"
#include "daemon/log.h"
#include "daemon/openapi_docs.h"
#include "daemon/routes.h"
#include "daemon/secret_file.h"
#include "daemon/systemd.h"
#include "store/journal_store.h"

namespace crewship {
namespace {

constexpr size_t kRateKeys = 10000;  // keys each rate limiter remembers

std::string absolute(const std::string& path) {
  char* real = realpath(path.c_str(), nullptr);
  if (real == nullptr) return path;
  std::string out(real);
  free(real);
  return out;
}

void close_handle(void* h) {
  auto* handle = static_cast<uv_handle_t*>(h);
  if (handle->loop != nullptr && !uv_is_closing(handle)) uv_close(handle, nullptr);
}

}  // namespace

Daemon::Daemon(Config config) {
  uv_loop_init(&loop_);
  // The writer tells from the loop's idle time whether the loop let it run.
  uv_loop_configure(&loop_, UV_METRICS_IDLE_TIME);
  app_.loop = &loop_;
  app_.config = std::move(config);
  std::memset(&sigterm_, 0, sizeof sigterm_);
  std::memset(&sigint_, 0, sizeof sigint_);
  std::memset(&watchdog_, 0, sizeof watchdog_);
  std::memset(&shutdown_timer_, 0, sizeof shutdown_timer_);
  std::memset(&sweeper_, 0, sizeof sweeper_);
  std::memset(&pruner_, 0, sizeof pruner_);
  std::memset(&ephemeral_sweeper_, 0, sizeof ephemeral_sweeper_);
}

Daemon::~Daemon() {
  app_.servers.clear();
  uv_loop_close(&loop_);
}

int Daemon::run() {
  app_.started_ns = uv_hrtime();
  app_.started_at = time(nullptr);
  log::set_level(app_.config.log_level);
  signal(SIGPIPE, SIG_IGN);
  // Two listeners of max_connections each need more descriptors than the
  // soft limit systemd and most shells give (1024); the hard limit is ours
  // to take.
  if (rlimit nofile{}; getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  if (sodium_init() < 0) {
    LOG_ERROR("libsodium failed to initialise");
    return 1;
  }
  uv_signal_init(&loop_, &sigterm_);
  uv_signal_init(&loop_, &sigint_);
  sigterm_.data = sigint_.data = this;
  uv_signal_start(&sigterm_, on_signal, SIGTERM);
  uv_signal_start(&sigint_, on_signal, SIGINT);
  uv_timer_init(&loop_, &watchdog_);
  uv_timer_init(&loop_, &shutdown_timer_);
  uv_timer_init(&loop_, &sweeper_);
  uv_timer_init(&loop_, &pruner_);
  uv_timer_init(&loop_, &ephemeral_sweeper_);
  watchdog_.data = shutdown_timer_.data = sweeper_.data = pruner_.data = ephemeral_sweeper_.data = this;

  if (start() != 0) {
    exit_code_ = 1;
    begin_shutdown();
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
  close_handle(&sigterm_);
  close_handle(&sigint_);
  uv_run(&loop_, UV_RUN_DEFAULT);
  LOG_INFO("stopped");
  return exit_code_;
}

int Daemon::start() {
  Config& cfg = app_.config;
  // Crew containers mount crewship-hook as their process 1: without it every
  // container start would fail, and the engine would make its path a directory.
  std::string hook = container::hook_binary(cfg);
  if (std::string why = container::hook_binary_problem(hook); !why.empty()) {
    LOG_ERROR("crewship-hook %s %s; crew containers mount it. Build it (cmake --build build --target "
              "crewship-hook, which scripts/run.sh does) or set CREWSHIP_HOOK_BINARY to its path",
              hook.c_str(), why.c_str());
    return -1;
  }
  // 0700: the database holds password hashes and the dir the keys.
  if (int r = make_dirs(cfg.data_dir, 0700); r != 0) {
    LOG_ERROR("cannot create data dir %s: %s", cfg.data_dir.c_str(), std::strerror(-r));
    return r;
  }
  cfg.data_dir = absolute(cfg.data_dir);
  if (cfg.socket_path.empty()) cfg.socket_path = cfg.data_dir + "/crewshipd.sock";

  std::string error;
  // Before anything else in the dir: a second daemon must not sweep the
  // first one's runs, nor take its socket.
  if (lock_data_dir(cfg.data_dir, &error) < 0) {
    LOG_ERROR("%s", error.c_str());
    return -1;
  }
  // Uploads a killed process was writing are of no use to anyone.
  if (int r = api::reset_upload_dir(api::upload_dir(cfg.data_dir)); r != 0) {
    LOG_ERROR("cannot prepare the upload dir %s: %s", api::upload_dir(cfg.data_dir).c_str(), std::strerror(-r));
    return r;
  }
  // So are the staged halves of memory writes it had not placed yet.
  int swept = api::sweep_memory_staging(cfg.data_dir);
  if (swept < 0) {
    LOG_ERROR("cannot sweep %s/memory: %s", cfg.data_dir.c_str(), std::strerror(-swept));
    return swept;
  }
  if (swept > 0) LOG_NOTICE("removed %d staged memory file(s) a stopped daemon left", swept);
  if (app_.internal.load(cfg.internal_token, cfg.encryption_key, cfg.data_dir, &error) != 0) {
    LOG_ERROR("internal token: %s", error.c_str());
    return -1;
  }
  if (app_.internal.source() == ipc::InternalAuth::Source::kGenerated)
    LOG_NOTICE("generated an internal token in %s/%s", cfg.data_dir.c_str(),
               ipc::InternalAuth::kFileName);

  app_.auth_secret = cfg.auth_secret;
  if (app_.auth_secret.empty()) {
    bool created = false;
    if (load_or_create_secret(cfg.data_dir + "/auth-secret", &app_.auth_secret, &created, &error) != 0) {
      LOG_ERROR("session secret: %s", error.c_str());
      return -1;
    }
    if (created) LOG_NOTICE("generated a session secret in %s/auth-secret", cfg.data_dir.c_str());
  }

  bool vault_created = false;
  if (app_.vault.load(cfg.encryption_key, cfg.data_dir, &vault_created, &error) != 0) {
    LOG_ERROR("vault key: %s", error.c_str());
    return -1;
  }
  if (vault_created) LOG_NOTICE("generated a vault key in %s/%s", cfg.data_dir.c_str(), Vault::kFileName);

  app_.hasher.configure(static_cast<size_t>(cfg.hash_workers), static_cast<size_t>(cfg.hash_queue),
                        cfg.hash_wait_ms);
  // Bursts: half a minute's sign-ins (at least 5), two seconds of IPC writes.
  app_.login_rate.configure(static_cast<double>(cfg.login_rate) / 60.0,
                            std::max<double>(5, static_cast<double>(cfg.login_rate) / 2), kRateKeys);
  app_.ipc_token_rate.configure(static_cast<double>(cfg.ipc_rate), 2.0 * static_cast<double>(cfg.ipc_rate), kRateKeys);
  app_.ipc_agent_rate.configure(static_cast<double>(cfg.ipc_agent_rate), 2.0 * static_cast<double>(cfg.ipc_agent_rate),
                                kRateKeys);
  if (app_.store.open(&loop_, cfg.data_dir, static_cast<size_t>(cfg.writer_batch), &error) != 0) {
    LOG_ERROR("store: %s", error.c_str());
    return -1;
  }
  api::start_bridge(app_);
  api::start_realtime(app_);
  api::start_chats(app_);
  if (int r = open_listeners(); r != 0) return r;

  std::vector<std::string> candidates = container::engine_candidates(cfg.docker_host, &error);
  if (candidates.empty()) LOG_WARN("container engine: %s", error.c_str());
  probe_ = container::probe_engine(&loop_, std::move(candidates), static_cast<uint64_t>(cfg.engine_timeout_ms),
                          [this](container::EngineInfo info) {
                            if (info.reachable) {
                              LOG_INFO("container engine: %s %s (API %s) at %s", info.name.c_str(),
                                       info.version.c_str(), info.api_version.c_str(),
                                       info.socket.c_str());
                            } else {
                              LOG_WARN("container engine unreachable: %s", info.error.c_str());
                            }
                            app_.engine = std::move(info);
                            probe_.reset();
                            if (shutting_down_) return;
                            api::engine_found(app_);
                            sd::notify("READY=1\nSTATUS=serving");
                            LOG_INFO("ready");
                          });

  auto sweep_every = static_cast<uint64_t>(cfg.presence_sweep_ms);
  uv_timer_start(&sweeper_, on_sweep, sweep_every, sweep_every);
  auto prune_every = static_cast<uint64_t>(cfg.journal_prune_ms);
  uv_timer_start(&pruner_, on_prune, prune_every, prune_every);
  auto ephemeral_every = static_cast<uint64_t>(cfg.ephemeral_sweep_ms);
  uv_timer_start(&ephemeral_sweeper_, on_ephemeral_sweep, ephemeral_every, ephemeral_every);

  uint64_t usec = 0;
  if (sd::watchdog_enabled(&usec) && usec > 0) {
    uint64_t every_ms = usec / 2000;
    uv_timer_start(&watchdog_, [](uv_timer_t*) { sd::notify("WATCHDOG=1"); },
                   every_ms == 0 ? 1 : every_ms, every_ms == 0 ? 1 : every_ms);
  }
  return 0;
}

int Daemon::open_listeners() {
  const Config& cfg = app_.config;
  api_table_ = std::make_unique<RouteTable>(api_routes(app_));
  ipc_table_ = std::make_unique<RouteTable>(ipc_routes(app_));
  publish_openapi(app_, api_table_->routes, ipc_table_->routes);
  auto make = [&](const char* name, const RouteTable& table, RouteGuard guard) {
    HttpMetrics* counted = nullptr;
    for (auto& m : app_.http_metrics)
      if (m->listener() == name) counted = m.get();
    if (counted == nullptr)
      counted = app_.http_metrics.emplace_back(std::make_unique<HttpMetrics>(name, table.routes)).get();
    ServerOptions o;
    o.observer = counted->observer();
    o.name = name;
    o.router = &table.router;
    o.limits = cfg.http;
    // Only the IPC guard authenticates every request, so only there does
    // passing it tell an authenticated connection from the others.
    if (std::string_view(name) != "ipc") o.limits.max_unauthenticated = 0;
    o.guard = guard;
    o.new_exchange = new_exchange;
    app_.servers.push_back(std::make_unique<Server>(&loop_, std::move(o)));
    return app_.servers.back().get();
  };
  ActivatedSockets act;
  std::string error;
  if (take_activated_sockets(&act, &error) < 0) {
    LOG_ERROR("%s", error.c_str());
    return -1;
  }
  int r = 0;
  if (!act.api.empty()) {
    for (int fd : act.api) {
      Server* s = make("api", *api_table_, api_guard(app_));
      if ((r = s->listen_fd(fd, false)) != 0) break;
      LOG_INFO("api listening on activated fd %d (port %d)", fd, s->port());
    }
  } else {
    Server* s = make("api", *api_table_, api_guard(app_));
    if ((r = s->listen_tcp(cfg.host, static_cast<int>(cfg.port))) == 0)
      LOG_INFO("api listening on %s:%d", cfg.host.c_str(), s->port());
  }
  if (r != 0) {
    LOG_ERROR("api listener on %s:%u: %s", cfg.host.c_str(), static_cast<unsigned>(cfg.port), uv_strerror(r));
    return r;
  }
  if (!act.ipc.empty()) {
    for (int fd : act.ipc) {
      Server* s = make("ipc", *ipc_table_, ipc_guard(app_));
      if ((r = s->listen_fd(fd, true)) != 0) break;
      LOG_INFO("ipc listening on activated fd %d", fd);
    }
  } else {
    if ((r = free_unix_path(cfg.socket_path, &error)) != 0) {
      LOG_ERROR("ipc listener: %s", error.c_str());
      return r;
    }
    Server* s = make("ipc", *ipc_table_, ipc_guard(app_));
    // The socket inode gets its mode from the umask at bind(): 0660, no window.
    mode_t old = umask(0117);
    r = s->listen_unix(cfg.socket_path);
    umask(old);
    if (r == 0) {
      owns_socket_file_ = true;
      LOG_INFO("ipc listening on %s", cfg.socket_path.c_str());
    }
  }
  if (r != 0) {
    LOG_ERROR("ipc listener on %s: %s", cfg.socket_path.c_str(), uv_strerror(r));
    return r;
  }
  if (cfg.metrics_addr.empty()) return 0;
  // GET /metrics alone, without auth: meant for a scraper on a local address.
  std::string host;
  int port = 0;
  if (!split_host_port(cfg.metrics_addr, &host, &port)) {
    LOG_ERROR("CREWSHIP_METRICS_ADDR: '%s' is not host:port", cfg.metrics_addr.c_str());
    return UV_EINVAL;
  }
  metrics_table_ = std::make_unique<RouteTable>(metrics_routes(app_));
  Server* s = make("metrics", *metrics_table_, {});
  if ((r = s->listen_tcp(host, port)) != 0) {
    LOG_ERROR("metrics listener on %s: %s", cfg.metrics_addr.c_str(), uv_strerror(r));
    return r;
  }
  LOG_INFO("metrics listening on %s:%d", host.c_str(), s->port());
  return 0;
}

// Flips presence that stopped refreshing to offline, through the writer like
// every other presence write (journal entries included).
void Daemon::on_sweep(uv_timer_t* t) {
  auto* d = static_cast<Daemon*>(t->data);
  if (d->sweeping_ || d->shutting_down_) return;
  d->sweeping_ = true;
  d->app_.presence.sweep(d->app_.config.presence_idle_ms, R"({"reason":"idle_timeout"})",
                         [d](Result<size_t> swept) {
                           d->sweeping_ = false;
                           if (!swept) {
                             LOG_ERROR("presence sweep failed: %s", swept.problem().cause.c_str());
                             return;
                           }
                           if (*swept > 0) LOG_INFO("presence: %zu idle agents went offline", *swept);
                         });
}

// Makes ghosts of hired agents past their TTL; one sweep at a time.
void Daemon::on_ephemeral_sweep(uv_timer_t* t) {
  auto* d = static_cast<Daemon*>(t->data);
  if (d->sweeping_ephemerals_ || d->shutting_down_) return;
  d->sweeping_ephemerals_ = true;
  api::sweep_ephemerals(d->app_, [d](Result<size_t> expired) {
    d->sweeping_ephemerals_ = false;
    if (!expired) {
      LOG_ERROR("ephemeral sweep failed: %s", expired.problem().cause.empty() ? expired.problem().detail.c_str()
                                                                               : expired.problem().cause.c_str());
      return;
    }
    if (*expired > 0) LOG_INFO("ephemerals: %zu hired agents expired", *expired);
    if (*expired >= api::kEphemeralSweepBatch && !d->shutting_down_) {
      auto every = static_cast<uint64_t>(d->app_.config.ephemeral_sweep_ms);
      uv_timer_start(&d->ephemeral_sweeper_, on_ephemeral_sweep, 0, every);
    }
  });
}

void Daemon::on_prune(uv_timer_t* t) {
  auto* d = static_cast<Daemon*>(t->data);
  if (d->pruning_ || d->shutting_down_) return;
  d->pruning_ = true;
  d->prune_journal_batch();
}

// Deletes the journal's expired entries a small batch per write, each its own
// write in the writer's queue, so presence writes queued meanwhile go between
// the batches; the next batch follows once this one committed.
void Daemon::prune_journal_batch() {
  if (shutting_down_) {
    pruning_ = false;
    return;
  }
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t keep_ms = app_.config.journal_retention_ms;
  ts.tv_sec -= static_cast<time_t>(keep_ms / 1000);
  ts.tv_nsec -= static_cast<long>(keep_ms % 1000) * 1'000'000;
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += 1'000'000'000;
    --ts.tv_sec;
  }
  store::JournalPrune p;
  p.cutoff = rfc3339_nanos(ts);
  p.max_rows = app_.config.journal_max_rows;
  store::submit(
      app_.store.writer(), [p](store::Connection& c) { return store::prune_journal(c, p); },
      [this, batch = p.batch](Result<int> deleted) {
        if (!deleted) {
          pruning_ = false;
          LOG_ERROR("journal pruning failed: %s", deleted.problem().cause.c_str());
          return;
        }
        pruned_ += *deleted;
        if (*deleted == batch) return prune_journal_batch();
        pruning_ = false;
        if (pruned_ > 0) LOG_INFO("journal: %lld entries pruned", static_cast<long long>(pruned_));
        pruned_ = 0;
      });
}

void Daemon::on_signal(uv_signal_t* s, int signum) {
  auto* d = static_cast<Daemon*>(s->data);
  if (d->shutting_down_) {
    LOG_NOTICE("signal %d again: closing all connections now", signum);
    for (auto& server : d->app_.servers) server->close_all();
    return;
  }
  LOG_INFO("signal %d: shutting down", signum);
  d->begin_shutdown();
}

void Daemon::begin_shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  sd::notify("STOPPING=1\nSTATUS=stopping");
  uv_timer_stop(&watchdog_);
  uv_timer_stop(&sweeper_);
  uv_timer_stop(&pruner_);
  uv_timer_stop(&ephemeral_sweeper_);
  if (probe_) {
    container::cancel(*probe_);
    probe_.reset();
  }
  api::stop_bridge(app_);
  api::stop_realtime(app_);
  auto limit = static_cast<uint64_t>(app_.config.shutdown_timeout_ms);
  uv_timer_start(&shutdown_timer_, [](uv_timer_t* t) {
    auto* d = static_cast<Daemon*>(t->data);
    LOG_WARN("shutdown timeout: closing the remaining connections");
    for (auto& server : d->app_.servers) server->close_all();
  }, limit, 0);
  servers_left_ = app_.servers.size() + 1;
  for (auto& server : app_.servers) server->drain([this] { on_servers_drained(); });
  on_servers_drained();
}

void Daemon::on_servers_drained() {
  if (--servers_left_ > 0) return;
  uv_timer_stop(&shutdown_timer_);
  if (owns_socket_file_) unlink(app_.config.socket_path.c_str());
  app_.store.close([this] { finish(); });
}

void Daemon::finish() {
  auto w = app_.store.writer().stats();
  LOG_INFO("store: %llu writes in %llu groups", static_cast<unsigned long long>(w.writes),
           static_cast<unsigned long long>(w.groups));
  app_.hasher.close();
  close_handle(&watchdog_);
  close_handle(&shutdown_timer_);
  close_handle(&sweeper_);
  close_handle(&pruner_);
  close_handle(&ephemeral_sweeper_);
  // Signal handlers stay installed until the loop has ended, so a late
  // signal is never the default (fatal) action; unref'd, they do not keep
  // the loop alive.
  uv_unref(reinterpret_cast<uv_handle_t*>(&sigterm_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&sigint_));
}

}  // namespace crewship
