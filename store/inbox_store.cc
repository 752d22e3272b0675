#include "store/inbox_store.h"

#include "store/query.h"

namespace crewship::store {
namespace {

InboxItem read_item(const StmtLease& r) {
  InboxItem i;
  i.id = r.text(0);
  i.workspace_id = r.text(1);
  i.agent_id = r.text(2);
  i.kind = r.text(3);
  i.blocking = r.int64(4) != 0;
  i.status = r.text(5);
  i.payload = r.text(6);
  i.created_at = r.text(7);
  i.resolved_at = opt_text(r, 8);
  i.resolved_by = opt_text(r, 9);
  return i;
}

}  // namespace

Status insert_inbox_item(Connection& w, const InboxItem& item) {
  auto s = w.prepare(
      "INSERT INTO inbox_items(id, workspace_id, agent_id, kind, blocking, payload, created_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  s.bind_all(item.id, item.workspace_id, item.agent_id, item.kind, int64_t{item.blocking}, item.payload,
             item.created_at);
  return run(w, s);
}

Result<int> resolve_open_inbox_items(Connection& w, std::string_view agent_id, std::string_view kind,
                                     std::string_view resolved_by, std::string_view now) {
  auto s = w.prepare(
      "UPDATE inbox_items SET status = 'resolved', resolved_at = ?4, resolved_by = ?3"
      " WHERE agent_id = ?1 AND kind = ?2 AND status = 'open'");
  s.bind_all(agent_id, kind, resolved_by, now);
  return run_changes(w, s);
}

Result<int64_t> count_open_blocking(Connection& c, std::string_view agent_id) {
  auto s = c.prepare(
      "SELECT count(*) FROM inbox_items WHERE agent_id = ?1 AND status = 'open' AND blocking = 1");
  s.bind(1, agent_id);
  if (auto st = first_row(c, s, "no count"); !st) return std::move(st).take_problem();
  return s.int64(0);
}

// Within one timestamp rowid keeps insertion order.
Result<std::vector<InboxItem>> list_inbox_items(Connection& c, std::string_view agent_id, bool open_only,
                                                int64_t limit, int64_t offset) {
  auto s = c.prepare(
      "SELECT id, workspace_id, agent_id, kind, blocking, status, payload, created_at, resolved_at,"
      " resolved_by FROM inbox_items WHERE agent_id = ?1 AND (?2 = 0 OR status = 'open')"
      " ORDER BY created_at DESC, rowid DESC LIMIT ?3 OFFSET ?4");
  s.bind_all(agent_id, int64_t{open_only}, limit, offset);
  return collect(c, s, read_item);
}

}  // namespace crewship::store
