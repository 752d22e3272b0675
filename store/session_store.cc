#include "store/session_store.h"

#include "store/query.h"

namespace crewship::store {

Status insert_session(Connection& w, std::string_view id, std::string_view user_id,
                      int64_t expires, std::string_view now) {
  auto s = w.prepare(
      "INSERT INTO user_sessions(id, user_id, kind, created_at, expires_at)"
      " VALUES (?1, ?2, 'session', ?3, ?4)");
  s.bind_all(id, user_id, now, expires);
  return run(w, s);
}

Result<Holder> find_live_session(Connection& c, std::string_view id, int64_t now) {
  auto s = c.prepare(
      "SELECT u.id, u.email, coalesce(u.name, '') FROM user_sessions s"
      " JOIN users u ON u.id = s.user_id"
      " WHERE s.id = ?1 AND s.revoked_at IS NULL AND s.expires_at > ?2");
  s.bind_all(id, now);
  if (auto st = first_row(c, s, "no such session"); !st) return std::move(st).take_problem();
  return Holder{std::string(s.text(0)), std::string(s.text(1)), std::string(s.text(2))};
}

Result<int64_t> session_expiry(Connection& c, std::string_view id) {
  auto s = c.prepare("SELECT expires_at FROM user_sessions WHERE id = ?1");
  s.bind(1, id);
  if (auto st = first_row(c, s, "no such session"); !st) return std::move(st).take_problem();
  return s.int64(0);
}

Result<bool> revoke_session(Connection& w, std::string_view id, std::string_view now) {
  auto u = w.prepare("UPDATE user_sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL");
  u.bind_all(id, now);
  return changed_one(w, u);
}

Status insert_cli_token(Connection& w, std::string_view id, std::string_view user_id,
                        std::string_view name, std::string_view token_hash, std::string_view now) {
  auto s = w.prepare(
      "INSERT INTO cli_tokens(id, user_id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
  s.bind_all(id, user_id, name, token_hash, now);
  return run(w, s);
}

Result<CliTokenHolder> find_cli_token(Connection& c, std::string_view token_hash) {
  auto s = c.prepare(
      "SELECT t.id, u.id, u.email, coalesce(u.name, '') FROM cli_tokens t"
      " JOIN users u ON u.id = t.user_id"
      " WHERE t.token_hash = ?1 AND t.revoked_at IS NULL");
  s.bind(1, token_hash);
  if (auto st = first_row(c, s, "no such token"); !st) return std::move(st).take_problem();
  return CliTokenHolder{std::string(s.text(0)),
                        Holder{std::string(s.text(1)), std::string(s.text(2)), std::string(s.text(3))}};
}

Result<std::string> cli_token_name(Connection& c, std::string_view id) {
  auto s = c.prepare("SELECT name FROM cli_tokens WHERE id = ?1");
  s.bind(1, id);
  if (auto st = first_row(c, s, "no such token"); !st) return std::move(st).take_problem();
  return std::string(s.text(0));
}

Status touch_cli_token(Connection& w, std::string_view id, std::string_view at) {
  auto u = w.prepare("UPDATE cli_tokens SET last_used_at = ?2 WHERE id = ?1");
  u.bind_all(id, at);
  return run(w, u);
}

Result<std::vector<CliToken>> list_cli_tokens(Connection& c, std::string_view user_id,
                                              int64_t limit, int64_t offset) {
  auto s = c.prepare(
      "SELECT id, name, created_at, last_used_at FROM cli_tokens"
      " WHERE user_id = ?1 AND revoked_at IS NULL ORDER BY created_at, id LIMIT ?2 OFFSET ?3");
  s.bind_all(user_id, limit, offset);
  return collect(c, s, [](const StmtLease& r) {
    return CliToken{std::string(r.text(0)), std::string(r.text(1)), std::string(r.text(2)), opt_text(r, 3)};
  });
}

Result<bool> revoke_cli_token(Connection& w, std::string_view id, std::string_view user_id,
                              std::string_view now) {
  auto u = w.prepare(
      "UPDATE cli_tokens SET revoked_at = ?3 WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL");
  u.bind_all(id, user_id, now);
  return changed_one(w, u);
}

}  // namespace crewship::store
