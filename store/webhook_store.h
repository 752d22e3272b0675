// Queries of agent_webhooks: each agent's webhook secret, as a keyed hash.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

// Creates or replaces the agent's secret hash.
Status set_webhook_secret(Connection& w, std::string_view agent_id, std::string_view secret_hash,
                          std::string_view now);
// The agent's secret hash, if it has one.
Result<std::optional<std::string>> webhook_secret_hash(Connection& c, std::string_view agent_id);

}  // namespace crewship::store
