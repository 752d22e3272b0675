#include "daemon/log.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <sys/stat.h>

namespace crewship::log {
namespace {

Level g_level = Level::kInfo;

struct LevelName {
  std::string_view name;
  Level level;
};
constexpr LevelName kLevels[] = {
    {"error", Level::kError},   {"warning", Level::kWarning}, {"notice", Level::kNotice},
    {"info", Level::kInfo},     {"debug", Level::kDebug},
};

std::string_view name_of(Level level) {
  for (const auto& l : kLevels)
    if (l.level == level) return l.name;
  return "?";
}

// systemd sets JOURNAL_STREAM to "<dev>:<inode>" of the stream it connected to
// stderr; only when stderr still is that stream do we emit "<N>" prefixes.
bool stderr_is_journal() {
  const char* js = std::getenv("JOURNAL_STREAM");
  if (js == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st;
  if (fstat(2, &st) != 0) return false;
  return st.st_dev == dev && st.st_ino == ino;
}

const bool g_journal = stderr_is_journal();

}  // namespace

bool parse_level(std::string_view name, Level* out) {
  for (const auto& l : kLevels) {
    if (l.name == name) {
      *out = l.level;
      return true;
    }
  }
  return false;
}

void set_level(Level level) { g_level = level; }

bool enabled(Level level) { return static_cast<int>(level) <= static_cast<int>(g_level); }

void write(Level level, const char* fmt, ...) {
  char line[2048];
  int n;
  if (g_journal) {
    n = std::snprintf(line, sizeof line, "<%d>", static_cast<int>(level));
  } else {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    std::string_view lv = name_of(level);
    n = std::snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-7.*s ",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                      tm.tm_sec, ts.tv_nsec / 1000000, static_cast<int>(lv.size()), lv.data());
  }
  va_list ap;
  va_start(ap, fmt);
  int m = std::vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
  va_end(ap);
  size_t len = static_cast<size_t>(n) + (m < 0 ? 0 : static_cast<size_t>(m));
  if (len > sizeof line - 2) len = sizeof line - 2;
  line[len++] = '\n';
  // One write(2) per line so concurrent writers never interleave within a line.
  std::fwrite(line, 1, len, stderr);
}

}  // namespace crewship::log
