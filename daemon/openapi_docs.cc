#include "daemon/openapi_docs.h"

#include "api/docs.h"
#include "daemon/log.h"
#include "daemon/metrics_text.h"
#include "ipc/docs.h"

namespace crewship {
namespace {

using M = http::Method;

// The composition root's own routes.
void root_docs(openapi::DocSet& d) {
  d.area("meta");
  d.add(M::kGet, "/api/v1/openapi.json", "This document: the public listener's OpenAPI 3.1 description")
      .ok(200, "object");
  d.add(M::kGet, "/api/v1/internal/openapi.json", "This document: the IPC socket's OpenAPI 3.1 description")
      .ok(200, "object");
  d.add(M::kGet, "/metrics", "Every metric of the daemon, Prometheus text format 0.0.4")
      .describe("Master token only. Also served without auth on CREWSHIP_METRICS_ADDR.")
      .raw(200, metrics::kContentType, "string")
      .fails({403});
}

void serve(const std::shared_ptr<const std::string>& doc, const ExchangePtr& ex) {
  if (!doc) return reply_problem(ex, 503, "the API description is not built yet");
  http::Response r = http::Response::json(200, doc);
  r.headers.push_back({"Cache-Control", "no-cache"});
  ex->respond(std::move(r));
}

void log_misses(const char* what, const std::vector<std::string>& misses) {
  for (const std::string& m : misses) LOG_WARN("openapi: %s: %s", what, m.c_str());
}

}  // namespace

openapi::DocSet all_docs() {
  openapi::DocSet d;
  for (auto area : {api::docs::common, api::docs::health, api::docs::ui, api::docs::system, api::docs::session,
                    api::docs::cli_tokens, api::docs::invitations, api::docs::workspaces, api::docs::crews,
                    api::docs::containers, api::docs::presence, api::docs::realtime, api::docs::agents,
                    api::docs::agent_proxies, api::docs::agent_runs, api::docs::agent_files,
                    api::docs::credentials, api::docs::skills, api::docs::chats, api::docs::webhooks,
                    api::docs::audit, api::docs::operators, api::docs::hire, api::docs::persona,
                    api::docs::activity, ipc::docs::health, ipc::docs::presence, ipc::docs::mcp_tool_calls,
                    root_docs})
    area(d);
  return d;
}

OpenApi build_openapi(const Config& config, std::span<const Route> api, std::span<const Route> ipc) {
  openapi::DocSet docs = all_docs();
  OpenApi out;
  out.api = openapi::build({"crewshipd API",
                            "The public HTTP API: the web UI and CLI call it with a session cookie or a CLI token. "
                            "Errors are application/problem+json.",
                            api, config.http.max_body_bytes},
                           docs);
  out.ipc = openapi::build({"crewshipd internal API",
                            "HTTP/1.1 over the daemon's Unix socket: the runtime on the host and the hooks in crew "
                            "containers call it with X-Internal-Token.",
                            ipc, config.http.max_body_bytes},
                           docs);
  out.unrouted = openapi::unrouted(docs, {api, ipc});
  return out;
}

void publish_openapi(App& app, std::span<const Route> api, std::span<const Route> ipc) {
  OpenApi built = build_openapi(app.config, api, ipc);
  log_misses("route without a doc", built.api.undocumented);
  log_misses("IPC route without a doc", built.ipc.undocumented);
  log_misses("doc without a route", built.unrouted);
  log_misses("bad doc", built.api.errors);
  log_misses("bad IPC doc", built.ipc.errors);
  app.openapi_api = std::make_shared<const std::string>(std::move(built.api.json));
  app.openapi_ipc = std::make_shared<const std::string>(std::move(built.ipc.json));
}

void serve_openapi_api(App& app, const ExchangePtr& ex) { serve(app.openapi_api, ex); }
void serve_openapi_ipc(App& app, const ExchangePtr& ex) { serve(app.openapi_ipc, ex); }

}  // namespace crewship
