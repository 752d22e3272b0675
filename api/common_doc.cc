// Schemas many areas' answers share.
#include "api/docs.h"

namespace crewship::api::docs {

void common(openapi::DocSet& d) {
  d.schema("Problem", R"({"type":"object","description":"RFC 9457 problem details; error repeats detail for older clients",
    "required":["type","title","status","detail","instance","error"],
    "properties":{"type":{"type":"string"},"title":{"type":"string"},"status":{"type":"integer"},
      "detail":{"type":"string"},"instance":{"type":"string"},"error":{"type":"string"}}})");
  d.schema("Timestamp", R"({"type":"string","format":"date-time"})");
  d.schema("NullableTimestamp", R"({"type":["string","null"],"format":"date-time"})");
  d.schema("Role", R"({"type":"string","enum":["OWNER","ADMIN","MANAGER","MEMBER","VIEWER"]})");
  d.schema("UserRef", R"({"type":"object","required":["id","email","name"],
    "properties":{"id":{"type":"string"},"email":{"type":"string"},"name":{"type":["string","null"]}}})");
  d.schema("Id", R"({"type":"object","required":["id"],"properties":{"id":{"type":"string"}}})");
}

}  // namespace crewship::api::docs
