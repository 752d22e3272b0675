// The HTTP core under attack, end to end against the real binary: clients
// that pipeline and never read, bodies sent before authentication, one peer
// taking every connection, trickled bodies, floods on the IPC socket. Memory
// bounds read the daemon's VmRSS; every loop is bounded in time.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <criterion/criterion.h>

#include "tests/support/api.h"

using namespace crewship::test;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr long kMaxRssKiB = 64 * 1024;
const std::string kHealth = get("/api/health");

// A TCP connection to 127.0.0.1:port from the source address from (host order).
int connect_from(uint32_t from, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl(from);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Sends what the socket takes now: how many bytes, or -1 once the peer has
// closed it.
ssize_t send_some(int fd, const std::string& data) {
  ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
  pollfd p{fd, 0, 0};
  if (poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP))) return -1;
  return n > 0 ? n : 0;
}

// GET /api/health from 127.0.0.2 answers 200 within a second.
bool health_from_elsewhere(int port) {
  Client c(connect_from(0x7f000002, port));
  if (!c.ok() || !c.send(kHealth)) return false;
  auto r = c.read(1000);
  return r && r->status == 200;
}

void raise_nofile(rlim_t want) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < want) {
    rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

size_t count_of(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TestSuite(limits, .timeout = 90);

// Four clients pipeline requests for 15 s and read nothing: reading stops at
// the unsent-bytes mark, so memory stays bounded, and others are served.
Test(limits, pipelining_without_reading_is_bounded) {
  TestDaemon d;
  std::string burst;
  while (burst.size() < 64 * 1024) burst += kHealth;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<Client>(connect_tcp(d.port)));
    cr_assert(clients.back()->ok());
    set_nonblocking(clients.back()->fd());
  }
  long peak = 0;
  auto start = Clock::now(), next_probe = start;
  while (Clock::now() - start < std::chrono::seconds(15)) {
    for (auto& c : clients) cr_assert_geq(send_some(c->fd(), burst), 0, "a pipelining client was dropped early");
    long rss = rss_kib(d.pid);
    peak = rss > peak ? rss : peak;
    cr_assert_lt(rss, kMaxRssKiB, "VmRSS %ld KiB after %lld ms", rss,
                 static_cast<long long>(std::chrono::duration_cast<milliseconds>(Clock::now() - start).count()));
    if (Clock::now() >= next_probe) {
      cr_assert(request_tcp(d.port, kHealth, 1000).has_value(), "others not served meanwhile");
      next_probe += milliseconds(1000);
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  cr_log_info("peak VmRSS %ld KiB", peak);
}

// The send timeout runs from the oldest unsent byte: a client that keeps
// asking and never reads is closed after it.
Test(limits, client_that_never_reads_is_closed) {
  TestDaemon d(with_env({"CREWSHIP_SEND_TIMEOUT=1s"}));
  std::string burst;
  while (burst.size() < 64 * 1024) burst += kHealth;
  Client c(connect_tcp(d.port));
  set_nonblocking(c.fd());
  auto start = Clock::now();
  bool closed = false;
  while (!closed && Clock::now() - start < std::chrono::seconds(8)) {
    closed = send_some(c.fd(), burst) < 0;
    std::this_thread::sleep_for(milliseconds(10));
  }
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
  cr_assert(closed, "still open after %lld ms", static_cast<long long>(took));
  cr_assert_lt(took, 5000, "closed only after %lld ms", static_cast<long long>(took));
  cr_assert_eq(request_tcp(d.port, kHealth)->status, 200);
}

// 40 unauthenticated 32 MiB uploads: each is refused at its headers, never
// gets 100 Continue, and its body is not read into memory.
Test(limits, unauthenticated_uploads_refused_before_the_body) {
  TestDaemon d(api_options());
  Session owner = bootstrap(d);
  std::string head = "PUT /api/v1/agents/nobody/files/save?path=x&workspace_id=" + owner.workspace_id +
                     " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(32 << 20) + "\r\n";
  // With Expect: the 401 comes instead of 100, and the connection closes.
  {
    Client c(connect_tcp(d.port));
    cr_assert(c.send(head + "Expect: 100-continue\r\n\r\n"));
    auto r = c.read(3000);
    cr_assert(r.has_value());
    cr_assert_eq(r->status, 401, "got %d", r->status);
    cr_assert_eq(r->header("Connection").value_or(""), "close");
    cr_assert(c.closed_by_peer(4000));
  }
  // Without: forty clients push their bodies at once.
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 40; ++i) {
    clients.push_back(std::make_unique<Client>(connect_tcp(d.port)));
    cr_assert(clients.back()->send(head + "\r\n"));
    set_nonblocking(clients.back()->fd());
  }
  std::string chunk(256 * 1024, 'z');
  std::vector<size_t> sent(clients.size(), 0);
  std::vector<bool> open(clients.size(), true);
  size_t still_open = clients.size();
  long peak = 0;
  auto start = Clock::now();
  while (still_open > 0 && Clock::now() - start < std::chrono::seconds(20)) {
    for (size_t i = 0; i < clients.size(); ++i) {
      if (!open[i]) continue;
      ssize_t n = send_some(clients[i]->fd(), chunk);
      if (n < 0 || (sent[i] += static_cast<size_t>(n)) >= (32u << 20)) {
        open[i] = false;
        --still_open;
      }
    }
    long rss = rss_kib(d.pid);
    peak = rss > peak ? rss : peak;
    cr_assert_lt(rss, kMaxRssKiB, "VmRSS %ld KiB", rss);
  }
  cr_assert_eq(still_open, 0u, "%zu uploads neither refused nor done in 20 s", still_open);
  // Refused, a body is discarded for a short while at most (a lingering
  // close), never taken whole.
  size_t most = 0;
  for (size_t s : sent) most = s > most ? s : most;
  cr_assert_lt(most, 32u << 20, "a 32 MiB body was taken in full");
  cr_log_info("peak VmRSS %ld KiB; most sent before the close: %zu bytes", peak, most);
  cr_assert_eq(request_tcp(d.port, kHealth)->status, 200);
}

// 6,000 connections from 127.0.0.1 take only that address's places: the
// daemon keeps answering 127.0.0.2, and logs the refusals once, not each.
Test(limits, one_address_cannot_take_every_connection, .timeout = 120) {
  raise_nofile(7000);
  TestDaemon d;
  std::vector<int> held;
  held.reserve(6000);
  auto start = Clock::now();
  while (held.size() < 6000 && Clock::now() - start < std::chrono::seconds(60)) {
    int fd = connect_tcp(d.port);
    if (fd >= 0) held.push_back(fd);
  }
  cr_assert_eq(held.size(), 6000u, "only %zu connections opened", held.size());
  for (int i = 0; i < 5; ++i) cr_assert(health_from_elsewhere(d.port), "no 200 from 127.0.0.2 (try %d)", i);
  for (int fd : held) close(fd);
  cr_assert(d.wait_log("over the per-peer cap", 2000));
  cr_assert_eq(count_of(d.log(), "over the per-peer cap"), 1u, "one summary line, not one per connection");
}

// A body trickled a byte at a time, each pause short of the body timeout, is
// still cut at the whole body's deadline.
Test(limits, trickled_body_cut_at_its_deadline) {
  TestDaemon d(with_env({"CREWSHIP_BODY_TIMEOUT=1s"}));
  Client c(connect_tcp(d.port));
  cr_assert(c.send("POST /api/v1/bootstrap HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n"));
  auto start = Clock::now();
  std::optional<Reply> r;
  while (!r && Clock::now() - start < std::chrono::seconds(6)) {
    if (!c.send("{")) break;
    pollfd p{c.fd(), POLLIN, 0};
    if (poll(&p, 1, 300) == 1) r = c.read(1000);
  }
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
  cr_assert(r.has_value(), "no answer in %lld ms", static_cast<long long>(took));
  cr_assert_eq(r->status, 408);
  cr_assert_lt(took, 3000, "cut only after %lld ms", static_cast<long long>(took));
}

// On the socket a refusal comes before any limit that would tell which
// routes exist.
Test(limits, ipc_answers_401_before_413) {
  TestDaemon d;
  for (const char* path : {"/api/v1/internal/presence", "/api/v1/internal/nothing"}) {
    auto r = request_unix(d.socket, std::string("POST ") + path +
                                        " HTTP/1.1\r\nHost: t\r\nContent-Length: 999999999\r\n\r\n");
    cr_assert(r.has_value());
    cr_assert_eq(r->status, 401, "%s: %d", path, r->status);
  }
  auto r = request_unix(d.socket, "POST /api/v1/internal/presence HTTP/1.1\r\nHost: t\r\nX-Internal-Token: " +
                                      d.token + "\r\nContent-Length: 999999999\r\n\r\n");
  cr_assert_eq(r->status, 413);
}

namespace {

// A child process that opens n connections to the socket and holds them
// until the flood goes out of scope; refused is how many of them the daemon
// closed or refused within two seconds.
struct IpcFlood {
  pid_t pid = -1;
  int refused = -1;

  IpcFlood(const std::string& socket, int n) {
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t parent = getpid();
    pid = fork();
    if (pid == 0) {
      // A failed assertion ends the test without destructors: the flood must
      // not outlive it (and hold the test's pipes open).
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(0);
      close(fds[0]);
      std::vector<int> held;
      for (int i = 0; i < n; ++i) {
        int fd = connect_unix(socket);
        if (fd >= 0) held.push_back(fd);
      }
      std::this_thread::sleep_for(milliseconds(2000));
      int closed = n - static_cast<int>(held.size());
      for (int fd : held) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 0) == 1) ++closed;  // EOF, or a 503 before it: refused either way
      }
      (void)!write(fds[1], &closed, sizeof closed);
      pause();
      _exit(0);
    }
    close(fds[1]);
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 20000) == 1) (void)!read(fds[0], &refused, sizeof refused);
    close(fds[0]);
  }
  ~IpcFlood() {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  IpcFlood(const IpcFlood&) = delete;
  IpcFlood& operator=(const IpcFlood&) = delete;
};

void master_request_works(const TestDaemon& d) {
  auto r = request_unix(d.socket, get("/api/v1/internal/health", "X-Internal-Token: " + d.token + "\r\n"), 2000);
  cr_assert(r.has_value(), "the master token is locked out");
  cr_assert_eq(r->status, 200);
}

}  // namespace

// 1,100 unauthenticated connections from one process: at most kept of them
// stay, and a master-token request from another process is served meanwhile.
void flood_leaves_master_served(TestDaemon& d, int kept) {
  IpcFlood flood(d.socket, 1100);
  master_request_works(d);
  cr_assert_geq(flood.refused, 1100 - kept, "only %d of 1100 refused", flood.refused);
}

// Beyond its per-peer cap (256) one process's connections are closed. The
// pool would keep 512 (half the cap), so 844 refused is the per-peer cap.
Test(limits, ipc_flood_from_one_process_is_capped) {
  raise_nofile(4000);
  TestDaemon d(with_env({"CREWSHIP_IPC_MAX_UNAUTHENTICATED=100000"}));
  flood_leaves_master_served(d, 256);
}

// Without a per-peer cap to stop them, unauthenticated connections still
// only take their own pool (128): the oldest make room, and the master gets in.
Test(limits, ipc_unauthenticated_pool_keeps_room_for_the_master) {
  raise_nofile(4000);
  TestDaemon d(with_env({"CREWSHIP_MAX_CONNECTIONS_PER_PEER=100000"}));
  flood_leaves_master_served(d, 128);
  // Authenticated, a connection leaves the pool: more floods do not evict it.
  Client master(connect_unix(d.socket));
  std::string health = get("/api/v1/internal/health", "X-Internal-Token: " + d.token + "\r\n");
  cr_assert(master.send(health));
  cr_assert_eq(master.read()->status, 200);
  IpcFlood more(d.socket, 300);
  cr_assert(master.send(health));
  auto again = master.read(2000);
  cr_assert(again.has_value(), "the authenticated connection was closed for newcomers");
  cr_assert_eq(again->status, 200);
}

// Out of descriptors, accept fails: the daemon says so once a minute, not
// once a connection, and the listener keeps serving when some are free.
Test(limits, fd_exhaustion_logged_once_and_survived) {
  TestDaemon d;
  rlimit low{64, 64};
  cr_assert_eq(prlimit(d.pid, RLIMIT_NOFILE, &low, nullptr), 0, "prlimit: %s", strerror(errno));
  for (int round = 0; round < 2; ++round) {
    std::vector<std::unique_ptr<Client>> held;
    for (int i = 0; i < 120; ++i) held.push_back(std::make_unique<Client>(connect_tcp(d.port)));
    cr_assert(d.wait_log("accept failed: too many open files", 3000), "round %d: not logged", round);
    held.clear();
    std::this_thread::sleep_for(milliseconds(300));
    auto r = request_tcp(d.port, kHealth, 2000);
    cr_assert(r.has_value(), "round %d: the listener stopped serving", round);
    cr_assert_eq(r->status, 200);
  }
  cr_assert_eq(count_of(d.log(), "accept failed"), 1u, "logged more than once a minute");
}
