// What the persona handlers share (persona.cc, persona_suggest.cc): the cap,
// the agent a route names as the caller may see it, the content of a write,
// and the write of the agent's layer with its history row.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "daemon/app.h"
#include "daemon/handler.h"
#include "daemon/result.h"
#include "store/audit_store.h"
#include "store/db.h"
#include "store/persona_store.h"

namespace crewship::api {

constexpr int64_t kPersonaCapBytes = 1500;  // a layer's most bytes (PUT and suggest)

// Loads the live agent of {agentId}: in the caller's workspace (404), and for
// an internal caller in its token's scope (another workspace 404, another
// crew 403). Answers and returns false otherwise.
bool find_persona_agent(App& app, const ExchangePtr& ex, store::PersonaAgent* out);

// Reads {content, ...} of a persona write: 400 when it is missing, not a
// string or empty, 413 over kPersonaCapBytes. doc keeps the body for further
// fields. Answers and returns false otherwise.
bool read_persona_content(const ExchangePtr& ex, rapidjson::Document* doc, std::string* content);

// Writes content as the agent layer of agent (a memory_versions row written
// by written_by, and audit, in the same transaction as the file change);
// done gets the version. allowed, on the writer inside that transaction,
// gets the agent as it is now (gone: 404 before it is called) and refuses
// the write with its problem; none allows any.
using WriteCheck = std::function<Status(const store::PersonaAgent& now)>;
void write_agent_layer(App& app, const store::PersonaAgent& agent, std::string content, std::string written_by,
                       store::AuditEntry audit, std::function<void(Result<store::MemoryVersion>)> done,
                       WriteCheck allowed = nullptr);

}  // namespace crewship::api
