#include "ipc/internal_token.h"

#include "daemon/crypto.h"
#include "daemon/secret_file.h"

#include <cerrno>
#include <cstring>

#include <sodium.h>

namespace crewship::ipc {
namespace {

constexpr std::string_view kLabel = "crewshipd internal token v1";

}  // namespace

InternalAuth::~InternalAuth() { sodium_memzero(master_.data(), master_.size()); }

int InternalAuth::load(const std::string& configured, const std::string& encryption_key,
                       const std::string& data_dir, std::string* error) {
  if (!configured.empty()) {
    if (!plausible_secret(configured)) {
      *error = "CREWSHIP_INTERNAL_TOKEN must be 32 to 256 printable characters";
      return -EINVAL;
    }
    master_ = configured;
    source_ = Source::kConfig;
    return 0;
  }
  if (!encryption_key.empty()) {
    crypto::Digest mac = crypto::hmac_sha256(encryption_key, kLabel);
    master_ = crypto::hex(mac);
    sodium_memzero(mac.data(), mac.size());
    source_ = Source::kDerived;
    return 0;
  }
  std::string path = data_dir + "/" + kFileName;
  bool created = false;
  if (int r = load_or_create_secret(path, &master_, &created, error); r != 0) return r;
  source_ = created ? Source::kGenerated : Source::kFile;
  return 0;
}

bool InternalAuth::is_master(std::string_view token) const {
  return !master_.empty() && crypto::equal(token, master_);
}

namespace {

// Ids inside a bound token: no separator, no surprises.
bool plain_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string mac_of(const std::string& master, std::string_view claim, int64_t generation) {
  if (generation == 0) return crypto::hex(crypto::hmac_sha256(master, claim));
  return crypto::hex(crypto::hmac_sha256(master, std::string(claim) + "#" + std::to_string(generation)));
}

std::string sign(const std::string& master, std::string_view claim, int64_t generation = 0) {
  return std::string(claim) + "." + mac_of(master, claim, generation);
}

}  // namespace

std::string InternalAuth::crew_token(std::string_view workspace_id, std::string_view crew_id,
                                     int64_t generation) const {
  return sign(master_, "crwv1." + std::string(workspace_id) + "." + std::string(crew_id), generation);
}

std::string InternalAuth::workspace_token(std::string_view workspace_id) const {
  return sign(master_, "wsv1." + std::string(workspace_id));
}

bool InternalAuth::verify(std::string_view token, Scope* scope, const Generation& generation) const {
  if (is_master(token)) {
    *scope = Scope{};
    return true;
  }
  size_t mac_dot = token.rfind('.');
  if (master_.empty() || token.size() > 512 || mac_dot == std::string_view::npos) return false;
  std::string_view claim = token.substr(0, mac_dot);
  std::string_view mac = token.substr(mac_dot + 1);
  std::string_view rest;
  Scope s;
  if (claim.substr(0, 6) == "crwv1.") {
    rest = claim.substr(6);
    size_t dot = rest.find('.');
    if (dot == std::string_view::npos) return false;
    s.workspace_id = rest.substr(0, dot);
    s.crew_id = rest.substr(dot + 1);
    if (!plain_id(s.crew_id)) return false;
  } else if (claim.substr(0, 5) == "wsv1.") {
    s.workspace_id = claim.substr(5);
  } else {
    return false;
  }
  if (!plain_id(s.workspace_id)) return false;
  int64_t gen = 0;
  if (!s.crew_id.empty() && (gen = generation(s.crew_id)) < 0) return false;
  std::string want = mac_of(master_, claim, gen);
  if (!crypto::equal(mac, want)) return false;
  *scope = std::move(s);
  return true;
}

}  // namespace crewship::ipc
