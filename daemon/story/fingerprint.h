#pragma once

// Story fingerprints: a MinHash signature of an article's content_text,
// for finding near-duplicate copies of one story (syndication) without
// comparing texts. Pure functions; any thread (run on the worker pool).
//
// Algorithm (documented in daemon/story/README.md):
//  - Tokens: runs of letters/digits (ASCII lower-cased); every ideograph,
//    kana and Thai character is a token of its own (scripts written
//    without spaces); punctuation and spaces separate.
//  - Shingles: every kShingleTokens consecutive tokens, hashed (64-bit
//    FNV-1a over the tokens, a separator between them).
//  - Signature: kMinHashes minima, value i = min over shingles of
//    SplitMix64(shingle ^ seed_i), upper 32 bits kept.
//  - Texts with fewer than kMinShingles shingles get no signature (teasers
//    and one-liners: too little text to tell stories apart).
//  - Candidates: kBands bands of kRowsPerBand values; two signatures that
//    agree on a whole band are candidates (LSH). Candidates are the same
//    story when the estimated Jaccard similarity of their shingle sets
//    (share of equal values) is >= kSameStoryJaccard.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace newsflow {

inline constexpr int kShingleTokens = 4;
inline constexpr int kMinShingles = 30;
inline constexpr int kBands = 32;
inline constexpr int kRowsPerBand = 3;
inline constexpr int kMinHashes = kBands * kRowsPerBand;  // 96
inline constexpr double kSameStoryJaccard = 0.5;

struct StoryFingerprint {
  std::vector<uint32_t> minhash;  // kMinHashes values, or empty (too short)
  bool empty() const { return minhash.empty(); }
};

StoryFingerprint FingerprintText(std::string_view text);

// Share of equal values of two non-empty signatures (0 when either is
// empty): an unbiased estimate of the Jaccard similarity of the shingle
// sets.
double EstimatedJaccard(const StoryFingerprint& a, const StoryFingerprint& b);

// The kBands LSH keys of a non-empty signature (band index mixed in, so
// equal values in different bands do not collide); empty for an empty one.
std::vector<int64_t> BandKeys(const StoryFingerprint& fp);

// Byte encoding for the state store (4 bytes per value, little-endian);
// Decode gives an empty fingerprint for malformed input.
std::string EncodeFingerprint(const StoryFingerprint& fp);
StoryFingerprint DecodeFingerprint(std::string_view bytes);

}  // namespace newsflow
