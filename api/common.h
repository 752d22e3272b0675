// What public handlers share: answers, body and paging input, writes through
// the store's writer, slugs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "daemon/app.h"
#include "daemon/http_server.h"
#include "daemon/json.h"
#include "daemon/json_input.h"
#include "daemon/result.h"
#include "store/db.h"
#include "store/writer.h"

namespace crewship::api {

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

// Writes key: the text of column col, or null when the column is NULL.
void nullable(json::Out& out, std::string_view key, const store::StmtLease& s, int col);

// Answers 200 with a bare JSON array, one element per item as write(out,
// item) writes it, or the problem that stopped the read.
template <class T, class Write>
void reply_list(const ExchangePtr& ex, const Result<std::vector<T>>& items, Write write) {
  if (!items) return reply_problem(ex, items.problem());
  json::Out out;
  out.begin_array();
  for (const T& item : *items) write(out, item);
  out.end_array();
  reply(ex, 200, out);
}

// Writes key: the string, or null when there is none.
void nullable(json::Out& out, std::string_view key, const std::optional<std::string>& v);

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
// Queues work returning a Result<T> or Status (see store::submit); done gets
// that result on the loop thread, a store failure when the commit failed.
template <class Work, class Done>
void submit(App& app, Work work, Done done) {
  store::submit(app.store.writer(), std::move(work), std::move(done));
}
// Answers 500 for an unexpected store error, logging it once.
void reply_store_error(const ExchangePtr& ex, int rc);

// ^[a-z0-9][a-z0-9_-]*$, 2-50 characters.
bool valid_slug(std::string_view slug);
extern const std::string_view kBadSlug;  // the 400 detail for an invalid slug
// Nothing but white space.
bool blank(std::string_view s);
// The checks every named resource shares: a present name is not blank and a
// present slug is valid. Answers 400 and returns false otherwise.
bool check_name_and_slug(const ExchangePtr& ex, const json::Field<std::string>& name,
                         const json::Field<std::string>& slug);
// A slug from a display name ("Backend Dev!" -> "backend-dev"), 2-50 chars.
std::string slugify(std::string_view name);

}  // namespace crewship::api
