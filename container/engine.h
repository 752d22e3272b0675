// The container engine as crewshipd uses it: JSON calls, execs whose output
// is demultiplexed (collected with a cap, or streamed), and the event stream.
// Engine is the interface; HttpEngine speaks the Docker Engine API (v1.41,
// which Podman's compatible service also serves) through a ClientPool on the
// engine's Unix socket. Every call has a deadline; calls that are not long
// streams count against the in-flight caps, and a call over a cap is refused
// at once (the caller answers 503 with Retry-After).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "daemon/http_client.h"

namespace crewship::container {

struct EngineReply {
  int err = 0;     // 0, or why no answer came (UV_ETIMEDOUT, UV_ECONNREFUSED, UV_EPROTO...)
  int status = 0;  // the engine's HTTP status when err == 0
  std::string body;
  // The engine's own message ({"message": ...}) or err's text.
  std::string message() const;
};

struct ExecSpec {
  std::string container;          // id or name
  std::vector<std::string> cmd;
  std::string user = "1001:1001";
  std::string workdir;            // empty: the image's
  std::vector<std::string> env;   // NAME=value
  uint64_t timeout_ms = 10'000;   // the whole exec; 0: none (a run)
  size_t max_output = 512 << 10;  // collected stdout; stderr keeps its first 16 KiB
  std::string key;                // caps key: the crew
};

struct ExecResult {
  int err = 0;             // 0, or why the exec did not complete
  int status = 0;          // the engine's status when it refused the exec (404, 409...)
  std::string message;     // the engine's message when it refused
  int64_t exit_code = -1;  // -1: unknown
  bool truncated = false;  // stdout reached max_output; the exec was left
  std::string out;         // collected stdout (empty when streamed)
  std::string err_out;     // collected stderr (empty when streamed)
};

// Engine calls for the metrics endpoint (loop thread, plain counters).
struct EngineCounters {
  static constexpr const char* kOps[] = {"call", "exec"};
  // ok: answered (an exec: ran to its end); http_error: the engine answered
  // 4xx/5xx; timeout; error: no answer (connection, protocol, cancelled);
  // refused: over an in-flight cap.
  static constexpr const char* kOutcomes[] = {"ok", "http_error", "timeout", "error", "refused"};
  enum Op { kCall, kExec };
  enum Outcome { kOk, kHttpError, kTimeout, kError, kRefused };
  uint64_t calls[std::size(kOps)][std::size(kOutcomes)] = {};
  int64_t in_flight = 0;
};

class Engine {
 public:
  virtual ~Engine() = default;
  EngineCounters counters;

  using Reply = std::function<void(EngineReply&&)>;
  // METHOD /v1.41<path> with an optional JSON body, within timeout_ms (0:
  // the engine timeout). False (and no callback) when a cap is reached.
  virtual bool call(std::string_view method, std::string path, std::string body,
                    const std::string& key, Reply done, uint64_t timeout_ms = 0) = 0;

  struct Exec;  // an exec under way; valid until its done callback ran
  using Output = std::function<void(int stream, std::string_view piece)>;
  // Creates, starts and waits for an exec; with on_output set the output is
  // streamed to it instead of collected. Null when a cap is reached.
  virtual Exec* exec(ExecSpec spec, Output on_output, std::function<void(ExecResult&&)> done) = 0;
  // Leaves the exec (its process goes on in the container); done runs at once
  // with UV_ECANCELED.
  virtual void cancel(Exec* exec) = 0;

  struct Watch;  // an event stream; valid until on_end ran
  // GET /events with filters (a JSON object); one JSON object per event.
  virtual Watch* events(std::string filters, std::function<void(std::string_view event)> on_event,
                        std::function<void(int err)> on_end) = 0;
  virtual void cancel(Watch* watch) = 0;

  // Ends every call and stream (their callbacks run with UV_ECANCELED).
  virtual void close() = 0;
  virtual const std::string& socket_path() const = 0;
  virtual void set_socket_path(std::string path) = 0;  // for calls from now on
};

struct EngineLimits {
  uint64_t timeout_ms = 5000;  // each call, and the head of each stream
  http::ClientLimits pool;
};

std::unique_ptr<Engine> make_http_engine(uv_loop_t* loop, std::string socket_path, EngineLimits limits);

}  // namespace crewship::container
