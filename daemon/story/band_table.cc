#include "daemon/story/band_table.h"

#include <cassert>

namespace newsflow {

void BandTable::Place(uint64_t slot) {
  const size_t mask = slots_.size() - 1;
  size_t i = Home(static_cast<uint32_t>(slot >> 32));
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = slot;
}

void BandTable::Rehash(int bits) {
  std::vector<uint64_t> old = std::move(slots_);
  slots_.assign(size_t{1} << bits, 0);
  bits_ = bits;
  for (uint64_t slot : old) {
    if (slot != 0) Place(slot);
  }
}

bool BandTable::Add(int64_t band_key, uint32_t key, int max_per_band) {
  assert(key != 0);
  // Grow before the table is 70 % full.
  if (bits_ == 0 || (size_ + 1) * 10 > slots_.size() * 7)
    Rehash(bits_ == 0 ? 10 : bits_ + 1);
  const uint32_t tag = Tag(band_key);
  const size_t mask = slots_.size() - 1;
  size_t i = Home(tag);
  int same = 0;
  for (; slots_[i] != 0; i = (i + 1) & mask) {
    if (static_cast<uint32_t>(slots_[i] >> 32) != tag) continue;
    if (static_cast<uint32_t>(slots_[i]) == key) return false;
    if (++same >= max_per_band) return false;
  }
  slots_[i] = (static_cast<uint64_t>(tag) << 32) | key;
  ++size_;
  return true;
}

void BandTable::Find(int64_t band_key, std::vector<uint32_t>* out) const {
  if (bits_ == 0) return;
  const uint32_t tag = Tag(band_key);
  const size_t mask = slots_.size() - 1;
  for (size_t i = Home(tag); slots_[i] != 0; i = (i + 1) & mask) {
    if (static_cast<uint32_t>(slots_[i] >> 32) == tag)
      out->push_back(static_cast<uint32_t>(slots_[i]));
  }
}

void BandTable::Remove(const std::unordered_set<uint32_t>& keys) {
  if (bits_ == 0 || keys.empty()) return;
  std::vector<uint64_t> old = std::move(slots_);
  slots_.assign(old.size(), 0);
  size_ = 0;
  for (uint64_t slot : old) {
    if (slot == 0 || keys.count(static_cast<uint32_t>(slot)) != 0) continue;
    Place(slot);
    ++size_;
  }
}

}  // namespace newsflow
