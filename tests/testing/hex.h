#pragma once

// Test helper: bytes from a hex string ("e282ac" -> "\xe2\x82\xac"), for
// tests that feed exact byte sequences (legacy charsets, invalid UTF-8).

#include <string>
#include <string_view>

namespace newsflow::testing {

// REQUIRES: `hex` has an even number of hex digits.
inline std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(
        std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

}  // namespace newsflow::testing
