// The daemon's life: build the pieces, serve, and shut down cleanly.
//   start: data dir, internal token, store (migrations), listeners, engine
//          probe, then READY=1;
//   stop (SIGTERM/SIGINT): STOPPING=1, stop accepting, let in-flight requests
//          finish (bounded by the shutdown timeout), commit pending writes,
//          exit 0.
#pragma once

#include <memory>

#include <uv.h>

#include "daemon/app.h"

namespace crewship {

struct RouteTable;

class Daemon {
 public:
  explicit Daemon(Config config);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs until stopped; returns the process exit code.
  int run();

 private:
  int start();
  int open_listeners();
  void begin_shutdown();
  void on_servers_drained();
  void finish();
  static void on_signal(uv_signal_t* s, int signum);
  static void on_sweep(uv_timer_t* t);
  static void on_ephemeral_sweep(uv_timer_t* t);
  static void on_prune(uv_timer_t* t);
  void prune_journal_batch();

  uv_loop_t loop_;
  App app_;
  std::unique_ptr<RouteTable> api_table_, ipc_table_, metrics_table_;
  std::shared_ptr<container::EngineProbe> probe_;
  uv_signal_t sigterm_, sigint_;
  uv_timer_t watchdog_, shutdown_timer_, sweeper_, pruner_, ephemeral_sweeper_;
  bool sweeping_ = false;
  bool sweeping_ephemerals_ = false;
  bool pruning_ = false;
  int64_t pruned_ = 0;  // journal entries deleted by the pruning under way
  bool shutting_down_ = false;
  bool owns_socket_file_ = false;
  size_t servers_left_ = 0;
  int exit_code_ = 0;
};

}  // namespace crewship
