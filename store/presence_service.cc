#include "store/presence_service.h"

#include <ctime>
#include <memory>

#include "daemon/ids.h"
#include "store/errors.h"
#include "store/store.h"

namespace crewship::store {
namespace {

struct Stamp {
  std::string since;  // RFC 3339 with nanoseconds
  int64_t ms;         // the same instant in unix milliseconds
};

Stamp stamp() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return {rfc3339_nanos(ts), static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000};
}

}  // namespace

void PresenceService::committed(const PresenceChange& change) {
  for (size_t i = 0; i < std::size(kStatuses); ++i)
    if (change.status == kStatuses[i]) ++counters_.writes[i];
  if (auto it = spaces_.find(change.workspace_id); it != spaces_.end()) {
    Space& space = it->second;
    ++space.version;
    // An agent the book does not show (its first write, or one deleted
    // since) may or may not belong on the roster: the store decides.
    if (space.mirrored && !space.book.update(change.agent_id, change.status, change.since, change.details))
      space.mirrored = false;
  }
  for (const Observer& o : observers_) o(change);
}

void PresenceService::invalidate(const std::string& workspace_id) {
  if (auto it = spaces_.find(workspace_id); it != spaces_.end()) {
    ++it->second.version;
    it->second.mirrored = false;
  }
}

void PresenceService::set(PresenceUpdate u, Done done, Also also) {
  Stamp now = stamp();
  auto w = std::make_shared<PresenceWrite>(PresenceWrite{std::move(u), std::move(now.since), now.ms});
  auto result = std::make_shared<PresenceResult>();
  ++in_flight_;
  store_.writer().submit(
      [w, result, also = std::move(also)](Connection& c) {
        if (int rc = write_presence(c, *w, result.get()); rc != SQLITE_OK) return rc;
        return also ? also(c, *w) : SQLITE_OK;
      },
      [this, w, result, done = std::move(done)](int rc) {
        --in_flight_;
        PresenceChange change{w->agent_id, w->workspace_id, w->crew_id, w->status,
                              w->since,    w->details,      result->changed};
        if (rc != SQLITE_OK) return done(store_failure(rc), change);
        committed(change);
        done({}, change);
      });
}

void PresenceService::flip_offline(bool crew, std::string crew_id, int64_t idle_ms, std::string details,
                                   std::function<void(Result<size_t>)> done) {
  auto now = std::make_shared<Stamp>(stamp());
  auto swept = std::make_shared<std::vector<Swept>>();
  auto text = std::make_shared<std::string>(std::move(details));
  ++in_flight_;
  store_.writer().submit(
      [crew, crew_id = std::move(crew_id), idle_ms, now, swept, text](Connection& c) {
        return crew ? store::offline_crew(c, crew_id, *text, now->since, now->ms, swept.get())
                    : sweep_stale(c, now->ms - idle_ms, *text, now->since, now->ms, swept.get());
      },
      [this, now, swept, text, done = std::move(done)](int rc) {
        --in_flight_;
        if (rc != SQLITE_OK) return done(store_failure(rc));
        for (const Swept& s : *swept)
          committed({s.agent_id, s.workspace_id, s.crew_id, "offline", now->since, *text, true});
        done(swept->size());
      });
}

void PresenceService::offline_crew(std::string crew_id, std::string details,
                                   std::function<void(Result<size_t>)> done) {
  flip_offline(true, std::move(crew_id), 0, std::move(details), std::move(done));
}

void PresenceService::sweep(int64_t idle_ms, std::string details, std::function<void(Result<size_t>)> done) {
  flip_offline(false, {}, idle_ms, std::move(details), std::move(done));
}

void PresenceService::heartbeat(std::vector<std::string> agent_ids, std::function<void(Result<int>)> done) {
  auto ids = std::make_shared<std::vector<std::string>>(std::move(agent_ids));
  auto updated = std::make_shared<int>(0);
  int64_t at = stamp().ms;
  store_.writer().submit(
      [ids, at, updated](Connection& c) { return store::heartbeat(c, *ids, at, updated.get()); },
      [updated, done = std::move(done)](int rc) {
        if (rc != SQLITE_OK) return done(store_failure(rc));
        done(*updated);
      });
}

const PresenceService::Roster* PresenceService::cached_roster(const std::string& workspace_id,
                                                              const std::string& crew_id) {
  auto space = spaces_.find(workspace_id);
  if (space == spaces_.end()) {
    ++counters_.roster_misses;
    return nullptr;
  }
  auto it = space->second.answers.find(crew_id);
  if (it == space->second.answers.end() || it->second.version != space->second.version) {
    ++counters_.roster_misses;
    return nullptr;
  }
  ++counters_.roster_hits;
  return &it->second;
}

Result<const PresenceService::Roster*> PresenceService::roster(const std::string& workspace_id,
                                                              const std::string& crew_id) {
  Space& space = spaces_[workspace_id];
  if (!space.mirrored) {
    std::vector<RosterEntry> rows;
    int rc = store::roster(store_.reader(), workspace_id, [&rows](const PresenceRow& r) {
      rows.push_back({std::string(r.agent_id), std::string(r.crew_id), std::string(r.status),
                      std::string(r.since), std::string(r.details)});
    });
    if (rc != SQLITE_OK) return store_failure(store_.reader(), rc);
    ++loads_;
    space.book.reset(std::move(rows));
    // Writes under way may or may not be in what was read: the book answers
    // this version, and is read again for the next one.
    space.mirrored = in_flight_ == 0;
  }
  RosterAnswer a = space.book.answer(crew_id);
  Roster& r = space.answers[crew_id];
  r = {space.version, std::move(a.etag), std::move(a.body)};
  return &r;
}

}  // namespace crewship::store
