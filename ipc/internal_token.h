// The master internal token of the IPC channel: CREWSHIP_INTERNAL_TOKEN, else
// hex(HMAC-SHA256(ENCRYPTION_KEY, fixed label)), else 32 random bytes in hex
// kept 0600 in <data dir>/internal-token (reused by later starts so tokens
// handed to containers stay valid).
#pragma once

#include <string>
#include <string_view>

namespace crewship::ipc {

class InternalAuth {
 public:
  enum class Source { kConfig, kDerived, kFile, kGenerated };

  InternalAuth() = default;
  ~InternalAuth();
  InternalAuth(const InternalAuth&) = delete;
  InternalAuth& operator=(const InternalAuth&) = delete;

  // Returns 0, or a negative errno with *error set.
  int load(const std::string& configured, const std::string& encryption_key,
           const std::string& data_dir, std::string* error);

  // Constant-time comparison with the master token.
  bool is_master(std::string_view token) const;
  Source source() const { return source_; }
  const std::string& master() const { return master_; }

  static constexpr const char* kFileName = "internal-token";

 private:
  std::string master_;
  Source source_ = Source::kConfig;
};

}  // namespace crewship::ipc
