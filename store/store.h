// The database of a data dir: migrated at open, one writer thread, and a read
// connection for the loop thread (WAL: reads never wait for the writer).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <uv.h>

#include "store/db.h"
#include "store/writer.h"

namespace crewship::store {

class Store {
 public:
  static constexpr const char* kFileName = "crewship.db";

  // Opens <data_dir>/crewship.db, runs the migrations and starts the writer.
  int open(uv_loop_t* loop, const std::string& data_dir, size_t max_group, std::string* error);
  Writer& writer() { return writer_; }
  Connection& reader() { return *reader_; }  // loop thread only
  bool is_open() const { return reader_ != nullptr; }
  // Commits pending writes, stops the writer, closes the reader; then done.
  void close(std::function<void()> done);

 private:
  Writer writer_;
  std::unique_ptr<Connection> reader_;
  bool writer_started_ = false;
};

}  // namespace crewship::store
