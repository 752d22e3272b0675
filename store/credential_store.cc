#include "store/credential_store.h"

#include "store/query.h"

namespace crewship::store {
namespace {

Credential credential_of(const StmtLease& s) {
  Credential c;
  c.id = s.text(0);
  c.workspace_id = s.text(1);
  c.name = s.text(2);
  c.provider = s.text(3);
  c.type = s.text(4);
  c.hint = s.text(5);
  c.created_at = s.text(6);
  c.updated_at = s.text(7);
  return c;
}

#define CREDENTIAL_SELECT \
  "SELECT id, workspace_id, name, provider, type, hint, created_at, updated_at FROM credentials"

#define ASSIGNMENT_SELECT                                                                     \
  "SELECT a.id, a.agent_id, a.credential_id, a.env_var_name, a.priority, a.created_at,"       \
  " c.name, c.provider, c.type, c.hint"                                                       \
  " FROM agent_credentials a JOIN credentials c ON c.id = a.credential_id AND c.deleted_at IS NULL"

CredentialAssignment assignment_of(const StmtLease& s) {
  CredentialAssignment a;
  a.id = s.text(0);
  a.agent_id = s.text(1);
  a.credential_id = s.text(2);
  a.env_var_name = s.text(3);
  a.priority = s.int64(4);
  a.created_at = s.text(5);
  a.name = s.text(6);
  a.provider = s.text(7);
  a.type = s.text(8);
  a.hint = s.text(9);
  return a;
}

}  // namespace

Status insert_credential(Connection& w, const Credential& c, std::string_view sealed,
                         std::string_view creator_user_id) {
  auto s = w.prepare(
      "INSERT INTO credentials (id, workspace_id, name, provider, type, sealed, hint, created_by_user_id,"
      " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)");
  s.bind_all(c.id, c.workspace_id, c.name, c.provider, c.type);
  bind_blob(s, 6, sealed);
  s.bind(7, c.hint);
  s.bind(8, creator_user_id);
  s.bind(9, c.created_at);
  return run(w, s);
}

Result<std::vector<Credential>> list_credentials(Connection& c, std::string_view workspace_id,
                                                 int64_t limit, int64_t offset) {
  auto s = c.prepare(CREDENTIAL_SELECT
                     " WHERE workspace_id = ?1 AND deleted_at IS NULL ORDER BY created_at, rowid LIMIT ?2 OFFSET ?3");
  s.bind_all(workspace_id, limit, offset);
  return collect(c, s, credential_of);
}

Result<Credential> find_credential(Connection& c, std::string_view id, std::string_view workspace_id) {
  auto s = c.prepare(CREDENTIAL_SELECT " WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL");
  s.bind_all(id, workspace_id);
  if (auto st = first_row(c, s, "credential not found"); !st) return std::move(st).take_problem();
  return credential_of(s);
}

Result<std::vector<Credential>> first_credentials_by_type(Connection& c, std::string_view workspace_id,
                                                          std::string_view provider,
                                                          std::string_view type_a, std::string_view type_b) {
  auto s = c.prepare(
      "SELECT id, workspace_id, name, provider, type, hint, created_at, updated_at FROM ("
      " SELECT *, rowid AS r, row_number() OVER (PARTITION BY type ORDER BY created_at, rowid) AS n"
      " FROM credentials WHERE workspace_id = ?1 AND provider = ?2 AND type IN (?3, ?4)"
      " AND deleted_at IS NULL) WHERE n = 1 ORDER BY created_at, r");
  s.bind_all(workspace_id, provider, type_a, type_b);
  return collect(c, s, credential_of);
}

Status delete_credential(Connection& w, std::string_view id, std::string_view now) {
  auto s = w.prepare("UPDATE credentials SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1 AND deleted_at IS NULL");
  s.bind_all(id, now);
  return run(w, s);
}

Result<bool> insert_credential_assignment(Connection& w, const CredentialAssignment& a) {
  auto s = w.prepare(
      "INSERT INTO agent_credentials (id, agent_id, credential_id, env_var_name, priority, created_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (agent_id, credential_id) DO NOTHING");
  s.bind_all(a.id, a.agent_id, a.credential_id, a.env_var_name, a.priority, a.created_at);
  return changed_one(w, s);
}

Result<std::vector<CredentialAssignment>> list_credential_assignments(Connection& c, std::string_view agent_id) {
  auto s = c.prepare(ASSIGNMENT_SELECT " WHERE a.agent_id = ?1 ORDER BY a.created_at, a.rowid");
  s.bind(1, agent_id);
  return collect(c, s, assignment_of);
}

Result<CredentialAssignment> delete_credential_assignment(Connection& w, std::string_view agent_id,
                                                          std::string_view id) {
  auto s = w.prepare(ASSIGNMENT_SELECT " WHERE a.agent_id = ?1 AND a.id = ?2");
  s.bind_all(agent_id, id);
  if (auto st = first_row(w, s, "credential assignment not found"); !st) return std::move(st).take_problem();
  CredentialAssignment a = assignment_of(s);
  auto d = w.prepare("DELETE FROM agent_credentials WHERE id = ?1");
  d.bind(1, id);
  if (auto st = run(w, d); !st) return std::move(st).take_problem();
  return a;
}

Result<std::vector<SealedEnv>> credentials_to_inject(Connection& c, std::string_view agent_id) {
  // The first row of each env_var_name wins.
  auto s = c.prepare(
      "SELECT a.credential_id, a.env_var_name, c.sealed FROM agent_credentials a"
      " JOIN credentials c ON c.id = a.credential_id AND c.deleted_at IS NULL"
      " WHERE a.agent_id = ?1 ORDER BY a.env_var_name, a.priority DESC, a.created_at, a.rowid");
  s.bind(1, agent_id);
  auto rows = collect(c, s, [](const StmtLease& r) { return SealedEnv{std::string(r.text(0)), std::string(r.text(1)), blob(r, 2)}; });
  if (!rows) return rows;
  std::vector<SealedEnv> out;
  for (auto& e : *rows)
    if (out.empty() || out.back().env_var_name != e.env_var_name) out.push_back(std::move(e));
  return out;
}

}  // namespace crewship::store
