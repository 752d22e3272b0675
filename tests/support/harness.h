// End-to-end test support: start the real crewshipd binary on a free port and
// a temporary socket, and talk to it as a client would, with blocking sockets
// and timeouts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace crewship::test {

std::string daemon_binary();  // path of the crewshipd under test
std::string make_temp_dir();  // under $TMPDIR, removed by remove_tree
void remove_tree(const std::string& dir);
std::string read_file(const std::string& path);
// The VmRSS of process pid in KiB (/proc/<pid>/status), or -1.
long rss_kib(pid_t pid);
// Runs a program with exactly env, returns its exit status (128+signal when
// killed) and, in *out, what it printed on stdout and stderr.
int run(const std::vector<std::string>& argv, const std::vector<std::string>& env,
        std::string* out = nullptr);

struct DaemonOptions {
  std::vector<std::string> env;   // "NAME=value", added to the minimal env
  std::vector<std::string> args;  // after the binary
  bool wait_ready = true;         // wait for the "ready" log line
  std::string data_dir;           // default: a fresh temp dir
};

inline DaemonOptions with_env(std::vector<std::string> env) {
  DaemonOptions o;
  o.env = std::move(env);
  return o;
}

class TestDaemon {
 public:
  explicit TestDaemon(DaemonOptions options = {});
  ~TestDaemon();  // SIGKILL if still running; removes its temp dir
  TestDaemon(const TestDaemon&) = delete;
  TestDaemon& operator=(const TestDaemon&) = delete;

  bool started() const { return pid > 0; }
  std::string log() const;
  // Waits until the log contains needle.
  bool wait_log(std::string_view needle, int timeout_ms = 10000) const;
  // Sends sig and waits for the exit; returns the exit code, 128+signal when
  // killed, or -1 on timeout.
  int stop(int sig = 15, int timeout_ms = 15000);
  // Waits for the process to exit by itself; same return as stop().
  int wait_exit(int timeout_ms);

  pid_t pid = -1;
  int port = 0;
  std::string dir;     // data dir
  std::string socket;  // IPC socket path
  std::string token;   // master internal token (from the data dir)
  std::string log_path;

 private:
  bool own_dir_ = false;
  int exit_code_ = -1;
};

// 127.0.0.1; -1 on failure. rcvbuf > 0: that receive buffer (bytes), so a
// client that stops reading fills up fast.
int connect_tcp(int port, int rcvbuf = 0);
int connect_unix(const std::string& path);
bool send_all(int fd, std::string_view data);

struct Reply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::optional<std::string> header(std::string_view name) const;
};

// A client connection that reads responses one at a time (pipelining ok).
class Client {
 public:
  explicit Client(int fd);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  bool send(std::string_view raw) { return send_all(fd_, raw); }
  // The next response, or nullopt on timeout, EOF or a parse error.
  std::optional<Reply> read(int timeout_ms = 5000, bool head = false);
  // True when the server closed the connection (EOF or reset) within timeout.
  bool closed_by_peer(int timeout_ms = 5000);

 private:
  int fd_;
  std::string buf_;
};

// One request on a fresh connection.
std::optional<Reply> request_tcp(int port, const std::string& raw, int timeout_ms = 5000);
std::optional<Reply> request_unix(const std::string& path, const std::string& raw,
                                  int timeout_ms = 5000);
std::string get(std::string_view path, std::string_view extra_headers = "");

}  // namespace crewship::test
