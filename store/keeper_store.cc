#include "store/keeper_store.h"

#include "store/query.h"

namespace crewship::store {

Status insert_keeper_request(Connection& w, const KeeperRequest& r) {
  auto s = w.prepare(
      "INSERT INTO keeper_requests(id, workspace_id, credential_id, agent_id, run_id, env_var_name, at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  s.bind_all(r.id, r.workspace_id, r.credential_id, r.agent_id, r.run_id, r.env_var_name, r.at);
  return run(w, s);
}

// Within one timestamp rowid keeps insertion order.
Result<std::vector<KeeperRequest>> list_keeper_requests(Connection& c, std::string_view workspace_id,
                                                        int64_t limit, int64_t offset) {
  auto s = c.prepare(
      "SELECT id, workspace_id, credential_id, agent_id, run_id, env_var_name, at FROM keeper_requests"
      " WHERE workspace_id = ?1 ORDER BY at DESC, rowid DESC LIMIT ?2 OFFSET ?3");
  s.bind_all(workspace_id, limit, offset);
  return collect(c, s, [](const StmtLease& r) {
    return KeeperRequest{std::string(r.text(0)), std::string(r.text(1)), std::string(r.text(2)),
                         std::string(r.text(3)), std::string(r.text(4)), std::string(r.text(5)),
                         std::string(r.text(6))};
  });
}

Result<KeeperCounts> keeper_counts(Connection& c) {
  auto s = c.prepare(
      "SELECT (SELECT count(*) FROM credentials WHERE deleted_at IS NULL),"
      " (SELECT count(*) FROM agent_credentials a"
      "  JOIN credentials c ON c.id = a.credential_id AND c.deleted_at IS NULL"
      "  JOIN agents g ON g.id = a.agent_id AND g.deleted_at IS NULL),"
      " (SELECT max(at) FROM keeper_requests)");
  if (auto st = first_row(c, s, "no counts"); !st) return std::move(st).take_problem();
  return KeeperCounts{s.int64(0), s.int64(1), opt_text(s, 2)};
}

}  // namespace crewship::store
