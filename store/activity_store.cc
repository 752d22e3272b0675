#include "store/activity_store.h"

#include <algorithm>
#include <tuple>

#include "store/query.h"

namespace crewship::store {
namespace {

// Rows strictly before the cursor (?2 at, ?3 tie rule, ?4 row) in the feed's
// order, on a source's time column and rowid. The range on the time column
// is what the index serves; ties on it are rare and filtered.
#define BEFORE_CURSOR(at, row) \
  " AND " at " <= ?2 AND (" at " < ?2 OR ?3 = 2 OR (?3 = 1 AND " row " < ?4))"

// Every statement answers: rowid, at, id, crew_id, agent_id, agent name, data.
// A stored JSON text that does not parse becomes null, not a failed page.
#define AUDIT_COLUMNS                                                                              \
  "SELECT a.rowid, a.created_at, a.id,"                                                            \
  " CASE a.target_type WHEN 'crew' THEN a.target_id ELSE coalesce(g.crew_id, '') END,"            \
  " coalesce(g.id, ''), coalesce(g.name, ''),"                                                     \
  " json_object('action', a.action, 'actor_user_id', a.actor_user_id, 'target_type', a.target_type," \
  " 'target_id', a.target_id, 'details', CASE WHEN json_valid(a.details) THEN json(a.details) END)" \
  " FROM audit_logs a LEFT JOIN agents g ON a.target_type = 'agent' AND g.id = a.target_id"
#define AUDIT_ORDER " ORDER BY a.created_at DESC, a.rowid DESC LIMIT ?5"

#define PRESENCE_COLUMNS                                                                            \
  "SELECT j.id, j.created_at, j.id, coalesce(j.crew_id, ''), coalesce(j.agent_id, ''),"            \
  " coalesce(g.name, ''), json_object('entry_id', j.id,"                                          \
  " 'status', CASE WHEN json_valid(j.payload) THEN j.payload -> 'status' END,"                     \
  " 'prev', CASE WHEN json_valid(j.payload) THEN j.payload -> 'prev' END,"                         \
  " 'details', CASE WHEN json_valid(j.payload) THEN j.payload -> 'details' END)"                   \
  " FROM journal j LEFT JOIN agents g ON g.id = j.agent_id"
#define PRESENCE_WHERE " AND j.kind = 'agent.status_change'" BEFORE_CURSOR("j.created_at", "j.id")
#define PRESENCE_ORDER " ORDER BY j.created_at DESC, j.id DESC LIMIT ?5"

#define RUN_STARTED_COLUMNS                                                                        \
  "SELECT r.rowid, r.started_at, r.id, r.crew_id, r.agent_id, coalesce(g.name, ''),"               \
  " json_object('run_id', r.id, 'source', r.source, 'chat_id', r.chat_id)"                         \
  " FROM agent_runs r LEFT JOIN agents g ON g.id = r.agent_id"
#define RUN_STARTED_ORDER " ORDER BY r.started_at DESC, r.rowid DESC LIMIT ?5"

#define RUN_FINISHED_COLUMNS                                                                       \
  "SELECT r.rowid, r.ended_at, r.id, r.crew_id, r.agent_id, coalesce(g.name, ''),"                 \
  " json_object('run_id', r.id, 'status', r.status, 'exit_code', r.exit_code, 'error', r.error,"   \
  " 'source', r.source, 'started_at', r.started_at)"                                               \
  " FROM agent_runs r LEFT JOIN agents g ON g.id = r.agent_id"
#define RUN_FINISHED_WHERE " AND r.ended_at IS NOT NULL" BEFORE_CURSOR("r.ended_at", "r.rowid")
#define RUN_FINISHED_ORDER " ORDER BY r.ended_at DESC, r.rowid DESC LIMIT ?5"

#define INBOX_COLUMNS                                                                              \
  "SELECT i.rowid, i.created_at, i.id, coalesce(g.crew_id, ''), i.agent_id, coalesce(g.name, ''),"  \
  " json_object('item_id', i.id, 'kind', i.kind, 'blocking', json(CASE i.blocking WHEN 1 THEN"     \
  " 'true' ELSE 'false' END), 'status', i.status, 'payload', CASE WHEN json_valid(i.payload) THEN"  \
  " json(i.payload) END, 'resolved_at', i.resolved_at, 'resolved_by', i.resolved_by)"              \
  " FROM inbox_items i LEFT JOIN agents g ON g.id = i.agent_id"
#define INBOX_ORDER " ORDER BY i.created_at DESC, i.rowid DESC LIMIT ?5"

// [source][by crew]. Audit rows carry no crew: by crew they are read per
// target, the crew and each of its agents (ids are unique, so the target
// index alone finds them). Inbox items likewise go per agent.
const char* const kSql[kActivitySources][2] = {
    {AUDIT_COLUMNS " WHERE a.workspace_id = ?1" BEFORE_CURSOR("a.created_at", "a.rowid") AUDIT_ORDER,
     AUDIT_COLUMNS " WHERE a.target_id = ?1" BEFORE_CURSOR("a.created_at", "a.rowid") AUDIT_ORDER},
    {PRESENCE_COLUMNS " WHERE j.workspace_id = ?1" PRESENCE_WHERE PRESENCE_ORDER,
     PRESENCE_COLUMNS " WHERE j.crew_id = ?1" PRESENCE_WHERE PRESENCE_ORDER},
    {RUN_STARTED_COLUMNS " WHERE r.workspace_id = ?1" BEFORE_CURSOR("r.started_at", "r.rowid") RUN_STARTED_ORDER,
     RUN_STARTED_COLUMNS " WHERE r.crew_id = ?1" BEFORE_CURSOR("r.started_at", "r.rowid") RUN_STARTED_ORDER},
    {RUN_FINISHED_COLUMNS " WHERE r.workspace_id = ?1" RUN_FINISHED_WHERE RUN_FINISHED_ORDER,
     RUN_FINISHED_COLUMNS " WHERE r.crew_id = ?1" RUN_FINISHED_WHERE RUN_FINISHED_ORDER},
    {INBOX_COLUMNS " WHERE i.workspace_id = ?1" BEFORE_CURSOR("i.created_at", "i.rowid") INBOX_ORDER,
     INBOX_COLUMNS " WHERE i.agent_id = ?1" BEFORE_CURSOR("i.created_at", "i.rowid") INBOX_ORDER},
};

#undef BEFORE_CURSOR
#undef AUDIT_COLUMNS
#undef AUDIT_ORDER
#undef PRESENCE_COLUMNS
#undef PRESENCE_WHERE
#undef PRESENCE_ORDER
#undef RUN_STARTED_COLUMNS
#undef RUN_STARTED_ORDER
#undef RUN_FINISHED_COLUMNS
#undef RUN_FINISHED_WHERE
#undef RUN_FINISHED_ORDER
#undef INBOX_COLUMNS
#undef INBOX_ORDER

// Later than any stored time: no cursor reads from the newest.
constexpr std::string_view kAfterAll = "9999-12-31T23:59:59.999999999Z";

// How the rows of source compare with the cursor when their at is the
// cursor's: a lower source lies after it (all pass), the same source by row.
int tie_rule(ActivitySource source, const std::optional<ActivityKey>& before) {
  if (!before || source < before->source) return 2;
  return source == before->source ? 1 : 0;
}

// Appends the rows of source for scope (a workspace, crew or target).
int read_source(Connection& c, ActivitySource source, bool by_crew, std::string_view scope, const ActivityQuery& q,
                std::vector<ActivityRow>* rows) {
  auto s = c.prepare(activity_sql(source, by_crew));
  s.bind(1, scope);
  s.bind(2, q.before ? std::string_view(q.before->at) : kAfterAll);
  s.bind(3, static_cast<int64_t>(tie_rule(source, q.before)));
  s.bind(4, q.before ? q.before->row : int64_t{0});
  s.bind(5, q.limit + 1);
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    rows->push_back({{std::string(s.text(1)), source, s.int64(0)},
                     std::string(s.text(2)),
                     std::string(s.text(3)),
                     std::string(s.text(4)),
                     std::string(s.text(5)),
                     std::string(s.text(6))});
  }
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

}  // namespace

bool feed_before(const ActivityKey& a, const ActivityKey& b) {
  return std::tie(a.at, a.source, a.row) > std::tie(b.at, b.source, b.row);
}

const char* activity_sql(ActivitySource source, bool by_crew) {
  return kSql[static_cast<int>(source)][by_crew ? 1 : 0];
}

Result<ActivityPage> read_activity(Connection& c, const ActivityQuery& q) {
  const bool by_crew = !q.crew_id.empty();
  // Every agent the crew has had on its rows (deleted ones keep their history).
  std::vector<std::string> agents;
  if (by_crew) {
    auto s = c.prepare("SELECT id FROM agents WHERE crew_id = ?1");
    s.bind(1, q.crew_id);
    auto ids = collect(c, s, [](const StmtLease& r) { return std::string(r.text(0)); });
    if (!ids) return std::move(ids).take_problem();
    agents = std::move(ids).value();
  }
  std::vector<ActivityRow> rows;
  for (int i = 0; i < kActivitySources; ++i) {
    auto source = static_cast<ActivitySource>(i);
    std::vector<std::string_view> scopes;
    if (!by_crew) {
      scopes.push_back(q.workspace_id);
    } else if (source == ActivitySource::kAudit || source == ActivitySource::kInbox) {
      if (source == ActivitySource::kAudit) scopes.push_back(q.crew_id);
      scopes.insert(scopes.end(), agents.begin(), agents.end());
    } else {
      scopes.push_back(q.crew_id);
    }
    for (std::string_view scope : scopes)
      if (int rc = read_source(c, source, by_crew, scope, q, &rows); rc != SQLITE_OK)
        return store_failure(c, last_error(c, rc));
  }
  std::sort(rows.begin(), rows.end(),
            [](const ActivityRow& a, const ActivityRow& b) { return feed_before(a.key, b.key); });
  ActivityPage page;
  page.more = static_cast<int64_t>(rows.size()) > q.limit;
  if (page.more) rows.resize(static_cast<size_t>(q.limit));
  page.rows = std::move(rows);
  return page;
}

}  // namespace crewship::store
