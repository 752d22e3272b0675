// The IPC handlers' OpenAPI docs (daemon/openapi.h), gathered by the
// composition root (daemon/openapi_docs.cc).
#pragma once

#include "daemon/openapi.h"

namespace crewship::ipc::docs {

void health(openapi::DocSet& d);
void presence(openapi::DocSet& d);
void mcp_tool_calls(openapi::DocSet& d);

}  // namespace crewship::ipc::docs
