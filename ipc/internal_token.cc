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

}  // namespace crewship::ipc
