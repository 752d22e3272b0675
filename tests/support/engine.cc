#include "tests/support/engine.h"

#include <cstdlib>
#include <fstream>

#include <criterion/criterion.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include "daemon/json.h"

namespace crewship::test {

Engines engines() {
  const char* file = std::getenv("CREWSHIP_TEST_ENGINES");
  cr_assert(file != nullptr && *file != '\0', "CREWSHIP_TEST_ENGINES is not set: run the tests through ctest");
  std::ifstream in(file);
  cr_assert(in.good(), "no engines file at %s: the engine set-up failed", file);
  Engines e;
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "DOCKER_SOCKET") e.docker = v;
    if (k == "PODMAN_SOCKET") e.podman = v;
    if (k == "SANDBOX_IMAGE") e.image = v;
  }
  return e;
}

namespace {

std::string raw_request(const std::string& method, const std::string& path, const std::string& body) {
  std::string raw = method + " /v1.41" + path + " HTTP/1.1\r\nHost: engine\r\nConnection: close\r\n";
  if (!body.empty() || method == "POST")
    raw += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  return raw + "\r\n" + body;
}

}  // namespace

Reply engine_call(const std::string& socket, const std::string& method, const std::string& path,
                  const std::string& body) {
  auto r = request_unix(socket, raw_request(method, path, body), 30000);
  cr_assert(r.has_value(), "engine: no answer to %s %s", method.c_str(), path.c_str());
  return *r;
}

std::string engine_exec(const std::string& socket, const std::string& container,
                        const std::vector<std::string>& cmd, const std::string& user,
                        const std::string& workdir) {
  json::Out b;
  b.begin_object();
  if (!workdir.empty()) b.member("WorkingDir", workdir);
  b.member("AttachStdout", true);
  b.member("AttachStderr", true);
  b.member("User", user);
  b.key("Cmd");
  b.begin_array();
  for (const auto& a : cmd) b.str(a);
  b.end_array();
  b.end_object();
  Reply created = engine_call(socket, "POST", "/containers/" + container + "/exec", b.take());
  cr_assert_eq(created.status, 201, "exec create: %d %s", created.status, created.body.c_str());
  rapidjson::Document doc;
  doc.Parse(created.body.c_str());
  std::string id = doc["Id"].GetString();

  // The start answer is the raw multiplexed stream until the engine closes.
  int fd = connect_unix(socket);
  cr_assert(fd >= 0);
  std::string body = R"({"Detach":false,"Tty":false})";
  cr_assert(send_all(fd, raw_request("POST", "/exec/" + id + "/start", body)));
  std::string all;
  char buf[65536];
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    cr_assert(poll(&p, 1, 30000) == 1, "exec output did not end in 30 s");
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    all.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  size_t head_end = all.find("\r\n\r\n");
  cr_assert(head_end != std::string::npos);
  std::string_view frames = std::string_view(all).substr(head_end + 4);
  std::string out;
  while (frames.size() >= 8) {
    size_t len = (static_cast<unsigned char>(frames[4]) << 24) | (static_cast<unsigned char>(frames[5]) << 16) |
                 (static_cast<unsigned char>(frames[6]) << 8) | static_cast<unsigned char>(frames[7]);
    out.append(frames.substr(8, len));
    frames.remove_prefix(std::min(frames.size(), 8 + len));
  }
  // As crewshipd does: the exit code is there once the engine reaped the process.
  for (int wait_ms = 1;; wait_ms = std::min(wait_ms * 2, 50)) {
    Reply inspect = engine_call(socket, "GET", "/exec/" + id + "/json");
    cr_assert_eq(inspect.status, 200);
    if (inspect.body.find("\"Running\":true") == std::string::npos) break;
    usleep(static_cast<useconds_t>(wait_ms) * 1000);
  }
  return out;
}

}  // namespace crewship::test
