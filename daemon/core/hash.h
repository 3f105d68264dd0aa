#pragma once

// Content hashes shared by the feed source (body hashes), the normalizer
// (article ids, item and content hashes) and the state store's users.
// Pure; thread-safe.

#include <string>
#include <string_view>

namespace newsflow {

// Lower-case hex SHA-256 of `data` (64 characters).
std::string Sha256Hex(std::string_view data);

}  // namespace newsflow
