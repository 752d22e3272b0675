#include "container/engine_probe.h"

#include <cstdlib>
#include <memory>

#include <unistd.h>

#include <rapidjson/document.h>

#include "daemon/http_client.h"

namespace crewship::container {

class EngineProbe {
 public:
  uv_loop_t* loop;
  std::vector<std::string> candidates;
  uint64_t timeout_ms;
  std::function<void(EngineInfo)> done;
  size_t next = 0;
  std::string errors;
  http::ClientCall* call = nullptr;  // the request under way
  bool cancelled = false;
};

namespace {

using Probe = EngineProbe;

void try_next(std::shared_ptr<Probe> p);

// Starts a request whose callback is dropped once the probe is cancelled.
void ask(const std::shared_ptr<Probe>& p, const std::string& socket, const char* target,
         size_t max_body, std::function<void(int, http::ClientResponse&&)> then) {
  http::ClientRequest req;
  req.target = target;
  req.head_timeout_ms = req.timeout_ms = p->timeout_ms;
  req.max_body = max_body;
  http::ClientCallbacks cb;
  cb.done = [p, then = std::move(then)](int err, http::ClientResponse&& resp) {
    p->call = nullptr;
    if (!p->cancelled) then(err, std::move(resp));
  };
  p->call = http::request_unix(p->loop, socket, std::move(req), std::move(cb));
}

void on_version(std::shared_ptr<Probe> p, const std::string& socket, int err,
                http::ClientResponse&& resp) {
  EngineInfo info;
  info.socket = socket;
  info.reachable = true;
  info.name = "docker";
  if (err != 0 || resp.status != 200 || !parse_engine_version(resp.body, &info)) {
    // The engine answers pings; a /version we cannot read is not fatal.
    info.error = "unreadable /version reply";
  }
  p->done(std::move(info));
}

void try_next(std::shared_ptr<Probe> p) {
  if (p->next >= p->candidates.size()) {
    EngineInfo info;
    info.error = p->errors.empty() ? "no engine socket found" : p->errors;
    p->done(std::move(info));
    return;
  }
  std::string socket = p->candidates[p->next++];
  ask(p, socket, "/_ping", 1024, [p, socket](int err, http::ClientResponse&& resp) {
    if (err != 0 || resp.status != 200) {
      if (!p->errors.empty()) p->errors += "; ";
      p->errors += socket + ": " + (err != 0 ? uv_strerror(err) : "HTTP " + std::to_string(resp.status));
      return try_next(p);
    }
    ask(p, socket, "/version", 64 * 1024, [p, socket](int err2, http::ClientResponse&& r2) {
      on_version(p, socket, err2, std::move(r2));
    });
  });
}

}  // namespace

std::vector<std::string> engine_candidates(const std::string& docker_host, std::string* error) {
  if (!docker_host.empty()) {
    constexpr std::string_view kUnix = "unix://";
    if (docker_host.compare(0, kUnix.size(), kUnix) != 0 || docker_host.size() == kUnix.size()) {
      *error = "DOCKER_HOST must be unix:///path/to/socket";
      return {};
    }
    return {docker_host.substr(kUnix.size())};
  }
  std::vector<std::string> out = {"/var/run/docker.sock", "/run/podman/podman.sock"};
  std::string runtime_dir;
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg != '\0') {
    runtime_dir = xdg;
  } else {
    runtime_dir = "/run/user/" + std::to_string(getuid());
  }
  out.push_back(runtime_dir + "/docker.sock");
  out.push_back(runtime_dir + "/podman/podman.sock");
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    out.push_back(std::string(home) + "/.docker/run/docker.sock");
  return out;
}

std::shared_ptr<EngineProbe> probe_engine(uv_loop_t* loop, std::vector<std::string> candidates,
                                          uint64_t timeout_ms,
                                          std::function<void(EngineInfo)> done) {
  auto p = std::make_shared<Probe>();
  p->loop = loop;
  p->candidates = std::move(candidates);
  p->timeout_ms = timeout_ms;
  p->done = std::move(done);
  try_next(p);
  return p;
}

void cancel(EngineProbe& probe) {
  probe.cancelled = true;
  if (probe.call != nullptr) http::cancel(probe.call);
}

bool parse_engine_version(std::string_view body, EngineInfo* info) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(body.data(),
                                                                                     body.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  auto str = [&](const char* key) -> std::string {
    auto it = doc.FindMember(key);
    return it != doc.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
  };
  info->version = str("Version");
  info->api_version = str("ApiVersion");
  info->name = "docker";
  if (auto c = doc.FindMember("Components"); c != doc.MemberEnd() && c->value.IsArray()) {
    for (const auto& comp : c->value.GetArray()) {
      if (!comp.IsObject()) continue;
      auto n = comp.FindMember("Name");
      if (n != comp.MemberEnd() && n->value.IsString() &&
          std::string_view(n->value.GetString()).find("Podman") != std::string_view::npos)
        info->name = "podman";
    }
  }
  return !info->version.empty();
}

}  // namespace crewship::container
