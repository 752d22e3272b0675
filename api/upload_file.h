// A request body kept in a temporary file instead of memory: the sink of the
// file save's routes (Route::body_sink). The file is <data>/tmp/upload-<random>,
// created 0600 with O_EXCL at the first piece; every write runs on the thread
// pool. It is removed when the sink is destroyed, whatever happened (answered,
// failed, the client gone, the daemon stopping), and what a killed process
// left is removed at the next start (reset_upload_dir).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <uv.h>

#include "daemon/http_server.h"

namespace crewship::api {

class UploadFile final : public http::BodySink {
 public:
  UploadFile(uv_loop_t* loop, const std::string& dir);
  ~UploadFile() override;
  UploadFile(const UploadFile&) = delete;
  UploadFile& operator=(const UploadFile&) = delete;

  void write(std::string piece, std::function<void(int err)> done) override;

  // Once the body is complete (no write in flight), for work on the pool:
  // the file, its descriptor (-1 when no byte came, so no file was made) and
  // its size. The file may be renamed away; removing it then finds nothing.
  const std::string& path() const;
  int fd() const;
  int64_t size() const;

  struct State;  // (upload_file.cc)

 private:
  uv_loop_t* loop_;
  std::shared_ptr<State> state_;
};

// <data>/tmp, where uploads are written.
std::string upload_dir(const std::string& data_dir);
// At start, before any listener: makes dir (0700) and removes every file a
// previous process left in it. Returns 0 or a negative errno.
int reset_upload_dir(const std::string& dir);

}  // namespace crewship::api
