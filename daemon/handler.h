// What the handlers of both listeners (api/, ipc/) build on: their view of an
// exchange, which carries the caller the listener's guard established, and
// the answers, body and paging input, and store writes they all share.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "daemon/http_server.h"
#include "daemon/json.h"
#include "daemon/principal.h"
#include "daemon/result.h"
#include "daemon/router.h"
#include "store/writer.h"

namespace crewship {

struct App;

// An HTTP exchange plus who is calling. Servers of the composition root make
// these (ServerOptions::new_exchange = new_exchange), so a handler's exchange
// is always one.
class Exchange final : public http::Exchange {
 public:
  Exchange() = default;
  Principal who;  // filled by the listener's guard
};
using ExchangePtr = std::shared_ptr<Exchange>;

http::ExchangePtr new_exchange();

// The Access a route was registered with, or null when it asks nothing.
inline const Access* access_of(const Route* route) {
  return route != nullptr ? static_cast<const Access*>(route->policy) : nullptr;
}

void reply(const ExchangePtr& ex, int status, std::string json_body);
inline void reply(const ExchangePtr& ex, int status, const json::Out& out) {
  reply(ex, status, out.take());
}
void reply_problem(const ExchangePtr& ex, int status, std::string_view detail);
// Answers a Problem (with Retry-After when it has one), logging its cause once.
void reply_problem(const ExchangePtr& ex, const Problem& p);
// The answer reply_problem sends, for a caller that hands a Response on;
// logs the cause with the request id.
http::Response problem_response(const Exchange& ex, const Problem& p);
void reply_no_content(const ExchangePtr& ex);

// Parses the request body as one JSON object; otherwise answers 400 and
// returns false.
bool read_json(const ExchangePtr& ex, rapidjson::Document* doc);

struct Page {
  int64_t limit = 20;
  int64_t offset = 0;
};
// ?limit= (a positive integer, clamped to max) and ?offset= (>= 0); answers
// 400 and returns false on anything else.
bool read_page(const ExchangePtr& ex, int64_t default_limit, int64_t max_limit, Page* out);

// Queues a write; done runs on the loop thread once it is committed (rc ==
// SQLITE_OK) or failed. The work runs on the writer thread: it must only use
// what it captured by value.
void write(App& app, store::Writer::Work work, store::Writer::Done done);

}  // namespace crewship
