#include <criterion/criterion.h>

#include "daemon/json_input.h"

using namespace crewship;

TestSuite(json_input);

Test(json_input, objects_only) {
  rapidjson::Document d;
  std::string err;
  cr_assert(json::parse_object(R"( {"a":1} )", &d, &err), "%s", err.c_str());
  for (const char* bad : {"", "[]", "1", "\"s\"", "null", "{", R"({"a":1} x)", R"({"a":1}{"b":2})",
                          "{\"a\":\"\xff\"}", R"({"a":01})", "{'a':1}"}) {
    rapidjson::Document e;
    cr_assert_not(json::parse_object(bad, &e, &err), "accepted %s", bad);
    cr_assert(!err.empty());
  }
}

namespace {

// parse_object refuses body with an error that says why.
void expect_refused(std::string_view body, const char* why) {
  rapidjson::Document d;
  std::string err;
  cr_assert_not(json::parse_object(body, &d, &err), "accepted %.*s", static_cast<int>(body.size()), body.data());
  cr_assert(err.find(why) != std::string::npos, "%s", err.c_str());
}

}  // namespace

// rapidjson reads some numbers past DBL_MAX as infinities; written back out
// (presence details) they cut the document short.
Test(json_input, numbers_past_the_largest_double) {
  for (const char* big : {R"({"a":1.8e308})", R"({"a":-9e308})", R"({"d":{"x":[17976931348623159e292]}})"})
    expect_refused(big, "too big");
  rapidjson::Document d;
  std::string err;
  cr_assert(json::parse_object(R"({"a":1.7976931348623157e308,"b":-4.9e-324})", &d, &err), "%s", err.c_str());
}

// rapidjson decodes a lone low surrogate escape to ED B0 80, which is not
// UTF-8; a pair is fine.
Test(json_input, lone_surrogate_escapes) {
  for (const char* bad : {R"({"a":"\udc00"})", R"({"a":"x\uDFFFy"})", R"({"\udc00":1})", R"({"a":["\ud83d\ude00\udc00"]})"})
    expect_refused(bad, "surrogate");
  rapidjson::Document d;
  std::string err;
  cr_assert(json::parse_object(R"({"a":"\ud83d\ude00\u00e9"})", &d, &err), "%s", err.c_str());
  cr_assert_str_eq(d["a"].GetString(), "\xf0\x9f\x98\x80\xc3\xa9");
}

// A whole byte order mark may lead; its bytes alone are not UTF-8.
Test(json_input, byte_order_mark) {
  rapidjson::Document d;
  std::string err;
  cr_assert(json::parse_object("\xEF\xBB\xBF{\"a\":1}", &d, &err), "%s", err.c_str());
  for (const char* bad : {"\xBF{}", "\xEF{}", "\xBB\xBF{}", "\xEF\xBF{}", "\xEF\xBB\xBF\xEF\xBB\xBF{}"})
    expect_refused(bad, "at byte");
  expect_refused("\xEF\xBB\xBF{} x", "at byte 6");
}

Test(json_input, depth_limit) {
  std::string ok = std::string(json::kMaxDepth - 1, '[');
  ok = "{\"a\":" + ok + std::string(json::kMaxDepth - 1, ']') + "}";
  rapidjson::Document d;
  std::string err;
  cr_assert(json::parse_object(ok, &d, &err), "%s", err.c_str());
  // Far too deep: refused while parsing, nothing recursive on the way out.
  std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  rapidjson::Document e;
  cr_assert_not(json::parse_object(deep, &e, &err));
  cr_assert(err.find("deeper") != std::string::npos, "%s", err.c_str());
}

Test(json_input, reader_names_the_field) {
  rapidjson::Document d;
  std::string err;
  cr_assert(json::parse_object(
      R"({"name":"x","n":"7","b":1,"e":"NOPE","f":2.5,"big":9007199254740993,"nul":null,"u":"\u00e9\u00e9"})", &d, &err));
  auto first_error = [&](auto&& read) {
    json::Reader r(d);
    read(r);
    return r.error();
  };
  json::Field<std::string> s;
  json::Field<int64_t> i;
  json::Field<bool> b;
  json::Field<double> f;
  cr_assert_eq(first_error([&](json::Reader& r) { r.string("name", &s, {.min = 2, .max = 100}); }),
               "name must be 2-100 characters");
  cr_assert_eq(first_error([&](json::Reader& r) { r.integer("n", &i, {}); }), "n must be an integer");
  cr_assert_eq(first_error([&](json::Reader& r) { r.boolean("b", &b, {}); }), "b must be a boolean");
  cr_assert(first_error([&](json::Reader& r) { r.one_of("e", &s, {"A", "B"}, {}); }).find("e must be one of A, B") == 0);
  cr_assert_eq(first_error([&](json::Reader& r) { r.integer("f", &i, {}); }), "f must be an integer");
  cr_assert_eq(first_error([&](json::Reader& r) { r.string("missing", &s, {.required = true}); }), "missing is required");
  cr_assert_eq(first_error([&](json::Reader& r) { r.string("nul", &s, {.nullable = false}); }), "nul must not be null");
  cr_assert(first_error([&](json::Reader& r) { r.number("f", &f, 0, 1, {}); }).find("f must be between") == 0);
  // Lengths count characters, not bytes.
  json::Reader ok(d);
  ok.string("u", &s, {.min = 2, .max = 2});
  cr_assert(ok.ok(), "%s", ok.error().c_str());
  // Null is "present, cleared"; absent is "not present".
  json::Reader tri(d);
  json::Field<std::string> nul, absent;
  tri.string("nul", &nul, {}).string("absent", &absent, {});
  cr_assert(tri.ok());
  cr_assert(nul.present && nul.null && !nul.has_value());
  cr_assert(!absent.present);
}
