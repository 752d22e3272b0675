// The key behind secrets at rest: credential values are sealed with
// crypto_secretbox (a random nonce per value) under a subkey that crypto_kdf
// derives from ENCRYPTION_KEY, else from a key file generated 0600 in the data
// dir at first start. A second subkey keys the hashes of webhook secrets.
#pragma once

#include <string>
#include <string_view>

#include <sodium.h>

#include "daemon/crypto.h"

namespace crewship {

// A plaintext secret that is wiped when it goes.
struct SecretText {
  std::string value;
  SecretText() = default;
  SecretText(const SecretText&) = default;
  SecretText& operator=(const SecretText&) = default;
  ~SecretText() { sodium_memzero(value.data(), value.size()); }
};

class Vault {
 public:
  static constexpr const char* kFileName = "vault-key";

  Vault() = default;
  ~Vault();
  Vault(const Vault&) = delete;
  Vault& operator=(const Vault&) = delete;

  // Derives the keys from encryption_key, else from <data_dir>/vault-key
  // (generated when missing; *created says so). 0, or a negative errno with
  // *error set.
  int load(const std::string& encryption_key, const std::string& data_dir, bool* created,
           std::string* error);
  // Keys from a master secret of any length (tests, benchmarks).
  void load_master(std::string_view master);

  // nonce || MAC || ciphertext.
  std::string seal(std::string_view plaintext) const;
  // False when sealed does not open under this key (wrong key, damaged).
  bool open(std::string_view sealed, SecretText* out) const;
  // A keyed hash (HMAC-SHA256 under the vault's second subkey), as hex.
  std::string keyed_hash(std::string_view data) const;

 private:
  unsigned char seal_key_[crypto_secretbox_KEYBYTES] = {};
  unsigned char hash_key_[32] = {};
};

}  // namespace crewship
