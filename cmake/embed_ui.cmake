# Turns the files of the Watch Roster page into a C++ source: one byte array
# per file, with its name, media type and a strong ETag (its SHA-256).
#   cmake -DSRC=<dir> -DFILES=a.html|b.js -DOUT=<file.cc> -P embed_ui.cmake
string(REPLACE "|" ";" files "${FILES}")
set(arrays "")
set(table "")
set(i 0)
foreach(name IN LISTS files)
  file(READ "${SRC}/${name}" hex HEX)
  file(SHA256 "${SRC}/${name}" sum)
  string(LENGTH "${hex}" hex_len)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  if(name MATCHES "\\.html$")
    set(type "text/html; charset=utf-8")
  elseif(name MATCHES "\\.js$")
    set(type "text/javascript; charset=utf-8")
  elseif(name MATCHES "\\.css$")
    set(type "text/css; charset=utf-8")
  elseif(name MATCHES "\\.svg$")
    set(type "image/svg+xml")
  else()
    message(FATAL_ERROR "no media type for ${name}")
  endif()
  math(EXPR size "${hex_len} / 2")
  string(APPEND arrays "const unsigned char k${i}[] = {${bytes}};\n")
  string(SUBSTRING "${sum}" 0 32 tag)
  string(APPEND table "    {\"${name}\", \"${type}\", {reinterpret_cast<const char*>(k${i}), ${size}}, \"\\\"${tag}\\\"\"},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from ui/ by cmake/embed_ui.cmake; do not edit.
#include \"api/ui_assets.h\"

namespace crewship::api {
namespace {
${arrays}
const UiAsset kAssets[] = {
${table}};
}  // namespace

std::span<const UiAsset> ui_assets() { return kAssets; }

}  // namespace crewship::api
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
