#include "daemon/story/fingerprint.h"

#include <algorithm>
#include <limits>

namespace newsflow {
namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Decodes one UTF-8 sequence at text[i]; returns its length (1 for an
// invalid byte, which then reads as U+FFFD).
size_t Decode(std::string_view text, size_t i, uint32_t* cp) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  if (len == 1 || i + len > text.size()) {
    *cp = 0xFFFD;
    return 1;
  }
  uint32_t v = c & (0xFF >> (len + 1));
  for (size_t k = 1; k < len; ++k) v = (v << 6) | (text[i + k] & 0x3F);
  *cp = v;
  return len;
}

bool IsSeparator(uint32_t cp) {
  if (cp < 0x80) {
    return !((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
             (cp >= 'A' && cp <= 'Z'));
  }
  return (cp >= 0x80 && cp <= 0xBF) || cp == 0xD7 || cp == 0xF7 ||
         (cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x3000 && cp <= 0x303F) ||
         (cp >= 0xFF00 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
         cp == 0xFFFD || cp == 0xFEFF;
}

// Scripts written without spaces: one token per character.
bool IsCharacterToken(uint32_t cp) {
  return (cp >= 0x0E00 && cp <= 0x0E7F) ||  // Thai
         (cp >= 0x0E80 && cp <= 0x0EFF) ||  // Lao
         (cp >= 0x1000 && cp <= 0x109F) ||  // Myanmar
         (cp >= 0x1780 && cp <= 0x17FF) ||  // Khmer
         (cp >= 0x3040 && cp <= 0x30FF) ||  // kana
         (cp >= 0x3400 && cp <= 0x9FFF) ||  // CJK ideographs
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FFFF);
}

std::vector<uint64_t> TokenHashes(std::string_view text) {
  std::vector<uint64_t> tokens;
  uint64_t h = kFnvOffset;
  bool in_token = false;
  auto flush = [&] {
    if (in_token) tokens.push_back(h);
    h = kFnvOffset;
    in_token = false;
  };
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    const size_t len = Decode(text, i, &cp);
    if (IsSeparator(cp)) {
      flush();
    } else if (IsCharacterToken(cp)) {
      flush();
      for (size_t k = 0; k < len; ++k)
        h = (h ^ static_cast<unsigned char>(text[i + k])) * kFnvPrime;
      in_token = true;
      flush();
    } else {
      for (size_t k = 0; k < len; ++k) {
        unsigned char b = static_cast<unsigned char>(text[i + k]);
        if (b >= 'A' && b <= 'Z') b = static_cast<unsigned char>(b - 'A' + 'a');
        h = (h ^ b) * kFnvPrime;
      }
      in_token = true;
    }
    i += len;
  }
  flush();
  return tokens;
}

// mins[i] = min over the shingles of SplitMix64(shingle ^ seeds[i]): the
// fingerprint's whole cost (kMinHashes multiply-xorshift chains per
// shingle). Integer arithmetic only, so every version gives the same bits;
// with GCC on x86-64 a second version for AVX-512 CPUs (x86-64-v4) runs 8
// lanes at once, chosen at load time (function multiversioning); the file
// is built with -O3 (daemon/story/CMakeLists.txt) so that it vectorizes.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("arch=x86-64-v4", "default")))
#endif
void UpdateMins(const uint64_t* shingle_hashes, size_t shingles,
                const uint64_t* seeds, uint64_t* mins) {
  for (size_t s = 0; s < shingles; ++s) {
    const uint64_t h = shingle_hashes[s];
    for (int i = 0; i < kMinHashes; ++i)
      mins[i] = std::min(mins[i], SplitMix64(h ^ seeds[i]));
  }
}

}  // namespace

StoryFingerprint FingerprintText(std::string_view text) {
  StoryFingerprint fp;
  const std::vector<uint64_t> tokens = TokenHashes(text);
  if (tokens.size() < static_cast<size_t>(kShingleTokens)) return fp;
  const size_t shingles = tokens.size() - kShingleTokens + 1;
  if (shingles < static_cast<size_t>(kMinShingles)) return fp;
  std::vector<uint64_t> seeds(kMinHashes);
  for (int i = 0; i < kMinHashes; ++i) seeds[i] = SplitMix64(0x5EED + i);
  std::vector<uint64_t> mins(kMinHashes, std::numeric_limits<uint64_t>::max());
  // Shingle hashes in blocks (no second array the size of the text).
  constexpr size_t kBlock = 256;
  uint64_t block[kBlock];
  for (size_t start = 0; start < shingles; start += kBlock) {
    const size_t n = std::min(kBlock, shingles - start);
    for (size_t j = 0; j < n; ++j) {
      uint64_t h = kFnvOffset;
      for (int k = 0; k < kShingleTokens; ++k) {
        h = (h ^ tokens[start + j + k]) * kFnvPrime;
        h = (h ^ 0xFF) * kFnvPrime;
      }
      block[j] = h;
    }
    UpdateMins(block, n, seeds.data(), mins.data());
  }
  fp.minhash.resize(kMinHashes);
  for (int i = 0; i < kMinHashes; ++i)
    fp.minhash[i] = static_cast<uint32_t>(mins[i] >> 32);
  return fp;
}

double EstimatedJaccard(const StoryFingerprint& a, const StoryFingerprint& b) {
  if (a.empty() || b.empty() || a.minhash.size() != b.minhash.size()) return 0;
  int equal = 0;
  for (size_t i = 0; i < a.minhash.size(); ++i)
    equal += a.minhash[i] == b.minhash[i];
  return static_cast<double>(equal) / a.minhash.size();
}

std::vector<int64_t> BandKeys(const StoryFingerprint& fp) {
  std::vector<int64_t> keys;
  if (fp.minhash.size() != static_cast<size_t>(kMinHashes)) return keys;
  keys.reserve(kBands);
  for (int b = 0; b < kBands; ++b) {
    uint64_t h = SplitMix64(0xBA4D0000ULL + b);
    for (int r = 0; r < kRowsPerBand; ++r)
      h = SplitMix64(h ^ fp.minhash[b * kRowsPerBand + r]);
    keys.push_back(static_cast<int64_t>(h));
  }
  return keys;
}

std::string EncodeFingerprint(const StoryFingerprint& fp) {
  std::string out;
  out.reserve(fp.minhash.size() * 4);
  for (uint32_t v : fp.minhash) {
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<char>(v >> (8 * k)));
  }
  return out;
}

StoryFingerprint DecodeFingerprint(std::string_view bytes) {
  StoryFingerprint fp;
  if (bytes.size() != static_cast<size_t>(kMinHashes) * 4) return fp;
  fp.minhash.resize(kMinHashes);
  for (int i = 0; i < kMinHashes; ++i) {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k)
      v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i * 4 + k]))
           << (8 * k);
    fp.minhash[i] = v;
  }
  return fp;
}

}  // namespace newsflow
