// `crewshipd token crew <crew_id>` and `crewshipd token workspace <id>`: print
// a bound internal token for a host operator, from the data dir's database
// and the same master token the daemon uses.
#pragma once

#include "daemon/config.h"

namespace crewship::ipc {

// args: what follows "token". Returns the process exit code.
int token_command(const Config& config, int argc, char** argv);

}  // namespace crewship::ipc
