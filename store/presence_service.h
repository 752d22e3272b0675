// The presence service: the one place an agent's presence changes. It stamps
// the time, builds the write, hands it to the writer (the row, its journal
// entry and agents.status, in one transaction), and once that committed, on
// the loop thread, invalidates the workspace's roster, tells the observers
// (the hook a live push attaches to) and then the caller. It also keeps the
// roster answers cached per (workspace, crew filter) until they go stale.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/result.h"
#include "store/presence_store.h"

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

  // Drops the cached rosters of a workspace: for any change of what they
  // show (an agent moved to another crew or deleted, a crew deleted).
  void invalidate(const std::string& workspace_id) { ++version_[workspace_id]; }

  struct Roster {
    uint64_t version = 0;
    std::string etag;
    std::string body;
  };
  // The cached roster of (workspace, crew filter), or null when there is
  // none or it is stale.
  const Roster* cached_roster(const std::string& workspace_id, const std::string& crew_id) const;
  // Caches a roster built from what the store holds now.
  const Roster& keep_roster(const std::string& workspace_id, const std::string& crew_id, std::string etag,
                            std::string body);

 private:
  void flip_offline(bool crew, std::string crew_id, int64_t idle_ms, std::string details,
                    std::function<void(Result<size_t>)> done);
  void committed(const PresenceChange& change);

  Store& store_;
  std::vector<Observer> observers_;
  std::unordered_map<std::string, uint64_t> version_;  // by workspace
  std::unordered_map<std::string, Roster> rosters_;    // by workspace '\n' crew
};

}  // namespace crewship::store
