// Runs blocking work (file system walks, reads, fsync) on libuv's thread pool
// and its completion back on the loop. work must only touch what it owns or
// captured by value; done runs on the loop thread, always.
#pragma once

#include <functional>

#include <uv.h>

namespace crewship {

void offload(uv_loop_t* loop, std::function<void()> work, std::function<void()> done);

}  // namespace crewship
