#include "api/upload_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <utility>

#include "daemon/dirs.h"
#include "daemon/ids.h"
#include "daemon/offload.h"

namespace crewship::api {

// Shared by the sink and the write on the pool, so a sink destroyed while a
// piece is being written leaves the removal to that write's end: the
// descriptor is never closed under a write.
struct UploadFile::State {
  std::string path;
  int fd = -1;
  int64_t size = 0;
  bool busy = false;       // a write is on the pool
  bool abandoned = false;  // the sink is gone: remove once not busy
};

namespace {

constexpr std::string_view kPrefix = "upload-";

void remove_on_pool(uv_loop_t* loop, const std::shared_ptr<UploadFile::State>& state) {
  offload(loop, [state] {
    if (state->fd >= 0) close(state->fd);
    state->fd = -1;
    unlink(state->path.c_str());  // ENOENT: never made, or renamed into place
  }, [] {});
}

}  // namespace

UploadFile::UploadFile(uv_loop_t* loop, const std::string& dir)
    : loop_(loop), state_(std::make_shared<State>()) {
  state_->path = dir + "/" + std::string(kPrefix) + random_hex(12);
}

UploadFile::~UploadFile() {
  state_->abandoned = true;
  if (!state_->busy) remove_on_pool(loop_, state_);
}

void UploadFile::write(std::string piece, std::function<void(int)> done) {
  auto job = std::make_shared<std::pair<std::string, int>>(std::move(piece), 0);
  state_->busy = true;
  offload(loop_, [s = state_, job] {
    if (s->fd < 0) {
      // O_EXCL: a name that exists is never written through, a link neither.
      s->fd = open(s->path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (s->fd < 0) {
        job->second = -errno;
        return;
      }
    }
    job->second = write_all(s->fd, job->first);
    if (job->second == 0) s->size += static_cast<int64_t>(job->first.size());
  }, [loop = loop_, s = state_, job, done = std::move(done)] {
    s->busy = false;
    if (s->abandoned) return remove_on_pool(loop, s);
    done(job->second);
  });
}

const std::string& UploadFile::path() const { return state_->path; }
int UploadFile::fd() const { return state_->fd; }
int64_t UploadFile::size() const { return state_->size; }

std::string upload_dir(const std::string& data_dir) { return data_dir + "/tmp"; }

int reset_upload_dir(const std::string& dir) {
  if (int r = make_dirs(dir, 0700); r != 0) return r;
  // Made by someone else, or by an older version: uploads are the users' files.
  if (chmod(dir.c_str(), 0700) != 0) return -errno;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return -errno;
  while (dirent* e = readdir(d)) {
    if (std::string_view(e->d_name).starts_with(kPrefix)) unlinkat(dirfd(d), e->d_name, 0);
  }
  closedir(d);
  return 0;
}

}  // namespace crewship::api
