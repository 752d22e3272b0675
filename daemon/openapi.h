// The OpenAPI 3.1 documents of both listeners, generated once at start from
// a listener's route table (method, path template, Access, body limit) and
// the docs each area keeps beside its handlers (api/<area>_doc.cc,
// ipc/<area>_doc.cc): summary, parameters, request body and the answers per
// status. The composition root gathers them (daemon/openapi_docs.cc).
//
// Schema text, wherever a doc takes a schema, is one of:
//   - JSON Schema (2020-12) text, e.g. R"({"type":"object",...})", in which a
//     "$ref" that does not start with '#' names a component schema
//     ({"$ref":"Agent"} is {"$ref":"#/components/schemas/Agent"});
//   - a component's name ("Agent"), or an array of them ("Agent[]");
//   - a JSON type name: "string", "integer", "boolean", "object".
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/principal.h"
#include "daemon/http.h"
#include "daemon/router.h"

namespace crewship::openapi {

struct Param {
  std::string name;
  std::string in;  // "query" or "header"
  std::string schema;
  std::string description;
  bool required = false;
};

struct Answer {
  int status = 200;
  std::string schema;  // empty: no body
  std::string type;    // content type
  std::string description;
};

// One operation, keyed by (method, path template). The route's Access adds
// its security scheme and the problems its guard answers (401, 403, the
// workspace's 400, ...), the HTTP core those of any request (400, 408, 413,
// 414, 417, 431); the rest are named here with fails().
struct Doc {
  http::Method method = http::Method::kGet;
  std::string path;
  std::string tag;
  std::string summary;
  std::string description;
  std::vector<Param> params;  // path parameters come from the template
  // The request body's schema per content type; none: no body.
  std::vector<std::pair<std::string, std::string>> bodies;
  bool body_required = true;
  std::vector<Answer> answers;
  std::vector<int> problems;  // statuses answered with application/problem+json

  Doc& describe(std::string_view text);
  Doc& query(std::string_view name, std::string_view schema, std::string_view description = {},
             bool required = false);
  Doc& header(std::string_view name, std::string_view schema, std::string_view description = {},
              bool required = false);
  // ?limit= (1.., clamped to max) and ?offset= (0..), as read_page reads them.
  Doc& paged(int64_t default_limit, int64_t max_limit);
  // A request body (another content type with each call).
  Doc& takes(std::string_view schema, std::string_view type = "application/json");
  Doc& optional_body();
  Doc& ok(int status, std::string_view schema, std::string_view description = {});
  // A non-JSON (or bodiless when schema is empty) answer.
  Doc& raw(int status, std::string_view type, std::string_view schema, std::string_view description = {});
  Doc& fails(std::initializer_list<int> statuses);
  // The JSON answer of status becomes schema (a mount that answers otherwise).
  Doc& instead(int status, std::string_view schema);
};

// Every doc and shared component, gathered from the areas by the
// composition root.
class DocSet {
 public:
  // The tag of the docs added next.
  void area(std::string_view tag) { tag_ = tag; }
  Doc& add(http::Method method, std::string_view path, std::string_view summary);
  // A doc for path that reads like the one of (method, of): the IPC mount of
  // a public handler. The copy may be changed further.
  Doc& mount(http::Method method, std::string_view path, std::string_view of);
  // A component schema, shared by name.
  void schema(std::string_view name, std::string_view text);

  const Doc* find(http::Method method, std::string_view path) const;
  const std::vector<std::unique_ptr<Doc>>& docs() const { return docs_; }
  const std::vector<std::pair<std::string, std::string>>& schemas() const { return schemas_; }

 private:
  std::string tag_;
  std::vector<std::unique_ptr<Doc>> docs_;
  std::vector<std::pair<std::string, std::string>> schemas_;
};

struct Listener {
  std::string_view title;
  std::string_view description;
  std::span<const Route> routes;
  int64_t default_body_limit = 0;
};

struct Built {
  std::string json;                       // the document
  std::vector<std::string> undocumented;  // "GET /path" of routes without a doc
  std::vector<std::string> errors;        // schema text that does not parse, bad refs
};
Built build(const Listener& listener, const DocSet& docs);

// "GET /path" of every doc that no route of tables serves.
std::vector<std::string> unrouted(const DocSet& docs, std::initializer_list<std::span<const Route>> tables);

// The schema text, expanded (see the top of this file) and checked, as
// JSON; empty with *error set when it does not parse.
std::string expand_schema(std::string_view text, std::string* error);

}  // namespace crewship::openapi
