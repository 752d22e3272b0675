// The presence service: the one place an agent's presence changes. It stamps
// the time, builds the write, hands it to the writer (the row, its journal
// entry and agents.status, in one transaction), and once that committed, on
// the loop thread, applies it to the workspace's roster, tells the observers
// (the hook a live push attaches to) and then the caller. It keeps each
// workspace's roster in memory (a RosterBook, read from the store once and
// then updated row by row from committed writes) and the answers built from
// it per (workspace, crew filter) until the next change.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/result.h"
#include "store/presence_store.h"
#include "store/roster_book.h"

namespace crewship::store {

class Store;

// A presence row as a committed write left it.
struct PresenceChange {
  std::string agent_id, workspace_id, crew_id, status, since, details;
  bool transition = false;  // a new status, or the agent's first (journaled)
};

class PresenceService {
 public:
  explicit PresenceService(Store& store) : store_(store) {}
  PresenceService(const PresenceService&) = delete;
  PresenceService& operator=(const PresenceService&) = delete;

  // Runs in the write's transaction right after the presence row (a run's
  // row, agents.status = STOPPED...); anything but SQLITE_OK undoes both.
  using Also = std::function<int(Connection&, const PresenceWrite&)>;
  using Done = std::function<void(Status, const PresenceChange&)>;
  // One agent's status; the service stamps its time. done runs on the loop after the commit (or failure).
  void set(PresenceUpdate update, Done done, Also also = {});

  // Every agent of the crew that is not offline goes offline with details;
  // done gets how many did.
  void offline_crew(std::string crew_id, std::string details, std::function<void(Result<size_t>)> done);
  // Every agent not offline whose last_seen is older than idle_ms goes
  // offline with details.
  void sweep(int64_t idle_ms, std::string details, std::function<void(Result<size_t>)> done);
  // Refreshes last_seen of the agents that have a row (no status change,
  // nothing observed); done gets how many had one.
  void heartbeat(std::vector<std::string> agent_ids, std::function<void(Result<int>)> done);

  // Called on the loop for every row a committed write changed, before the
  // write's own done.
  using Observer = std::function<void(const PresenceChange&)>;
  void observe(Observer observer) { observers_.push_back(std::move(observer)); }

  // Forgets the roster of a workspace, to be read from the store again: for
  // any change of what it shows other than a presence write (an agent moved
  // to another crew or deleted, a crew deleted).
  void invalidate(const std::string& workspace_id);

  struct Roster {
    uint64_t version = 0;
    std::string etag;
    std::shared_ptr<const std::string> body;  // shared by every answer of this version
  };
  // The cached roster of (workspace, crew filter), or null when there is
  // none or it is stale.
  const Roster* cached_roster(const std::string& workspace_id, const std::string& crew_id);
  // The roster of (workspace, crew filter) as of the last committed change,
  // cached until the next one; the workspace's rows are read from the store
  // only when the service does not hold them yet.
  Result<const Roster*> roster(const std::string& workspace_id, const std::string& crew_id);
  // How often the rows of a workspace were read from the store.
  uint64_t roster_loads() const { return loads_; }

  // For the metrics endpoint (loop thread, plain counters).
  static constexpr const char* kStatuses[] = {"online", "busy", "blocked", "offline"};
  struct Counters {
    uint64_t writes[std::size(kStatuses)] = {};  // committed status writes, by status
    uint64_t roster_hits = 0;    // cached_roster() had the answer
    uint64_t roster_misses = 0;  // it had none, or a stale one
  };
  const Counters& counters() const { return counters_; }

 private:
  struct Space {
    uint64_t version = 0;  // moves with every change of the workspace's rows
    bool mirrored = false;  // book holds what the store holds
    RosterBook book;
    std::unordered_map<std::string, Roster> answers;  // by crew filter
  };
  void flip_offline(bool crew, std::string crew_id, int64_t idle_ms, std::string details,
                    std::function<void(Result<size_t>)> done);
  void committed(const PresenceChange& change);

  Store& store_;
  std::vector<Observer> observers_;
  std::unordered_map<std::string, Space> spaces_;  // by workspace
  // Status writes submitted whose done has not run yet: a store read taken
  // meanwhile may hold some of them, so it is not kept as the mirror.
  size_t in_flight_ = 0;
  uint64_t loads_ = 0;
  Counters counters_;
};

}  // namespace crewship::store
