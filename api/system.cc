// Process health and runtime facts.
#include <sodium.h>
#include <unistd.h>
#include <uv.h>

#include <llhttp.h>

#include "api/common.h"
#include "api/realtime.h"
#include "api/routes.h"
#include "daemon/ids.h"
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
  auto role_name = store::first_workspace_role(app.store.reader(), ex->who.user_id);
  if (!role_name && role_name.problem().status != 404) return reply_problem(ex, role_name.problem());
  Role role = Role::kNone;
  bool details = role_name && parse_role(*role_name, &role) && role >= kManage;
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

}  // namespace crewship::api
