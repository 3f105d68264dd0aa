#pragma once

// Content hashes shared by the feed source (body hashes), the normalizer
// (article ids, item and content hashes) and the state store's users.
// Pure; thread-safe.

#include <openssl/types.h>

#include <string>
#include <string_view>

namespace newsflow {

// Lower-case hex SHA-256 of `data` (64 characters).
std::string Sha256Hex(std::string_view data);

// OpenSSL's SHA-256, fetched once for the process (never freed). Pass it to
// EVP_DigestInit_ex: EVP_sha256() makes OpenSSL 3 look the implementation up
// again, under a lock, on every digest, which shows per item.
const EVP_MD* Sha256Algorithm();

}  // namespace newsflow
