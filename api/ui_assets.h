// The Watch Roster page's files (ui/), embedded in the binary at build time
// by cmake/embed_ui.cmake.
#pragma once

#include <span>
#include <string_view>

namespace crewship::api {

struct UiAsset {
  std::string_view name;  // as under ui/: "roster.html"
  std::string_view type;  // Content-Type
  std::string_view body;
  std::string_view etag;  // quoted
};

std::span<const UiAsset> ui_assets();

}  // namespace crewship::api
