#include "store/run_store.h"

#include "store/errors.h"
#include "store/query.h"

namespace crewship::store {
namespace {

int done(Connection& c, int rc) { return rc == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(c.db()); }

void bind_or_null(StmtLease& s, int i, const std::string& v) {
  if (v.empty()) {
    s.bind_null(i);
  } else {
    s.bind(i, v);
  }
}

std::string text_or_empty(const StmtLease& s, int col) { return s.is_null(col) ? std::string() : std::string(s.text(col)); }

#define RUN_SELECT \
  "SELECT id, agent_id, chat_id, cmd, status, exit_code, error, started_at, ended_at, workspace_id, source FROM agent_runs"

RunRow run_row(const StmtLease& s) {
  RunRow r;
  r.id = s.text(0);
  r.agent_id = s.text(1);
  r.chat_id = text_or_empty(s, 2);
  r.cmd_json = s.text(3);
  r.status = s.text(4);
  if (!s.is_null(5)) r.exit_code = s.int64(5);
  r.error = text_or_empty(s, 6);
  r.started_at = s.text(7);
  r.ended_at = text_or_empty(s, 8);
  r.workspace_id = s.text(9);
  r.source = s.text(10);
  return r;
}

}  // namespace

int insert_run(Connection& c, const NewRun& run) {
  auto s = c.prepare(
      "INSERT INTO agent_runs (id, agent_id, workspace_id, crew_id, chat_id, cmd, status, started_at, source)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'RUNNING', ?7, ?8)");
  s.bind_all(run.id, run.agent_id, run.workspace_id, run.crew_id);
  bind_or_null(s, 5, run.chat_id);
  s.bind(6, run.cmd_json);
  s.bind(7, run.started_at);
  s.bind(8, run.source);
  return done(c, s.step());
}

int end_run(Connection& c, const std::string& run_id, const std::string& status, int64_t exit_code,
            const std::string& error, const std::string& ended_at) {
  auto s = c.prepare("UPDATE agent_runs SET status = ?2, exit_code = ?3, error = ?4, ended_at = ?5 WHERE id = ?1");
  s.bind_all(run_id, status);
  exit_code < 0 ? s.bind_null(3) : s.bind(3, exit_code);
  bind_or_null(s, 4, error);
  s.bind(5, ended_at);
  return done(c, s.step());
}

int stop_runs(Connection& c, const std::string& agent_id, const std::string& ended_at) {
  auto s = c.prepare(
      "UPDATE agent_runs SET status = 'STOPPED', ended_at = ?2 WHERE agent_id = ?1 AND status = 'RUNNING'");
  s.bind_all(agent_id, ended_at);
  return done(c, s.step());
}

int mark_lost_runs(Connection& c, const std::string& ended_at) {
  auto s = c.prepare("UPDATE agent_runs SET status = 'LOST', ended_at = ?1 WHERE status = 'RUNNING'");
  s.bind(1, ended_at);
  return done(c, s.step());
}

int mark_agent_stopped(Connection& c, const std::string& agent_id) {
  // A hire pending review stays so: only its approval releases it.
  auto s = c.prepare("UPDATE agents SET status = 'STOPPED' WHERE id = ?1 AND status != 'PENDING_REVIEW'");
  s.bind(1, agent_id);
  return done(c, s.step());
}

Result<std::vector<RunRow>> list_runs(Connection& c, std::string_view agent_id, int64_t limit, int64_t offset) {
  auto s = c.prepare(
      RUN_SELECT
      " WHERE agent_id = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2 OFFSET ?3");
  s.bind_all(agent_id, limit, offset);
  std::vector<RunRow> rows;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) rows.push_back(run_row(s));
  if (rc != SQLITE_DONE) return store_failure(c, rc);
  return rows;
}

Result<std::vector<RunRow>> list_workspace_runs(Connection& c, std::string_view workspace_id,
                                                const std::optional<std::string>& agent_id,
                                                const std::optional<std::string>& status, int64_t limit,
                                                int64_t offset) {
  auto s = c.prepare(RUN_SELECT
                     " WHERE workspace_id = ?1 AND (?2 IS NULL OR agent_id = ?2) AND (?3 IS NULL OR status = ?3)"
                     " ORDER BY started_at DESC, id DESC LIMIT ?4 OFFSET ?5");
  s.bind(1, workspace_id);
  bind_opt(s, 2, agent_id);
  bind_opt(s, 3, status);
  s.bind(4, limit);
  s.bind(5, offset);
  return collect(c, s, run_row);
}

Result<std::optional<RunRow>> latest_run(Connection& c, std::string_view agent_id) {
  auto s = c.prepare(
      RUN_SELECT
      " WHERE agent_id = ?1 ORDER BY started_at DESC LIMIT 1");
  s.bind(1, agent_id);
  int rc = s.step();
  if (rc == SQLITE_DONE) return std::optional<RunRow>();
  if (rc != SQLITE_ROW) return store_failure(c, rc);
  return std::optional<RunRow>(run_row(s));
}

}  // namespace crewship::store
