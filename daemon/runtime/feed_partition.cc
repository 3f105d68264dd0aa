#include "daemon/runtime/feed_partition.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace newsflow {

uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::map<std::string, int> AssignFeedPartitions(
    const std::vector<std::string>& feed_names, int partitions) {
  assert(partitions >= 1);
  std::vector<std::pair<uint64_t, std::string>> order;
  order.reserve(feed_names.size());
  for (const std::string& name : feed_names)
    order.emplace_back(Fnv1a64(name), name);
  std::sort(order.begin(), order.end());
  order.erase(std::unique(order.begin(), order.end()), order.end());

  const size_t p = static_cast<size_t>(partitions);
  const size_t f = order.size();
  // ceil(F/P) as the capacity keeps every partition at floor or ceil only
  // when exactly F mod P partitions reach the ceiling: the first F mod P
  // partitions to fill up may take ceil, the rest stop at floor.
  const size_t floor_load = f / p;
  size_t ceil_slots = f % p;  // partitions still allowed ceil(F/P)
  std::vector<size_t> load(p, 0);
  std::map<std::string, int> out;
  for (const auto& [hash, name] : order) {
    size_t at = static_cast<size_t>(hash % p);
    for (;;) {
      const size_t cap = floor_load + (ceil_slots > 0 ? 1 : 0);
      if (load[at] < cap) break;
      at = (at + 1) % p;
    }
    ++load[at];
    if (load[at] == floor_load + 1) --ceil_slots;
    out.emplace(name, static_cast<int>(at));
  }
  return out;
}

}  // namespace newsflow
