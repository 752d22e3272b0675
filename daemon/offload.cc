#include "daemon/offload.h"

#include <cassert>

namespace crewship {
namespace {

struct Job {
  uv_work_t req;
  std::function<void()> work;
  std::function<void()> done;
};

}  // namespace

void offload(uv_loop_t* loop, std::function<void()> work, std::function<void()> done) {
  auto* job = new Job{{}, std::move(work), std::move(done)};
  job->req.data = job;
  int r = uv_queue_work(
      loop, &job->req, [](uv_work_t* req) { static_cast<Job*>(req->data)->work(); },
      [](uv_work_t* req, int) {
        Job* j = static_cast<Job*>(req->data);
        j->done();
        delete j;
      });
  assert(r == 0);  // fails only for a null callback
  (void)r;
}

}  // namespace crewship
