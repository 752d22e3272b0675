// Logging to stderr in a form journald keeps: "<N>" syslog priority prefixes
// when stderr is the journal, a timestamped line with the level name otherwise.
// Only daemon/, api/ and ipc/ log; store/ and container/ return errors.
#pragma once

#include <string_view>

namespace crewship::log {

// syslog priorities, as sd-daemon.h's SD_ERR ... SD_DEBUG
enum class Level : int { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };

// Parses "debug|info|notice|warning|error"; returns false on anything else.
bool parse_level(std::string_view name, Level* out);
void set_level(Level level);
bool enabled(Level level);

void write(Level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace crewship::log

#define CREWSHIP_LOG(level, ...)                                   \
  do {                                                             \
    if (::crewship::log::enabled(level)) ::crewship::log::write(level, __VA_ARGS__); \
  } while (0)
#define LOG_ERROR(...) CREWSHIP_LOG(::crewship::log::Level::kError, __VA_ARGS__)
#define LOG_WARN(...) CREWSHIP_LOG(::crewship::log::Level::kWarning, __VA_ARGS__)
#define LOG_NOTICE(...) CREWSHIP_LOG(::crewship::log::Level::kNotice, __VA_ARGS__)
#define LOG_INFO(...) CREWSHIP_LOG(::crewship::log::Level::kInfo, __VA_ARGS__)
#define LOG_DEBUG(...) CREWSHIP_LOG(::crewship::log::Level::kDebug, __VA_ARGS__)
