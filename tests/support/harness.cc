#include "tests/support/harness.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <llhttp.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace crewship::test {
namespace {

using Clock = std::chrono::steady_clock;

int ms_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Reads what is available within timeout; 0 on EOF, -1 on timeout/error.
ssize_t recv_some(int fd, std::string* buf, int timeout_ms) {
  struct pollfd p = {fd, POLLIN, 0};
  int r = poll(&p, 1, timeout_ms);
  if (r <= 0) return -1;
  char tmp[16384];
  ssize_t n = recv(fd, tmp, sizeof tmp, 0);
  if (n > 0) buf->append(tmp, static_cast<size_t>(n));
  return n < 0 ? (errno == ECONNRESET ? 0 : -1) : n;
}

struct ParseState {
  Reply reply;
  std::string field;
  bool in_value = false;
  bool complete = false;
  bool head = false;
};

int on_field(llhttp_t* p, const char* at, size_t len) {
  auto* s = static_cast<ParseState*>(p->data);
  if (s->in_value || s->reply.headers.empty()) s->reply.headers.emplace_back(), s->in_value = false;
  s->reply.headers.back().first.append(at, len);
  return 0;
}
int on_value(llhttp_t* p, const char* at, size_t len) {
  auto* s = static_cast<ParseState*>(p->data);
  s->in_value = true;
  s->reply.headers.back().second.append(at, len);
  return 0;
}
int on_headers_complete(llhttp_t* p) {
  auto* s = static_cast<ParseState*>(p->data);
  return s->head ? 1 : 0;  // a response to HEAD has no body
}
int on_body(llhttp_t* p, const char* at, size_t len) {
  static_cast<ParseState*>(p->data)->reply.body.append(at, len);
  return 0;
}
int on_complete(llhttp_t* p) {
  auto* s = static_cast<ParseState*>(p->data);
  s->reply.status = p->status_code;
  s->complete = true;
  return HPE_PAUSED;
}

}  // namespace

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// CREWSHIP_TEST_DAEMON runs the suite against another build of the daemon
// (an older one, to see a test fail where a defect is not fixed yet).
std::string daemon_binary() {
  const char* other = std::getenv("CREWSHIP_TEST_DAEMON");
  return other != nullptr && *other != '\0' ? other : CREWSHIPD_BIN;
}

std::string make_temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr && *base ? base : "/tmp") + "/crewship-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return {};
  return tmpl;
}

void remove_tree(const std::string& dir) {
  if (dir.empty()) return;
  nftw(dir.c_str(), [](const char* path, const struct stat*, int, struct FTW*) { return remove(path); },
       16, FTW_DEPTH | FTW_PHYS);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TestDaemon::TestDaemon(DaemonOptions options) {
  if (options.data_dir.empty()) {
    dir = make_temp_dir();
    own_dir_ = true;
  } else {
    dir = options.data_dir;
  }
  socket = dir + "/crewshipd.sock";
  log_path = dir + ".log";
  std::map<std::string, std::string> env = {
      {"PATH", "/usr/local/bin:/usr/bin:/bin"},
      {"CREWSHIP_HOST", "127.0.0.1"},
      {"CREWSHIP_PORT", "0"},
      {"CREWSHIP_DATA_DIR", dir},
      {"CREWSHIP_LOG_LEVEL", "debug"},
      // No engine unless a test names one: the probe fails fast and alike everywhere.
      {"DOCKER_HOST", "unix://" + dir + "/no-engine.sock"},
  };
  for (const std::string& kv : options.env) {
    size_t eq = kv.find('=');
    env[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
  }
  if (auto it = env.find("CREWSHIP_SOCKET_PATH"); it != env.end()) socket = it->second;
  std::vector<std::string> envs, args = {daemon_binary()};
  for (auto& [k, v] : env) envs.push_back(k + "=" + v);
  args.insert(args.end(), options.args.begin(), options.args.end());

  // Truncate before forking: a reused data dir must not show the previous
  // run's "ready" line to wait_log().
  close(open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
  pid_t parent = getpid();
  pid = fork();
  if (pid == 0) {
    // The daemon dies with the test process, even when an assertion aborts it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    dup2(fd, 2);
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(devnull, 1);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    for (auto& e : envs) envp.push_back(e.data());
    argv.push_back(nullptr);
    envp.push_back(nullptr);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  if (!options.wait_ready) return;
  if (!wait_log(" ready", 10000)) return;
  std::string text = log();
  size_t at = text.find("api listening on ");
  if (at != std::string::npos) {
    size_t colon = text.find(':', at + 17);
    port = std::atoi(text.c_str() + colon + 1);
  }
  token = read_file(dir + "/internal-token");
  while (!token.empty() && token.back() == '\n') token.pop_back();
}

TestDaemon::~TestDaemon() {
  if (pid > 0 && exit_code_ < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  if (own_dir_) {
    remove_tree(dir);
    unlink(log_path.c_str());
  }
}

std::string TestDaemon::log() const { return read_file(log_path); }

bool TestDaemon::wait_log(std::string_view needle, int timeout_ms) const {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  do {
    if (log().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (Clock::now() < deadline);
  return false;
}

int TestDaemon::wait_exit(int timeout_ms) {
  if (exit_code_ >= 0) return exit_code_;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  do {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (Clock::now() < deadline);
  return -1;
}

int TestDaemon::stop(int sig, int timeout_ms) {
  if (exit_code_ >= 0) return exit_code_;
  kill(pid, sig);
  return wait_exit(timeout_ms);
}

int connect_tcp(int port, int rcvbuf) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int connect_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = {};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::optional<std::string> Reply::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() != name.size()) continue;
    if (strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return std::nullopt;
}

Client::Client(int fd) : fd_(fd) {}
Client::~Client() {
  if (fd_ >= 0) close(fd_);
}

std::optional<Reply> Client::read(int timeout_ms, bool head) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  settings.on_header_field = on_field;
  settings.on_header_value = on_value;
  settings.on_headers_complete = on_headers_complete;
  settings.on_body = on_body;
  settings.on_message_complete = on_complete;
  for (;;) {
    if (!buf_.empty()) {
      ParseState st;
      st.head = head;
      llhttp_t parser;
      llhttp_init(&parser, HTTP_RESPONSE, &settings);
      parser.data = &st;
      llhttp_errno_t e = llhttp_execute(&parser, buf_.data(), buf_.size());
      if (st.complete) {
        buf_.erase(0, static_cast<size_t>(llhttp_get_error_pos(&parser) - buf_.data()));
        return st.reply;
      }
      if (e != HPE_OK) return std::nullopt;
    }
    if (recv_some(fd_, &buf_, ms_left(deadline)) <= 0) return std::nullopt;
  }
}

bool Client::closed_by_peer(int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string sink;
  for (;;) {
    struct pollfd p = {fd_, POLLIN, 0};
    if (poll(&p, 1, ms_left(deadline)) <= 0) return false;
    char tmp[4096];
    ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
    if (n < 0) return false;
  }
}

namespace {

// With CREWSHIP_TEST_EXCHANGES set, every request_tcp/request_unix exchange
// is appended to that file as one JSON line {listener, method, target,
// status, type, body}, for the check of the answers against the OpenAPI
// documents (tests/scripts/openapi_bodies_test.py). The body is kept only
// when it is JSON.
void record(std::string_view listener, const std::string& raw, const std::optional<Reply>& reply) {
  static const char* path = std::getenv("CREWSHIP_TEST_EXCHANGES");
  if (path == nullptr || *path == '\0' || !reply) return;
  size_t sp1 = raw.find(' '), sp2 = raw.find(' ', sp1 + 1), eol = raw.find("\r\n");
  if (sp1 == std::string::npos || sp2 == std::string::npos || sp2 > eol) return;
  std::string type = reply->header("Content-Type").value_or("");
  bool json = type.find("json") != std::string::npos;
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("listener");
  w.String(listener.data(), static_cast<rapidjson::SizeType>(listener.size()));
  w.Key("method");
  w.String(raw.data(), static_cast<rapidjson::SizeType>(sp1));
  w.Key("target");
  w.String(raw.data() + sp1 + 1, static_cast<rapidjson::SizeType>(sp2 - sp1 - 1));
  w.Key("status");
  w.Int(reply->status);
  w.Key("type");
  w.String(type.c_str(), static_cast<rapidjson::SizeType>(type.size()));
  w.Key("body");
  if (json && reply->body.size() <= (4u << 20)) {
    w.String(reply->body.c_str(), static_cast<rapidjson::SizeType>(reply->body.size()));
  } else {
    w.Null();
  }
  w.EndObject();
  std::string line(buf.GetString(), buf.GetSize());
  line += '\n';
  // One write with O_APPEND: the lines of parallel test processes never mix.
  int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  [[maybe_unused]] ssize_t n = ::write(fd, line.data(), line.size());
  ::close(fd);
}

}  // namespace

std::optional<Reply> request_tcp(int port, const std::string& raw, int timeout_ms) {
  Client c(connect_tcp(port));
  if (!c.ok() || !c.send(raw)) return std::nullopt;
  auto reply = c.read(timeout_ms, raw.rfind("HEAD ", 0) == 0);
  record("api", raw, reply);
  return reply;
}

std::optional<Reply> request_unix(const std::string& path, const std::string& raw, int timeout_ms) {
  Client c(connect_unix(path));
  if (!c.ok() || !c.send(raw)) return std::nullopt;
  auto reply = c.read(timeout_ms, raw.rfind("HEAD ", 0) == 0);
  record("ipc", raw, reply);
  return reply;
}

std::string get(std::string_view path, std::string_view extra_headers) {
  std::string r = "GET ";
  r += path;
  r += " HTTP/1.1\r\nHost: test\r\n";
  r += extra_headers;
  r += "\r\n";
  return r;
}

int run(const std::vector<std::string>& argv, const std::vector<std::string>& env, std::string* out) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], 1);
    dup2(pipefd[1], 2);
    close(pipefd[0]);
    std::vector<char*> a, e;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    for (const auto& s : env) e.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    e.push_back(nullptr);
    execve(a[0], a.data(), e.data());
    _exit(127);
  }
  close(pipefd[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (out != nullptr) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace crewship::test
