#include "store/audit_store.h"

#include "daemon/ids.h"
#include "store/query.h"

namespace crewship::store {
namespace {

std::optional<std::string> text_or_null(const std::string& v) {
  return v.empty() ? std::nullopt : std::optional<std::string>(v);
}

}  // namespace

Status insert_audit(Connection& w, const AuditEntry& e) {
  auto s = w.prepare(
      "INSERT INTO audit_logs (id, workspace_id, action, actor_user_id, target_type, target_id, details,"
      " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  s.bind_all(new_id(), e.workspace_id, e.action);
  bind_opt(s, 4, text_or_null(e.actor_user_id));
  s.bind(5, e.target_type);
  s.bind(6, e.target_id);
  bind_opt(s, 7, text_or_null(e.details));
  s.bind(8, now_rfc3339_nanos());
  return run(w, s);
}

Result<std::vector<AuditRow>> list_audit(Connection& c, std::string_view workspace_id,
                                         const std::optional<std::string>& action, int64_t limit,
                                         int64_t offset) {
  auto s = c.prepare(
      "SELECT id, action, actor_user_id, target_type, target_id, details, created_at FROM audit_logs"
      " WHERE workspace_id = ?1 AND (?2 IS NULL OR action = ?2)"
      " ORDER BY created_at DESC, rowid DESC LIMIT ?3 OFFSET ?4");
  s.bind(1, workspace_id);
  bind_opt(s, 2, action);
  s.bind(3, limit);
  s.bind(4, offset);
  return collect(c, s, [](const StmtLease& r) {
    AuditRow a;
    a.id = r.text(0);
    a.action = r.text(1);
    a.actor_user_id = opt_text(r, 2);
    a.target_type = r.text(3);
    a.target_id = r.text(4);
    a.details = opt_text(r, 5);
    a.created_at = r.text(6);
    return a;
  });
}

}  // namespace crewship::store
