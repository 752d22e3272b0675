// loadgen: a small closed-loop HTTP/1.1 keep-alive load generator.
//
// One libuv loop, N connections, each with at most one request in flight
// (no pipelining). Responses are parsed with llhttp (Content-Length, chunked
// and read-until-EOF bodies), latency is measured with uv_hrtime() from the
// moment a request is handed to the socket until its response is complete,
// and recorded in a log-linear histogram (~0.1% relative resolution).
//
// With --rate, request n is due at start + n / rate whether or not an earlier
// one was answered, and its latency counts from that due time, not from when
// a free connection finally sent it: a server that falls behind shows it as
// latency and as a lower rate instead of silently slowing the client down
// (coordinated omission). Give it enough connections that one is free when a
// request falls due (connections >= rate x expected latency).
//
// Only loopback targets are accepted (127.0.0.0/8, ::1, "localhost") or a
// Unix domain socket path. The run always ends by itself after
// --warmup + --duration (or on SIGINT/SIGTERM, which also prints results).
//
// Build: see tests/bench/build.sh.

#include <llhttp.h>
#include <uv.h>

#include <sys/resource.h>
#include <sys/un.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr int kMaxConnections = 4096;
constexpr uint64_t kNsPerMs = 1'000'000;
constexpr uint64_t kNsPerSec = 1'000'000'000;
constexpr uint64_t kConnectBackoffMs = 50;
constexpr size_t kReadBufferSize = 64 * 1024;

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

struct Options {
  std::string unix_path;
  std::string host = "127.0.0.1";
  int port = 0;
  int connections = 32;
  uint64_t duration_ns = 10 * kNsPerSec;
  uint64_t warmup_ns = 0;
  uint64_t timeout_ns = 5 * kNsPerSec;
  std::string method = "GET";
  std::string path = "/";
  std::vector<std::string> headers;
  std::optional<std::string> body;           // --body / --body-file
  std::optional<std::string> body_template;  // --body-template
  uint64_t keys = 1000;
  double rate = 0;  // requests/s over all connections; 0 = unlimited
  bool json = false;
};

void usage(FILE* out) {
  std::fputs(
      "usage: loadgen [--unix PATH | --host 127.0.0.1 --port N]\n"
      "               [--connections 32] [--duration 10s] [--warmup 0s]\n"
      "               [--timeout 5s] [--method GET] [--path /]\n"
      "               [--header 'Name: value']...\n"
      "               [--body STRING | --body-file FILE |\n"
      "                --body-template 'text with {i}' [--keys 1000]]\n"
      "               [--rate 0] [--json]\n"
      "\n"
      "  --connections N    concurrent keep-alive connections (1..4096)\n"
      "  --duration D       measured time; D like 10s, 500ms, 1m, or seconds\n"
      "  --warmup D         unmeasured time before the measurement window\n"
      "  --timeout D        per-request timeout (counts as error, reconnects)\n"
      "  --body-template T  every {i} in T is replaced by (request# % keys)\n"
      "  --rate R           requests/s, each due on a fixed schedule; latency\n"
      "                     counts from the due time (0 = as fast as possible)\n"
      "  --json             print one JSON line instead of the text report\n"
      "\n"
      "A request with a body gets Content-Length and, unless given with\n"
      "--header, 'Content-Type: application/json'. Host is set automatically\n"
      "unless given. Only loopback hosts (127.0.0.0/8, ::1, localhost) or a\n"
      "Unix socket are accepted.\n",
      out);
}

[[noreturn]] void die_usage(const std::string& msg) {
  std::fprintf(stderr, "loadgen: %s\n", msg.c_str());
  usage(stderr);
  std::exit(2);
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// "10s", "250ms", "2m", "1.5s", "3" (seconds) -> nanoseconds.
std::optional<uint64_t> parse_duration(std::string_view s) {
  double unit = 1e9;
  if (s.ends_with("ms")) {
    unit = 1e6;
    s.remove_suffix(2);
  } else if (s.ends_with("us")) {
    unit = 1e3;
    s.remove_suffix(2);
  } else if (s.ends_with("s")) {
    s.remove_suffix(1);
  } else if (s.ends_with("m")) {
    unit = 60e9;
    s.remove_suffix(1);
  }
  if (s.empty()) return std::nullopt;
  std::string tmp(s);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(tmp.c_str(), &end);
  if (errno != 0 || end != tmp.c_str() + tmp.size() || !(v >= 0) ||
      v * unit > 1e15 /* ~11 days */) {
    return std::nullopt;
  }
  return static_cast<uint64_t>(std::llround(v * unit));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die_usage("cannot read body file: " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool has_ctl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) {
    return c == '\r' || c == '\n' || c == '\0';
  });
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string val;
    bool inline_val = false;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos) {
      val = arg.substr(eq + 1);
      arg.resize(eq);
      inline_val = true;
    }
    auto value = [&]() -> const std::string& {
      if (!inline_val) {
        if (i + 1 >= argc) die_usage("missing value for " + arg);
        val = argv[++i];
      }
      return val;
    };
    auto duration = [&]() {
      auto d = parse_duration(value());
      if (!d) die_usage("bad duration for " + arg + ": " + val);
      return *d;
    };

    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      std::exit(0);
    } else if (arg == "--unix") {
      o.unix_path = value();
    } else if (arg == "--host") {
      o.host = value();
    } else if (arg == "--port") {
      auto p = parse_u64(value());
      if (!p || *p == 0 || *p > 65535) die_usage("bad --port: " + val);
      o.port = static_cast<int>(*p);
    } else if (arg == "--connections" || arg == "-c") {
      auto c = parse_u64(value());
      if (!c || *c == 0 || *c > kMaxConnections) {
        die_usage("--connections must be 1.." + std::to_string(kMaxConnections));
      }
      o.connections = static_cast<int>(*c);
    } else if (arg == "--duration" || arg == "-d") {
      o.duration_ns = duration();
    } else if (arg == "--warmup") {
      o.warmup_ns = duration();
    } else if (arg == "--timeout") {
      o.timeout_ns = duration();
    } else if (arg == "--method") {
      o.method = value();
    } else if (arg == "--path") {
      o.path = value();
    } else if (arg == "--header" || arg == "-H") {
      o.headers.push_back(value());
    } else if (arg == "--body") {
      o.body = value();
    } else if (arg == "--body-file") {
      o.body = read_file(value());
    } else if (arg == "--body-template") {
      o.body_template = value();
    } else if (arg == "--keys") {
      auto k = parse_u64(value());
      if (!k || *k == 0) die_usage("--keys must be >= 1");
      o.keys = *k;
    } else if (arg == "--rate") {
      char* end = nullptr;
      o.rate = std::strtod(value().c_str(), &end);
      if (*end != '\0' || !(o.rate >= 0)) die_usage("bad --rate: " + val);
    } else if (arg == "--json") {
      o.json = true;
    } else {
      die_usage("unknown argument: " + arg);
    }
  }

  if (o.duration_ns == 0) die_usage("--duration must be > 0");
  if (o.timeout_ns == 0) die_usage("--timeout must be > 0");
  if (o.body && o.body_template) die_usage("--body/--body-file and --body-template are exclusive");
  if (o.unix_path.empty() && o.port == 0) die_usage("need --unix PATH or --port N");
  if (o.unix_path.size() >= sizeof(sockaddr_un::sun_path)) die_usage("unix socket path too long");
  if (o.method.empty() || !std::all_of(o.method.begin(), o.method.end(), [](unsigned char c) {
        return c >= 'A' && c <= 'Z';
      })) {
    die_usage("bad --method: " + o.method);
  }
  if (o.path.empty() || o.path[0] != '/' || has_ctl(o.path) ||
      o.path.find(' ') != std::string::npos) {
    die_usage("--path must start with '/' and contain no spaces/control chars");
  }
  for (const auto& h : o.headers) {
    auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0 || has_ctl(h)) die_usage("bad --header: " + h);
  }
  return o;
}

// ---------------------------------------------------------------------------
// Target address (loopback or unix socket only)
// ---------------------------------------------------------------------------

struct Target {
  bool is_unix = false;
  std::string unix_path;
  sockaddr_storage addr{};
  std::string host_header;  // value of the Host header
  std::string display;      // human readable
};

Target resolve_target(const Options& o) {
  Target t;
  if (!o.unix_path.empty()) {
    t.is_unix = true;
    t.unix_path = o.unix_path;
    t.host_header = "localhost";
    t.display = "unix:" + o.unix_path;
    return t;
  }
  std::string host = o.host;
  if (host == "localhost") host = "127.0.0.1";  // never consult DNS
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }

  auto* v4 = reinterpret_cast<sockaddr_in*>(&t.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&t.addr);
  if (uv_ip4_addr(host.c_str(), o.port, v4) == 0) {
    const auto* b = reinterpret_cast<const uint8_t*>(&v4->sin_addr);
    if (b[0] != 127) die_usage("refusing non-loopback host " + o.host);
    t.host_header = host + ":" + std::to_string(o.port);
  } else if (uv_ip6_addr(host.c_str(), o.port, v6) == 0) {
    static const uint8_t kLoop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (std::memcmp(&v6->sin6_addr, kLoop6, 16) != 0) {
      die_usage("refusing non-loopback host " + o.host);
    }
    t.host_header = "[" + host + "]:" + std::to_string(o.port);
  } else {
    die_usage("host must be a loopback IP literal or 'localhost': " + o.host);
  }
  t.display = t.host_header;
  return t;
}

// ---------------------------------------------------------------------------
// Request construction
// ---------------------------------------------------------------------------

bool has_header(const std::vector<std::string>& headers, std::string_view name) {
  for (const auto& h : headers) {
    std::string_view n(h.data(), h.find(':'));
    if (n.size() == name.size() &&
        std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return true;
    }
  }
  return false;
}

// Builds the bytes of each request. Without a body template, every request
// is identical and shared; with a template, the head (minus Content-Length)
// is shared and the body is rendered per request.
class RequestFactory {
 public:
  RequestFactory(const Options& o, const Target& t) : keys_(o.keys) {
    std::string head = o.method + " " + o.path + " HTTP/1.1\r\n";
    if (!has_header(o.headers, "Host")) head += "Host: " + t.host_header + "\r\n";
    for (const auto& h : o.headers) head += h + "\r\n";
    const bool has_body = o.body || o.body_template;
    if (has_body && !has_header(o.headers, "Content-Type")) {
      head += "Content-Type: application/json\r\n";
    }
    is_head_ = o.method == "HEAD";

    if (o.body_template) {
      head_ = std::move(head);
      // Split the template on "{i}" once so rendering is a few appends.
      std::string_view tpl = *o.body_template;
      for (size_t pos; (pos = tpl.find("{i}")) != std::string_view::npos;) {
        pieces_.emplace_back(tpl.substr(0, pos));
        tpl.remove_prefix(pos + 3);
      }
      pieces_.emplace_back(tpl);
      templated_ = true;
      return;
    }
    const std::string& body = o.body ? *o.body : std::string();
    const bool wants_length = has_body || o.method == "POST" || o.method == "PUT" ||
                              o.method == "PATCH";
    if (wants_length && !has_header(o.headers, "Content-Length")) {
      head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    fixed_ = head + "\r\n" + body;
  }

  bool templated() const { return templated_; }
  bool is_head() const { return is_head_; }
  const std::string& fixed() const { return fixed_; }

  // Renders request number `n` into `out` (templated mode only).
  void render(uint64_t n, std::string& out) const {
    char num[24];
    auto [end, ec] = std::to_chars(num, num + sizeof(num), n % keys_);
    std::string_view key(num, static_cast<size_t>(end - num));

    size_t body_len = key.size() * (pieces_.size() - 1);
    for (const auto& p : pieces_) body_len += p.size();

    out.assign(head_);
    out += "Content-Length: ";
    out += std::to_string(body_len);
    out += "\r\n\r\n";
    for (size_t i = 0; i < pieces_.size(); ++i) {
      if (i) out += key;
      out += pieces_[i];
    }
  }

 private:
  uint64_t keys_;
  bool templated_ = false;
  bool is_head_ = false;
  std::string fixed_;
  std::string head_;
  std::vector<std::string> pieces_;
};

// ---------------------------------------------------------------------------
// Latency histogram (HdrHistogram-style log-linear buckets, nanoseconds)
// ---------------------------------------------------------------------------

// Values below 2^kSubBits ns are exact; above, each power-of-two range is
// split into 2^(kSubBits-1) linear buckets (relative error < 0.1%).
class Histogram {
 public:
  static constexpr int kSubBits = 11;
  static constexpr uint64_t kSubCount = uint64_t{1} << kSubBits;  // 2048
  static constexpr uint64_t kHalf = kSubCount / 2;                 // 1024
  static constexpr uint64_t kMaxValue = (uint64_t{1} << 40) - 1;   // ~18 minutes

  Histogram() : counts_(index_of(kMaxValue) + 1, 0) {}

  void record(uint64_t v) {
    v = std::min(v, kMaxValue);
    ++counts_[index_of(v)];
    ++total_;
    sum_ += v;
    max_ = std::max(max_, v);
    min_ = std::min(min_, v);
  }

  uint64_t count() const { return total_; }
  uint64_t max() const { return total_ ? max_ : 0; }
  uint64_t min() const { return total_ ? min_ : 0; }
  double mean() const { return total_ ? static_cast<double>(sum_) / total_ : 0.0; }

  // Smallest recorded value v such that at least q of the samples are <= v
  // (reported as the upper edge of its bucket, clamped to the max seen).
  uint64_t percentile(double q) const {
    if (total_ == 0) return 0;
    auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_)));
    rank = std::clamp<uint64_t>(rank, 1, total_);
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(upper_edge(i), max_);
    }
    return max_;
  }

 private:
  static size_t index_of(uint64_t v) {
    const int width = std::bit_width(v);
    const int shift = std::max(0, width - kSubBits);
    return static_cast<size_t>(static_cast<uint64_t>(shift) * kHalf + (v >> shift));
  }
  static uint64_t upper_edge(size_t idx) {
    const uint64_t shift = idx < kSubCount ? 0 : idx / kHalf - 1;
    const uint64_t sub = idx - shift * kHalf;
    return ((sub + 1) << shift) - 1;
  }

  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

// ---------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------

enum class Error { kConnect, kRead, kWrite, kParse, kTimeout, kCount };
constexpr std::array<const char*, static_cast<size_t>(Error::kCount)> kErrorNames = {
    "connect", "read", "write", "parse", "timeout"};

struct Stats {
  uint64_t requests = 0;                 // completed responses in the window
  std::array<uint64_t, 6> status{};      // [0]=other, [1]=1xx .. [5]=5xx
  std::array<uint64_t, static_cast<size_t>(Error::kCount)> errors{};
  uint64_t reconnects = 0;               // server-initiated graceful closes
  uint64_t bytes_read = 0;
  Histogram latency;

  uint64_t total_errors() const {
    uint64_t n = 0;
    for (auto e : errors) n += e;
    return n;
  }
};

// ---------------------------------------------------------------------------
// Connection + generator
// ---------------------------------------------------------------------------

class LoadGen;

class Connection {
 public:
  Connection(LoadGen& gen, uv_loop_t* loop);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void connect();
  void shutdown();  // close every handle for good (generator is stopping)
  // Sends the next request; due is when it should have left (0: now).
  void send_now(uint64_t due = 0);

  bool ready_to_send() const { return state_ == State::kConnected && !in_flight_; }
  bool in_flight() const { return in_flight_; }
  uint64_t sent_at() const { return sent_at_; }
  bool queued = false;  // waiting in the rate limiter queue

  void fail(Error e, bool backoff = false);

 private:
  enum class State { kIdle, kConnecting, kConnected, kClosing, kBackoff, kStopped };

  union Socket {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  };

  void close_socket(bool backoff);
  void request_next();
  void on_data(const char* data, size_t len);
  void on_response_complete();

  static void on_connect(uv_connect_t* req, int status);
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_close(uv_handle_t* h);
  static void on_retry(uv_timer_t* t);

  static int on_headers_complete(llhttp_t* p);
  static int on_message_complete(llhttp_t* p);
  static const llhttp_settings_t& parser_settings();

  LoadGen& gen_;
  uv_loop_t* loop_;
  Socket sock_{};
  uv_timer_t retry_timer_{};
  uv_connect_t connect_req_{};
  uv_write_t write_req_{};
  llhttp_t parser_{};

  State state_ = State::kIdle;
  bool sock_open_ = false;        // sock_ initialised and its close cb not yet run
  bool backoff_on_close_ = false;
  bool in_flight_ = false;        // request sent, response not yet complete
  bool write_pending_ = false;    // uv_write issued, callback not yet run
  bool send_after_write_ = false; // response done before write cb: send then
  bool response_done_ = false;    // set by on_message_complete
  bool keep_alive_ = true;
  int status_ = 0;
  uint64_t sent_at_ = 0;
  uint64_t due_at_ = 0;           // latency counts from here (== sent_at_ without --rate)
  std::string out_;               // per-connection buffer for templated bodies
};

class LoadGen {
 public:
  LoadGen(uv_loop_t* loop, const Options& opts, const Target& target)
      : loop_(loop), opts_(opts), target_(target), factory_(opts, target) {}

  void run();  // blocks until the run is over and every handle is closed

  const Stats& stats() const { return stats_; }
  double measured_seconds() const {
    return static_cast<double>(measure_end_ - measure_start_) / 1e9;
  }
  // CPU used by the generator itself (user+sys) as % of one core over the
  // whole run; close to 100 means the results are client-bound.
  double client_cpu_percent() const {
    const double wall = static_cast<double>(measure_end_ - start_) / 1e9;
    return wall > 0 ? 100.0 * cpu_seconds_ / wall : 0.0;
  }

  // --- used by Connection ---
  const Target& target() const { return target_; }
  const RequestFactory& factory() const { return factory_; }
  bool stopping() const { return stopping_; }
  char* read_buffer() { return read_buf_.data(); }
  uint64_t next_request_number() { return request_seq_++; }

  // True: c may send now, a request due at *due. False: c was queued.
  bool acquire_send_slot(Connection* c, uint64_t* due);
  void dequeue(Connection* c);

  void count_error(Error e) {
    if (measuring_ && !stopping_) ++stats_.errors[static_cast<size_t>(e)];
  }
  void count_reconnect() {
    if (measuring_ && !stopping_) ++stats_.reconnects;
  }
  void count_bytes(size_t n) {
    if (measuring_ && !stopping_) stats_.bytes_read += n;
  }
  // from: when the request was sent, or with --rate when it was due.
  void record_response(uint64_t from, uint64_t done_at, int status) {
    if (!measuring_ || stopping_ || from < measure_start_) return;
    ++stats_.requests;
    const int cls = status / 100;
    ++stats_.status[(cls >= 1 && cls <= 5) ? cls : 0];
    stats_.latency.record(done_at - from);
  }

 private:
  void begin_measuring();
  void stop();
  void arm_pacer();
  uint64_t slot_time(uint64_t n) const {
    return start_ + static_cast<uint64_t>(static_cast<double>(n) * 1e9 / opts_.rate);
  }

  static void on_phase_timer(uv_timer_t* t);
  static void on_sweep_timer(uv_timer_t* t);
  static void on_pacer_timer(uv_timer_t* t);
  static void on_signal(uv_signal_t* s, int signum);

  uv_loop_t* loop_;
  const Options& opts_;
  const Target& target_;
  RequestFactory factory_;
  Stats stats_;

  std::vector<std::unique_ptr<Connection>> conns_;
  std::vector<char> read_buf_ = std::vector<char>(kReadBufferSize);

  uv_timer_t phase_timer_{};   // warmup end, then measurement end
  uv_timer_t sweep_timer_{};   // request timeouts
  uv_timer_t pacer_timer_{};   // --rate
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};

  uint64_t start_ = 0;
  uint64_t measure_start_ = 0;
  uint64_t measure_end_ = 0;
  bool measuring_ = false;
  bool stopping_ = false;
  uint64_t request_seq_ = 0;
  double cpu_seconds_ = 0;

  // Rate limiting: request n may start at start_ + n / rate.
  uint64_t issued_ = 0;
  std::deque<Connection*> waiting_;
};

// --- Connection ------------------------------------------------------------

Connection::Connection(LoadGen& gen, uv_loop_t* loop) : gen_(gen), loop_(loop) {
  uv_timer_init(loop_, &retry_timer_);
  retry_timer_.data = this;
}

const llhttp_settings_t& Connection::parser_settings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_headers_complete = on_headers_complete;
    s.on_message_complete = on_message_complete;
    return s;
  }();
  return settings;
}

void Connection::connect() {
  state_ = State::kConnecting;
  in_flight_ = write_pending_ = send_after_write_ = false;

  int rc = 0;
  const Target& t = gen_.target();
  if (t.is_unix) {
    uv_pipe_init(loop_, &sock_.pipe, 0);
    sock_.handle.data = this;
    sock_open_ = true;
    uv_pipe_connect(&connect_req_, &sock_.pipe, t.unix_path.c_str(), on_connect);
  } else {
    uv_tcp_init(loop_, &sock_.tcp);
    sock_.handle.data = this;
    sock_open_ = true;
    uv_tcp_nodelay(&sock_.tcp, 1);
    rc = uv_tcp_connect(&connect_req_, &sock_.tcp,
                        reinterpret_cast<const sockaddr*>(&t.addr), on_connect);
  }
  if (rc < 0) fail(Error::kConnect, /*backoff=*/true);
}

void Connection::on_connect(uv_connect_t* req, int status) {
  auto* self = static_cast<Connection*>(req->handle->data);
  if (status == UV_ECANCELED || self->state_ != State::kConnecting) return;
  if (status < 0) {
    self->fail(Error::kConnect, /*backoff=*/true);
    return;
  }
  self->state_ = State::kConnected;
  llhttp_init(&self->parser_, HTTP_RESPONSE, &parser_settings());
  self->parser_.data = self;
  if (int rc = uv_read_start(&self->sock_.stream, on_alloc, on_read); rc < 0) {
    self->fail(Error::kRead);
    return;
  }
  self->request_next();
}

void Connection::request_next() {
  if (gen_.stopping()) return;
  if (uint64_t due = 0; gen_.acquire_send_slot(this, &due)) send_now(due);
}

void Connection::send_now(uint64_t due) {
  if (!ready_to_send() || gen_.stopping()) return;

  const RequestFactory& f = gen_.factory();
  uv_buf_t buf;
  if (f.templated()) {
    f.render(gen_.next_request_number(), out_);
    buf = uv_buf_init(out_.data(), static_cast<unsigned>(out_.size()));
  } else {
    // uv_write never modifies the buffer; the shared request is read-only.
    const std::string& req = f.fixed();
    buf = uv_buf_init(const_cast<char*>(req.data()), static_cast<unsigned>(req.size()));
  }

  in_flight_ = true;
  response_done_ = false;
  write_pending_ = true;
  send_after_write_ = false;
  sent_at_ = uv_hrtime();
  due_at_ = due != 0 && due < sent_at_ ? due : sent_at_;
  if (int rc = uv_write(&write_req_, &sock_.stream, &buf, 1, on_write); rc < 0) {
    write_pending_ = false;
    fail(Error::kWrite);
  }
}

void Connection::on_write(uv_write_t* req, int status) {
  auto* self = static_cast<Connection*>(req->handle->data);
  self->write_pending_ = false;
  if (status == UV_ECANCELED || self->state_ != State::kConnected) return;
  if (status < 0) {
    self->fail(Error::kWrite);
    return;
  }
  // The response may (rarely) be complete before the write callback runs;
  // out_ must not be reused until now.
  if (self->send_after_write_) {
    self->send_after_write_ = false;
    self->request_next();
  }
}

void Connection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  // Single-threaded loop: the buffer is consumed in on_read before the next
  // allocation, so every connection can share it.
  auto* self = static_cast<Connection*>(h->data);
  *buf = uv_buf_init(self->gen_.read_buffer(), kReadBufferSize);
}

void Connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(s->data);
  if (self->state_ != State::kConnected) return;
  if (nread > 0) {
    self->gen_.count_bytes(static_cast<size_t>(nread));
    self->on_data(buf->base, static_cast<size_t>(nread));
    return;
  }
  if (nread == 0) return;  // EAGAIN
  if (nread == UV_EOF && self->in_flight_) {
    // Responses without Content-Length / chunking end at EOF.
    self->response_done_ = false;
    const llhttp_errno_t err = llhttp_finish(&self->parser_);
    if ((err == HPE_OK || err == HPE_PAUSED) && self->response_done_) {
      self->keep_alive_ = false;
      self->on_response_complete();
      return;
    }
  }
  if (nread == UV_EOF && !self->in_flight_) {
    // Server closed an idle keep-alive connection: not an error.
    self->gen_.count_reconnect();
    self->close_socket(/*backoff=*/false);
    return;
  }
  self->fail(Error::kRead);
}

void Connection::on_data(const char* data, size_t len) {
  if (!in_flight_) {  // unsolicited bytes
    fail(Error::kParse);
    return;
  }
  response_done_ = false;
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (err == HPE_PAUSED && response_done_) {
    // on_message_complete pauses the parser so nothing after the response is
    // consumed. With one request in flight there must be nothing left.
    const char* stop = llhttp_get_error_pos(&parser_);
    llhttp_resume(&parser_);
    if (stop != data + len) {
      fail(Error::kParse);
      return;
    }
    on_response_complete();
    return;
  }
  if (err != HPE_OK) fail(Error::kParse);
}

void Connection::on_response_complete() {
  const uint64_t now = uv_hrtime();
  in_flight_ = false;
  gen_.record_response(due_at_, now, status_);
  if (!keep_alive_) {
    gen_.count_reconnect();
    close_socket(/*backoff=*/false);
  } else if (write_pending_) {
    send_after_write_ = true;
  } else {
    request_next();
  }
}

int Connection::on_headers_complete(llhttp_t* p) {
  auto* self = static_cast<Connection*>(p->data);
  self->status_ = p->status_code;
  self->keep_alive_ = llhttp_should_keep_alive(p) != 0;
  // A response to HEAD has no body whatever its headers say.
  return self->gen_.factory().is_head() ? 1 : 0;
}

int Connection::on_message_complete(llhttp_t* p) {
  auto* self = static_cast<Connection*>(p->data);
  if (p->status_code >= 100 && p->status_code < 200) return 0;  // interim
  self->response_done_ = true;
  return HPE_PAUSED;
}

void Connection::fail(Error e, bool backoff) {
  gen_.count_error(e);
  close_socket(backoff);
}

void Connection::close_socket(bool backoff) {
  if (queued) gen_.dequeue(this);
  in_flight_ = false;
  if (!sock_open_ || uv_is_closing(&sock_.handle)) return;
  state_ = State::kClosing;
  backoff_on_close_ = backoff;
  uv_close(&sock_.handle, on_close);
}

void Connection::on_close(uv_handle_t* h) {
  // Pending connect/write requests have been cancelled by now.
  auto* self = static_cast<Connection*>(h->data);
  self->sock_open_ = false;
  if (self->gen_.stopping()) {
    self->state_ = State::kStopped;
  } else if (self->backoff_on_close_) {
    self->state_ = State::kBackoff;
    uv_timer_start(&self->retry_timer_, on_retry, kConnectBackoffMs, 0);
  } else {
    self->connect();
  }
}

void Connection::on_retry(uv_timer_t* t) {
  auto* self = static_cast<Connection*>(t->data);
  if (!self->gen_.stopping()) self->connect();
}

void Connection::shutdown() {
  if (queued) gen_.dequeue(this);
  state_ = State::kStopped;
  in_flight_ = false;
  uv_timer_stop(&retry_timer_);
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&retry_timer_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&retry_timer_), nullptr);
  }
  if (sock_open_ && !uv_is_closing(&sock_.handle)) uv_close(&sock_.handle, on_close);
}

double process_cpu_seconds() {
  uv_rusage_t ru{};
  if (uv_getrusage(&ru) != 0) return 0;
  auto secs = [](const uv_timeval_t& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

// --- LoadGen ---------------------------------------------------------------

void LoadGen::run() {
  cpu_seconds_ = process_cpu_seconds();  // baseline; stop() turns it into a delta
  start_ = uv_hrtime();
  measure_start_ = start_;

  uv_timer_init(loop_, &phase_timer_);
  uv_timer_init(loop_, &sweep_timer_);
  uv_timer_init(loop_, &pacer_timer_);
  uv_signal_init(loop_, &sigint_);
  uv_signal_init(loop_, &sigterm_);
  for (auto* h : {&phase_timer_, &sweep_timer_, &pacer_timer_}) h->data = this;
  sigint_.data = sigterm_.data = this;
  uv_signal_start(&sigint_, on_signal, SIGINT);
  uv_signal_start(&sigterm_, on_signal, SIGTERM);

  if (opts_.warmup_ns > 0) {
    uv_timer_start(&phase_timer_, on_phase_timer, (opts_.warmup_ns + kNsPerMs - 1) / kNsPerMs, 0);
  } else {
    begin_measuring();
  }
  const uint64_t sweep_ms = std::clamp<uint64_t>(opts_.timeout_ns / kNsPerMs / 10, 1, 100);
  uv_timer_start(&sweep_timer_, on_sweep_timer, sweep_ms, sweep_ms);

  conns_.reserve(static_cast<size_t>(opts_.connections));
  for (int i = 0; i < opts_.connections; ++i) {
    conns_.push_back(std::make_unique<Connection>(*this, loop_));
    conns_.back()->connect();
  }

  uv_run(loop_, UV_RUN_DEFAULT);  // returns once stop() has closed everything
}

void LoadGen::begin_measuring() {
  measuring_ = true;
  measure_start_ = uv_hrtime();
  uv_timer_start(&phase_timer_, on_phase_timer, (opts_.duration_ns + kNsPerMs - 1) / kNsPerMs, 0);
}

void LoadGen::stop() {
  if (stopping_) return;
  measure_end_ = uv_hrtime();
  cpu_seconds_ = process_cpu_seconds() - cpu_seconds_;
  if (!measuring_) measure_start_ = measure_end_;  // interrupted during warmup
  stopping_ = true;
  waiting_.clear();
  for (auto& c : conns_) {
    c->queued = false;
    c->shutdown();
  }
  for (auto* t : {&phase_timer_, &sweep_timer_, &pacer_timer_}) {
    uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
}

void LoadGen::on_phase_timer(uv_timer_t* t) {
  auto* self = static_cast<LoadGen*>(t->data);
  if (!self->measuring_) {
    self->begin_measuring();
  } else {
    self->stop();
  }
}

void LoadGen::on_sweep_timer(uv_timer_t* t) {
  auto* self = static_cast<LoadGen*>(t->data);
  const uint64_t now = uv_hrtime();
  for (auto& c : self->conns_) {
    if (c->in_flight() && now - c->sent_at() > self->opts_.timeout_ns) c->fail(Error::kTimeout);
  }
}

void LoadGen::on_signal(uv_signal_t* s, int) { static_cast<LoadGen*>(s->data)->stop(); }

bool LoadGen::acquire_send_slot(Connection* c, uint64_t* due) {
  if (opts_.rate <= 0) return true;
  if (waiting_.empty() && uv_hrtime() >= slot_time(issued_)) {
    *due = slot_time(issued_++);
    return true;
  }
  c->queued = true;
  waiting_.push_back(c);
  arm_pacer();
  return false;
}

void LoadGen::dequeue(Connection* c) {
  std::erase(waiting_, c);
  c->queued = false;
}

void LoadGen::arm_pacer() {
  if (waiting_.empty() || uv_is_active(reinterpret_cast<uv_handle_t*>(&pacer_timer_))) return;
  const uint64_t now = uv_hrtime();
  const uint64_t due = slot_time(issued_);
  const uint64_t delay_ms = due > now ? (due - now + kNsPerMs - 1) / kNsPerMs : 0;
  uv_timer_start(&pacer_timer_, on_pacer_timer, delay_ms, 0);
}

void LoadGen::on_pacer_timer(uv_timer_t* t) {
  auto* self = static_cast<LoadGen*>(t->data);
  const uint64_t now = uv_hrtime();
  while (!self->waiting_.empty() && now >= self->slot_time(self->issued_)) {
    Connection* c = self->waiting_.front();
    self->waiting_.pop_front();
    c->queued = false;
    c->send_now(self->slot_time(self->issued_++));
  }
  self->arm_pacer();
}

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

std::string json_escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char tmp[8];
      std::snprintf(tmp, sizeof(tmp), "\\u%04x", c);
      out += tmp;
    } else {
      out += ch;
    }
  }
  return out;
}

void report(const Options& o, const Target& t, const LoadGen& gen) {
  const Stats& s = gen.stats();
  const double secs = gen.measured_seconds();
  const double rps = secs > 0 ? static_cast<double>(s.requests) / secs : 0.0;
  const Histogram& h = s.latency;
  auto ms = [](uint64_t ns) { return static_cast<double>(ns) / 1e6; };
  const double p50 = ms(h.percentile(0.50)), p90 = ms(h.percentile(0.90)),
               p99 = ms(h.percentile(0.99)), p999 = ms(h.percentile(0.999)),
               max = ms(h.max()), mean = h.mean() / 1e6;

  if (o.json) {
    std::printf(
        "{\"target\":\"%s\",\"method\":\"%s\",\"path\":\"%s\",\"connections\":%d,"
        "\"duration_s\":%.3f,\"requests\":%llu,\"rps\":%.1f,"
        "\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,"
        "\"max\":%.3f,\"mean\":%.3f},"
        "\"status\":{\"1xx\":%llu,\"2xx\":%llu,\"3xx\":%llu,\"4xx\":%llu,\"5xx\":%llu,"
        "\"other\":%llu},\"errors\":{",
        json_escape(t.display).c_str(), o.method.c_str(), json_escape(o.path).c_str(),
        o.connections, secs, static_cast<unsigned long long>(s.requests), rps, p50, p90, p99,
        p999, max, mean, static_cast<unsigned long long>(s.status[1]),
        static_cast<unsigned long long>(s.status[2]), static_cast<unsigned long long>(s.status[3]),
        static_cast<unsigned long long>(s.status[4]), static_cast<unsigned long long>(s.status[5]),
        static_cast<unsigned long long>(s.status[0]));
    for (size_t i = 0; i < kErrorNames.size(); ++i) {
      std::printf("\"%s\":%llu,", kErrorNames[i], static_cast<unsigned long long>(s.errors[i]));
    }
    std::printf("\"total\":%llu},\"reconnects\":%llu,\"bytes_read\":%llu,"
                "\"client_cpu_pct\":%.1f}\n",
                static_cast<unsigned long long>(s.total_errors()),
                static_cast<unsigned long long>(s.reconnects),
                static_cast<unsigned long long>(s.bytes_read), gen.client_cpu_percent());
    return;
  }

  std::printf("target       %s  %s %s\n", t.display.c_str(), o.method.c_str(), o.path.c_str());
  std::printf("connections  %d\n", o.connections);
  if (o.rate > 0) std::printf("rate cap     %.1f req/s\n", o.rate);
  std::printf("duration     %.3f s  (warmup %.3f s)\n", secs,
              static_cast<double>(o.warmup_ns) / 1e9);
  std::printf("requests     %llu\n", static_cast<unsigned long long>(s.requests));
  std::printf("requests/s   %.1f\n", rps);
  std::printf("latency ms   p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  mean %.3f\n", p50,
              p90, p99, p999, max, mean);
  std::printf("status       1xx %llu  2xx %llu  3xx %llu  4xx %llu  5xx %llu  other %llu\n",
              static_cast<unsigned long long>(s.status[1]),
              static_cast<unsigned long long>(s.status[2]),
              static_cast<unsigned long long>(s.status[3]),
              static_cast<unsigned long long>(s.status[4]),
              static_cast<unsigned long long>(s.status[5]),
              static_cast<unsigned long long>(s.status[0]));
  std::printf("errors       %llu  (", static_cast<unsigned long long>(s.total_errors()));
  for (size_t i = 0; i < kErrorNames.size(); ++i) {
    std::printf("%s%s %llu", i ? "  " : "", kErrorNames[i],
                static_cast<unsigned long long>(s.errors[i]));
  }
  std::printf(")\nreconnects   %llu\nbytes read   %llu\nclient cpu   %.1f%%\n",
              static_cast<unsigned long long>(s.reconnects),
              static_cast<unsigned long long>(s.bytes_read), gen.client_cpu_percent());
}

// Enough descriptors for all connections (best effort).
void raise_fd_limit(int connections) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  const rlim_t want = static_cast<rlim_t>(connections) + 64;
  if (rl.rlim_cur >= want) return;
  rl.rlim_cur = std::min(want, rl.rlim_max);
  setrlimit(RLIMIT_NOFILE, &rl);
}

// Owns a libuv loop; closing it verifies that every handle was released.
class Loop {
 public:
  Loop() {
    if (int rc = uv_loop_init(&loop_); rc < 0) {
      std::fprintf(stderr, "loadgen: uv_loop_init: %s\n", uv_strerror(rc));
      std::exit(1);
    }
  }
  ~Loop() {
    uv_run(&loop_, UV_RUN_DEFAULT);  // drain any remaining close callbacks
    if (int rc = uv_loop_close(&loop_); rc != 0) {
      std::fprintf(stderr, "loadgen: uv_loop_close: %s (handle leak)\n", uv_strerror(rc));
    }
  }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;
  uv_loop_t* get() { return &loop_; }

 private:
  uv_loop_t loop_{};
};

}  // namespace

int main(int argc, char** argv) {
  const Options opts = parse_options(argc, argv);
  const Target target = resolve_target(opts);
  raise_fd_limit(opts.connections);

  uint64_t completed = 0;
  {
    Loop loop;
    LoadGen gen(loop.get(), opts, target);
    gen.run();
    report(opts, target, gen);
    completed = gen.stats().requests;
  }  // LoadGen (and its connections) are gone before the loop is closed;
     // all their handles were closed inside run().
  std::fflush(stdout);
  return completed > 0 ? 0 : 1;
}
