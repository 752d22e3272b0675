#include <criterion/criterion.h>
#include <rapidjson/document.h>

#include "daemon/http.h"
#include "daemon/json.h"
#include "daemon/problem.h"

using namespace crewship;

TestSuite(http);

Test(http, percent_decode) {
  std::string out;
  cr_assert(http::percent_decode("a%20b%2Fc", &out));
  cr_assert_eq(out, "a b/c");
  cr_assert(http::percent_decode("a+b", &out, true));
  cr_assert_eq(out, "a b");
  cr_assert(http::percent_decode("a+b", &out, false));
  cr_assert_eq(out, "a+b");
  cr_assert(http::percent_decode("%00", &out));
  cr_assert_eq(out.size(), 1u);
  for (const char* bad : {"%", "%2", "%zz", "abc%4"})
    cr_assert_not(http::percent_decode(bad, &out), "accepted '%s'", bad);
}

Test(http, query_params) {
  http::Request req;
  req.target = "/x?workspace_id=w%201&limit=20&flag&workspace_id=second&e=";
  req.query = std::string_view(req.target).substr(req.target.find('?') + 1);
  cr_assert_eq(req.query_param("workspace_id").value(), "w 1", "the first one wins");
  cr_assert_eq(req.query_param("limit").value(), "20");
  cr_assert_eq(req.query_param("flag").value(), "");
  cr_assert_eq(req.query_param("e").value(), "");
  cr_assert_not(req.query_param("missing").has_value());
}

Test(http, headers_case_insensitive) {
  http::Request req;
  req.headers.push_back({"X-Internal-Token", "t"});
  cr_assert_eq(req.header("x-internal-token").value(), "t");
  cr_assert_not(req.header("x-internal-tokens").has_value());
}

Test(http, problem_json_shape) {
  http::Response r = problem(413, "request body too large", "/api/v1/crews");
  cr_assert_eq(r.status, 413);
  cr_assert_eq(r.content_type, "application/problem+json");
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  cr_assert_not(d.HasParseError());
  cr_assert_str_eq(d["type"].GetString(), "about:blank");
  cr_assert_str_eq(d["title"].GetString(), "Content Too Large");
  cr_assert_eq(d["status"].GetInt(), 413);
  cr_assert_str_eq(d["detail"].GetString(), "request body too large");
  cr_assert_str_eq(d["instance"].GetString(), "/api/v1/crews");
  cr_assert_str_eq(d["error"].GetString(), "request body too large");
}

Test(http, problem_json_stays_valid_with_hostile_text) {
  std::string detail = "quote\" back\\ nl\n ctl\x01 bad\xff\xfe utf8";
  http::Response r = problem(400, detail, "/p\xc3\x28");
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(r.body.c_str());
  cr_assert_not(d.HasParseError(), "%s", r.body.c_str());
  cr_assert(std::string(d["detail"].GetString()).find("%FF%FE") != std::string::npos);
}

Test(http, utf8_validation) {
  cr_assert(json::valid_utf8("plain"));
  cr_assert(json::valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  for (const char* bad : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\x80"})
    cr_assert_not(json::valid_utf8(bad));
}

// Issue: 302 answers went out as "302 Unknown".
Test(http, reason_phrases_of_rfc9110) {
  using crewship::http::reason_phrase;
  cr_assert(reason_phrase(302) == "Found");
  cr_assert(reason_phrase(303) == "See Other");
  cr_assert(reason_phrase(307) == "Temporary Redirect");
  cr_assert(reason_phrase(410) == "Gone");
  cr_assert(reason_phrase(101) == "Switching Protocols");
  cr_assert(reason_phrase(428) == "Precondition Required");
  for (int code = 100; code < 600; ++code) cr_assert(reason_phrase(code) != "Unknown", "%d", code);
  cr_assert(reason_phrase(299).empty());
}
