// Fuzz target for the JSON input path of the public API: json::parse_object,
// json::Reader and its Field readers (daemon/json_input.cc), and the UTF-8
// helpers of the output, json::valid_utf8 and json::printable
// (daemon/json.cc), with the problem document a refused body gets
// (daemon/problem.cc). Each input is one request body; no loop, no I/O.
//
// Invariants (abort() on violation):
//  * valid_utf8 agrees with a reference decoder (the well-formed byte
//    sequences of Unicode's table 3-7); printable(s) is s when s is valid,
//    else s with every byte >= 0x80 written as %XX, and always valid UTF-8;
//    utf8_length counts the code points of valid UTF-8.
//  * parse_object accepts only: one JSON object, of valid UTF-8 (a leading
//    BOM aside), nested no deeper than kMaxDepth (in the document and in a
//    scan of the text), whose keys and strings are valid UTF-8; the accepted
//    object written back out (json::Out) parses again to the same document.
//    A refusal has an error, and names the depth only when the text nests
//    deeper than kMaxDepth.
//  * json::Reader, over an accepted object: the field reads of a crew (as
//    api/crews.cc does) and a read of every member with a reader and rule
//    picked from its name: a value read keeps its rule (string length in code
//    points, no NUL, valid UTF-8; integer and number in range and finite;
//    one_of among the allowed), a failed read names its field, only() passes
//    only when every key is listed.
//  * the problem document of a refused body (problem(400, error, instance))
//    is an object that parse_object accepts, detail and instance printable.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "daemon/json.h"
#include "daemon/json_input.h"
#include "daemon/problem.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace json = crewship::json;
using crewship::fuzz::fail;

// --- UTF-8 ---------------------------------------------------------------------

// Code points of well-formed UTF-8 (Unicode 15, table 3-7), or -1.
long reference_utf8_length(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t n = s.size(), i = 0;
  long count = 0;
  auto in = [&](size_t at, uint8_t lo, uint8_t hi) { return at < n && p[at] >= lo && p[at] <= hi; };
  while (i < n) {
    uint8_t b = p[i];
    size_t len;
    if (b <= 0x7F) {
      len = 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
      len = in(i + 1, 0x80, 0xBF) ? 2 : 0;
    } else if (b == 0xE0) {
      len = in(i + 1, 0xA0, 0xBF) && in(i + 2, 0x80, 0xBF) ? 3 : 0;
    } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
      len = in(i + 1, 0x80, 0xBF) && in(i + 2, 0x80, 0xBF) ? 3 : 0;
    } else if (b == 0xED) {
      len = in(i + 1, 0x80, 0x9F) && in(i + 2, 0x80, 0xBF) ? 3 : 0;
    } else if (b == 0xF0) {
      len = in(i + 1, 0x90, 0xBF) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF) ? 4 : 0;
    } else if (b >= 0xF1 && b <= 0xF3) {
      len = in(i + 1, 0x80, 0xBF) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF) ? 4 : 0;
    } else if (b == 0xF4) {
      len = in(i + 1, 0x80, 0x8F) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF) ? 4 : 0;
    } else {
      len = 0;
    }
    if (len == 0) return -1;
    i += len;
    ++count;
  }
  return count;
}

bool utf8(std::string_view s) { return reference_utf8_length(s) >= 0; }

void check_utf8(std::string_view s) {
  long length = reference_utf8_length(s);
  bool valid = length >= 0;
  if (json::valid_utf8(s) != valid) fail(valid ? "valid_utf8 refused well-formed UTF-8" : "valid_utf8 accepted ill-formed UTF-8", s);
  if (valid && json::utf8_length(s) != static_cast<size_t>(length)) fail("utf8_length is not the code points", s);
  std::string out = json::printable(s);
  if (!utf8(out)) fail("printable() is not valid UTF-8", out);
  if (valid) {
    if (out != s) fail("printable() changed valid UTF-8", s);
    return;
  }
  std::string expect;
  for (unsigned char c : s) {
    if (c < 0x80) {
      expect.push_back(static_cast<char>(c));
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      expect += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  if (out != expect) fail("printable() is not the %XX form", s);
}

// --- documents -----------------------------------------------------------------

// Deepest nesting of [ and { outside strings, in the text.
int text_depth(std::string_view s) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : s) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
    else if ((c == ']' || c == '}') && depth > 0) --depth;
  }
  return deepest;
}

// Walks the document without recursion: its depth, and whether every key and
// string is valid UTF-8.
void walk(const rapidjson::Value& root, int* depth, bool* strings_utf8) {
  std::vector<std::pair<const rapidjson::Value*, int>> todo = {{&root, 1}};
  *depth = 0;
  *strings_utf8 = true;
  auto check = [&](const rapidjson::Value& v) {
    if (!utf8(std::string_view(v.GetString(), v.GetStringLength()))) *strings_utf8 = false;
  };
  while (!todo.empty()) {
    auto [v, d] = todo.back();
    todo.pop_back();
    if (v->IsString()) check(*v);
    if (!v->IsObject() && !v->IsArray()) continue;
    *depth = std::max(*depth, d);
    if (v->IsObject()) {
      for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
        check(it->name);
        todo.push_back({&it->value, d + 1});
      }
    } else {
      for (const auto& e : v->GetArray()) todo.push_back({&e, d + 1});
    }
  }
}

// The same document, members in order (rapidjson's == looks members up by
// name, which duplicate keys defeat). Doubles may differ in the last bits:
// rapidjson parses them fast, not exactly.
bool same(const rapidjson::Value& a, const rapidjson::Value& b) {
  std::vector<std::pair<const rapidjson::Value*, const rapidjson::Value*>> todo = {{&a, &b}};
  while (!todo.empty()) {
    auto [x, y] = todo.back();
    todo.pop_back();
    if (x->GetType() != y->GetType()) return false;
    if (x->IsString()) {
      if (std::string_view(x->GetString(), x->GetStringLength()) != std::string_view(y->GetString(), y->GetStringLength()))
        return false;
    } else if (x->IsNumber()) {
      if (x->IsInt64() != y->IsInt64() || x->IsUint64() != y->IsUint64()) return false;
      if (x->IsInt64() && x->GetInt64() != y->GetInt64()) return false;
      if (x->IsUint64() && x->GetUint64() != y->GetUint64()) return false;
      double dx = x->GetDouble(), dy = y->GetDouble();
      if (std::fabs(dx - dy) > 1e-12 * std::max(std::fabs(dx), std::fabs(dy))) return false;
    } else if (x->IsObject()) {
      if (x->MemberCount() != y->MemberCount()) return false;
      for (auto i = x->MemberBegin(), j = y->MemberBegin(); i != x->MemberEnd(); ++i, ++j) {
        todo.push_back({&i->name, &j->name});
        todo.push_back({&i->value, &j->value});
      }
    } else if (x->IsArray()) {
      if (x->Size() != y->Size()) return false;
      for (rapidjson::SizeType i = 0; i < x->Size(); ++i) todo.push_back({&(*x)[i], &(*y)[i]});
    }
  }
  return true;
}

// --- field reads -------------------------------------------------------------------

using Rule = json::Reader::Rule;

void check_problem(const std::string& error, std::string_view body);

void check_error(const json::Reader& r, const char* name, std::string_view body) {
  if (r.ok()) return;
  if (!std::string_view(r.error()).starts_with(name)) fail("a failed read does not name its field", body);
  check_problem(r.error(), body);
}

bool in_rule(std::string_view s, const Rule& rule) {
  auto n = static_cast<int64_t>(json::utf8_length(s));
  return n >= rule.min && n <= rule.max && s.find('\0') == std::string_view::npos && utf8(s);
}

constexpr Rule kRules[] = {
    {},
    {.min = 2, .max = 100, .required = true, .nullable = false},
    {.min = -5, .max = 5},
    {.min = 1, .max = 86400, .nullable = false},
};

// Reads member `name` with the reader and rule its name picks.
void read_member(const rapidjson::Document& doc, const char* name, std::string_view body) {
  size_t h = std::strlen(name) * 31;
  for (const char* c = name; *c != '\0'; ++c) h = h * 131 + static_cast<unsigned char>(*c);
  const Rule& rule = kRules[h % 4];
  json::Reader r(doc);
  switch ((h / 4) % 5) {
    case 0: {
      json::Field<std::string> f;
      r.string(name, &f, rule);
      if (r.ok() && f.has_value() && !in_rule(f.value, rule)) fail("string read outside its rule", body);
      break;
    }
    case 1: {
      json::Field<std::string> f;
      r.one_of(name, &f, {"strict", "guided", "", "\xc3\xa9"}, rule);
      if (r.ok() && f.has_value() && f.value != "strict" && f.value != "guided" && !f.value.empty() &&
          f.value != "\xc3\xa9")
        fail("one_of read a value not allowed", body);
      break;
    }
    case 2: {
      json::Field<int64_t> f;
      r.integer(name, &f, rule);
      if (r.ok() && f.has_value() && (f.value < rule.min || f.value > rule.max)) fail("integer read out of range", body);
      break;
    }
    case 3: {
      json::Field<double> f;
      r.number(name, &f, -1.5, 64, rule);
      if (r.ok() && f.has_value() && !(std::isfinite(f.value) && f.value >= -1.5 && f.value <= 64))
        fail("number read out of range", body);
      break;
    }
    case 4: {
      json::Field<bool> f;
      r.boolean(name, &f, rule);
      auto it = doc.FindMember(name);
      if (r.ok() && f.has_value() && (it == doc.MemberEnd() || !it->value.IsBool())) fail("boolean read a non-boolean", body);
      break;
    }
  }
  check_error(r, name, body);
}

// The reads of a crew create (api/crews.cc read_crew).
void read_crew(const rapidjson::Document& doc, std::string_view body) {
  json::Field<std::string> name, slug, description, color, avatar, autonomy;
  json::Field<int64_t> agents, memory;
  json::Field<double> cpus;
  json::Reader r(doc);
  r.string("name", &name, {.min = 2, .max = 100, .required = true, .nullable = false})
      .string("slug", &slug, {.min = 2, .max = 50, .required = true, .nullable = false})
      .string("description", &description, {.min = 0, .max = 2000})
      .string("color", &color, {.min = 0, .max = 32})
      .string("avatar_style", &avatar, {.min = 0, .max = 64})
      .one_of("autonomy_level", &autonomy, {"strict", "guided", "trusted", "full"}, {.nullable = false})
      .integer("max_ephemeral_agents", &agents, {.min = 0, .max = 100, .nullable = false})
      .integer("container_memory_mb", &memory, {.min = 256, .max = 262144, .nullable = false})
      .number("container_cpus", &cpus, 0.1, 64, {.nullable = false})
      .only({"name", "slug", "description", "color", "avatar_style", "autonomy_level", "max_ephemeral_agents",
             "container_memory_mb", "container_cpus"});
  if (!r.ok()) {
    if (r.error().empty()) fail("a failed read without an error", body);
    return check_problem(r.error(), body);
  }
  if (!name.has_value() || !in_rule(name.value, {.min = 2, .max = 100})) fail("crew name outside its rule", body);
  if (!slug.has_value() || !in_rule(slug.value, {.min = 2, .max = 50})) fail("crew slug outside its rule", body);
  if (description.has_value() && !in_rule(description.value, {.min = 0, .max = 2000})) fail("crew description outside its rule", body);
  if (agents.has_value() && (agents.value < 0 || agents.value > 100)) fail("max_ephemeral_agents out of range", body);
  if (cpus.has_value() && !(cpus.value >= 0.1 && cpus.value <= 64)) fail("container_cpus out of range", body);
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    std::string_view k(it->name.GetString(), it->name.GetStringLength());
    static constexpr std::string_view kKnown[] = {"name", "slug", "description", "color", "avatar_style",
                                                  "autonomy_level", "max_ephemeral_agents", "container_memory_mb",
                                                  "container_cpus"};
    if (std::find(std::begin(kKnown), std::end(kKnown), k) == std::end(kKnown)) fail("only() let an unknown key pass", body);
  }
}

// --- one input -----------------------------------------------------------------------

// The 400 answer to a refused body: a problem document that is itself valid
// input, its detail and instance printable.
void check_problem(const std::string& error, std::string_view body) {
  std::string_view instance = body.substr(0, 64);
  auto resp = crewship::problem(400, error, instance);
  rapidjson::Document doc;
  std::string why;
  if (!json::parse_object(resp.body, &doc, &why)) fail("the problem document does not parse", resp.body + "\n" + why);
  const rapidjson::Document& d = doc;
  auto text = [&d](const char* name) {
    auto it = d.FindMember(name);
    if (it == d.MemberEnd() || !it->value.IsString()) return std::string("(absent)");
    return std::string(it->value.GetString(), it->value.GetStringLength());
  };
  if (text("detail") != json::printable(error)) fail("the problem detail is not the printable error", resp.body);
  if (text("instance") != json::printable(instance)) fail("the problem instance is not printable", resp.body);
}

void check_refused(std::string_view body, const std::string& error) {
  if (error.empty()) fail("refused without an error", body);
  if (error.find("deeper") != std::string::npos && text_depth(body) <= json::kMaxDepth)
    fail("refused as too deep, but the text is not", body);
  check_problem(error, body);
}

void check_accepted(std::string_view body, const rapidjson::Document& doc) {
  if (!doc.IsObject()) fail("accepted something other than an object", body);
  std::string_view text = body.starts_with("\xEF\xBB\xBF") ? body.substr(3) : body;
  if (!utf8(text)) fail("accepted a body that is not valid UTF-8", body);
  int depth;
  bool strings_utf8;
  walk(doc, &depth, &strings_utf8);
  if (depth > json::kMaxDepth || text_depth(text) > json::kMaxDepth) fail("accepted nesting deeper than kMaxDepth", body);
  if (!strings_utf8) fail("accepted a key or string that is not valid UTF-8", body);

  // Written back out, it reads the same.
  json::Out out;
  doc.Accept(out.w());
  std::string again = out.take();
  rapidjson::Document doc2;
  std::string why;
  if (!json::parse_object(again, &doc2, &why)) fail("the accepted object, written out, does not parse", again + "\n" + why);
  if (!same(doc, doc2)) fail("the accepted object, written out, reads differently", again);

  read_crew(doc, body);
  unsigned n = 0;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd() && n < 16; ++it, ++n) {
    std::string name(it->name.GetString(), it->name.GetStringLength());
    read_member(doc, name.c_str(), body);  // a key with a NUL is read up to it
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  check_utf8(body);
  rapidjson::Document doc;
  std::string error;
  if (json::parse_object(body, &doc, &error)) {
    check_accepted(body, doc);
  } else {
    check_refused(body, error);
  }
  return 0;
}
