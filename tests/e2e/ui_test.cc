// The Watch Roster page's files: served without auth from the binary, with
// a strict Content-Security-Policy, ETags and 304s; anything else under /ui/
// is a 404 problem, and writes are refused. The page itself is tested in a
// browser (tests/ui/roster_browser_test.py).
#include <criterion/criterion.h>

#include "tests/support/api.h"

using namespace crewship::test;

Test(ui, files_with_a_strict_csp) {
  TestDaemon d(api_options());
  struct Case {
    const char* path;
    const char* type;
    const char* has;
  } cases[] = {
      {"/ui/", "text/html; charset=utf-8", "action=\"/api/auth/callback/credentials\""},
      {"/ui/roster", "text/html; charset=utf-8", "aria-live=\"polite\""},
      {"/ui/app.js", "text/javascript; charset=utf-8", "If-None-Match"},
      {"/ui/app.css", "text/css; charset=utf-8", "[data-status=\"busy\"]"},
      {"/ui/favicon.svg", "image/svg+xml", "<svg"},
  };
  for (const Case& c : cases) {
    Reply r = call(d, "GET", c.path, "");
    cr_assert_eq(r.status, 200, "%s: %d", c.path, r.status);
    cr_assert_eq(r.header("Content-Type").value_or(""), c.type, "%s", c.path);
    std::string csp = r.header("Content-Security-Policy").value_or("");
    cr_assert(csp.rfind("default-src 'self'", 0) == 0, "%s: %s", c.path, csp.c_str());
    cr_assert_eq(r.header("X-Content-Type-Options").value_or(""), "nosniff");
    cr_assert(r.body.find(c.has) != std::string::npos, "%s lacks %s", c.path, c.has);
    if (std::string_view(c.type).starts_with("text/html")) {
      cr_assert(r.body.find("<script src=\"/ui/app.js\"") != std::string::npos);
      cr_assert(r.body.find("<script>") == std::string::npos, "no inline script in %s", c.path);
      cr_assert(r.body.find(" style=") == std::string::npos, "no inline style in %s", c.path);
    }
    std::string etag = r.header("ETag").value_or("");
    cr_assert(etag.size() > 2 && etag.front() == '"', "%s: ETag %s", c.path, etag.c_str());
    Reply again = call(d, "GET", c.path, "", "", "If-None-Match: " + etag + "\r\n");
    cr_assert_eq(again.status, 304, "%s with its ETag: %d", c.path, again.status);
    cr_assert(again.body.empty());
    cr_assert_eq(call(d, "GET", c.path, "", "", "If-None-Match: \"other\"\r\n").status, 200);
  }
  Reply bare = call(d, "GET", "/ui", "");
  cr_assert_eq(bare.status, 308);
  cr_assert_eq(bare.header("Location").value_or(""), "/ui/");
  for (const char* path : {"/ui/nope", "/ui/../api/health", "/ui/app.js/x", "/ui/roster.html"}) {
    Reply r = call(d, "GET", path, "");
    cr_assert(r.status == 404 || r.status == 400, "%s: %d", path, r.status);
    cr_assert_eq(r.header("Content-Type").value_or(""), "application/problem+json", "%s", path);
  }
  Reply post = call(d, "POST", "/ui/", "", "{}");
  cr_assert_eq(post.status, 405, "%d", post.status);
  cr_assert_eq(call(d, "GET", "/api/health", "").status, 200, "still serving");
}
