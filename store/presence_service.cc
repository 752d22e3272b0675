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
  invalidate(change.workspace_id);
  for (const Observer& o : observers_) o(change);
}

void PresenceService::set(PresenceUpdate u, Done done, Also also) {
  Stamp now = stamp();
  auto w = std::make_shared<PresenceWrite>(PresenceWrite{std::move(u), std::move(now.since), now.ms});
  auto result = std::make_shared<PresenceResult>();
  store_.writer().submit(
      [w, result, also = std::move(also)](Connection& c) {
        if (int rc = write_presence(c, *w, result.get()); rc != SQLITE_OK) return rc;
        return also ? also(c, *w) : SQLITE_OK;
      },
      [this, w, result, done = std::move(done)](int rc) {
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
  store_.writer().submit(
      [crew, crew_id = std::move(crew_id), idle_ms, now, swept, text](Connection& c) {
        return crew ? store::offline_crew(c, crew_id, *text, now->since, now->ms, swept.get())
                    : sweep_stale(c, now->ms - idle_ms, *text, now->since, now->ms, swept.get());
      },
      [this, now, swept, text, done = std::move(done)](int rc) {
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
                                                              const std::string& crew_id) const {
  auto it = rosters_.find(workspace_id + '\n' + crew_id);
  if (it == rosters_.end()) return nullptr;
  auto v = version_.find(workspace_id);
  return it->second.version == (v == version_.end() ? 0 : v->second) ? &it->second : nullptr;
}

const PresenceService::Roster& PresenceService::keep_roster(const std::string& workspace_id,
                                                            const std::string& crew_id, std::string etag,
                                                            std::string body) {
  Roster r{version_[workspace_id], std::move(etag), std::move(body)};
  return rosters_.insert_or_assign(workspace_id + '\n' + crew_id, std::move(r)).first->second;
}

}  // namespace crewship::store
