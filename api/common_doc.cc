// Schemas many areas' answers share (Problem is the builder's own).
#include "api/docs.h"

namespace crewship::api::docs {

void common(openapi::DocSet& d) {
  d.schema("Timestamp", R"({"type":"string","format":"date-time"})");
  d.schema("NullableTimestamp", R"({"type":["string","null"],"format":"date-time"})");
  d.schema("Role", R"({"type":"string","enum":["OWNER","ADMIN","MANAGER","MEMBER","VIEWER"]})");
  d.schema("UserRef", R"({"type":"object","required":["id","email","name"],
    "properties":{"id":{"type":"string"},"email":{"type":"string"},"name":{"type":["string","null"]}}})");
  d.schema("Id", R"({"type":"object","required":["id"],"properties":{"id":{"type":"string"}}})");
}

}  // namespace crewship::api::docs
