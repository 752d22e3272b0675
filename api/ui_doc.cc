#include "api/docs.h"

namespace crewship::api::docs {

void ui(openapi::DocSet& d) {
  using M = http::Method;
  d.area("ui");
  d.add(M::kGet, "/ui", "Redirects to /ui/").raw(308, "", "", "To /ui/");
  auto file = [&](std::string_view path, std::string_view summary, std::string_view type) {
    d.add(M::kGet, path, summary)
        .raw(200, type, "string")
        .raw(304, "", "", "The If-None-Match tag is current");
  };
  file("/ui/", "The Watch Roster's sign-in page", "text/html; charset=utf-8");
  file("/ui/roster", "The Watch Roster page (?workspace_id=)", "text/html; charset=utf-8");
  file("/ui/app.js", "The page's script", "text/javascript; charset=utf-8");
  file("/ui/app.css", "The page's style sheet", "text/css; charset=utf-8");
  file("/ui/favicon.svg", "The page's icon", "image/svg+xml");
}

}  // namespace crewship::api::docs
