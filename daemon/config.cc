#include "daemon/config.h"

#include <charconv>
#include <cstdlib>
#include <cstring>

namespace crewship {
namespace {

using K = SettingKind;
constexpr int64_t kMaxInt = INT64_MAX / 2;

// clang-format off
const Setting kSettings[] = {
  {"CREWSHIP_HOST", {}, "--host", K::kString, "0.0.0.0", 0, 0, false,
   "Address of the public HTTP listener", &Config::host},
  {"CREWSHIP_PORT", {}, "--port", K::kInt, "8080", 0, 65535, false,
   "Port of the public HTTP listener (0 picks a free one)", nullptr, &Config::port},
  {"CREWSHIP_DATA_DIR", {}, "--data-dir", K::kString, "./data", 0, 0, false,
   "Directory of the database, keys and crew storage", &Config::data_dir},
  {"CREWSHIP_SOCKET_PATH", {}, "--socket-path", K::kString, {}, 0, 0, false,
   "IPC Unix socket (default <data dir>/crewshipd.sock)", &Config::socket_path},
  {"CREWSHIP_METRICS_ADDR", {}, "--metrics-addr", K::kString, {}, 0, 0, false,
   "host:port of a listener serving only GET /metrics, without auth (default: none)",
   &Config::metrics_addr},
  {"CREWSHIP_INTERNAL_TOKEN", {}, "--internal-token", K::kString, {}, 0, 0, true,
   "Master internal token (default: derived from ENCRYPTION_KEY, else generated)",
   &Config::internal_token},
  {"ENCRYPTION_KEY", {}, "--encryption-key", K::kString, {}, 0, 0, true,
   "Key for secrets at rest and the derived internal token", &Config::encryption_key},
  {"NEXTAUTH_SECRET", "AUTH_SECRET", "--auth-secret", K::kString, {}, 0, 0, true,
   "Session JWT secret, at least 32 bytes (also AUTH_SECRET)", &Config::auth_secret},
  {"DOCKER_HOST", {}, "--docker-host", K::kString, {}, 0, 0, false,
   "Container engine socket, unix:///path (default: discovered)", &Config::docker_host},
  {"CREWSHIP_SANDBOX_IMAGE", {}, "--sandbox-image", K::kString, "crewship-sandbox:latest", 0, 0,
   false, "Image of crew containers", &Config::sandbox_image},
  {"CREWSHIP_LOG_LEVEL", {}, "--log-level", K::kLogLevel, "info", 0, 0, false,
   "debug, info, notice, warning or error"},
  {"CREWSHIP_MAX_BODY_BYTES", {}, "--max-body-bytes", K::kBytes, "1MiB", 1024, 1LL << 30, false,
   "Request body limit (413 beyond)", nullptr, nullptr, &HttpLimits::max_body_bytes},
  {"CREWSHIP_MAX_HEADER_BYTES", {}, "--max-header-bytes", K::kBytes, "64KiB", 1024, 1 << 24, false,
   "Total request header bytes (431 beyond)", nullptr, nullptr, &HttpLimits::max_header_bytes},
  {"CREWSHIP_MAX_HEADERS", {}, "--max-headers", K::kInt, "100", 8, 10000, false,
   "Request header count (431 beyond)", nullptr, nullptr, &HttpLimits::max_headers},
  {"CREWSHIP_MAX_URL_BYTES", {}, "--max-url-bytes", K::kBytes, "8KiB", 256, 1 << 20, false,
   "Request target length (414 beyond)", nullptr, nullptr, &HttpLimits::max_url_bytes},
  {"CREWSHIP_HEADER_TIMEOUT", {}, "--header-timeout", K::kDuration, "10s", 100, 3'600'000, false,
   "Time a client has to send a request's headers", nullptr, nullptr,
   &HttpLimits::header_timeout_ms},
  {"CREWSHIP_BODY_TIMEOUT", {}, "--body-timeout", K::kDuration, "30s", 100, 3'600'000, false,
   "Longest pause while a client sends a request body", nullptr, nullptr,
   &HttpLimits::body_timeout_ms},
  {"CREWSHIP_IDLE_TIMEOUT", {}, "--idle-timeout", K::kDuration, "60s", 100, 86'400'000, false,
   "Keep-alive connection idle time before it is closed", nullptr, nullptr,
   &HttpLimits::idle_timeout_ms},
  {"CREWSHIP_SEND_TIMEOUT", {}, "--send-timeout", K::kDuration, "30s", 100, 3'600'000, false,
   "Longest wait for a client to take a response", nullptr, nullptr,
   &HttpLimits::send_timeout_ms},
  {"CREWSHIP_MAX_CONNECTIONS", {}, "--max-connections", K::kInt, "1024", 1, 1'000'000, false,
   "Open connections per listener (503 beyond)", nullptr, nullptr,
   &HttpLimits::max_connections},
  {"CREWSHIP_MAX_CONNECTIONS_PER_PEER", {}, "--max-connections-per-peer", K::kInt, "256", 1,
   1'000'000, false, "Open connections per client address, or per process on the IPC socket",
   nullptr, nullptr, &HttpLimits::max_connections_per_peer},
  {"CREWSHIP_IPC_MAX_UNAUTHENTICATED", {}, "--ipc-max-unauthenticated", K::kInt, "128", 1,
   1'000'000, false, "IPC connections not yet authenticated (the oldest is closed beyond)",
   nullptr, nullptr, &HttpLimits::max_unauthenticated},
  {"CREWSHIP_MAX_UNSENT_BYTES", {}, "--max-unsent-bytes", K::kBytes, "1MiB", 4096, 1LL << 30,
   false, "Unsent answer bytes of a connection beyond which it is not read", nullptr, nullptr,
   &HttpLimits::max_unsent_bytes},
  {"CREWSHIP_BODY_MIN_RATE", {}, "--body-min-rate", K::kBytes, "16KiB", 1, 1LL << 30, false,
   "Slowest average rate of a request body, per second, after the body timeout", nullptr,
   nullptr, &HttpLimits::body_min_rate},
  {"CREWSHIP_SHUTDOWN_TIMEOUT", {}, "--shutdown-timeout", K::kDuration, "10s", 0, 600'000, false,
   "How long in-flight requests may finish after SIGTERM", nullptr,
   &Config::shutdown_timeout_ms},
  {"CREWSHIP_ENGINE_TIMEOUT", {}, "--engine-timeout", K::kDuration, "3s", 50, 600'000, false,
   "Deadline of each container engine call (502 beyond)", nullptr, &Config::engine_timeout_ms},
  {"CREWSHIP_ENGINE_MAX_INFLIGHT", {}, "--engine-max-inflight", K::kInt, "64", 1, 10'000, false,
   "Engine calls under way at once (503 beyond)", nullptr, &Config::engine_max_inflight},
  {"CREWSHIP_ENGINE_MAX_INFLIGHT_PER_CREW", {}, "--engine-max-inflight-per-crew", K::kInt, "8", 1,
   10'000, false, "Engine calls under way at once for one crew (503 beyond)", nullptr,
   &Config::engine_max_inflight_crew},
  {"CREWSHIP_CONTAINER_NETWORK", {}, "--container-network", K::kString, {}, 0, 0, false,
   "Network mode of crew containers (default: the engine's)", &Config::container_network},
  {"CREWSHIP_HOOK_BINARY", {}, "--hook-binary", K::kString, {}, 0, 0, false,
   "crewship-hook to mount in crew containers (default: next to crewshipd)", &Config::hook_binary},
  {"CREWSHIP_STOP_GRACE", {}, "--stop-grace", K::kDuration, "10s", 0, 600'000, false,
   "Time an agent has to exit after TERM before KILL", nullptr, &Config::stop_grace_ms},
  {"CREWSHIP_ALLOW_SIGNUP", {}, "--allow-signup", K::kBool, "false", 0, 1, false,
   "Open POST /api/v1/auth/signup to anyone", nullptr, &Config::allow_signup},
  {"CREWSHIP_LOGIN_MAX_FAILURES", {}, "--login-max-failures", K::kInt, "5", 1, 1000, false,
   "Failed logins in a row that lock an account", nullptr, &Config::login_max_failures},
  {"CREWSHIP_LOGIN_LOCKOUT", {}, "--login-lockout", K::kDuration, "15m", 1000, 86'400'000, false,
   "How long a locked account stays locked", nullptr, &Config::login_lockout_ms},
  {"CREWSHIP_HASH_WORKERS", {}, "--hash-workers", K::kInt, "0", 0, 64, false,
   "Password-hashing processes (0: one per core)", nullptr, &Config::hash_workers},
  {"CREWSHIP_HASH_QUEUE", {}, "--hash-queue", K::kInt, "32", 1, 100'000, false,
   "Password hashes waiting or under way before sign-ins get 503", nullptr, &Config::hash_queue},
  {"CREWSHIP_HASH_WAIT", {}, "--hash-wait", K::kDuration, "10s", 100, 600'000, false,
   "Longest a password check waits for a hashing process (503 beyond)", nullptr, &Config::hash_wait_ms},
  {"CREWSHIP_LOGIN_RATE", {}, "--login-rate", K::kInt, "60", 1, 1'000'000, false,
   "Sign-in attempts per minute from one client address (429 beyond)", nullptr, &Config::login_rate},
  {"CREWSHIP_IPC_RATE", {}, "--ipc-rate", K::kInt, "50", 1, 1'000'000, false,
   "IPC writes per second per crew- or workspace-bound token (429 beyond)", nullptr, &Config::ipc_rate},
  {"CREWSHIP_IPC_AGENT_RATE", {}, "--ipc-agent-rate", K::kInt, "10", 1, 1'000'000, false,
   "IPC presence writes per second per agent with a bound token (429 beyond)", nullptr,
   &Config::ipc_agent_rate},
  {"CREWSHIP_PRESENCE_SWEEP_INTERVAL", {}, "--presence-sweep-interval", K::kDuration, "60s", 100,
   86'400'000, false, "How often stale presence is swept offline", nullptr,
   &Config::presence_sweep_ms},
  {"CREWSHIP_PRESENCE_IDLE_TIMEOUT", {}, "--presence-idle-timeout", K::kDuration, "5m", 100,
   604'800'000, false, "Presence not refreshed for this long goes offline", nullptr,
   &Config::presence_idle_ms},
  {"CREWSHIP_WS_MAX_CONNECTIONS", {}, "--ws-max-connections", K::kInt, "10000", 1, 1'000'000, false,
   "WebSocket connections and SSE streams, both listeners together (503 beyond)", nullptr,
   &Config::ws_max_connections},
  {"CREWSHIP_WS_MAX_QUEUE", {}, "--ws-max-queue", K::kBytes, "1MiB", 4096, 1 << 30, false,
   "Unsent bytes of one WebSocket or SSE client before it is closed (1013)", nullptr,
   &Config::ws_max_queue},
  {"CREWSHIP_WS_PING_INTERVAL", {}, "--ws-ping-interval", K::kDuration, "30s", 50, 3'600'000, false,
   "Server pings on WebSocket connections; two unanswered close it", nullptr,
   &Config::ws_ping_ms},
  {"CREWSHIP_SSE_HEARTBEAT", {}, "--sse-heartbeat", K::kDuration, "15s", 50, 3'600'000, false,
   "Comment heartbeat of SSE streams", nullptr, &Config::sse_heartbeat_ms},
  {"CREWSHIP_WEBHOOK_RATE", {}, "--webhook-rate", K::kInt, "60", 1, 1'000'000, false,
   "Webhook triggers per agent and minute (429 beyond)", nullptr, &Config::webhook_rate},
  {"CREWSHIP_AGENT_LOG_MAX_BYTES", {}, "--agent-log-max-bytes", K::kBytes, "64MiB", 4096,
   1LL << 40, false, "Most bytes of one agent's log; the oldest segments go whole beyond", nullptr,
   &Config::agent_log_max_bytes},
  {"CREWSHIP_JOURNAL_RETENTION", {}, "--journal-retention", K::kDuration, "30d", 1000,
   3650LL * 86'400'000, false, "Presence journal entries older than this are deleted", nullptr,
   &Config::journal_retention_ms},
  {"CREWSHIP_JOURNAL_MAX_ROWS", {}, "--journal-max-rows", K::kInt, "1000000", 0, kMaxInt, false,
   "Most presence journal entries kept, the oldest deleted first (0: no limit)", nullptr,
   &Config::journal_max_rows},
  {"CREWSHIP_JOURNAL_PRUNE_INTERVAL", {}, "--journal-prune-interval", K::kDuration, "60s", 100,
   86'400'000, false, "How often the presence journal is pruned", nullptr,
   &Config::journal_prune_ms},
  {"CREWSHIP_WRITER_BATCH", {}, "--writer-batch", K::kInt, "1024", 1, 1'000'000, false,
   "Most writes the store commits in one group", nullptr, &Config::writer_batch},
  {"CREWSHIP_LICENSE_MAX_AGENTS", {}, "--license-max-agents", K::kInt, "0", 0, kMaxInt, false,
   "Live agents the instance may hold (402 beyond; 0: no limit)", nullptr, &Config::license_max_agents},
  {"CREWSHIP_LICENSE_MAX_CREWS", {}, "--license-max-crews", K::kInt, "0", 0, kMaxInt, false,
   "Live crews the instance may hold (402 beyond; 0: no limit)", nullptr, &Config::license_max_crews},
  {"CREWSHIP_LICENSE_MAX_MEMBERS", {}, "--license-max-members", K::kInt, "0", 0, kMaxInt, false,
   "Users holding a workspace membership (402 beyond; 0: no limit)", nullptr, &Config::license_max_members},
  {"CREWSHIP_LICENSE_MAX_WORKSPACES", {}, "--license-max-workspaces", K::kInt, "0", 0, kMaxInt, false,
   "Workspaces the instance may hold (402 beyond; 0: no limit)", nullptr, &Config::license_max_workspaces},
  {"CREWSHIP_AUX_SUMMARIZER_PROVIDER", {}, "--aux-summarizer-provider", K::kString, {}, 0, 0, false,
   "Provider of the summarizer model (unset: anthropic)", &Config::aux_summarizer_provider},
  {"CREWSHIP_AUX_SUMMARIZER_MODEL", {}, "--aux-summarizer-model", K::kString, {}, 0, 0, false,
   "Model of the summarizer slot (unset: claude-3-5-haiku-latest while the provider is anthropic)", &Config::aux_summarizer_model},
  {"CREWSHIP_AUX_SUMMARIZER_TIMEOUT", {}, "--aux-summarizer-timeout", K::kDuration, {}, 1000, 600'000, false,
   "Deadline of one summarizer call (unset: 30s)", nullptr, &Config::aux_summarizer_timeout_ms},
  {"CREWSHIP_AUX_CLASSIFIER_PROVIDER", {}, "--aux-classifier-provider", K::kString, {}, 0, 0, false,
   "Provider of the classifier model (unset: anthropic)", &Config::aux_classifier_provider},
  {"CREWSHIP_AUX_CLASSIFIER_MODEL", {}, "--aux-classifier-model", K::kString, {}, 0, 0, false,
   "Model of the classifier slot (unset: claude-3-5-haiku-latest while the provider is anthropic)", &Config::aux_classifier_model},
  {"CREWSHIP_AUX_CLASSIFIER_TIMEOUT", {}, "--aux-classifier-timeout", K::kDuration, {}, 1000, 600'000, false,
   "Deadline of one classifier call (unset: 10s)", nullptr, &Config::aux_classifier_timeout_ms},
  {"CREWSHIP_AUX_EMBEDDER_PROVIDER", {}, "--aux-embedder-provider", K::kString, {}, 0, 0, false,
   "Provider of the embedder model (unset: openai)", &Config::aux_embedder_provider},
  {"CREWSHIP_AUX_EMBEDDER_MODEL", {}, "--aux-embedder-model", K::kString, {}, 0, 0, false,
   "Model of the embedder slot (unset: text-embedding-3-small while the provider is openai)", &Config::aux_embedder_model},
  {"CREWSHIP_AUX_EMBEDDER_TIMEOUT", {}, "--aux-embedder-timeout", K::kDuration, {}, 1000, 600'000, false,
   "Deadline of one embedder call (unset: 10s)", nullptr, &Config::aux_embedder_timeout_ms},
};
// clang-format on

bool parse_int(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Splits "123unit" into the number and its unit.
bool split_number(std::string_view text, int64_t* n, std::string_view* unit) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0 || i > 15) return false;
  if (!parse_int(text.substr(0, i), n)) return false;
  *unit = text.substr(i);
  return true;
}

std::string describe(const Setting& s) {
  std::string d(s.env);
  d += " (";
  d += s.flag;
  d += ")";
  return d;
}

bool apply(const Setting& s, std::string_view value, Config* cfg, std::string* error) {
  auto fail = [&](std::string_view expected) {
    *error = "invalid value ";
    if (s.secret) {
      *error += "(hidden)";
    } else {
      *error += "'";
      *error += value;
      *error += "'";
    }
    *error += " for " + describe(s) + ": expected ";
    *error += expected;
    return false;
  };
  auto range_text = [&](std::string_view what) {
    return std::string(what) + " between " + std::to_string(s.min) + " and " + std::to_string(s.max);
  };
  int64_t n = 0;
  switch (s.kind) {
    case K::kString:
      if (value.find('\0') != std::string_view::npos) return fail("text without NUL bytes");
      cfg->*s.str = std::string(value);
      return true;
    case K::kLogLevel:
      if (!log::parse_level(value, &cfg->log_level))
        return fail("one of debug, info, notice, warning, error");
      return true;
    case K::kInt:
      if (!parse_int(value, &n) || n < s.min || n > s.max) return fail(range_text("an integer"));
      break;
    case K::kBool:
      if (value == "true" || value == "1" || value == "yes") n = 1;
      else if (value == "false" || value == "0" || value == "no") n = 0;
      else return fail("true or false");
      break;
    case K::kBytes:
      if (!parse_bytes(value, &n) || n < s.min || n > s.max)
        return fail(range_text("a size (bytes, or with KiB/MiB/GiB)"));
      break;
    case K::kDuration:
      if (!parse_duration_ms(value, &n) || n < s.min || n > s.max)
        return fail(range_text("a duration such as 500ms, 2s, 5m, 1h or 30d, in ms"));
      break;
  }
  if (s.num != nullptr) cfg->*s.num = n;
  if (s.limit != nullptr) cfg->http.*s.limit = n;
  return true;
}

const Setting* find_flag(std::string_view flag) {
  for (const auto& s : kSettings)
    if (s.flag == flag) return &s;
  return nullptr;
}

}  // namespace

std::span<const Setting> settings() { return kSettings; }

bool parse_duration_ms(std::string_view text, int64_t* ms) {
  int64_t n = 0;
  std::string_view unit;
  if (!split_number(text, &n, &unit)) return false;
  int64_t scale;
  if (unit == "ms") scale = 1;
  else if (unit == "s" || unit.empty()) scale = 1000;
  else if (unit == "m") scale = 60'000;
  else if (unit == "h") scale = 3'600'000;
  else if (unit == "d") scale = 86'400'000;
  else return false;
  if (n > kMaxInt / scale) return false;
  *ms = n * scale;
  return true;
}

bool parse_bytes(std::string_view text, int64_t* bytes) {
  int64_t n = 0;
  std::string_view unit;
  if (!split_number(text, &n, &unit)) return false;
  int64_t scale;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "K" || unit == "KiB" || unit == "k") scale = 1LL << 10;
  else if (unit == "M" || unit == "MiB") scale = 1LL << 20;
  else if (unit == "G" || unit == "GiB") scale = 1LL << 30;
  else return false;
  if (n > kMaxInt / scale) return false;
  *bytes = n * scale;
  return true;
}

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

ParseOutcome parse_config(int argc, char** argv, int first, const EnvLookup& env, Config* cfg,
                          std::string* error) {
  for (const auto& s : kSettings) {
    if (!s.fallback.empty() && !apply(s, s.fallback, cfg, error)) return ParseOutcome::kError;
  }
  for (const auto& s : kSettings) {
    std::optional<std::string> v = env(s.env);
    if (!v && !s.alt_env.empty()) v = env(s.alt_env);
    if (v && !apply(s, *v, cfg, error)) return ParseOutcome::kError;
  }
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return ParseOutcome::kHelp;
    if (arg == "--version") return ParseOutcome::kVersion;
    std::string_view name = arg, value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    const Setting* s = find_flag(name);
    if (s == nullptr) {
      *error = "unknown option '" + std::string(name) + "' (see --help)";
      return ParseOutcome::kError;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        *error = "option " + describe(*s) + " needs a value";
        return ParseOutcome::kError;
      }
      value = argv[++i];
    }
    if (!apply(*s, value, cfg, error)) return ParseOutcome::kError;
  }
  if (cfg->data_dir.empty()) {
    *error = "CREWSHIP_DATA_DIR (--data-dir) must not be empty";
    return ParseOutcome::kError;
  }
  if (!cfg->auth_secret.empty() && cfg->auth_secret.size() < 32) {
    *error = "NEXTAUTH_SECRET (--auth-secret) must be at least 32 bytes";
    return ParseOutcome::kError;
  }
  return ParseOutcome::kRun;
}

std::string usage_text() {
  std::string out =
      "Usage: crewshipd [OPTION=VALUE ...]\n"
      "       crewshipd token crew <crew_id> | token workspace <workspace_id>\n"
      "Host daemon of crewship: public HTTP API, internal IPC socket, container\n"
      "proxies and agent presence. Every option can also be set by its environment\n"
      "variable; a flag wins over the variable.\n\n";
  for (const auto& s : kSettings) {
    std::string line = "  " + std::string(s.flag) + "=VALUE";
    line.resize(std::max<size_t>(line.size() + 1, 26), ' ');
    line += s.env;
    if (!s.alt_env.empty()) line += ", " + std::string(s.alt_env);
    line += "\n      " + std::string(s.help);
    if (!s.fallback.empty()) line += " [default: " + std::string(s.fallback) + "]";
    out += line + "\n";
  }
  out += "  --help                  this text\n  --version               print the version\n";
  return out;
}

}  // namespace crewship
