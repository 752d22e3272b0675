// The master internal token of the IPC channel: CREWSHIP_INTERNAL_TOKEN, else
// hex(HMAC-SHA256(ENCRYPTION_KEY, fixed label)), else 32 random bytes in hex
// kept 0600 in <data dir>/internal-token (reused by later starts so tokens
// handed to containers stay valid).
#pragma once

#include <cstdint>
#include <functional>
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

  // What a token may touch: everything (master), one workspace, or one crew.
  struct Scope {
    std::string workspace_id;  // empty: any workspace
    std::string crew_id;       // empty: any crew of the workspace
  };
  // The crew's token generation (a store column), or a negative value to
  // refuse the token (no such crew, or the store failed).
  using Generation = std::function<int64_t(std::string_view crew_id)>;
  // Checks the master token and the bound tokens derived from it:
  //   crwv1.<workspace>.<crew>.<hex HMAC-SHA256(master, claim)>
  //   wsv1.<workspace>.<hex HMAC-SHA256(master, "wsv1.<workspace>")>
  // where a crew token's claim is "crwv1.<workspace>.<crew>" at generation 0
  // (the tokens made before generations existed) and
  // "crwv1.<workspace>.<crew>#<generation>" after, so moving a crew's
  // generation on revokes every token it had. generation is asked only for
  // a well-formed crew token.
  bool verify(std::string_view token, Scope* scope, const Generation& generation) const;
  std::string crew_token(std::string_view workspace_id, std::string_view crew_id, int64_t generation) const;
  std::string workspace_token(std::string_view workspace_id) const;
  Source source() const { return source_; }
  const std::string& master() const { return master_; }

  static constexpr const char* kFileName = "internal-token";

 private:
  std::string master_;
  Source source_ = Source::kConfig;
};

}  // namespace crewship::ipc
