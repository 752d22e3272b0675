// Argon2id password hashing (crypto_pwhash_str) on libuv's thread pool: the
// loop never runs a hash itself.
#pragma once

#include <functional>
#include <string>

#include <uv.h>

namespace crewship::api {

// done(hash) on the loop thread; an empty hash means hashing failed (memory).
void hash_password(uv_loop_t* loop, std::string password, std::function<void(std::string)> done);
// done(matches) on the loop thread. An empty stored hash is checked against a
// dummy one so unknown users take as long as known ones.
void verify_password(uv_loop_t* loop, std::string stored_hash, std::string password,
                     std::function<void(bool)> done);

}  // namespace crewship::api
