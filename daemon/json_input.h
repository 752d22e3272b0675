// Reading JSON request bodies: strict UTF-8, a nesting limit checked while
// parsing (so no input can exhaust the stack), and typed field readers whose
// errors name the field.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

namespace crewship::json {

constexpr int kMaxDepth = 32;

// Parses body, which must be one JSON value. On failure *error says why.
bool parse_value(std::string_view body, rapidjson::Document* doc, std::string* error);
// Likewise, and the value must be an object.
bool parse_object(std::string_view body, rapidjson::Document* doc, std::string* error);

// A field of a request: absent, null, or a value.
template <typename T>
struct Field {
  bool present = false;
  bool null = false;
  T value{};
  bool has_value() const { return present && !null; }
};

// Reads fields of one object; the first error sticks, later reads are no-ops.
//   Reader r(doc);
//   r.string("name", &name, {.min = 2, .max = 100, .required = true});
//   if (!r.ok()) return bad_request(r.error());
class Reader {
 public:
  struct Rule {
    int64_t min = 0;       // string length in characters, or numeric minimum
    int64_t max = 100000;  // likewise the maximum
    bool required = false;
    bool nullable = true;  // explicit null accepted (meaning "clear")
  };

  explicit Reader(const rapidjson::Value& object) : obj_(object) {}

  Reader& string(const char* name, Field<std::string>* out, Rule rule);
  Reader& one_of(const char* name, Field<std::string>* out,
                 std::initializer_list<std::string_view> allowed, Rule rule);
  Reader& one_of(const char* name, Field<std::string>* out, std::span<const std::string_view> allowed,
                 Rule rule);
  Reader& integer(const char* name, Field<int64_t>* out, Rule rule);
  Reader& number(const char* name, Field<double>* out, double min, double max, Rule rule);
  Reader& boolean(const char* name, Field<bool>* out, Rule rule);
  // Fails with "name: ..." unless only the listed keys appear.
  Reader& only(std::initializer_list<std::string_view> keys);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  void fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

 private:
  const rapidjson::Value* find(const char* name, bool* present, bool* null, const Rule& rule);
  const rapidjson::Value& obj_;
  std::string error_;
};

// Characters (code points) in a UTF-8 string.
size_t utf8_length(std::string_view s);

}  // namespace crewship::json
