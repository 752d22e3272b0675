// The Watch Roster page: GET /ui/ (sign-in), /ui/roster, /ui/app.js and
// /ui/app.css (and its icon), served from the files embedded at build time. The page's
// data comes from the API with the session cookie, so the files themselves
// need no auth. Content-Security-Policy: default-src 'self', so the page
// runs no inline script or style and loads nothing from elsewhere.
#include <string>

#include "api/routes.h"
#include "api/ui_assets.h"

namespace crewship::api {
namespace {

constexpr std::string_view kCsp =
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const UiAsset* find_asset(std::string_view path) {
  std::string_view name = path == "/ui/" ? "index.html" : path == "/ui/roster" ? "roster.html" : path.substr(4);
  for (const UiAsset& a : ui_assets())
    if (a.name == name) return &a;
  return nullptr;
}

}  // namespace

void ui_file(App&, const ExchangePtr& ex) {
  const UiAsset* a = find_asset(ex->req.path);
  if (a == nullptr) return reply_problem(ex, 404, "no such resource");
  http::Response r;
  r.headers.push_back({"Content-Security-Policy", std::string(kCsp)});
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  r.headers.push_back({"Referrer-Policy", "no-referrer"});
  r.headers.push_back({"Cache-Control", "no-cache"});
  r.headers.push_back({"ETag", std::string(a->etag)});
  // Browsers send back the one tag they were given.
  if (auto inm = ex->req.header("If-None-Match"); inm && *inm == a->etag) {
    r.status = 304;
    return ex->respond(std::move(r));
  }
  r.content_type = std::string(a->type);
  r.body = std::string(a->body);
  ex->respond(std::move(r));
}

void ui_home(App&, const ExchangePtr& ex) {
  http::Response r;
  r.status = 308;
  r.headers.push_back({"Location", "/ui/"});
  ex->respond(std::move(r));
}

}  // namespace crewship::api
