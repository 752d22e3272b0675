#include "daemon/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>

#include "api/bridge.h"
#include "api/realtime.h"
#include "daemon/http_metrics.h"
#include "daemon/http_server.h"
#include "daemon/metrics_text.h"
#include "daemon/offload.h"

namespace crewship {
namespace metrics {

void write_family(std::string* out, std::string_view name, std::string_view type, std::string_view help) {
  out->append("# HELP ").append(name).append(" ").append(help).append("\n");
  out->append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

namespace {

void append_escaped(std::string* out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') out->append("\\\\");
    else if (c == '"') out->append("\\\"");
    else if (c == '\n') out->append("\\n");
    else out->push_back(c);
  }
}

}  // namespace

void write_sample(std::string* out, std::string_view name, Labels labels, double value,
                  std::pair<std::string_view, std::string_view> extra) {
  out->append(name);
  if (labels.size() != 0 || !extra.first.empty()) {
    out->push_back('{');
    bool first = true;
    auto label = [&](std::string_view k, std::string_view v) {
      if (!first) out->push_back(',');
      first = false;
      out->append(k).append("=\"");
      append_escaped(out, v);
      out->push_back('"');
    };
    for (const auto& [k, v] : labels) label(k, v);
    if (!extra.first.empty()) label(extra.first, extra.second);
    out->push_back('}');
  }
  char num[40];
  std::snprintf(num, sizeof num, " %.17g\n", value);
  out->append(num);
}

}  // namespace metrics

namespace {

// What /proc says about this process; read on the thread pool.
struct ProcessSample {
  double cpu_seconds = -1;
  double resident_bytes = -1;
  double open_fds = -1;
};

ProcessSample read_process() {
  ProcessSample s;
  if (FILE* f = std::fopen("/proc/self/stat", "re")) {
    char buf[1024];
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    // The command name may hold anything but ends at the last ')'; utime and
    // stime are fields 14 and 15, the 12th and 13th after it.
    if (char* p = std::strrchr(buf, ')')) {
      unsigned long long utime = 0, stime = 0;
      if (std::sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) == 2)
        s.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  if (FILE* f = std::fopen("/proc/self/statm", "re")) {
    unsigned long long size = 0, resident = 0;
    if (std::fscanf(f, "%llu %llu", &size, &resident) == 2)
      s.resident_bytes = static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
    std::fclose(f);
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    int64_t n = 0;
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
    s.open_fds = static_cast<double>(n - 1);  // not the one reading the directory
  }
  return s;
}

void gauge(std::string* out, std::string_view name, std::string_view help, double v) {
  metrics::write_family(out, name, "gauge", help);
  metrics::write_sample(out, name, {}, v);
}

std::string render(App& app, const ProcessSample& p) {
  std::string out;
  out.reserve(16 << 10);
  metrics::write_family(&out, "crewshipd_http_requests_total", "counter",
                        "HTTP responses by listener, route template, method and status.");
  for (const auto& m : app.http_metrics) m->write_requests(&out);
  metrics::write_family(&out, "crewshipd_http_request_duration_seconds", "histogram",
                        "Time from a request's first byte to its response head.");
  for (const auto& m : app.http_metrics) m->write_durations(&out);
  metrics::write_family(&out, "crewshipd_http_connections", "gauge", "Open HTTP connections by listener.");
  for (const auto& m : app.http_metrics) {
    size_t n = 0;
    for (const auto& s : app.servers)
      if (s->name() == m->listener()) n += s->connections();
    metrics::write_sample(&out, "crewshipd_http_connections", {{"listener", m->listener()}},
                          static_cast<double>(n));
  }

  const store::Writer::Metrics& w = app.store.writer().metrics();
  gauge(&out, "crewshipd_writer_queue_depth", "Writes queued for the writer, not yet in a group.",
        static_cast<double>(w.queue_depth.load(std::memory_order_relaxed)));
  metrics::write_family(&out, "crewshipd_writer_batch_size", "histogram", "Writes per committed group.");
  metrics::write_histogram(&out, "crewshipd_writer_batch_size", {}, w.batch_size, 1);
  metrics::write_family(&out, "crewshipd_writer_commit_seconds", "histogram",
                        "Time of one group's transaction and sync.");
  metrics::write_histogram(&out, "crewshipd_writer_commit_seconds", {}, w.commit_ns, 1e-9);

  const store::PresenceService::Counters& pc = app.presence.counters();
  metrics::write_family(&out, "crewshipd_presence_writes_total", "counter",
                        "Committed presence status writes by status written.");
  for (size_t i = 0; i < std::size(store::PresenceService::kStatuses); ++i)
    metrics::write_sample(&out, "crewshipd_presence_writes_total", {{"status", store::PresenceService::kStatuses[i]}},
                          static_cast<double>(pc.writes[i]));
  metrics::write_family(&out, "crewshipd_roster_cache_total", "counter", "Roster answers from the cache or not.");
  metrics::write_sample(&out, "crewshipd_roster_cache_total", {{"result", "hit"}},
                        static_cast<double>(pc.roster_hits));
  metrics::write_sample(&out, "crewshipd_roster_cache_total", {{"result", "miss"}},
                        static_cast<double>(pc.roster_misses));

  container::EngineCounters none;
  const container::EngineCounters& ec =
      app.bridge && app.bridge->crews ? api::crews(app).engine().counters : none;
  metrics::write_family(&out, "crewshipd_engine_calls_total", "counter",
                        "Container engine calls and execs by outcome.");
  for (size_t op = 0; op < std::size(ec.kOps); ++op)
    for (size_t o = 0; o < std::size(ec.kOutcomes); ++o)
      metrics::write_sample(&out, "crewshipd_engine_calls_total",
                            {{"op", ec.kOps[op]}, {"outcome", ec.kOutcomes[o]}},
                            static_cast<double>(ec.calls[op][o]));
  gauge(&out, "crewshipd_engine_calls_in_flight", "Engine calls and execs under way.",
        static_cast<double>(ec.in_flight));

  const api::Hub* hub = app.hub.get();
  gauge(&out, "crewshipd_ws_connections", "Live clients: WebSocket sessions and SSE streams.",
        hub ? static_cast<double>(hub->clients) : 0);
  metrics::write_family(&out, "crewshipd_ws_dropped_total", "counter", "Live clients ended or refused by the daemon.");
  metrics::write_sample(&out, "crewshipd_ws_dropped_total", {{"reason", "slow_consumer"}},
                        hub ? static_cast<double>(hub->slow_closes) : 0);
  metrics::write_sample(&out, "crewshipd_ws_dropped_total", {{"reason", "revoked"}},
                        hub ? static_cast<double>(hub->revoked) : 0);
  metrics::write_sample(&out, "crewshipd_ws_dropped_total", {{"reason", "over_capacity"}},
                        hub ? static_cast<double>(hub->refused) : 0);

  if (p.resident_bytes >= 0) gauge(&out, "process_resident_memory_bytes", "Resident memory size in bytes.", p.resident_bytes);
  if (p.cpu_seconds >= 0) {
    metrics::write_family(&out, "process_cpu_seconds_total", "counter", "User and system CPU time in seconds.");
    metrics::write_sample(&out, "process_cpu_seconds_total", {}, p.cpu_seconds);
  }
  if (p.open_fds >= 0) gauge(&out, "process_open_fds", "Open file descriptors.", p.open_fds);
  gauge(&out, "process_start_time_seconds", "Start time of the process since the epoch, in seconds.",
        static_cast<double>(app.started_at));
  return out;
}

}  // namespace

// Master token only on the IPC socket: the counts cover every workspace, so
// a token bound to one crew or workspace does not see them.
void serve_metrics(App& app, const ExchangePtr& ex) {
  if (ex->who.kind == Principal::Kind::kInternal && !ex->who.workspace_id.empty())
    return reply_problem(ex, 403, "metrics need the master internal token");
  // The /proc reads are file IO: on the thread pool, the rest on the loop.
  auto sample = std::make_shared<ProcessSample>();
  offload(
      app.loop, [sample] { *sample = read_process(); },
      [&app, ex, sample] {
        http::Response r;
        r.status = 200;
        r.content_type = std::string(metrics::kContentType);
        r.body = render(app, *sample);
        ex->respond(std::move(r));
      });
}

}  // namespace crewship
