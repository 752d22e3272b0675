// JSON output with RapidJSON's SAX writer: handlers write members straight
// into one buffer, no DOM.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace crewship::json {

// True when s is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
bool valid_utf8(std::string_view s);
// s itself when valid UTF-8, else s with every byte >= 0x80 written as %XX.
std::string printable(std::string_view s);

class Out {
 public:
  rapidjson::Writer<rapidjson::StringBuffer>& w() { return writer_; }
  void key(std::string_view k) { writer_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }
  void str(std::string_view v) {
    writer_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  }
  void member(std::string_view k, std::string_view v) { key(k), str(v); }
  void member(std::string_view k, const char* v) { key(k), str(v); }
  void member(std::string_view k, int64_t v) { key(k), writer_.Int64(v); }
  void member(std::string_view k, int v) { key(k), writer_.Int(v); }
  void member(std::string_view k, bool v) { key(k), writer_.Bool(v); }
  // k: an array of the strings in v.
  template <typename List>
  void strings(std::string_view k, const List& v) {
    key(k);
    begin_array();
    for (const auto& s : v) str(s);
    end_array();
  }
  void strings(std::string_view k, std::initializer_list<std::string_view> v) {
    strings<std::initializer_list<std::string_view>>(k, v);
  }
  void begin_object() { writer_.StartObject(); }
  void end_object() { writer_.EndObject(); }
  void begin_array() { writer_.StartArray(); }
  void end_array() { writer_.EndArray(); }
  std::string take() const { return std::string(buf_.GetString(), buf_.GetSize()); }

 private:
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_{buf_};
};

}  // namespace crewship::json
