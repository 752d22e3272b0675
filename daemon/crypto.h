// Small libsodium wrappers shared by the token code: HMAC-SHA256 with a key
// of any length, SHA-256, hex and base64url, constant-time equality.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace crewship::crypto {

using Digest = std::array<unsigned char, 32>;

Digest hmac_sha256(std::string_view key, std::string_view message);
Digest sha256(std::string_view data);
std::string hex(const unsigned char* data, size_t len);
inline std::string hex(const Digest& d) { return hex(d.data(), d.size()); }

std::string base64url(std::string_view data);  // no padding
bool base64url_decode(std::string_view text, std::string* out);

// Constant-time equality (the length is not secret).
bool equal(std::string_view a, std::string_view b);

}  // namespace crewship::crypto
