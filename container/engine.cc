#include "container/engine.h"

#include <algorithm>

#include <rapidjson/document.h>

#include "container/mux.h"
#include "daemon/json.h"

namespace crewship::container {

namespace {

constexpr std::string_view kApi = "/v1.41";
constexpr size_t kMaxStderr = 16 << 10;
constexpr size_t kMaxEventLine = 64 << 10;
constexpr int kExitPolls = 40;  // exec inspections while the process is reaped: 1 ms, doubling to 50 ms

}  // namespace

std::string EngineReply::message() const {
  if (err != 0) return uv_strerror(err);
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("message") && doc["message"].IsString())
    return doc["message"].GetString();
  return "engine answered " + std::to_string(status);
}

class HttpEngine;

struct Engine::Exec {
  HttpEngine* engine;
  ExecSpec spec;
  Output on_output;
  std::function<void(ExecResult&&)> done;
  ExecResult result;
  std::string id;                      // the engine's exec id, once created
  http::ClientCall* call = nullptr;    // the step under way
  uv_timer_t timer;                    // the whole exec's deadline
  uv_timer_t poll;                     // the next exit-code inspection
  int open_timers = 2;
  Demux demux;
  int start_status = 0;                // of /exec/{id}/start
  int polls = 0;
  bool finished = false;
};

struct Engine::Watch {
  HttpEngine* engine;
  std::function<void(std::string_view)> on_event;
  std::function<void(int)> on_end;
  http::ClientCall* call = nullptr;
  std::string line;
  bool finished = false;
  bool busy = false;  // inside on_data: end() leaves the deletion to it
};

class HttpEngine final : public Engine {
 public:
  HttpEngine(uv_loop_t* loop, std::string socket_path, EngineLimits limits)
      : loop_(loop), limits_(limits), pool_(loop, std::move(socket_path), limits.pool) {}
  ~HttpEngine() override { close(); }

  bool call(std::string_view method, std::string path, std::string body, const std::string& key,
            Reply done, uint64_t timeout_ms = 0) override {
    auto counted = [this, done = std::move(done)](EngineReply&& r) {
      --counters.in_flight;
      auto outcome = r.err == UV_ETIMEDOUT ? EngineCounters::kTimeout
                     : r.err != 0          ? EngineCounters::kError
                     : r.status >= 400     ? EngineCounters::kHttpError
                                           : EngineCounters::kOk;
      ++counters.calls[EngineCounters::kCall][outcome];
      done(std::move(r));
    };
    if (request(method, path, std::move(body), key, std::move(counted), timeout_ms) == nullptr) {
      ++counters.calls[EngineCounters::kCall][EngineCounters::kRefused];
      return false;
    }
    ++counters.in_flight;
    return true;
  }

  Exec* exec(ExecSpec spec, Output on_output, std::function<void(ExecResult&&)> done) override;
  void cancel(Exec* e) override { finish(e, UV_ECANCELED); }
  Watch* events(std::string filters, std::function<void(std::string_view)> on_event,
                std::function<void(int)> on_end) override;
  void cancel(Watch* w) override { end(w, UV_ECANCELED); }

  void close() override {
    while (!execs_.empty()) finish(execs_.back(), UV_ECANCELED);
    while (!watches_.empty()) end(watches_.back(), UV_ECANCELED);
    pool_.close();
  }
  const std::string& socket_path() const override { return pool_.socket_path(); }
  void set_socket_path(std::string path) override { pool_.set_socket_path(std::move(path)); }

 private:
  // capped: counted against the in-flight caps (the later steps of an exec
  // that was admitted are not).
  http::ClientCall* request(std::string_view method, std::string_view path, std::string body,
                            const std::string& key, Reply done, uint64_t timeout_ms = 0, bool capped = true) {
    http::ClientRequest req;
    req.method = method;
    req.target.reserve(kApi.size() + path.size());
    req.target.append(kApi).append(path);
    req.body = std::move(body);
    if (!req.body.empty()) req.content_type = "application/json";
    // A longer deadline given by the caller covers the head too: an engine
    // answers a container stop only once the container has stopped.
    req.timeout_ms = timeout_ms != 0 ? timeout_ms : limits_.timeout_ms;
    req.head_timeout_ms = req.timeout_ms;
    req.key = key;
    req.long_lived = !capped;
    http::ClientCallbacks cb;
    cb.done = [done = std::move(done)](int err, http::ClientResponse&& resp) {
      EngineReply r;
      r.err = err;
      r.status = resp.status;
      r.body = std::move(resp.body);
      done(std::move(r));
    };
    return pool_.request(std::move(req), std::move(cb));
  }

  void created(Exec* e, EngineReply&& r);
  void start(Exec* e);
  void stream_ended(Exec* e, int err);
  void inspect(Exec* e);
  void finish(Exec* e, int err);
  void end(Watch* w, int err);

  uv_loop_t* loop_;
  EngineLimits limits_;
  http::ClientPool pool_;
  std::vector<Exec*> execs_;
  std::vector<Watch*> watches_;
};

// --- exec: create, start (the output stream), inspect (the exit code) --------

Engine::Exec* HttpEngine::exec(ExecSpec spec, Output on_output, std::function<void(ExecResult&&)> done) {
  json::Out body;
  body.begin_object();
  body.member("AttachStdin", false);
  body.member("AttachStdout", true);
  body.member("AttachStderr", true);
  body.member("Tty", false);
  body.member("User", spec.user);
  if (!spec.workdir.empty()) body.member("WorkingDir", spec.workdir);
  body.strings("Env", spec.env);
  body.strings("Cmd", spec.cmd);
  body.end_object();

  auto* e = new Exec;
  e->engine = this;
  e->spec = std::move(spec);
  e->on_output = std::move(on_output);
  e->done = std::move(done);
  e->call = request("POST", "/containers/" + http::percent_encode(e->spec.container) + "/exec", body.take(),
                    e->spec.key, [this, e](EngineReply&& r) {
                      e->call = nullptr;
                      if (!e->finished) created(e, std::move(r));
                    });
  if (e->call == nullptr) {
    delete e;
    ++counters.calls[EngineCounters::kExec][EngineCounters::kRefused];
    return nullptr;
  }
  ++counters.in_flight;
  uv_timer_init(loop_, &e->timer);
  uv_timer_init(loop_, &e->poll);
  e->timer.data = e->poll.data = e;
  if (e->spec.timeout_ms != 0) {
    uv_timer_start(&e->timer, [](uv_timer_t* t) {
      auto* x = static_cast<Exec*>(t->data);
      x->engine->finish(x, UV_ETIMEDOUT);
    }, e->spec.timeout_ms, 0);
  }
  execs_.push_back(e);
  return e;
}

void HttpEngine::created(Exec* e, EngineReply&& r) {
  if (r.err != 0) return finish(e, r.err);
  if (r.status != 201) {
    e->result.status = r.status;
    e->result.message = r.message();
    return finish(e, 0);
  }
  rapidjson::Document doc;
  doc.Parse(r.body.data(), r.body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("Id") || !doc["Id"].IsString())
    return finish(e, UV_EPROTO);
  e->id = doc["Id"].GetString();
  start(e);
}

void HttpEngine::start(Exec* e) {
  http::ClientRequest req;
  req.method = "POST";
  req.target = std::string(kApi) + "/exec/" + http::percent_encode(e->id) + "/start";
  req.body = R"({"Detach":false,"Tty":false})";
  req.content_type = "application/json";
  req.head_timeout_ms = limits_.timeout_ms;
  req.timeout_ms = 0;  // the exec's own deadline governs
  req.key = e->spec.key;
  req.long_lived = true;  // the exec was admitted at its creation
  http::ClientCallbacks cb;
  cb.on_head = [e](const http::ClientResponse& head) { e->start_status = head.status; };
  cb.on_data = [this, e](std::string_view piece) {
    if (e->start_status != 200) {  // an error document, not a stream
      if (e->result.message.size() < 4096) e->result.message.append(piece);
      return;
    }
    bool ok = e->demux.feed(piece, [this, e](int stream, std::string_view payload) {
      if (e->finished) return;
      if (e->on_output) return e->on_output(stream, payload);
      if (stream == 2 || stream == 3) {
        size_t room = kMaxStderr - std::min(kMaxStderr, e->result.err_out.size());
        e->result.err_out.append(payload.substr(0, room));
        return;
      }
      size_t room = e->spec.max_output - std::min(e->spec.max_output, e->result.out.size());
      e->result.out.append(payload.substr(0, room));
      if (payload.size() > room) {
        e->result.truncated = true;
        finish(e, 0);
      }
    });
    if (!ok && !e->finished) finish(e, UV_EPROTO);
  };
  cb.done = [this, e](int err, http::ClientResponse&&) {
    e->call = nullptr;
    if (!e->finished) stream_ended(e, err);
  };
  e->call = pool_.request(std::move(req), std::move(cb));
  if (e->call == nullptr) finish(e, UV_EBUSY);
}

void HttpEngine::stream_ended(Exec* e, int err) {
  if (err != 0) return finish(e, err);
  if (e->start_status != 200) {
    e->result.status = e->start_status;
    EngineReply r{0, e->start_status, std::move(e->result.message)};
    e->result.message = r.message();
    return finish(e, 0);
  }
  inspect(e);
}

// The stream ends when the process closes its output; its exit code can lag
// behind by the time the engine takes to reap it.
void HttpEngine::inspect(Exec* e) {
  e->call = request("GET", "/exec/" + http::percent_encode(e->id) + "/json", {}, e->spec.key,
                    [this, e](EngineReply&& r) {
                      e->call = nullptr;
                      if (e->finished) return;
                      if (r.err != 0) return finish(e, r.err);
                      rapidjson::Document doc;
                      doc.Parse(r.body.data(), r.body.size());
                      if (r.status != 200 || doc.HasParseError() || !doc.IsObject())
                        return finish(e, UV_EPROTO);
                      bool running = doc.HasMember("Running") && doc["Running"].IsBool() &&
                                     doc["Running"].GetBool();
                      if (running && ++e->polls < kExitPolls) {
                        uv_timer_start(&e->poll, [](uv_timer_t* t) {
                          auto* x = static_cast<Exec*>(t->data);
                          x->engine->inspect(x);
                        }, std::min<uint64_t>(50, uint64_t{1} << (e->polls - 1)), 0);
                        return;
                      }
                      if (doc.HasMember("ExitCode") && doc["ExitCode"].IsInt64())
                        e->result.exit_code = doc["ExitCode"].GetInt64();
                      finish(e, 0);
                    },
                    0, false);
  if (e->call == nullptr) finish(e, UV_EBUSY);
}

void HttpEngine::finish(Exec* e, int err) {
  if (e->finished) return;
  e->finished = true;
  std::erase(execs_, e);
  if (e->call != nullptr) pool_.cancel(std::exchange(e->call, nullptr));
  e->result.err = err;
  --counters.in_flight;
  auto outcome = err == UV_ETIMEDOUT ? EngineCounters::kTimeout
                 : err != 0          ? EngineCounters::kError
                 : e->result.status >= 400 ? EngineCounters::kHttpError
                                           : EngineCounters::kOk;
  ++counters.calls[EngineCounters::kExec][outcome];
  auto done = std::move(e->done);
  done(std::move(e->result));
  auto closed = [](uv_handle_t* h) {
    auto* x = static_cast<Exec*>(h->data);
    if (--x->open_timers == 0) delete x;
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&e->timer), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&e->poll), closed);
}

// --- events ------------------------------------------------------------------

Engine::Watch* HttpEngine::events(std::string filters, std::function<void(std::string_view)> on_event,
                                  std::function<void(int)> on_end) {
  auto* w = new Watch;
  w->engine = this;
  w->on_event = std::move(on_event);
  w->on_end = std::move(on_end);
  http::ClientRequest req;
  req.target = std::string(kApi) + "/events?filters=" + http::percent_encode(filters);
  req.head_timeout_ms = limits_.timeout_ms;
  req.timeout_ms = 0;
  req.long_lived = true;
  http::ClientCallbacks cb;
  cb.on_head = [this, w](const http::ClientResponse& head) {
    if (head.status != 200) end(w, UV_EPROTO);
  };
  cb.on_data = [this, w](std::string_view piece) {
    // One JSON document per line.
    w->busy = true;
    while (!piece.empty() && !w->finished) {
      size_t nl = piece.find('\n');
      w->line.append(piece.substr(0, nl));
      if (nl == std::string_view::npos) {
        if (w->line.size() > kMaxEventLine) end(w, UV_E2BIG);
        break;
      }
      piece.remove_prefix(nl + 1);
      if (!w->line.empty()) w->on_event(w->line);
      w->line.clear();
    }
    w->busy = false;
    if (w->finished) delete w;
  };
  cb.done = [this, w](int err, http::ClientResponse&&) {
    w->call = nullptr;
    end(w, err == 0 ? UV_EOF : err);
  };
  watches_.push_back(w);
  w->call = pool_.request(std::move(req), std::move(cb));
  return w;
}

void HttpEngine::end(Watch* w, int err) {
  if (w->finished) return;
  w->finished = true;
  std::erase(watches_, w);
  if (w->call != nullptr) pool_.cancel(std::exchange(w->call, nullptr));
  auto on_end = std::move(w->on_end);
  if (!w->busy) delete w;
  on_end(err);
}

std::unique_ptr<Engine> make_http_engine(uv_loop_t* loop, std::string socket_path, EngineLimits limits) {
  return std::make_unique<HttpEngine>(loop, std::move(socket_path), limits);
}

}  // namespace crewship::container
