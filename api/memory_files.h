// The agents' memory on the host, under <data>/memory. No container mounts
// it (a crew's container sees only <data>/storage/crews/<crew>), so an agent
// cannot rewrite its persona or its peer cards by hand:
//   memory/agents/<agent>/PERSONA.md                    the agent's layer
//   memory/crews/<crew>/PERSONA.md                      the crew's default layer
//   memory/agents/<agent>/peers/<user>.md               a peer card, kept with its agent
//                                                      whatever crew it is in
// Paths are relative to the data dir, as memory_versions keeps them. Every
// file operation runs off the loop.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/app.h"
#include "daemon/result.h"
#include "store/db.h"

namespace crewship::api {

std::string agent_persona_path(std::string_view agent_id);
std::string crew_persona_path(std::string_view crew_id);
// Whether id may name a file or directory here: 1-64 of [A-Za-z0-9_-]
// (ours are CUIDs). An id from a request path is checked with it before it
// goes into a path, so "..", "/" or "." never reach the file system.
bool memory_id_ok(std::string_view id);
std::string peer_card_path(std::string_view agent_id, std::string_view user_id);

// Removes the temporary files of writes a killed daemon left under
// <data>/memory (see change_memory_file); at start, before any request.
// Returns how many it removed, or a negative errno.
int sweep_memory_staging(const std::string& data_dir);

// What a staged write holds, for the rows that record it.
struct StagedFile {
  std::string sha256;  // hex, of the new content ("" for a removal)
  int64_t bytes = 0;
};
using RecordChange = std::function<Status(store::Connection& w, const StagedFile& staged)>;

// Replaces the file at path with content (none: removes it) together with
// the rows record writes, as one change. The content is written to a
// temporary file beside the target, synced and hashed on the thread pool;
// then, on the writer inside the transaction, record runs and, only when it
// succeeded, the temporary file is renamed over the target (or the target
// removed); after the commit the directory is synced on the pool, outside
// the writer, before done hears of it. So a refused or failed record leaves
// the file as it was, changes of one path land on disk in the order of their
// rows, and what done reports as written is durable. (Should the commit
// itself fail after the rename, the file is ahead of its rows.) The
// temporary file is gone in every case. done runs on the loop thread.
void change_memory_file(App& app, std::string path, std::optional<std::string> content, RecordChange record,
                        std::function<void(Status)> done);

// The first of paths that exists, read whole on the thread pool (index -1:
// none does). Files over max bytes are an error.
struct FoundFile {
  int index = -1;
  std::string content;
};
void read_memory_file(App& app, std::vector<std::string> paths, size_t max,
                      std::function<void(Result<FoundFile>)> done);

}  // namespace crewship::api
