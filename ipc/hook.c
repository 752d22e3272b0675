/* crewship-hook: the client lifecycle hooks call inside crew containers.
 *
 *   crewship-hook presence <online|busy|blocked|offline> --agent ID [--detail KEY=VALUE ...]
 *   crewship-hook heartbeat --agent ID [--every 30s]
 *   crewship-hook init                       (a crew container's process 1)
 *   crewship-hook stop --agent ID [--grace 10s]
 *
 * It speaks HTTP/1.1 to crewshipd's IPC socket ($CREWSHIP_SOCKET, default
 * /run/crewship/crewship.sock) with $CREWSHIP_INTERNAL_TOKEN. Plain sockets
 * and libc only, linked statically: it is bind-mounted into minimal images.
 *
 * Exit status: 0 success; 2 usage; 3 cannot reach the socket; 4 refused
 * (401/403); 5 other client errors (400, 404, 413, ...); 6 server error;
 * 7 timeout. With --every, transient failures (3, 6, 7) are reported and
 * retried at the next tick; the others end the loop. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_USAGE = 2, EXIT_UNREACHABLE = 3, EXIT_REFUSED = 4, EXIT_CLIENT = 5, EXIT_SERVER = 6,
       EXIT_TIMEOUT = 7 };

#define MAX_BODY 32768
#define MAX_REPLY 65536
#define MAX_DETAILS 64

static const char* socket_path;
static const char* token;
static int timeout_ms = 5000;

static void usage(void) {
  fputs("usage: crewship-hook presence <online|busy|blocked|offline> --agent ID [--detail KEY=VALUE ...]\n"
        "       crewship-hook heartbeat --agent ID [--every 30s]\n"
        "       crewship-hook init\n"
        "       crewship-hook stop --agent ID [--grace 10s]\n"
        "options: --timeout 5s\n"
        "environment: CREWSHIP_SOCKET (default /run/crewship/crewship.sock), CREWSHIP_INTERNAL_TOKEN\n",
        stderr);
}

/* "500ms", "2s", "5m", "1h" or bare seconds; -1 when malformed. */
static long parse_duration_ms(const char* s) {
  char* end = NULL;
  errno = 0;
  long n = strtol(s, &end, 10);
  if (errno != 0 || end == s || n < 0 || n > 86400L * 1000) return -1;
  if (strcmp(end, "ms") == 0) return n;
  if (*end == '\0' || strcmp(end, "s") == 0) return n * 1000;
  if (strcmp(end, "m") == 0) return n * 60000;
  if (strcmp(end, "h") == 0) return n * 3600000;
  return -1;
}

/* Appends s as a JSON string; returns 0 when it did not fit. */
static int put_json_string(char* out, size_t cap, size_t* len, const char* s) {
  static const char hex[] = "0123456789abcdef";
  if (*len + 2 > cap) return 0;
  out[(*len)++] = '"';
  for (const unsigned char* p = (const unsigned char*)s; *p; ++p) {
    char esc[7];
    size_t n = 0;
    if (*p == '"' || *p == '\\') {
      esc[n++] = '\\';
      esc[n++] = (char)*p;
    } else if (*p < 0x20) {
      memcpy(esc, "\\u00", 4);
      n = 4;
      esc[n++] = hex[*p >> 4];
      esc[n++] = hex[*p & 15];
    } else {
      esc[n++] = (char)*p;
    }
    if (*len + n + 1 > cap) return 0;
    memcpy(out + *len, esc, n);
    *len += n;
  }
  out[(*len)++] = '"';
  return 1;
}

static int put(char* out, size_t cap, size_t* len, const char* s) {
  size_t n = strlen(s);
  if (*len + n > cap) return 0;
  memcpy(out + *len, s, n);
  *len += n;
  return 1;
}

static int write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Sends one POST and reads the whole reply. Returns the HTTP status, or
 * -EXIT_* when the exchange failed; the reply body goes to body. */
static int post(const char* path, const char* json, char* body, size_t body_cap) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(socket_path) >= sizeof addr.sun_path) {
    fprintf(stderr, "crewship-hook: socket path too long: %s\n", socket_path);
    return -EXIT_UNREACHABLE;
  }
  strcpy(addr.sun_path, socket_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) {
    fprintf(stderr, "crewship-hook: cannot connect to %s: %s\n", socket_path, strerror(errno));
    if (fd >= 0) close(fd);
    return -EXIT_UNREACHABLE;
  }
  char req[MAX_BODY + 1024];
  int n = snprintf(req, sizeof req,
                   "POST %s HTTP/1.1\r\nHost: crewshipd\r\nX-Internal-Token: %s\r\n"
                   "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                   path, token, strlen(json), json);
  if (n < 0 || (size_t)n >= sizeof req || write_all(fd, req, (size_t)n) != 0) {
    fprintf(stderr, "crewship-hook: cannot send the request: %s\n", strerror(errno));
    close(fd);
    return -EXIT_UNREACHABLE;
  }
  static char reply[MAX_REPLY + 1];
  size_t got = 0;
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    long waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    struct pollfd p = {fd, POLLIN, 0};
    int r = waited >= timeout_ms ? 0 : poll(&p, 1, (int)(timeout_ms - waited));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      fprintf(stderr, "crewship-hook: no answer from %s within %d ms\n", socket_path, timeout_ms);
      close(fd);
      return -EXIT_TIMEOUT;
    }
    ssize_t m = recv(fd, reply + got, MAX_REPLY - got, 0);
    if (m < 0 && errno == EINTR) continue;
    if (m <= 0 || got + (size_t)m >= MAX_REPLY) {
      if (m > 0) got += (size_t)m;
      break;
    }
    got += (size_t)m;
  }
  close(fd);
  reply[got] = '\0';
  int status = 0;
  if (sscanf(reply, "HTTP/1.%*d %d", &status) != 1 || status < 100 || status > 599) {
    fprintf(stderr, "crewship-hook: malformed answer from %s\n", socket_path);
    return -EXIT_SERVER;
  }
  const char* b = strstr(reply, "\r\n\r\n");
  snprintf(body, body_cap, "%s", b ? b + 4 : "");
  return status;
}

/* The "detail" member of a problem+json body, or the body itself. */
static void report(int status, const char* body) {
  const char* d = strstr(body, "\"detail\":\"");
  if (d) {
    d += 10;
    const char* e = strchr(d, '"');
    fprintf(stderr, "crewship-hook: HTTP %d: %.*s\n", status, e ? (int)(e - d) : 200, d);
  } else {
    fprintf(stderr, "crewship-hook: HTTP %d: %.200s\n", status, body);
  }
}

static int exit_code(int status) {
  if (status < 0) return -status;
  if (status >= 200 && status < 300) return 0;
  if (status == 401 || status == 403) return EXIT_REFUSED;
  if (status >= 500) return EXIT_SERVER;
  return EXIT_CLIENT;
}

static int call(const char* path, const char* json, int quiet_ok) {
  char body[4096];
  int status = post(path, json, body, sizeof body);
  int code = exit_code(status);
  if (code != 0 && status > 0) report(status, body);
  if (code == 0 && !quiet_ok) puts(body);
  return code;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

/* Process 1 of a crew container: it keeps the container alive, reaps every
 * orphan (agents' grandchildren end up here), and on SIGTERM asks every
 * process to stop, waits a little, then kills what is left and exits. */
static int run_init(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, NULL);
  for (;;) {
    int sig = sigwaitinfo(&set, NULL);
    if (sig < 0) continue;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    if (sig == SIGCHLD) continue;
    /* Agents are execs, not children of this process: wait until no
     * process is left at all, not just until no child is. */
    kill(-1, SIGTERM);
    for (int i = 0; i < 50; ++i) { /* 5 s */
      while (waitpid(-1, NULL, WNOHANG) > 0) {
      }
      if (kill(-1, 0) < 0 && errno == ESRCH) return 0;
      struct timespec ts = {0, 100000000};
      nanosleep(&ts, NULL);
    }
    kill(-1, SIGKILL);
    return 0;
  }
}

/* Whether the NUL-separated environment read from fd holds the entry needle;
 * read in pieces, so an environment of any size is searched whole. */
static int environ_has(int fd, const char* needle) {
  size_t nlen = strlen(needle);
  char buf[8192];
  char entry[320]; /* the current entry's start, as far as it can match */
  size_t elen = 0;
  int too_long = 0;
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] == '\0') {
        if (!too_long && elen == nlen && memcmp(entry, needle, nlen) == 0) return 1;
        elen = 0;
        too_long = 0;
      } else if (elen < sizeof entry) {
        entry[elen++] = buf[i];
      } else {
        too_long = 1;
      }
    }
  }
  return 0;
}

/* Signals every process whose environment carries CREWSHIP_AGENT_ID=<agent>
 * (what crewshipd gives an agent's run, inherited by its whole tree);
 * returns how many there were. */
static int signal_agent(const char* agent, int sig) {
  char needle[320];
  int nlen = snprintf(needle, sizeof needle, "CREWSHIP_AGENT_ID=%s", agent);
  if (nlen <= 0 || (size_t)nlen >= sizeof needle) return 0;
  DIR* proc = opendir("/proc");
  if (!proc) return 0;
  int found = 0;
  pid_t self = getpid();
  struct dirent* d;
  while ((d = readdir(proc)) != NULL) {
    char* end;
    long pid = strtol(d->d_name, &end, 10);
    if (*end != '\0' || pid <= 1 || pid == self) continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/environ", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    if (environ_has(fd, needle) && kill((pid_t)pid, sig) == 0) ++found;
    close(fd);
  }
  closedir(proc);
  return found;
}

/* TERM to the agent's processes, up to grace for them to go, then KILL. */
static int run_stop(const char* agent, long grace_ms) {
  int term = signal_agent(agent, SIGTERM);
  int killed = 0;
  for (long waited = 0; term > 0; waited += 100) {
    if (signal_agent(agent, 0) == 0) break;
    if (waited >= grace_ms) {
      killed = signal_agent(agent, SIGKILL);
      break;
    }
    struct timespec ts = {0, 100000000};
    nanosleep(&ts, NULL);
  }
  printf("{\"terminated\":%d,\"killed\":%d}\n", term, killed);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    usage();
    return EXIT_USAGE;
  }
  if (strcmp(argv[1], "init") == 0) return run_init();
  if (strcmp(argv[1], "stop") == 0) {
    const char* agent = NULL;
    long grace_ms = 10000;
    for (int a = 2; a + 1 < argc; a += 2) {
      if (strcmp(argv[a], "--agent") == 0) agent = argv[a + 1];
      else if (strcmp(argv[a], "--grace") == 0) grace_ms = parse_duration_ms(argv[a + 1]);
    }
    if (!agent || !*agent || grace_ms < 0 || argc % 2 != 0) {
      usage();
      return EXIT_USAGE;
    }
    return run_stop(agent, grace_ms);
  }
  socket_path = getenv("CREWSHIP_SOCKET");
  if (!socket_path || !*socket_path) socket_path = "/run/crewship/crewship.sock";
  token = getenv("CREWSHIP_INTERNAL_TOKEN");

  const char* cmd = argv[1];
  const char* status = NULL;
  const char* agent = NULL;
  const char* details[MAX_DETAILS];
  int ndetails = 0;
  long every_ms = 0;
  int i = 2;
  if (strcmp(cmd, "presence") == 0) {
    if (argc < 3) {
      usage();
      return EXIT_USAGE;
    }
    status = argv[i++];
    if (strcmp(status, "online") && strcmp(status, "busy") && strcmp(status, "blocked") &&
        strcmp(status, "offline")) {
      fprintf(stderr, "crewship-hook: status must be online, busy, blocked or offline\n");
      return EXIT_USAGE;
    }
  } else if (strcmp(cmd, "heartbeat") != 0) {
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
      usage();
      return 0;
    }
    fprintf(stderr, "crewship-hook: unknown command '%s'\n", cmd);
    usage();
    return EXIT_USAGE;
  }
  for (; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--agent") == 0 && v) {
      agent = v;
    } else if (strcmp(a, "--detail") == 0 && v && status) {
      if (!strchr(v, '=') || v[0] == '=' || ndetails == MAX_DETAILS) {
        fprintf(stderr, "crewship-hook: --detail takes KEY=VALUE (at most %d)\n", MAX_DETAILS);
        return EXIT_USAGE;
      }
      details[ndetails++] = v;
    } else if (strcmp(a, "--every") == 0 && v && !status) {
      if ((every_ms = parse_duration_ms(v)) <= 0) {
        fprintf(stderr, "crewship-hook: --every takes a duration such as 30s\n");
        return EXIT_USAGE;
      }
    } else if (strcmp(a, "--timeout") == 0 && v) {
      long t = parse_duration_ms(v);
      if (t <= 0 || t > 600000) {
        fprintf(stderr, "crewship-hook: --timeout takes a duration such as 5s\n");
        return EXIT_USAGE;
      }
      timeout_ms = (int)t;
    } else {
      fprintf(stderr, "crewship-hook: unexpected argument '%s'\n", a);
      usage();
      return EXIT_USAGE;
    }
    ++i;
  }
  if (!agent || !*agent) {
    fprintf(stderr, "crewship-hook: --agent ID is required\n");
    return EXIT_USAGE;
  }
  if (!token || !*token) {
    fprintf(stderr, "crewship-hook: CREWSHIP_INTERNAL_TOKEN is not set\n");
    return EXIT_USAGE;
  }

  char json[MAX_BODY];
  size_t len = 0;
  int ok = put(json, sizeof json, &len, "{\"agent_id\":") && put_json_string(json, sizeof json, &len, agent);
  if (status) {
    ok = ok && put(json, sizeof json, &len, ",\"status\":") && put_json_string(json, sizeof json, &len, status);
    if (ndetails > 0) ok = ok && put(json, sizeof json, &len, ",\"details\":{");
    for (int d = 0; d < ndetails && ok; ++d) {
      char key[256];
      const char* eq = strchr(details[d], '=');
      size_t klen = (size_t)(eq - details[d]);
      if (klen >= sizeof key) klen = sizeof key - 1;
      memcpy(key, details[d], klen);
      key[klen] = '\0';
      ok = (d == 0 || put(json, sizeof json, &len, ",")) && put_json_string(json, sizeof json, &len, key) &&
           put(json, sizeof json, &len, ":") && put_json_string(json, sizeof json, &len, eq + 1);
    }
    if (ndetails > 0) ok = ok && put(json, sizeof json, &len, "}");
  }
  ok = ok && put(json, sizeof json, &len, "}");
  if (!ok || len >= sizeof json) {
    fprintf(stderr, "crewship-hook: arguments too long\n");
    return EXIT_USAGE;
  }
  json[len] = '\0';

  if (status) return call("/api/v1/internal/presence", json, 0);
  if (every_ms == 0) return call("/api/v1/internal/presence/heartbeat", json, 0);

  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  while (!stop) {
    int code = call("/api/v1/internal/presence/heartbeat", json, 1);
    if (code == EXIT_REFUSED || code == EXIT_CLIENT) return code;
    struct timespec ts = {every_ms / 1000, (every_ms % 1000) * 1000000};
    while (!stop && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }
  return 0;
}
