// The agent a proxy route names ({agentId}), looked up within the caller's
// scope, and the host paths that belong to it. Shared by the public handlers
// and their IPC twins: a public caller's scope is the workspace the guard
// resolved; an internal caller's is its token's workspace and crew (empty:
// the master token, which sees every agent).
#pragma once

#include <string>
#include <string_view>

#include "container/crew_service.h"
#include "daemon/app.h"
#include "daemon/handler.h"
#include "daemon/json.h"
#include "store/agent_store.h"

namespace crewship::api {

using AgentRef = store::AgentRef;

// Loads the live agent of the {agentId} parameter. Answers 404 (and returns
// false) when it does not exist or lies outside the caller's scope; with
// need_crew, also when it has no crew; 500 when the store fails.
bool find_agent(App& app, const ExchangePtr& ex, AgentRef* out, bool need_crew = false);

using container::agent_storage_dir;  // <data>/storage/crews/<crew>/<slug>
using container::crew_storage_dir;   // <data>/storage/crews/<crew>

// A client's path below an agent's directory (?path=, ?subdir=), as the query
// parser decoded it once. Writes it to *out without empty or "." components
// ("" names the directory itself) and returns true; returns false for a NUL
// byte, an absolute path, a ".." component, an encoded traversal left after
// the decoding (%2e, %2f or %5c, in either case), 4096 bytes or more, or a
// component over 255 bytes.
bool normalise_relative_path(std::string_view in, std::string* out);
extern const std::string_view kBadRelativePath;  // the 400 detail, after the parameter's name

}  // namespace crewship::api

namespace crewship::api {

// Answers 200 with a list: bare (array_json as is) to public callers, wrapped
// as {"<envelope>": [...]} to internal ones, the shape IPC clients expect.
void reply_list(const ExchangePtr& ex, std::string_view envelope, std::string array_json);

// Writes key: the text, or null when it is empty (a NULL column).
void nullable_text(json::Out& out, std::string_view key, std::string_view text);

}  // namespace crewship::api
