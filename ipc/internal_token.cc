#include "ipc/internal_token.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

namespace crewship::ipc {
namespace {

constexpr std::string_view kLabel = "crewshipd internal token v1";
constexpr size_t kRandomBytes = 32;

bool is_token_text(std::string_view s) {
  if (s.size() < 32 || s.size() > 256) return false;
  for (char c : s)
    if (c <= ' ' || c > '~') return false;
  return true;
}

int read_token_file(const std::string& path, std::string* out, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -errno;
  char buf[300];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n < 0) return -errno;
  std::string_view text(buf, static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (!is_token_text(text)) {
    *error = path + " does not hold a token";
    sodium_memzero(buf, sizeof buf);
    return -EINVAL;
  }
  out->assign(text);
  sodium_memzero(buf, sizeof buf);
  return 0;
}

int write_token_file(const std::string& path, const std::string& token) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return -errno;
  std::string line = token + "\n";
  ssize_t n = ::write(fd, line.data(), line.size());
  int r = n == static_cast<ssize_t>(line.size()) ? 0 : -EIO;
  if (r == 0 && ::fsync(fd) != 0) r = -errno;
  ::close(fd);
  sodium_memzero(line.data(), line.size());
  if (r != 0) ::unlink(path.c_str());
  return r;
}

}  // namespace

InternalAuth::~InternalAuth() { sodium_memzero(master_.data(), master_.size()); }

bool equal_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string to_hex(const unsigned char* data, size_t len) {
  std::string out(len * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, len);
  out.pop_back();
  return out;
}

int InternalAuth::load(const std::string& configured, const std::string& encryption_key,
                       const std::string& data_dir, std::string* error) {
  if (!configured.empty()) {
    if (!is_token_text(configured)) {
      *error = "CREWSHIP_INTERNAL_TOKEN must be 32 to 256 printable characters";
      return -EINVAL;
    }
    master_ = configured;
    source_ = Source::kConfig;
    return 0;
  }
  if (!encryption_key.empty()) {
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(encryption_key.data()),
                                encryption_key.size());
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(kLabel.data()),
                                  kLabel.size());
    crypto_auth_hmacsha256_final(&st, mac);
    master_ = to_hex(mac, sizeof mac);
    sodium_memzero(mac, sizeof mac);
    source_ = Source::kDerived;
    return 0;
  }
  std::string path = data_dir + "/" + kFileName;
  int r = read_token_file(path, &master_, error);
  if (r == 0) {
    source_ = Source::kFile;
    return 0;
  }
  if (r != -ENOENT) {
    if (error->empty()) *error = "cannot read " + path + ": " + std::strerror(-r);
    return r;
  }
  unsigned char raw[kRandomBytes];
  randombytes_buf(raw, sizeof raw);
  master_ = to_hex(raw, sizeof raw);
  sodium_memzero(raw, sizeof raw);
  if ((r = write_token_file(path, master_)) != 0) {
    *error = "cannot write " + path + ": " + std::strerror(-r);
    return r;
  }
  source_ = Source::kGenerated;
  return 0;
}

bool InternalAuth::is_master(std::string_view token) const {
  return !master_.empty() && equal_secret(token, master_);
}

}  // namespace crewship::ipc
