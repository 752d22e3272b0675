#include "daemon/json_input.h"

#include <cmath>

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include "daemon/json.h"

namespace crewship::json {
namespace {

constexpr const char* kBadSurrogate = "The surrogate pair in string is invalid.";

// Forwards SAX events to the document, refusing nesting past kMaxDepth and
// values rapidjson lets through but no JSON text can mean.
struct DepthLimit {
  rapidjson::Document& doc;
  int depth = 0;
  bool too_deep = false;
  const char* refused = nullptr;  // why a value was refused

  bool Null() { return doc.Null(); }
  bool Bool(bool b) { return doc.Bool(b); }
  bool Int(int i) { return doc.Int(i); }
  bool Uint(unsigned u) { return doc.Uint(u); }
  bool Int64(int64_t i) { return doc.Int64(i); }
  bool Uint64(uint64_t u) { return doc.Uint64(u); }
  // rapidjson 1.1.0 reads some numbers past DBL_MAX (1.8e308) as infinities,
  // which no writer can put back.
  bool Double(double d) { return std::isfinite(d) ? doc.Double(d) : refuse("Number too big to be stored in double."); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) { return doc.RawNumber(s, n, copy); }
  // It also decodes a lone low surrogate (\udc00) to bytes that are not UTF-8.
  bool String(const char* s, rapidjson::SizeType n, bool copy) {
    return valid_utf8({s, n}) ? doc.String(s, n, copy) : refuse(kBadSurrogate);
  }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) {
    return valid_utf8({s, n}) ? doc.Key(s, n, copy) : refuse(kBadSurrogate);
  }
  bool StartObject() { return enter() && doc.StartObject(); }
  bool EndObject(rapidjson::SizeType n) { return --depth, doc.EndObject(n); }
  bool StartArray() { return enter() && doc.StartArray(); }
  bool EndArray(rapidjson::SizeType n) { return --depth, doc.EndArray(n); }
  bool enter() {
    if (++depth > kMaxDepth) too_deep = true;
    return !too_deep;
  }
  bool refuse(const char* why) {
    refused = why;
    return false;
  }
};

constexpr unsigned kParseFlags = rapidjson::kParseValidateEncodingFlag |
                                 rapidjson::kParseIterativeFlag |
                                 rapidjson::kParseStopWhenDoneFlag;

}  // namespace

bool parse_value(std::string_view body, rapidjson::Document* doc, std::string* error) {
  if (body.empty()) {
    *error = "request body must be JSON";
    return false;
  }
  // A whole UTF-8 byte order mark may lead (RFC 8259 lets a parser ignore
  // it). rapidjson's EncodedInputStream would skip any of its bytes alone.
  rapidjson::MemoryStream in(body.data(), body.size());
  if (body.starts_with("\xEF\xBB\xBF")) in.Take(), in.Take(), in.Take();
  rapidjson::Reader reader;
  DepthLimit limit{*doc};
  bool too_deep = false;
  auto generate = [&](rapidjson::Document&) {
    reader.Parse<kParseFlags>(in, limit);
    too_deep = limit.too_deep;
    return !reader.HasParseError();
  };
  doc->Populate(generate);
  if (too_deep) {
    *error = "JSON nested deeper than " + std::to_string(kMaxDepth) + " levels";
    return false;
  }
  if (reader.HasParseError()) {
    *error = std::string("malformed JSON at byte ") + std::to_string(reader.GetErrorOffset()) + ": " +
             (limit.refused != nullptr ? limit.refused : rapidjson::GetParseError_En(reader.GetParseErrorCode()));
    return false;
  }
  // Only white space may follow the value.
  for (size_t i = in.Tell(); i < body.size(); ++i) {
    char c = body[i];
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      *error = "unexpected data after the JSON value at byte " + std::to_string(i);
      return false;
    }
  }
  return true;
}

bool parse_object(std::string_view body, rapidjson::Document* doc, std::string* error) {
  if (body.empty()) {
    *error = "request body must be a JSON object";
    return false;
  }
  if (!parse_value(body, doc, error)) return false;
  if (!doc->IsObject()) {
    *error = "request body must be a JSON object";
    return false;
  }
  return true;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

const rapidjson::Value* Reader::find(const char* name, bool* present, bool* null, const Rule& rule) {
  *present = false;
  *null = false;
  if (!ok()) return nullptr;
  auto it = obj_.FindMember(name);
  if (it == obj_.MemberEnd()) {
    if (rule.required) fail(std::string(name) + " is required");
    return nullptr;
  }
  *present = true;
  if (it->value.IsNull()) {
    *null = true;
    if (rule.required || !rule.nullable) fail(std::string(name) + " must not be null");
    return nullptr;
  }
  return &it->value;
}

Reader& Reader::string(const char* name, Field<std::string>* out, Rule rule) {
  const rapidjson::Value* v = find(name, &out->present, &out->null, rule);
  if (v == nullptr) return *this;
  if (!v->IsString()) {
    fail(std::string(name) + " must be a string");
    return *this;
  }
  std::string_view s(v->GetString(), v->GetStringLength());
  size_t len = utf8_length(s);
  if (static_cast<int64_t>(len) < rule.min || static_cast<int64_t>(len) > rule.max) {
    fail(std::string(name) + " must be " + std::to_string(rule.min) + "-" +
         std::to_string(rule.max) + " characters");
    return *this;
  }
  if (s.find('\0') != std::string_view::npos) {
    fail(std::string(name) + " must not contain NUL characters");
    return *this;
  }
  out->value.assign(s);
  return *this;
}

Reader& Reader::one_of(const char* name, Field<std::string>* out,
                       std::initializer_list<std::string_view> allowed, Rule rule) {
  return one_of(name, out, std::span<const std::string_view>(allowed.begin(), allowed.size()), rule);
}

Reader& Reader::one_of(const char* name, Field<std::string>* out, std::span<const std::string_view> allowed,
                       Rule rule) {
  string(name, out, rule);
  if (!ok() || !out->has_value()) return *this;
  for (std::string_view a : allowed)
    if (a == out->value) return *this;
  std::string list;
  for (std::string_view a : allowed) {
    if (!list.empty()) list += ", ";
    list += a;
  }
  fail(std::string(name) + " must be one of " + list);
  return *this;
}

Reader& Reader::integer(const char* name, Field<int64_t>* out, Rule rule) {
  const rapidjson::Value* v = find(name, &out->present, &out->null, rule);
  if (v == nullptr) return *this;
  if (!v->IsInt64()) {
    fail(std::string(name) + " must be an integer");
    return *this;
  }
  int64_t n = v->GetInt64();
  if (n < rule.min || n > rule.max) {
    fail(std::string(name) + " must be between " + std::to_string(rule.min) + " and " +
         std::to_string(rule.max));
    return *this;
  }
  out->value = n;
  return *this;
}

Reader& Reader::number(const char* name, Field<double>* out, double min, double max, Rule rule) {
  const rapidjson::Value* v = find(name, &out->present, &out->null, rule);
  if (v == nullptr) return *this;
  if (!v->IsNumber() || !std::isfinite(v->GetDouble())) {
    fail(std::string(name) + " must be a number");
    return *this;
  }
  double d = v->GetDouble();
  if (d < min || d > max) {
    char buf[96];
    std::snprintf(buf, sizeof buf, " must be between %g and %g", min, max);
    fail(std::string(name) + buf);
    return *this;
  }
  out->value = d;
  return *this;
}

Reader& Reader::boolean(const char* name, Field<bool>* out, Rule rule) {
  const rapidjson::Value* v = find(name, &out->present, &out->null, rule);
  if (v == nullptr) return *this;
  if (!v->IsBool()) {
    fail(std::string(name) + " must be a boolean");
    return *this;
  }
  out->value = v->GetBool();
  return *this;
}

Reader& Reader::only(std::initializer_list<std::string_view> keys) {
  if (!ok()) return *this;
  for (auto it = obj_.MemberBegin(); it != obj_.MemberEnd(); ++it) {
    std::string_view k(it->name.GetString(), it->name.GetStringLength());
    bool known = false;
    for (std::string_view key : keys) known = known || key == k;
    if (!known) {
      fail(std::string(k.substr(0, 64)) + " is not a known field");
      return *this;
    }
  }
  return *this;
}

}  // namespace crewship::json
