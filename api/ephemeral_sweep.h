// The TTL sweep of hired (ephemeral) agents: each one past its expires_at
// becomes a ghost. Its row stays, for audit, and no longer counts against
// its crew's quota.
#pragma once

#include <cstddef>
#include <functional>

#include "daemon/app.h"
#include "daemon/result.h"

namespace crewship::api {

// Makes ghosts of the ephemerals due now (a bounded batch per call; the
// rest wait for the next): in one write each, expired_at is set, their runs
// still RUNNING become STOPPED, presence goes offline {"reason":"expired"}
// and an agent.expired journal entry is appended; then a run in progress is
// stopped in the container (asked again while the engine fails it, see
// stop_until_gone) and agent.expired is published. done gets how
// many became ghosts, or the problem that stopped the sweep. Loop thread;
// the due agents are one indexed read, every write goes through the writer.
void sweep_ephemerals(App& app, std::function<void(Result<size_t>)> done);

// The most ghosts one sweep makes; a sweep that made this many is followed
// by another at once, so a backlog drains without waiting an interval each.
inline constexpr size_t kEphemeralSweepBatch = 100;

}  // namespace crewship::api
