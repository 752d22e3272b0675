// An agent's host workspace, <data>/storage/crews/<crew>/<slug> (its crew
// container's /output/<slug>): list it, download a file, save one. The IPC
// table serves the same handlers under /api/v1/internal/.
//
// The agent writes that directory from inside its container, symlinks
// included, so every path is opened beneath it with openat2(RESOLVE_BENEATH)
// and a way out answers 403. All file system work runs on the thread pool.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "api/agent_ref.h"
#include "api/common.h"
#include "api/routes.h"
#include "api/upload_file.h"
#include "daemon/app.h"
#include "daemon/dirs.h"
#include "daemon/ids.h"
#include "daemon/log.h"
#include "daemon/offload.h"

namespace crewship::api {
namespace {

constexpr int kListDepth = 3;
constexpr size_t kMaxEntries = 10000;  // a longer listing is cut there

struct Fd {
  int fd;  // or a negative errno
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

int or_errno(int r) { return r < 0 ? -errno : r; }

// Kernels before 5.6 have no openat2: one component at a time, each checked
// not to be a symlink and opened with O_NOFOLLOW, so every symlink is refused
// (ELOOP), not only those that lead out.
int open_by_components(int root, const std::string& rel, int flags) {
  int dir = root;
  for (size_t start = 0;;) {
    size_t slash = rel.find('/', start);
    std::string part = rel.substr(start, slash - start);
    const char* name = part.empty() ? "." : part.c_str();
    struct stat st;
    int fd;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      fd = -errno;
    } else if (S_ISLNK(st.st_mode)) {
      fd = -ELOOP;
    } else {
      int how = slash == std::string::npos ? flags : O_PATH | O_DIRECTORY;
      fd = or_errno(openat(dir, name, how | O_NOFOLLOW | O_CLOEXEC));
    }
    if (dir != root) close(dir);
    if (fd < 0 || slash == std::string::npos) return fd;
    dir = fd;
    start = slash + 1;
  }
}

// Opens rel ("" is root itself) without leaving root: a symlink that points
// out, absolute or through "..", fails with EXDEV, a magic link with ELOOP.
int open_beneath(int root, const std::string& rel, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = syscall(SYS_openat2, root, rel.empty() ? "." : rel.c_str(), &how, sizeof how);
  if (fd >= 0) return static_cast<int>(fd);
  return errno == ENOSYS ? open_by_components(root, rel, flags) : -errno;
}

// The agent's directory. The container owns <slug> and could replace it with
// a symlink: that is refused (ELOOP), never followed. With create, what is
// missing is made first (a save before the agent's first run).
int open_agent_dir(const std::string& dir, bool create) {
  int fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return -ec.value();
    fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd >= 0) return fd;
  return errno == ENOTDIR ? -ELOOP : -errno;
}

// Opens directory rel beneath root for reading, making what is missing of it.
int make_dirs_beneath(int root, const std::string& rel) {
  int fd = open_beneath(root, rel, O_RDONLY | O_DIRECTORY);
  if (fd != -ENOENT) return fd;
  size_t slash = rel.rfind('/');
  Fd parent(make_dirs_beneath(root, slash == std::string::npos ? "" : rel.substr(0, slash)));
  if (parent.fd < 0) return parent.fd;
  if (mkdirat(parent.fd, rel.c_str() + slash + 1, 0755) != 0 && errno != EEXIST) return -errno;
  return open_beneath(root, rel, O_RDONLY | O_DIRECTORY);
}

struct Entry {
  std::string path;  // relative to the agent's directory
  int64_t size;
  bool is_dir;
  time_t mod_time;
};

// The inputs and results of one operation on the pool.
struct Job {
  std::string dir;   // the agent's directory on the host
  std::string path;  // normalised, relative to dir
  std::string data;  // download: the bytes read
  // save: the body, in a temporary file (UploadFile); fd -1 when empty
  std::string upload_path;
  int upload_fd = -1;
  int64_t upload_size = 0;
  std::vector<Entry> entries;
  int err = 0;  // negative errno
};

// Appends what lies below dir (rel from the agent's directory), depth levels
// down. A symlink is an entry of its own, never followed. Takes dir.
void walk(int dir, const std::string& rel, int depth, std::vector<Entry>* out) {
  DIR* d = fdopendir(dir);
  if (d == nullptr) {
    close(dir);
    return;
  }
  while (out->size() < kMaxEntries) {
    dirent* e = readdir(d);
    if (e == nullptr) break;
    std::string_view name = e->d_name;
    struct stat st;
    if (name == "." || name == ".." || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      continue;  // the latter: removed meanwhile
    std::string path = rel.empty() ? std::string(name) : rel + "/" + e->d_name;
    bool is_dir = S_ISDIR(st.st_mode);
    out->push_back({path, st.st_size, is_dir, st.st_mtim.tv_sec});
    if (!is_dir || depth == 1) continue;
    int child = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child >= 0) walk(child, path, depth - 1, out);
  }
  closedir(d);
}

int list_files(Job& job) {
  Fd root(open_agent_dir(job.dir, false));
  if (root.fd == -ENOENT) return 0;  // nothing written yet
  if (root.fd < 0) return root.fd;
  int dir = open_beneath(root.fd, job.path, O_RDONLY | O_DIRECTORY);
  if (dir < 0) return dir;
  walk(dir, job.path, kListDepth, &job.entries);
  std::sort(job.entries.begin(), job.entries.end(),
            [](const Entry& a, const Entry& b) { return a.path < b.path; });
  return 0;
}

int read_file(Job& job) {
  Fd root(open_agent_dir(job.dir, false));
  if (root.fd < 0) return root.fd;
  // O_NONBLOCK: opening a FIFO the agent planted must not stall a pool thread.
  Fd in(open_beneath(root.fd, job.path, O_RDONLY | O_NONBLOCK));
  if (in.fd < 0) return in.fd;
  return read_whole(in.fd, kAgentFileMaxBytes, &job.data);
}

// Copies what from holds to out, a piece at a time.
int copy_file(int from, int out) {
  std::string buf(256 << 10, '\0');
  for (off_t at = 0;;) {
    ssize_t n = pread(from, buf.data(), buf.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) return 0;
    if (int err = write_all(out, std::string_view(buf.data(), static_cast<size_t>(n))); err != 0) return err;
    at += n;
  }
}

int save_file(Job& job) {
  Fd root(open_agent_dir(job.dir, true));
  if (root.fd < 0) return root.fd;
  // What the path names now: refused when it leads out, its mode kept.
  mode_t mode = 0644;
  if (Fd old(open_beneath(root.fd, job.path, O_PATH)); old.fd >= 0) {
    struct stat st;
    if (fstat(old.fd, &st) != 0) return -errno;
    if (S_ISDIR(st.st_mode)) return -EISDIR;
    mode = st.st_mode & 0777;
  } else if (old.fd != -ENOENT) {
    return old.fd;
  }
  size_t slash = job.path.rfind('/');
  Fd dir(make_dirs_beneath(root.fd, slash == std::string::npos ? "" : job.path.substr(0, slash)));
  if (dir.fd < 0) return dir.fd;
  const char* name = job.path.c_str() + slash + 1;
  // The body's temporary file is renamed over the target, so readers see the
  // old file or the new one, never a part; the syncs make both survive a
  // crash. Where the agent's directory is another file system, a copy is
  // written aside in it and renamed the same way.
  if (job.upload_fd >= 0) {
    if (fchmod(job.upload_fd, mode) != 0 || fsync(job.upload_fd) != 0) return -errno;
    if (renameat(AT_FDCWD, job.upload_path.c_str(), dir.fd, name) == 0) return fsync(dir.fd) == 0 ? 0 : -errno;
    if (errno != EXDEV) return -errno;
  }
  std::string tmp = ".crewship-save-" + random_hex(8);
  Fd out(or_errno(openat(dir.fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)));
  if (out.fd < 0) return out.fd;
  int err = job.upload_fd >= 0 ? copy_file(job.upload_fd, out.fd) : 0;
  if (err == 0 && fsync(out.fd) != 0) err = -errno;
  if (err == 0 && renameat(dir.fd, tmp.c_str(), dir.fd, name) != 0) err = -errno;
  if (err != 0) {
    unlinkat(dir.fd, tmp.c_str(), 0);
    return err;
  }
  return fsync(dir.fd) == 0 ? 0 : -errno;
}

// The answer for a failed file system call on the client's ?<what>= path.
void reply_fs_error(const ExchangePtr& ex, int err, std::string_view what) {
  std::string w(what);
  switch (err) {
    case ENOENT: return reply_problem(ex, 404, w + " not found");
    case ENOTDIR: return reply_problem(ex, 409, "a component of " + w + " is not a directory");
    case EISDIR: return reply_problem(ex, 400, w + " is not a regular file");
    case EXDEV:
    case ELOOP: return reply_problem(ex, 403, w + " leads outside the agent's directory");
    case EACCES:
    case EPERM: return reply_problem(ex, 403, "permission denied");
    case EFBIG:
      return reply_problem(ex, 413, "file is larger than " + std::to_string(kAgentFileMaxBytes >> 20) + " MiB");
  }
  LOG_ERROR("[%s] agent files: %s", ex->req.id.c_str(), strerror(err));
  reply_problem(ex, 500, "file system error");
}

// RFC 6266: an ASCII fallback in filename, the exact name in filename*
// (RFC 8187), so neither quotes nor line breaks reach the header.
std::string attachment(std::string_view name) {
  static constexpr std::string_view kAttrChars = "!#$&+-.^_`|~";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string ascii, exact;
  for (unsigned char c : name) {
    ascii += c < 0x20 || c >= 0x7f || c == '"' || c == '\\' ? '_' : static_cast<char>(c);
    if (isalnum(c) || kAttrChars.find(static_cast<char>(c)) != std::string_view::npos) {
      exact += static_cast<char>(c);
    } else {
      exact += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + exact;
}

void answer_list(const ExchangePtr& ex, Job& job) {
  json::Out out;
  out.begin_array();
  for (const Entry& e : job.entries) {
    out.begin_object();
    out.member("path", json::printable(e.path));
    out.member("name", json::printable(e.path.substr(e.path.rfind('/') + 1)));
    out.member("size", e.size);
    out.member("is_dir", e.is_dir);
    out.member("mod_time", rfc3339(e.mod_time));
    out.end_object();
  }
  out.end_array();
  reply_list(ex, "files", out.take());
}

void answer_download(const ExchangePtr& ex, Job& job) {
  http::Response r;
  r.content_type = "application/octet-stream";
  r.headers.push_back({"Content-Disposition", attachment(job.path.substr(job.path.rfind('/') + 1))});
  r.body = std::move(job.data);
  ex->respond(std::move(r));
}

void answer_save(const ExchangePtr& ex, Job& job) {
  json::Out out;
  out.begin_object();
  out.member("path", json::printable(job.path));
  out.member("size", job.upload_size);
  out.end_object();
  reply(ex, 200, out);
}

// Finds the agent and reads ?<param>=, runs op on the thread pool and answers
// on the loop.
void run(App& app, const ExchangePtr& ex, std::string_view param, bool required, int (*op)(Job&),
         void (*answer)(const ExchangePtr&, Job&)) {
  AgentRef agent;
  if (!find_agent(app, ex, &agent, /*need_crew=*/true)) return;
  auto job = std::make_shared<Job>();
  if (!normalise_relative_path(ex->req.query_param(param).value_or(""), &job->path))
    return reply_problem(ex, 400, std::string(param) + std::string(kBadRelativePath));
  if (required && job->path.empty()) return reply_problem(ex, 400, std::string(param) + " is required");
  job->dir = agent_storage_dir(app.config, agent);
  // The save's body is in its temporary file (save_body_sink), which lives
  // with ex: the completion below holds it until the file is in place.
  if (auto* upload = static_cast<UploadFile*>(ex->body_sink.get())) {
    job->upload_path = upload->path();
    job->upload_fd = upload->fd();
    job->upload_size = upload->size();
  }
  offload(ex->loop(), [job, op] { job->err = op(*job); }, [ex, job, param, answer] {
    if (job->err < 0) return reply_fs_error(ex, -job->err, param);
    answer(ex, *job);
  });
}

}  // namespace

// GET .../agents/{agentId}/files?subdir=: entries {path, name, size, is_dir,
// mod_time} down to kListDepth below subdir, sorted by path, at most
// kMaxEntries; [] when the agent's directory does not exist yet.
void list_agent_files(App& app, const ExchangePtr& ex) {
  run(app, ex, "subdir", false, list_files, answer_list);
}

// GET .../agents/{agentId}/files/download?path=: the file's bytes, whole in
// memory, so files over kAgentFileMaxBytes answer 413.
void download_agent_file(App& app, const ExchangePtr& ex) {
  run(app, ex, "path", true, read_file, answer_download);
}

// PUT .../agents/{agentId}/files/save?path=: the request body becomes the
// file, atomically, with missing directories made; {"path", "size"}. The
// body never sits in memory: the route's sink writes it to a temporary file
// under the data dir, which becomes the file.
void save_agent_file(App& app, const ExchangePtr& ex) {
  run(app, ex, "path", true, save_file, answer_save);
}

std::unique_ptr<http::BodySink> save_body_sink(void* app, http::Exchange& ex) {
  return std::make_unique<UploadFile>(ex.loop(), upload_dir(static_cast<App*>(app)->config.data_dir));
}

}  // namespace crewship::api
