// Benchmarks of the real-time push (run by hand; figures in the README).
// crewshipd is started here (pinned to core 0, this program to core 1) with
// one workspace of AGENTS agents, then one of:
//   realtime fanout N UPSERTS      N WebSocket subscribers of the workspace's
//                                  presence; one IPC upsert at a time; the
//                                  delay from the upsert's acknowledgement
//                                  (and from its request) to its receipt at
//                                  every subscriber, p50/p99
//   realtime floor N ROUNDS        the same client and delays with no daemon:
//                                  a process on core 0 sends each of N
//                                  loopback sockets a frame per round, one
//                                  send() each, what this machine's kernel
//                                  costs a fan-out at the least
//   realtime sustained N RATE SECS RATE upserts/s paced open-loop over one
//                                  IPC connection per agent, as the agents'
//                                  hooks would (upsert n is sent when it
//                                  is due, t0 + n/RATE, whatever is still
//                                  unanswered, pipelined) while N subscribers
//                                  take them: the rate acknowledged, the
//                                  acknowledgement's delay from the due time,
//                                  and the subscribers dropped
//   realtime idle N                VmRSS per idle WebSocket connection
//   realtime compare N SECS        N watchers for SECS with 10 upserts/s:
//                                  polling the roster every 2 s, then pushed
//                                  over /ws: bytes received and daemon CPU,
//                                  per minute
// Clients are wslay in client mode on non-blocking sockets under epoll.
#include <sched.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <sodium.h>
#include <wslay/wslay.h>

#include "tests/support/api.h"

using namespace crewship::test;

namespace {

constexpr int kAgents = 50;

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void pin(pid_t pid, int core) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  sched_setaffinity(pid, sizeof set, &set);
}

// Up to the hard limit: a connection is a descriptor on each end.
void raise_fd_limit() {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
}

long rss_kb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

double cpu_s(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::istringstream in(s.substr(s.rfind(')') + 2));
  std::string field;
  long ut = 0, st = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) ut = std::atol(field.c_str());
    if (i == 15) st = std::atol(field.c_str());
  }
  return static_cast<double>(ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double pct(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

// --- a non-blocking HTTP/1.1 keep-alive connection (IPC writes, roster polls)

struct Http {
  int fd = -1;
  std::string in;
  bool busy = false;
  double sent_at = 0;
  size_t bytes = 0;
  std::deque<int64_t> seqs;  // IPC upserts sent and not answered yet, oldest first
  // A whole response in `in`: removes it, true.
  bool take_response() {
    size_t end = in.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    size_t len = 0;
    size_t cl = in.find("Content-Length: ");
    if (cl != std::string::npos && cl < end) len = std::strtoul(in.c_str() + cl + 16, nullptr, 10);
    if (in.size() < end + 4 + len) return false;
    bytes += end + 4 + len;
    in.erase(0, end + 4 + len);
    busy = false;
    return true;
  }
};

// --- WebSocket subscribers --------------------------------------------------

struct Sub {
  int fd = -1;
  wslay_event_context* ctx = nullptr;
  std::string in;  // handshake bytes, then frames not yet fed to wslay
  bool open = false, dead = false;
  size_t bytes = 0;
  int64_t got = 0;
};

double g_sent[1 << 20], g_ack[1 << 20];  // by upsert sequence
std::vector<double> g_from_ack, g_from_send;
int64_t g_received = 0;
int64_t g_sample_every = 1;  // receipts kept for the percentiles: every k-th upsert

ssize_t sub_recv(wslay_event_context* ctx, uint8_t* buf, size_t len, int, void* user) {
  auto* s = static_cast<Sub*>(user);
  if (!s->in.empty()) {
    size_t n = std::min(len, s->in.size());
    std::memcpy(buf, s->in.data(), n);
    s->in.erase(0, n);
    return static_cast<ssize_t>(n);
  }
  ssize_t n = recv(s->fd, buf, len, MSG_DONTWAIT);
  if (n > 0) {
    s->bytes += static_cast<size_t>(n);
    return n;
  }
  wslay_event_set_error(ctx, n < 0 && errno == EAGAIN ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
  return -1;
}
ssize_t sub_send(wslay_event_context* ctx, const uint8_t* data, size_t len, int, void* user) {
  ssize_t n = send(static_cast<Sub*>(user)->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n < 0) wslay_event_set_error(ctx, errno == EAGAIN ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
  return n;
}
int sub_mask(wslay_event_context*, uint8_t* buf, size_t len, void*) {
  randombytes_buf(buf, len);
  return 0;
}
void sub_msg(wslay_event_context*, const wslay_event_on_msg_recv_arg* arg, void* user) {
  auto* s = static_cast<Sub*>(user);
  if (arg->opcode != WSLAY_TEXT_FRAME) return;
  std::string_view m(reinterpret_cast<const char*>(arg->msg), arg->msg_length);
  size_t at = m.find("\"seq\":");
  if (m.rfind("{\"type\":\"presence\"", 0) != 0 || at == std::string_view::npos) return;
  long seq = std::atol(m.data() + at + 6);
  double t = now_ms();
  ++s->got;
  ++g_received;
  if (seq % g_sample_every != 0) return;
  if (g_ack[seq] > 0) g_from_ack.push_back(t - g_ack[seq]);
  else g_from_ack.push_back(0);  // came before the acknowledgement was read
  g_from_send.push_back(t - g_sent[seq]);
}

// The session a bootstrap answer set (its cookie) and the workspace it made.
Session bootstrap_session(const Reply& r) {
  Session s;
  auto cookie = r.header("Set-Cookie").value_or("");
  size_t eq = cookie.find('='), semi = cookie.find(';');
  s.token = cookie.substr(eq + 1, semi - eq - 1);
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  s.workspace_id = doc["workspace"]["id"].GetString();
  s.user_id = doc["user"]["id"].GetString();
  return s;
}

struct Bench {
  std::unique_ptr<TestDaemon> d;
  Session owner;
  std::vector<std::string> agents;
  std::string token;
  int ep = epoll_create1(0);
  std::vector<std::unique_ptr<Sub>> subs;
  std::vector<Http> ipc;
  int64_t seq = 0;

  void start() {
    raise_fd_limit();
    d = std::make_unique<TestDaemon>(api_options({"CREWSHIP_WS_MAX_CONNECTIONS=100000",
                                                  "CREWSHIP_MAX_CONNECTIONS=100000",
                                                  "CREWSHIP_MAX_CONNECTIONS_PER_PEER=100000"}));
    if (!d->started()) {
      std::fprintf(stderr, "crewshipd did not start: %s\n", d->log().c_str());
      std::exit(1);
    }
    pin(d->pid, 0);
    pin(0, 1);
    Reply r = call(*d, "POST", "/api/v1/bootstrap", "",
                   R"({"email":"b@example.com","password":"correct horse battery","name":"B","workspace_name":"B"})");
    if (r.status != 201) {
      std::fprintf(stderr, "bootstrap: %d %s\n", r.status, r.body.c_str());
      std::exit(1);
    }
    owner = bootstrap_session(r);
    Reply c = call(*d, "POST", "/api/v1/crews?workspace_id=" + owner.workspace_id, owner.token,
                   R"({"name":"Crew","slug":"crew"})");
    std::string crew = json_of(c)["id"].GetString();
    for (int i = 0; i < kAgents; ++i) {
      Reply a = call(*d, "POST", "/api/v1/agents?workspace_id=" + owner.workspace_id, owner.token,
                     R"({"name":"A)" + std::to_string(i) + R"(","slug":"a)" + std::to_string(i) +
                         R"(","crew_id":")" + crew + "\"}");
      agents.push_back(json_of(a)["id"].GetString());
    }
    token = json_of(call(*d, "GET", "/api/v1/ws-token", owner.token))["token"].GetString();
  }

  void add(int fd, void* p) {
    epoll_event e{EPOLLIN, {.ptr = p}};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
  }

  // N subscribers, upgraded (and subscribed to presence when subscribe).
  void connect_subs(int n, bool subscribe) {
    static const wslay_event_callbacks cb = {sub_recv, sub_send, sub_mask, nullptr, nullptr, nullptr, sub_msg};
    std::string hs = "GET /ws?token=" + token +
                     " HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    std::string sub = R"({"type":"subscribe","channel":"presence","workspace_id":")" + owner.workspace_id + "\"}";
    int open = 0;
    for (int i = 0; i < n; ++i) {
      auto s = std::make_unique<Sub>();
      s->fd = connect_tcp(d->port);
      if (s->fd < 0 || !send_all(s->fd, hs)) {
        std::fprintf(stderr, "connection %d failed\n", i);
        std::exit(1);
      }
      wslay_event_context_client_init(&s->ctx, &cb, s.get());
      add(s->fd, s.get());
      subs.push_back(std::move(s));
      if (i % 500 == 499) pump(1);
    }
    double deadline = now_ms() + 60000;
    while (open < n && now_ms() < deadline) {
      pump(10);
      open = 0;
      for (auto& s : subs) {
        if (!s->open && s->in.find("\r\n\r\n") != std::string::npos) {
          s->in.erase(0, s->in.find("\r\n\r\n") + 4);
          s->open = true;
          if (subscribe) {
            wslay_event_msg m{WSLAY_TEXT_FRAME, reinterpret_cast<const uint8_t*>(sub.data()), sub.size()};
            wslay_event_queue_msg(s->ctx, &m);
            wslay_event_send(s->ctx);
          }
        }
        open += s->open;
      }
    }
    if (open < n) std::fprintf(stderr, "only %d of %d upgraded\n", open, n);
    pump(200);
    std::fprintf(stderr, "%d subscribers connected\n", open);
  }

  void open_ipc(int n) {
    for (int i = 0; i < n; ++i) {
      Http h;
      h.fd = connect_unix(d->socket);
      ipc.push_back(std::move(h));
    }
    for (auto& h : ipc) add(h.fd, &h);
  }

  void upsert(Http& h) {
    ++seq;
    std::string body = R"({"agent_id":")" + agents[static_cast<size_t>(seq) % agents.size()] +
                       R"(","status":")" + (seq % 2 ? "busy" : "online") + R"(","details":{"seq":)" +
                       std::to_string(seq) + "}}";
    std::string raw = "POST /api/v1/internal/presence HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
                      "X-Internal-Token: " + d->token + "\r\nX-Seq: " + std::to_string(seq) +
                      "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    if (g_sent[seq] == 0) g_sent[seq] = now_ms();  // sustained() sets the due time
    h.busy = true;
    h.seqs.push_back(seq);
    send_all(h.fd, raw);
  }

  int64_t acked = 0;
  // Runs epoll for up to ms; feeds subscribers and IPC replies.
  void pump(int ms) {
    epoll_event ev[512];
    int n = epoll_wait(ep, ev, 512, ms);
    for (int i = 0; i < n; ++i) {
      void* p = ev[i].data.ptr;
      bool is_ipc = false;
      for (auto& h : ipc) is_ipc |= (&h == p);
      if (is_ipc) {
        auto* h = static_cast<Http*>(p);
        char buf[8192];
        ssize_t r;
        while ((r = recv(h->fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) h->in.append(buf, static_cast<size_t>(r));
        while (h->take_response()) {
          int64_t answered = h->seqs.front();
          h->seqs.pop_front();
          h->busy = !h->seqs.empty();
          g_ack[answered] = now_ms();
          ++acked;
        }
        continue;
      }
      auto* s = static_cast<Sub*>(p);
      if (!s->open) {
        char buf[4096];
        ssize_t r = recv(s->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r > 0) s->in.append(buf, static_cast<size_t>(r));
        if (r == 0) s->dead = true;
        continue;
      }
      if (wslay_event_recv(s->ctx) != 0 || !wslay_event_want_read(s->ctx)) {
        if (!s->dead) epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, nullptr);
        s->dead = true;
      }
      if (wslay_event_want_write(s->ctx)) wslay_event_send(s->ctx);
    }
  }

  int dead() const {
    int n = 0;
    for (auto& s : subs) n += s->dead;
    return n;
  }
};

int fanout(int n, int upserts) {
  Bench b;
  b.start();
  b.connect_subs(n, true);
  b.open_ipc(1);
  for (int k = 0; k < upserts; ++k) {
    int64_t want = g_received + n;
    b.upsert(b.ipc[0]);
    double deadline = now_ms() + 10000;
    while ((g_received < want || b.ipc[0].busy) && now_ms() < deadline) b.pump(5);
    if (g_received < want) std::fprintf(stderr, "upsert %d: %lld missing\n", k, static_cast<long long>(want - g_received));
  }
  std::printf("fanout: %d subscribers, %d upserts, %lld receipts, %d dropped\n", n, upserts,
              static_cast<long long>(g_received), b.dead());
  std::printf("  from the acknowledgement: p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", pct(g_from_ack, 0.5),
              pct(g_from_ack, 0.99), pct(g_from_ack, 1.0));
  std::printf("  from the request:         p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", pct(g_from_send, 0.5),
              pct(g_from_send, 0.99), pct(g_from_send, 1.0));
  return 0;
}

// The machine's floor under fanout, without the daemon: a child process
// pinned to core 0 holds the server side of N loopback connections and, per
// round, sends each one WebSocket text frame the size of a presence push,
// one send() per socket (all the daemon's outbox does per subscriber), while
// this process, on core 1, reads them with fanout's client. A round starts
// with 8 bytes down a pipe, as an upsert with its request; delays count from
// that write, where fanout's count from the acknowledgement.
int floor_of_fanout(int n, int rounds) {
  raise_fd_limit();
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int go[2], ready[2];
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(lfd, 4096) != 0 ||
      getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || pipe(go) != 0 || pipe(ready) != 0) {
    std::perror("set-up");
    return 1;
  }
  pid_t child = fork();
  if (child == 0) {
    pin(0, 0);
    close(go[1]);
    close(ready[0]);
    std::vector<int> servers;
    while (static_cast<int>(servers.size()) < n) {
      int fd = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) _exit(1);
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      servers.push_back(fd);
    }
    if (write(ready[1], "r", 1) != 1) _exit(1);
    int64_t seq;
    while (read(go[0], &seq, sizeof seq) == sizeof seq) {
      std::string payload = R"({"type":"presence","agent_id":"cagent0000000000000000001","crew_id":)"
                            R"("ccrew00000000000000000001","status":"busy","since":"2026-12-04T18:00:00.000Z",)"
                            R"("details":{"seq":)" + std::to_string(seq) + "}}";
      std::string frame = "\x81";  // FIN, text; the length as RFC 6455 5.2 puts it
      if (payload.size() < 126) {
        frame += static_cast<char>(payload.size());
      } else {
        frame += {static_cast<char>(126), static_cast<char>(payload.size() >> 8), static_cast<char>(payload.size())};
      }
      frame += payload;
      for (int fd : servers) send(fd, frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    _exit(0);
  }
  close(lfd);
  close(go[0]);
  close(ready[1]);
  pin(0, 1);
  Bench b;
  static const wslay_event_callbacks cb = {sub_recv, sub_send, sub_mask, nullptr, nullptr, nullptr, sub_msg};
  for (int i = 0; i < n; ++i) {
    auto sub = std::make_unique<Sub>();
    sub->fd = connect_tcp(ntohs(addr.sin_port));
    if (sub->fd < 0) {
      std::fprintf(stderr, "connection %d failed\n", i);
      return 1;
    }
    sub->open = true;
    wslay_event_context_client_init(&sub->ctx, &cb, sub.get());
    b.add(sub->fd, sub.get());
    b.subs.push_back(std::move(sub));
  }
  char r;
  if (read(ready[0], &r, 1) != 1) {
    std::fprintf(stderr, "the sender did not take every connection\n");
    return 1;
  }
  std::fprintf(stderr, "%d loopback connections\n", n);
  for (int64_t k = 1; k <= rounds; ++k) {
    int64_t want = g_received + n;
    g_ack[k] = g_sent[k] = now_ms();
    if (write(go[1], &k, sizeof k) != sizeof k) return 1;
    double deadline = now_ms() + 10000;
    while (g_received < want && now_ms() < deadline) b.pump(5);
    if (g_received < want)
      std::fprintf(stderr, "round %lld: %lld missing\n", static_cast<long long>(k),
                   static_cast<long long>(want - g_received));
  }
  close(go[1]);
  waitpid(child, nullptr, 0);
  std::printf("floor: %d loopback connections, %d rounds, %lld receipts, %d dropped\n", n, rounds,
              static_cast<long long>(g_received), b.dead());
  std::printf("  from the round's start: p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", pct(g_from_ack, 0.5),
              pct(g_from_ack, 0.99), pct(g_from_ack, 1.0));
  return 0;
}

int sustained(int n, int rate, int secs) {
  Bench b;
  b.start();
  b.connect_subs(n, true);
  // A connection answers its requests one at a time, each after its commit:
  // one per agent, as their hooks would.
  b.open_ipc(kAgents);
  g_sample_every = 20;
  double t0 = now_ms(), interval = 1000.0 / rate;
  int64_t asked = 0, acked_in_time = 0;
  // Open-loop: every upsert due by now is sent, on the next connection in
  // turn, answered or not; its delays count from when it was due.
  while (now_ms() - t0 < secs * 1000.0) {
    while (now_ms() >= t0 + static_cast<double>(asked) * interval && asked < static_cast<int64_t>(rate) * secs) {
      g_sent[b.seq + 1] = t0 + static_cast<double>(asked) * interval;
      b.upsert(b.ipc[static_cast<size_t>(asked) % b.ipc.size()]);
      ++asked;
    }
    b.pump(0);
  }
  double elapsed = (now_ms() - t0) / 1000.0;
  acked_in_time = b.acked;
  double drain = now_ms() + 10000;
  while ((g_received < b.acked * n || b.acked < asked) && now_ms() < drain) b.pump(5);
  std::vector<double> ack;
  for (int64_t i = 1; i <= asked; ++i)
    if (g_ack[i] > 0) ack.push_back(g_ack[i] - g_sent[i]);
  std::printf("sustained: %d subscribers, asked %d/s for %d s (%lld sent): %.0f writes/s acknowledged in the run "
              "(%.1f %%), %lld of %lld acknowledged in the end, %lld of %lld receipts, %d subscribers dropped\n",
              n, rate, secs, static_cast<long long>(asked), static_cast<double>(acked_in_time) / elapsed,
              100.0 * static_cast<double>(acked_in_time) / elapsed / rate, static_cast<long long>(b.acked),
              static_cast<long long>(asked), static_cast<long long>(g_received),
              static_cast<long long>(b.acked * n), b.dead());
  std::printf("  acknowledgement after the due time: p50 %.2f ms  p99 %.2f ms\n", pct(ack, 0.5), pct(ack, 0.99));
  std::printf("  receipt after the due time:         p50 %.2f ms  p99 %.2f ms\n", pct(g_from_send, 0.5),
              pct(g_from_send, 0.99));
  std::printf("  receipt after the acknowledgement:  p50 %.2f ms  p99 %.2f ms\n", pct(g_from_ack, 0.5),
              pct(g_from_ack, 0.99));
  return 0;
}

int idle(int n) {
  Bench b;
  b.start();
  long before = rss_kb(b.d->pid);
  b.connect_subs(n, false);
  long after = rss_kb(b.d->pid);
  std::printf("idle: %d WebSocket connections: VmRSS %ld kB -> %ld kB, %.2f KiB per connection\n", n, before, after,
              static_cast<double>(after - before) / n);
  return 0;
}

int compare(int n, int secs) {
  // Polling: every watcher GETs the roster every 2 s (no If-None-Match, as the UI does).
  double poll_bytes = 0, poll_cpu = 0, push_bytes = 0, push_cpu = 0;
  {
    Bench b;
    b.start();
    std::vector<Http> pollers(static_cast<size_t>(n));
    for (auto& p : pollers) {
      p.fd = connect_tcp(b.d->port);
      b.add(p.fd, &p);
    }
    b.open_ipc(1);
    std::string get = "GET /api/v1/presence/roster?workspace_id=" + b.owner.workspace_id +
                      " HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer " + b.owner.token + "\r\n\r\n";
    double t0 = now_ms(), cpu0 = cpu_s(b.d->pid);
    int64_t writes = 0;
    while (now_ms() - t0 < secs * 1000.0) {
      double t = now_ms() - t0;
      for (size_t i = 0; i < pollers.size(); ++i) {
        // Watcher i polls at i/n of each 2 s period.
        double due = 2000.0 * static_cast<double>(i) / n;
        auto& p = pollers[i];
        if (!p.busy && std::fmod(t, 2000.0) >= due && p.sent_at < std::floor(t / 2000.0) + 1) {
          p.sent_at = std::floor(t / 2000.0) + 1;
          p.busy = true;
          send_all(p.fd, get);
        }
      }
      if (!b.ipc[0].busy && writes < static_cast<int64_t>(t / 100.0)) {
        b.upsert(b.ipc[0]);
        ++writes;
      }
      epoll_event ev[512];
      int k = epoll_wait(b.ep, ev, 512, 1);
      for (int j = 0; j < k; ++j) {
        auto* h = static_cast<Http*>(ev[j].data.ptr);
        char buf[65536];
        ssize_t r;
        while ((r = recv(h->fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) h->in.append(buf, static_cast<size_t>(r));
        while (h->take_response()) {
        }
      }
    }
    poll_cpu = cpu_s(b.d->pid) - cpu0;
    for (auto& p : pollers) poll_bytes += static_cast<double>(p.bytes);
  }
  {
    Bench b;
    b.start();
    b.connect_subs(n, true);
    b.open_ipc(1);
    size_t bytes0 = 0;
    for (auto& s : b.subs) bytes0 += s->bytes;
    double t0 = now_ms(), cpu0 = cpu_s(b.d->pid);
    int64_t writes = 0;
    while (now_ms() - t0 < secs * 1000.0) {
      if (!b.ipc[0].busy && writes < static_cast<int64_t>((now_ms() - t0) / 100.0)) {
        b.upsert(b.ipc[0]);
        ++writes;
      }
      b.pump(1);
    }
    push_cpu = cpu_s(b.d->pid) - cpu0;
    for (auto& s : b.subs) push_bytes += static_cast<double>(s->bytes);
    push_bytes -= static_cast<double>(bytes0);
  }
  double per_min = 60.0 / secs;
  std::printf("compare: %d watchers, %d agents, 10 writes/s, %d s each\n", n, kAgents, secs);
  std::printf("  roster poll every 2 s: %.1f MB/min to clients, daemon CPU %.2f s/min\n",
              poll_bytes * per_min / 1e6, poll_cpu * per_min);
  std::printf("  push over /ws:        %.1f MB/min to clients, daemon CPU %.2f s/min\n",
              push_bytes * per_min / 1e6, push_cpu * per_min);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  auto arg = [&](int i, int def) { return argc > i ? std::atoi(argv[i]) : def; };
  if (mode == "fanout") return fanout(arg(2, 10000), arg(3, 200));
  if (mode == "floor") return floor_of_fanout(arg(2, 10000), arg(3, 200));
  if (mode == "sustained") return sustained(arg(2, 1000), arg(3, 1000), arg(4, 30));
  if (mode == "idle") return idle(arg(2, 10000));
  if (mode == "compare") return compare(arg(2, 1000), arg(3, 20));
  std::fprintf(stderr, "usage: realtime fanout N UPSERTS | floor N ROUNDS | sustained N RATE SECS | idle N | compare N SECS\n");
  return 2;
}
