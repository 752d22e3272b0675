#include "store/user_store.h"

#include "store/query.h"

namespace crewship::store {
namespace {

UserRef user_of(const StmtLease& s) {
  return UserRef{std::string(s.text(0)), std::string(s.text(1)), opt_text(s, 2)};
}

}  // namespace

Result<bool> any_user(Connection& c) {
  auto s = c.prepare("SELECT 1 FROM users LIMIT 1");
  return exists(c, s);
}

Status insert_user(Connection& w, const UserRef& u, std::string_view password_hash,
                   std::string_view now) {
  auto s = w.prepare(
      "INSERT INTO users(id, email, name, password_hash, created_at, updated_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?5)");
  s.bind_all(u.id, u.email);
  bind_opt(s, 3, u.name && !u.name->empty() ? u.name : std::nullopt);
  s.bind(4, password_hash);
  s.bind(5, now);
  int rc = s.step();
  if (rc == SQLITE_DONE) return {};
  rc = last_error(w, rc);
  if (rc == SQLITE_CONSTRAINT_UNIQUE) return fail(409, "a user with this email exists");
  return store_failure(w, rc);
}

Result<LoginUser> find_login(Connection& c, std::string_view email) {
  auto s = c.prepare(
      "SELECT id, email, name, password_hash, locked_until, failed_logins FROM users WHERE email = ?1");
  s.bind(1, email);
  if (auto st = first_row(c, s, "no such user"); !st) return std::move(st).take_problem();
  return LoginUser{user_of(s), std::string(s.text(3)), s.int64(4), s.int64(5)};
}

Status record_failed_login(Connection& w, std::string_view id, int64_t max, int64_t until) {
  auto u = w.prepare(
      "UPDATE users SET"
      " locked_until = CASE WHEN failed_logins + 1 >= ?2 THEN ?3 ELSE locked_until END,"
      " failed_logins = CASE WHEN failed_logins + 1 >= ?2 THEN 0 ELSE failed_logins + 1 END"
      " WHERE id = ?1");
  u.bind_all(id, max, until);
  return run(w, u);
}

Status clear_failed_logins(Connection& w, std::string_view id) {
  auto u = w.prepare("UPDATE users SET failed_logins = 0 WHERE id = ?1");
  u.bind(1, id);
  return run(w, u);
}

Result<UserRef> find_user_by_email(Connection& c, std::string_view email) {
  auto s = c.prepare("SELECT id, email, name FROM users WHERE email = ?1");
  s.bind(1, email);
  if (auto st = first_row(c, s, "no user with this email"); !st) return std::move(st).take_problem();
  return user_of(s);
}

Result<UserRef> find_workspace_user(Connection& c, std::string_view workspace_id, bool by_id,
                                    std::string_view id_or_email) {
  auto s = by_id ? c.prepare("SELECT u.id, u.email, u.name FROM users u"
                             " JOIN workspace_members w ON w.user_id = u.id"
                             " WHERE w.workspace_id = ?1 AND u.id = ?2")
                 : c.prepare("SELECT u.id, u.email, u.name FROM users u"
                             " JOIN workspace_members w ON w.user_id = u.id"
                             " WHERE w.workspace_id = ?1 AND u.email = ?2");
  s.bind_all(workspace_id, id_or_email);
  if (auto st = first_row(c, s, "no such user in this workspace"); !st)
    return std::move(st).take_problem();
  return user_of(s);
}

}  // namespace crewship::store
