#include "daemon/vault.h"

#include "daemon/secret_file.h"

namespace crewship {
namespace {

constexpr char kContext[crypto_kdf_CONTEXTBYTES] = {'c', 'r', 'e', 'w', 'v', 'l', 't', '1'};
constexpr uint64_t kSealSubkey = 1;
constexpr uint64_t kHashSubkey = 2;

}  // namespace

Vault::~Vault() {
  sodium_memzero(seal_key_, sizeof seal_key_);
  sodium_memzero(hash_key_, sizeof hash_key_);
}

int Vault::load(const std::string& encryption_key, const std::string& data_dir, bool* created,
                std::string* error) {
  *created = false;
  if (!encryption_key.empty()) {
    load_master(encryption_key);
    return 0;
  }
  SecretText master;
  int r = load_or_create_secret(data_dir + "/" + kFileName, &master.value, created, error);
  if (r != 0) return r;
  load_master(master.value);
  return 0;
}

void Vault::load_master(std::string_view master) {
  // ENCRYPTION_KEY may have any length; crypto_kdf wants exactly its key size.
  unsigned char root[crypto_kdf_KEYBYTES];
  crypto_generichash(root, sizeof root, reinterpret_cast<const unsigned char*>(master.data()), master.size(),
                     nullptr, 0);
  crypto_kdf_derive_from_key(seal_key_, sizeof seal_key_, kSealSubkey, kContext, root);
  crypto_kdf_derive_from_key(hash_key_, sizeof hash_key_, kHashSubkey, kContext, root);
  sodium_memzero(root, sizeof root);
}

std::string Vault::seal(std::string_view plaintext) const {
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(p, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(p + crypto_secretbox_NONCEBYTES, reinterpret_cast<const unsigned char*>(plaintext.data()),
                        plaintext.size(), p, seal_key_);
  return out;
}

bool Vault::open(std::string_view sealed, SecretText* out) const {
  constexpr size_t kOverhead = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
  if (sealed.size() < kOverhead) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(sealed.data());
  out->value.assign(sealed.size() - kOverhead, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(out->value.data()), p + crypto_secretbox_NONCEBYTES,
                                 sealed.size() - crypto_secretbox_NONCEBYTES, p, seal_key_) != 0) {
    out->value.clear();
    return false;
  }
  return true;
}

std::string Vault::keyed_hash(std::string_view data) const {
  return crypto::hex(crypto::hmac_sha256(
      std::string_view(reinterpret_cast<const char*>(hash_key_), sizeof hash_key_), data));
}

}  // namespace crewship
