#include "daemon/handler.h"

#include <charconv>

#include "daemon/app.h"
#include "daemon/json_input.h"
#include "daemon/log.h"
#include "daemon/problem.h"

namespace crewship {

http::ExchangePtr new_exchange() { return std::make_shared<Exchange>(); }

void reply(const ExchangePtr& ex, int status, std::string json_body) {
  ex->respond(http::Response::json(status, std::move(json_body)));
}

void reply_problem(const ExchangePtr& ex, int status, std::string_view detail) {
  ex->respond(problem(status, detail, ex->req.path));
}

http::Response problem_response(const Exchange& ex, const Problem& p) {
  if (!p.cause.empty()) LOG_ERROR("[%s] %s", ex.req.id.c_str(), p.cause.c_str());
  http::Response r = problem(p.status, p.detail, ex.req.path);
  if (p.retry_after_s > 0) r.headers.push_back({"Retry-After", std::to_string(p.retry_after_s)});
  return r;
}

void reply_problem(const ExchangePtr& ex, const Problem& p) { ex->respond(problem_response(*ex, p)); }

void reply_no_content(const ExchangePtr& ex) {
  http::Response r;
  r.status = 204;
  ex->respond(std::move(r));
}

bool read_json(const ExchangePtr& ex, rapidjson::Document* doc) {
  std::string error;
  if (json::parse_object(ex->req.body, doc, &error)) return true;
  reply_problem(ex, 400, error);
  return false;
}

namespace {
bool parse_int(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}
}  // namespace

bool read_page(const ExchangePtr& ex, int64_t default_limit, int64_t max_limit, Page* out) {
  out->limit = default_limit;
  out->offset = 0;
  if (auto v = ex->req.query_param("limit")) {
    // Above the maximum is clamped to it (the seeds: "clamped server-side"),
    // however many digits it has; only non-numbers and zero fail.
    bool digits = !v->empty() && v->find_first_not_of("0123456789") == std::string_view::npos;
    if (!digits || v->find_first_not_of('0') == std::string_view::npos) {
      reply_problem(ex, 400, "limit must be a positive integer (at most " + std::to_string(max_limit) +
                                 " are returned)");
      return false;
    }
    std::string_view significant = std::string_view(*v).substr(v->find_first_not_of('0'));
    if (!parse_int(significant, &out->limit) || out->limit > max_limit) out->limit = max_limit;
  }
  if (auto v = ex->req.query_param("offset")) {
    if (!parse_int(*v, &out->offset) || out->offset < 0) {
      reply_problem(ex, 400, "offset must be a non-negative integer");
      return false;
    }
  }
  return true;
}

void write(App& app, store::Writer::Work work, store::Writer::Done done) {
  app.store.writer().submit(std::move(work), std::move(done));
}



}  // namespace crewship
