// A secret kept in a file of the data dir: read when present, else generated
// (32 random bytes as hex) and written 0600 with O_EXCL, then fsynced.
#pragma once

#include <string>

namespace crewship {

// Returns 0 and fills *secret (*created tells whether it was generated now),
// or a negative errno with *error set. A file that holds no plausible secret
// (32-256 printable characters) is an error, never silently replaced.
int load_or_create_secret(const std::string& path, std::string* secret, bool* created,
                          std::string* error);

bool plausible_secret(std::string_view s);

}  // namespace crewship
