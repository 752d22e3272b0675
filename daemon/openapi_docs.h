// Both listeners' OpenAPI 3.1 documents: every area's docs gathered, matched
// against the route tables, and generated once at start.
//   GET /api/v1/openapi.json           public listener, no auth
//   GET /api/v1/internal/openapi.json  IPC socket, internal token
#pragma once

#include <span>
#include <string>
#include <vector>

#include "daemon/app.h"
#include "daemon/handler.h"
#include "daemon/openapi.h"
#include "daemon/router.h"

namespace crewship {

// Every area's docs, and those of the composition root's own routes.
openapi::DocSet all_docs();

struct OpenApi {
  openapi::Built api, ipc;
  std::vector<std::string> unrouted;  // docs of no route in either table
};
OpenApi build_openapi(const Config& config, std::span<const Route> api, std::span<const Route> ipc);

// Builds both documents into app, logging what does not match.
void publish_openapi(App& app, std::span<const Route> api, std::span<const Route> ipc);

void serve_openapi_api(App& app, const ExchangePtr& ex);
void serve_openapi_ipc(App& app, const ExchangePtr& ex);

}  // namespace crewship
