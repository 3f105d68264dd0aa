#pragma once

// BandTable: the in-memory LSH band index of StoryIndex (issue 16): band
// key -> keys of the story signatures that have that band. Open addressing
// with linear probing, one 8-byte slot per entry (the band key's low 32
// bits as a tag, the signature key), at most 70 % full: ~11–23 bytes per
// entry, 32 entries per indexed story.
//
// A probe returns the keys whose tag equals the band key's; a different
// band key with the same 32-bit tag is a false candidate, which the caller
// rejects by comparing signatures (expected ~entries / 2^32 per probe).
//
// Bounded probes: Add keeps at most `max_per_band` keys per tag (the first
// ones added), so Find returns at most that many.
//
// Not thread-safe; owned by one StoryIndex.

#include <cstddef>
#include <cstdint>
#include <unordered_set>
#include <vector>

namespace newsflow {

class BandTable {
 public:
  BandTable() = default;
  BandTable(const BandTable&) = delete;
  BandTable& operator=(const BandTable&) = delete;

  // Adds `key` (> 0) under `band_key`, unless `max_per_band` keys already
  // share its tag; returns whether it was added.
  bool Add(int64_t band_key, uint32_t key, int max_per_band);
  // Appends the keys stored under `band_key`'s tag to `out`.
  void Find(int64_t band_key, std::vector<uint32_t>* out) const;
  // Removes every entry whose key is in `keys` (one pass over the table).
  void Remove(const std::unordered_set<uint32_t>& keys);

  size_t size() const { return size_; }
  size_t bytes() const { return slots_.size() * sizeof(uint64_t); }

 private:
  static uint32_t Tag(int64_t band_key) {
    return static_cast<uint32_t>(static_cast<uint64_t>(band_key));
  }
  size_t Home(uint32_t tag) const {
    return static_cast<size_t>((tag * 0x9E3779B97F4A7C15ULL) >> (64 - bits_));
  }
  // Places a slot without checks (the table has room).
  void Place(uint64_t slot);
  void Rehash(int bits);

  std::vector<uint64_t> slots_;  // (tag << 32) | key; 0 = empty
  size_t size_ = 0;
  int bits_ = 0;  // slots_.size() == 1 << bits_ (0: not allocated)
};

}  // namespace newsflow
