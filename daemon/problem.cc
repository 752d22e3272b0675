#include "daemon/problem.h"

#include "daemon/json.h"

namespace crewship {

http::Response problem(int status, std::string_view detail, std::string_view instance) {
  json::Out out;
  out.begin_object();
  out.member("type", "about:blank");
  out.member("title", http::reason_phrase(status));
  out.member("status", status);
  std::string text = json::printable(detail);
  out.member("detail", text);
  out.member("instance", json::printable(instance));
  out.member("error", text);
  out.end_object();
  http::Response r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = out.take();
  return r;
}

}  // namespace crewship
