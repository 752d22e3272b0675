// Process health and runtime facts.
#include <sodium.h>
#include <unistd.h>
#include <uv.h>

#include <llhttp.h>

#include "api/common.h"
#include "api/realtime.h"
#include "api/routes.h"
#include "daemon/ids.h"
#include "store/keeper_store.h"
#include "store/license_store.h"
#include "store/meta_store.h"
#include "store/workspace_store.h"

namespace crewship::api {
namespace {

size_t open_connections(const App& app) {
  size_t n = 0;
  for (const auto& s : app.servers) n += s->connections();
  return n;
}

bool store_ok(App& app) { return store::ping(app.store.reader()).ok(); }

constexpr std::string_view kNotOperator =
    "this needs the ADMIN role or higher in the instance's first workspace";

// The limit as the licence shows it: null for none.
void limit_member(json::Out& out, std::string_view key, int64_t max) {
  out.key(key);
  if (max > 0) {
    out.w().Int64(max);
  } else {
    out.w().Null();
  }
}

// An auxiliary-model slot: where its settings are and what it falls back to.
struct AuxSlot {
  std::string_view name;
  std::string Config::*provider;
  std::string Config::*model;
  int64_t Config::*timeout_ms;
  std::string_view fallback_provider, fallback_model;
  int64_t fallback_timeout_s;
};
constexpr AuxSlot kAuxSlots[] = {
    {"summarizer", &Config::aux_summarizer_provider, &Config::aux_summarizer_model,
     &Config::aux_summarizer_timeout_ms, "anthropic", "claude-3-5-haiku-latest", 30},
    {"classifier", &Config::aux_classifier_provider, &Config::aux_classifier_model,
     &Config::aux_classifier_timeout_ms, "anthropic", "claude-3-5-haiku-latest", 10},
    {"embedder", &Config::aux_embedder_provider, &Config::aux_embedder_model, &Config::aux_embedder_timeout_ms,
     "openai", "text-embedding-3-small", 10},
};

}  // namespace

// GET /api/v1/crewshipd
void crewshipd_status(App& app, const ExchangePtr& ex) {
  bool ok = store_ok(app);
  json::Out out;
  out.begin_object();
  out.member("status", ok ? "ok" : "degraded");
  out.member("version", CREWSHIPD_VERSION);
  out.member("uptime_secs", app.uptime_secs());
  out.member("started_at", rfc3339(app.started_at));
  out.member("connections", static_cast<int64_t>(open_connections(app)));
  out.key("engine");
  out.begin_object();
  out.member("reachable", app.engine.reachable);
  out.key("name");
  if (app.engine.reachable) {
    out.str(app.engine.name);
  } else {
    out.w().Null();
  }
  out.key("version");
  if (app.engine.reachable) {
    out.str(app.engine.version);
  } else {
    out.w().Null();
  }
  out.end_object();
  out.key("store");
  out.begin_object();
  out.member("ok", ok);
  out.end_object();
  // Live push clients (WebSocket and SSE) and those closed for not reading.
  out.key("realtime");
  out.begin_object();
  out.member("clients", static_cast<int64_t>(app.hub ? app.hub->clients : 0));
  out.member("slow_consumer_closes", static_cast<int64_t>(app.hub ? app.hub->slow_closes : 0));
  out.member("messages_out", static_cast<int64_t>(app.hub ? app.hub->frames_out : 0));
  out.end_object();
  out.end_object();
  reply(ex, 200, out);
}

// GET /api/v1/system/runtime: the version and uptime for anyone signed in;
// the compiler, library versions and pid only for who operates the instance
// (manage role, ADMIN or OWNER, in its first workspace: any user may make a
// workspace of their own, so a role there proves nothing).
void system_runtime(App& app, const ExchangePtr& ex) {
  auto operates = operates_instance(app, ex);
  if (!operates) return;
  bool details = *operates;
  json::Out out;
  out.begin_object();
  out.member("version", CREWSHIPD_VERSION);
  out.member("uptime_secs", app.uptime_secs());
  out.member("started_at", rfc3339(app.started_at));
  if (details) {
    char llhttp[32];
    std::snprintf(llhttp, sizeof llhttp, "%d.%d.%d", LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR,
                  LLHTTP_VERSION_PATCH);
#ifdef __clang__
    out.member("compiler", "clang " __clang_version__);
#else
    out.member("compiler", "g++ " __VERSION__);
#endif
    out.member("libuv", uv_version_string());
    out.member("sqlite", store::library_version());
    out.member("libsodium", sodium_version_string());
    out.member("llhttp", llhttp);
    out.member("pid", static_cast<int64_t>(getpid()));
  }
  out.end_object();
  reply(ex, 200, out);
}

// GET /api/v1/system/license: the edition and the limits for anyone signed
// in; the usage, counted over the instance, only for who operates it.
void system_license(App& app, const ExchangePtr& ex) {
  auto operates = operates_instance(app, ex);
  if (!operates) return;
  std::optional<store::LicenseUsage> usage;
  if (*operates) {
    auto u = store::license_usage(app.store.reader());
    if (!u) return reply_problem(ex, u.problem());
    usage = *u;
  }
  store::LicenseLimits limits = license_limits(app.config);
  json::Out out;
  out.begin_object();
  out.member("edition", "community");
  out.key("limits");
  out.begin_object();
  limit_member(out, "max_agents", limits.agents);
  limit_member(out, "max_crews", limits.crews);
  limit_member(out, "max_members", limits.members);
  limit_member(out, "max_workspaces", limits.workspaces);
  out.end_object();
  if (usage) {
    out.key("usage");
    out.begin_object();
    out.member("agents", usage->agents);
    out.member("crews", usage->crews);
    out.member("members", usage->members);
    out.member("workspaces", usage->workspaces);
    out.end_object();
  }
  out.end_object();
  reply(ex, 200, out);
}

// GET /api/v1/system/keeper: how credentials are kept, over the instance;
// for who operates it (403 otherwise).
void system_keeper(App& app, const ExchangePtr& ex) {
  auto operates = operates_instance(app, ex);
  if (!operates) return;
  if (!*operates) return reply_problem(ex, 403, kNotOperator);
  auto counts = store::keeper_counts(app.store.reader());
  if (!counts) return reply_problem(ex, counts.problem());
  json::Out out;
  out.begin_object();
  // Values are only ever stored sealed under the vault key.
  out.member("sealed", true);
  out.member("key_source", app.config.encryption_key.empty() ? "file" : "env");
  out.member("credentials", counts->credentials);
  out.member("assignments", counts->assignments);
  nullable(out, "last_access_at", counts->last_access_at);
  out.end_object();
  reply(ex, 200, out);
}

// GET /api/v1/system/aux-status: each auxiliary-model slot as configured
// (source "explicit" when its provider or model is set) or as it falls back.
// A model falls back only along with the provider it belongs to.
void system_aux_status(App& app, const ExchangePtr& ex) {
  json::Out out;
  out.begin_array();
  for (const AuxSlot& slot : kAuxSlots) {
    const std::string& provider = app.config.*slot.provider;
    const std::string& model = app.config.*slot.model;
    int64_t timeout_ms = app.config.*slot.timeout_ms;
    bool own_provider = !provider.empty() && provider != slot.fallback_provider;
    out.begin_object();
    out.member("slot", slot.name);
    out.member("provider", provider.empty() ? slot.fallback_provider : std::string_view(provider));
    out.key("model");
    if (!model.empty()) {
      out.str(model);
    } else if (own_provider) {
      out.w().Null();
    } else {
      out.str(slot.fallback_model);
    }
    out.member("timeout_s", timeout_ms > 0 ? timeout_ms / 1000 : slot.fallback_timeout_s);
    out.member("source", provider.empty() && model.empty() ? "fallback" : "explicit");
    out.end_object();
  }
  out.end_array();
  reply(ex, 200, out);
}

}  // namespace crewship::api
