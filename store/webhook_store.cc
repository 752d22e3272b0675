#include "store/webhook_store.h"

#include "store/query.h"

namespace crewship::store {

Status set_webhook_secret(Connection& w, std::string_view agent_id, std::string_view secret_hash,
                          std::string_view now) {
  auto s = w.prepare(
      "INSERT INTO agent_webhooks (agent_id, secret_hash, created_at, rotated_at) VALUES (?1, ?2, ?3, ?3)"
      " ON CONFLICT (agent_id) DO UPDATE SET secret_hash = excluded.secret_hash, rotated_at = excluded.rotated_at");
  s.bind_all(agent_id, secret_hash, now);
  return run(w, s);
}

Result<std::optional<std::string>> webhook_secret_hash(Connection& c, std::string_view agent_id) {
  auto s = c.prepare("SELECT secret_hash FROM agent_webhooks WHERE agent_id = ?1");
  s.bind(1, agent_id);
  int rc = s.step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return store_failure(c, last_error(c, rc));
  return std::optional<std::string>(std::string(s.text(0)));
}

}  // namespace crewship::store
