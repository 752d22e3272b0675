#include "store/store.h"

#include "store/migrations.h"

namespace crewship::store {

int Store::open(uv_loop_t* loop, const std::string& data_dir, size_t max_group,
                std::string* error) {
  std::string path = data_dir + "/" + kFileName;
  int rc = Connection::make_private(path, error);
  if (rc != SQLITE_OK) return rc;
  std::unique_ptr<Connection> w;
  if ((rc = Connection::open(path, Connection::Mode::kWrite, &w, error)) != SQLITE_OK) return rc;
  if ((rc = migrate(*w, error)) != SQLITE_OK) return rc;
  if ((rc = Connection::open(path, Connection::Mode::kRead, &reader_, error)) != SQLITE_OK)
    return rc;
  std::unique_ptr<Connection> checkpoints;
  if ((rc = Connection::open(path, Connection::Mode::kWrite, &checkpoints, error)) != SQLITE_OK)
    return rc;
  if ((rc = writer_.start(loop, std::move(w), max_group, std::move(checkpoints))) != 0) {
    *error = uv_strerror(rc);
    return SQLITE_ERROR;
  }
  writer_started_ = true;
  return SQLITE_OK;
}

void Store::close(std::function<void()> done) {
  if (!writer_started_) {
    reader_.reset();
    done();
    return;
  }
  writer_started_ = false;
  writer_.stop([this, done = std::move(done)] {
    reader_.reset();
    done();
  });
}

}  // namespace crewship::store
