#include "api/memory_files.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "api/common.h"
#include "daemon/crypto.h"
#include "daemon/dirs.h"
#include "daemon/offload.h"

namespace crewship::api {
namespace {

Problem file_failure(int err, const std::string& path) {
  Problem p = fail(500, "file system error");
  p.cause = path + ": " + strerror(err);
  return p;
}

struct Change {
  std::string dir, name;  // absolute directory, file name
  std::optional<std::string> content;
  StagedFile staged;
  std::string tmp;  // the staged file, until it is renamed or removed
  int err = 0;      // staging: a negative errno
};

}  // namespace

bool memory_id_ok(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string agent_persona_path(std::string_view agent_id) {
  return "memory/agents/" + std::string(agent_id) + "/PERSONA.md";
}

std::string crew_persona_path(std::string_view crew_id) {
  return "memory/crews/" + std::string(crew_id) + "/PERSONA.md";
}

std::string peer_card_path(std::string_view agent_id, std::string_view user_id) {
  return "memory/agents/" + std::string(agent_id) + "/peers/" + std::string(user_id) + ".md";
}

int sweep_memory_staging(const std::string& data_dir) { return remove_staged_files(data_dir + "/memory"); }

void change_memory_file(App& app, std::string path, std::optional<std::string> content, RecordChange record,
                        std::function<void(Status)> done) {
  auto c = std::make_shared<Change>();
  std::string full = app.config.data_dir + "/" + path;
  size_t slash = full.rfind('/');
  c->dir = full.substr(0, slash);
  c->name = full.substr(slash + 1);
  c->content = std::move(content);
  auto commit = [&app, c, record = std::move(record), done = std::move(done)]() mutable {
    if (c->err < 0) return done(file_failure(-c->err, c->dir + "/" + c->name));
    submit(
        app,
        [c, record = std::move(record)](store::Connection& w) -> Status {
          if (auto st = record(w, c->staged); !st) return st;
          int r = c->content ? place_file(c->tmp, c->dir, c->name) : remove_file(c->dir, c->name);
          if (r < 0) return file_failure(-r, c->dir + "/" + c->name);
          if (c->content) c->tmp.clear();  // renamed into place
          return {};
        },
        [&app, c, done = std::move(done)](Status st) mutable {
          // The directory's sync waits for no other write: the writer's
          // groups keep committing while it runs, and the answer waits for it.
          offload(
              app.loop,
              [c, ok = st.ok()] {
                if (!c->tmp.empty()) unlink(c->tmp.c_str());
                if (ok) c->err = sync_dir(c->dir);
                // Removing what was never written leaves no directory to sync.
                if (!c->content && c->err == -ENOENT) c->err = 0;
              },
              [c, st = std::move(st), done = std::move(done)]() mutable {
                if (st && c->err < 0) return done(file_failure(-c->err, c->dir));
                done(std::move(st));
              });
        });
  };
  if (!c->content) return commit();
  offload(
      app.loop,
      [c] {
        c->staged.sha256 = crypto::hex(crypto::sha256(*c->content));
        c->staged.bytes = static_cast<int64_t>(c->content->size());
        c->err = stage_file(c->dir, c->name, *c->content, 0600, &c->tmp);
        if (c->err < 0) c->tmp.clear();
      },
      std::move(commit));
}

void read_memory_file(App& app, std::vector<std::string> paths, size_t max,
                      std::function<void(Result<FoundFile>)> done) {
  struct Read {
    std::vector<std::string> paths;
    FoundFile found;
    int err = 0;
    std::string failed;
  };
  auto job = std::make_shared<Read>();
  for (std::string& p : paths) job->paths.push_back(app.config.data_dir + "/" + p);
  offload(
      app.loop,
      [job, max] {
        for (size_t i = 0; i < job->paths.size(); ++i) {
          int r = read_small_file(job->paths[i], max, &job->found.content);
          if (r == -ENOENT) continue;
          if (r < 0) {
            job->err = r;
            job->failed = job->paths[i];
          } else {
            job->found.index = static_cast<int>(i);
          }
          return;
        }
        job->found.content.clear();
      },
      [job, done = std::move(done)] {
        if (job->err < 0) return done(file_failure(-job->err, job->failed));
        done(std::move(job->found));
      });
}

}  // namespace crewship::api
