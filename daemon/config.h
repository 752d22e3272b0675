// Configuration: one table of settings (name, env var, flag, default, range,
// help) read from the environment and then the command line; --help is
// generated from the same table.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "daemon/http_limits.h"
#include "daemon/log.h"

namespace crewship {

struct Config {
  std::string host;
  int64_t port = 0;
  std::string data_dir;
  std::string socket_path;  // empty until resolved: "<data_dir>/crewshipd.sock"
  std::string metrics_addr;  // empty: no metrics listener
  std::string internal_token;
  std::string encryption_key;
  std::string auth_secret;
  std::string docker_host;
  std::string sandbox_image;
  log::Level log_level = log::Level::kInfo;
  HttpLimits http;
  int64_t shutdown_timeout_ms = 0;
  int64_t engine_timeout_ms = 0;
  int64_t engine_max_inflight = 0;
  int64_t engine_max_inflight_crew = 0;
  std::string container_network;
  std::string hook_binary;
  int64_t stop_grace_ms = 0;
  int64_t writer_batch = 0;
  int64_t allow_signup = 0;         // bool
  int64_t login_max_failures = 0;   // failed logins before a lockout
  int64_t login_lockout_ms = 0;
  int64_t hash_workers = 0;         // password-hashing processes; 0: one per core
  int64_t hash_queue = 0;           // hashes waiting or under way before 503
  int64_t hash_wait_ms = 0;         // longest wait of a queued password check before 503
  int64_t login_rate = 0;           // sign-in attempts per minute per client address
  int64_t ipc_rate = 0;             // IPC writes per second per bound token
  int64_t ipc_agent_rate = 0;       // IPC presence writes per second per agent (bound tokens)
  int64_t presence_sweep_ms = 0;    // how often stale presence is swept
  int64_t presence_idle_ms = 0;     // last_seen older than this goes offline
  int64_t ws_max_connections = 0;   // WebSocket + SSE clients before 503
  int64_t ws_max_queue = 0;         // unsent bytes of one of them before it is dropped
  int64_t ws_ping_ms = 0;           // server ping interval
  int64_t sse_heartbeat_ms = 0;     // SSE comment heartbeat interval
  int64_t webhook_rate = 0;         // webhook triggers per agent and minute
  int64_t agent_log_max_bytes = 0; // per agent; oldest segments deleted beyond
  int64_t journal_retention_ms = 0; // journal entries older than this are pruned
  int64_t journal_max_rows = 0;     // most journal entries kept; 0: no limit
  int64_t journal_prune_ms = 0;     // how often the journal is pruned
  // Licence limits over the whole instance; 0: no limit.
  int64_t license_max_agents = 0;
  int64_t license_max_crews = 0;
  int64_t license_max_members = 0;
  int64_t license_max_workspaces = 0;
  // Auxiliary-model slots; empty (a timeout of 0) takes the slot's fallback.
  std::string aux_summarizer_provider, aux_summarizer_model;
  int64_t aux_summarizer_timeout_ms = 0;
  std::string aux_classifier_provider, aux_classifier_model;
  int64_t aux_classifier_timeout_ms = 0;
  std::string aux_embedder_provider, aux_embedder_model;
  int64_t aux_embedder_timeout_ms = 0;
};

enum class SettingKind : uint8_t { kString, kInt, kBytes, kDuration, kLogLevel, kBool };

struct Setting {
  std::string_view env;      // CREWSHIP_PORT
  std::string_view alt_env;  // a second variable read when env is unset
  std::string_view flag;     // --port
  SettingKind kind;
  std::string_view fallback;  // default as text; empty = unset
  int64_t min, max;           // numeric range (ms for durations, bytes for sizes)
  bool secret;                // never echoed in messages
  std::string_view help;
  std::string Config::*str = nullptr;
  int64_t Config::*num = nullptr;
  int64_t HttpLimits::*limit = nullptr;
};

std::span<const Setting> settings();

using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

enum class ParseOutcome { kRun, kHelp, kVersion, kError };

// Fills *cfg from defaults, then env, then argv[first..argc). On kError,
// *error names the offending setting.
ParseOutcome parse_config(int argc, char** argv, int first, const EnvLookup& env, Config* cfg,
                          std::string* error);

EnvLookup process_env();
std::string usage_text();

// "500ms", "2s", "5m", "1h", "30d" or a bare number of seconds.
bool parse_duration_ms(std::string_view text, int64_t* ms);
// "1048576", "64KiB", "1MiB", "2G".
bool parse_bytes(std::string_view text, int64_t* bytes);

}  // namespace crewship
