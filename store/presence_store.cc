#include "store/presence_store.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "store/errors.h"

namespace crewship::store {
namespace {

int done(Connection& c, int rc) { return rc == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(c.db()); }

std::string_view agent_status_for(const PresenceWrite& w) {
  if (w.status == "busy" || w.status == "blocked") return "RUNNING";
  return w.error ? "ERROR" : "IDLE";
}

std::string journal_payload(const PresenceWrite& w, std::string_view prev, bool had_prev) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> out(buf);
  out.StartObject();
  out.Key("status");
  out.String(w.status.data(), static_cast<rapidjson::SizeType>(w.status.size()));
  out.Key("prev");
  if (had_prev) {
    out.String(prev.data(), static_cast<rapidjson::SizeType>(prev.size()));
  } else {
    out.Null();
  }
  out.Key("details");
  if (w.details.empty()) {
    out.StartObject();
    out.EndObject();
  } else {
    out.RawValue(w.details.data(), w.details.size(), rapidjson::kObjectType);
  }
  out.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

int write_presence(Connection& c, const PresenceWrite& w, PresenceResult* out) {
  std::string prev;
  bool had_prev = false;
  bool same_place = false;  // same status, workspace and crew as stored
  {
    auto s = c.prepare(
        "SELECT status, workspace_id = ?2 AND coalesce(crew_id, '') = ?3 FROM agent_status WHERE agent_id = ?1");
    s.bind_all(w.agent_id, w.workspace_id, w.crew_id);
    int rc = s.step();
    if (rc == SQLITE_ROW) {
      prev = s.text(0);
      had_prev = true;
      same_place = prev == w.status && s.int64(1) != 0;
    } else if (rc != SQLITE_DONE) {
      return sqlite3_extended_errcode(c.db());
    }
  }
  if (same_place) {
    // Only what moves on every write: the indexes on status, workspace and
    // crew (and the status rule) stay untouched.
    auto s = c.prepare("UPDATE agent_status SET since = ?2, last_seen = ?3, details = ?4 WHERE agent_id = ?1");
    s.bind_all(w.agent_id, w.since, w.now_ms);
    if (w.details.empty()) s.bind_null(4); else s.bind(4, w.details);
    if (int rc = done(c, s.step()); rc != SQLITE_OK) return rc;
  } else {
    auto s = c.prepare(
        "INSERT INTO agent_status(agent_id, workspace_id, crew_id, status, since, last_seen, details)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        " ON CONFLICT(agent_id) DO UPDATE SET workspace_id = excluded.workspace_id,"
        " crew_id = excluded.crew_id, status = excluded.status, since = excluded.since,"
        " last_seen = excluded.last_seen, details = excluded.details");
    s.bind_all(w.agent_id, w.workspace_id);
    if (w.crew_id.empty()) s.bind_null(3); else s.bind(3, w.crew_id);
    s.bind(4, w.status);
    s.bind(5, w.since);
    s.bind(6, w.now_ms);
    if (w.details.empty()) s.bind_null(7); else s.bind(7, w.details);
    if (int rc = done(c, s.step()); rc != SQLITE_OK) return rc;
  }
  out->changed = !had_prev || prev != w.status;
  if (out->changed) {
    auto s = c.prepare(
        "INSERT INTO journal(workspace_id, crew_id, agent_id, kind, payload, created_at)"
        " VALUES (?1, ?2, ?3, 'agent.status_change', ?4, ?5)");
    s.bind(1, w.workspace_id);
    if (w.crew_id.empty()) s.bind_null(2); else s.bind(2, w.crew_id);
    s.bind(3, w.agent_id);
    s.bind(4, journal_payload(w, prev, had_prev));
    s.bind(5, w.since);
    if (int rc = done(c, s.step()); rc != SQLITE_OK) return rc;
  }
  auto s = c.prepare(
      "UPDATE agents SET status = ?2, updated_at = substr(?3, 1, 19) || 'Z'"
      " WHERE id = ?1 AND status != ?2 AND status != 'PENDING_REVIEW'");  // only an approval releases it
  s.bind_all(w.agent_id, agent_status_for(w), w.since);
  return done(c, s.step());
}

int heartbeat(Connection& c, const std::vector<std::string>& agent_ids, int64_t now_ms, int* updated) {
  *updated = 0;
  for (const std::string& id : agent_ids) {
    auto s = c.prepare("UPDATE agent_status SET last_seen = ?2 WHERE agent_id = ?1");
    s.bind_all(id, now_ms);
    if (int rc = done(c, s.step()); rc != SQLITE_OK) return rc;
    *updated += sqlite3_changes(c.db());
  }
  return SQLITE_OK;
}

namespace {

// Flips the rows s selects (agent_id, workspace_id, crew_id) to offline.
int flip_offline(Connection& c, StmtLease& s, const std::string& details, const std::string& since,
                 int64_t now_ms, std::vector<Swept>* swept) {
  std::vector<PresenceWrite> rows;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    PresenceWrite w;
    w.agent_id = s.text(0);
    w.workspace_id = s.text(1);
    w.crew_id = s.text(2);
    rows.push_back(std::move(w));
  }
  if (rc != SQLITE_DONE) return sqlite3_extended_errcode(c.db());
  sqlite3_reset(s.get());
  for (PresenceWrite& w : rows) {
    w.status = "offline";
    w.details = details;
    w.since = since;
    w.now_ms = now_ms;
    PresenceResult r;
    if (int rc2 = write_presence(c, w, &r); rc2 != SQLITE_OK) return rc2;
    swept->push_back({w.agent_id, w.workspace_id, w.crew_id});
  }
  return SQLITE_OK;
}

}  // namespace

int sweep_stale(Connection& c, int64_t cutoff_ms, const std::string& details,
                const std::string& since, int64_t now_ms, std::vector<Swept>* swept) {
  auto s = c.prepare(
      "SELECT agent_id, workspace_id, coalesce(crew_id, '') FROM agent_status"
      " WHERE status != 'offline' AND last_seen < ?1");
  s.bind(1, cutoff_ms);
  return flip_offline(c, s, details, since, now_ms, swept);
}

int offline_crew(Connection& c, const std::string& crew_id, const std::string& details,
                 const std::string& since, int64_t now_ms, std::vector<Swept>* swept) {
  auto s = c.prepare(
      "SELECT agent_id, workspace_id, coalesce(crew_id, '') FROM agent_status"
      " WHERE status != 'offline' AND crew_id = ?1");
  s.bind(1, crew_id);
  return flip_offline(c, s, details, since, now_ms, swept);
}

int roster(Connection& c, std::string_view workspace_id, const std::function<void(const PresenceRow&)>& row) {
  // The crew comes from the agent, which may have moved since its last write.
  auto s = c.prepare(
      "SELECT p.agent_id, coalesce(a.crew_id, ''), p.status, p.since, coalesce(p.details, '')"
      " FROM agent_status p JOIN agents a ON a.id = p.agent_id AND a.deleted_at IS NULL"
      " WHERE p.workspace_id = ?1 ORDER BY p.since DESC, p.agent_id");
  s.bind(1, workspace_id);
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) row({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)});
  return rc == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(c.db());
}

int status_history(Connection& c, std::string_view workspace_id, std::string_view agent_id,
                   std::string_view crew_id, int64_t before, int64_t limit,
                   const std::function<void(const JournalRow&)>& row) {
  auto s = c.prepare(
      "SELECT id, coalesce(agent_id, ''), coalesce(crew_id, ''), payload, created_at FROM journal"
      " WHERE workspace_id = ?1 AND kind = 'agent.status_change'"
      " AND (?2 = '' OR agent_id = ?2) AND (?3 = '' OR crew_id = ?3) AND (?4 = 0 OR id < ?4)"
      " ORDER BY id DESC LIMIT ?5");
  s.bind_all(workspace_id, agent_id, crew_id, before, limit);
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) row({s.int64(0), s.text(1), s.text(2), s.text(3), s.text(4)});
  return rc == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(c.db());
}

Result<std::optional<PresenceNow>> presence_of(Connection& c, std::string_view agent_id) {
  auto s = c.prepare("SELECT status, since, coalesce(details, '') FROM agent_status WHERE agent_id = ?1");
  s.bind(1, agent_id);
  int rc = s.step();
  if (rc == SQLITE_DONE) return std::optional<PresenceNow>();
  if (rc != SQLITE_ROW) return store_failure(c, rc);
  return std::optional<PresenceNow>(PresenceNow{std::string(s.text(0)), std::string(s.text(1)), std::string(s.text(2))});
}

Result<bool> agent_known(Connection& c, std::string_view agent_id, std::string_view workspace_id) {
  auto s = c.prepare("SELECT 1 FROM agents WHERE id = ?1 AND workspace_id = ?2");
  s.bind_all(agent_id, workspace_id);
  int rc = s.step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return store_failure(c, rc);
  return rc == SQLITE_ROW;
}

}  // namespace crewship::store
