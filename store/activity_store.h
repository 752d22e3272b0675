// The activity feed of a workspace (or one crew), merged from its sources:
// audit rows, presence transitions (the journal's agent.status_change
// entries), runs started, runs finished and inbox items. The feed has one
// order, (at, source, row) descending, and a page is what lies strictly
// before a key in it. Each source is read from an index on its time, newest
// first, at most limit + 1 rows, so a page costs the same at any depth.
// Loop thread's reader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/result.h"
#include "store/db.h"

namespace crewship::store {

// In the feed's order, a higher source comes first among rows of the same at.
enum class ActivitySource : int { kAudit = 0, kPresence, kRunStarted, kRunFinished, kInbox };
inline constexpr int kActivitySources = 5;

// A row's place in the feed: its time (RFC 3339 with 9 fractional digits),
// its source, and its rowid in the source's table (which only breaks ties).
struct ActivityKey {
  std::string at;
  ActivitySource source = ActivitySource::kAudit;
  int64_t row = 0;
};
// a comes before b in the feed (newest first).
bool feed_before(const ActivityKey& a, const ActivityKey& b);

struct ActivityRow {
  ActivityKey key;
  std::string id;                             // the row's id in its table
  std::string crew_id, agent_id, agent_name;  // empty: none
  std::string data;                           // a JSON object, by source
};

struct ActivityQuery {
  std::string workspace_id;
  std::string crew_id;                // empty: the whole workspace
  std::optional<ActivityKey> before;  // none: from the newest
  int64_t limit = 50;
};

struct ActivityPage {
  std::vector<ActivityRow> rows;  // at most limit, in feed order
  bool more = false;              // rows lie beyond the last one
};

// The page of q. With a crew, audit rows are those whose target is the crew
// or one of its agents, inbox items those of its agents (both read per
// target, at most limit + 1 rows each); presence and runs carry the crew
// they happened in.
Result<ActivityPage> read_activity(Connection& c, const ActivityQuery& q);

// The statement read_activity runs for a source, by workspace or by crew
// (for the query-plan test): ?1 the workspace, or by crew the crew (presence,
// runs) or one target (audit rows: the crew or an agent; inbox: an agent),
// ?2 the cursor's at,
// ?3 how ties on at compare (0 none pass, 1 those of a lower row, 2 all),
// ?4 the cursor's row, ?5 the limit.
const char* activity_sql(ActivitySource source, bool by_crew);

}  // namespace crewship::store
