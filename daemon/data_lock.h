// One crewshipd per data dir: an exclusive flock on <data dir>/crewshipd.lock,
// taken before anything in the dir is touched and held for the process's
// life (the kernel drops it when the process ends, however it ends).
#pragma once

#include <string>

namespace crewship {

// Returns the lock file's descriptor (close-on-exec, never to be closed), or
// -1 with *error set: "another crewshipd uses <dir> (pid N)" when the lock is
// held, else what failed.
int lock_data_dir(const std::string& dir, std::string* error);

}  // namespace crewship
