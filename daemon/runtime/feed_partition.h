#pragma once

// Feed → partition mapping of cluster mode (issue 15, decision 2;
// docs/cluster.md). Every daemon of a group computes it from the same YAML,
// so all agree on which partition — and so which daemon — polls a feed,
// with no coordinator.
//
// Bounded-load consistent hashing: capacity = ceil(F / P); the feeds are
// taken in ascending order of (FNV-1a-64(name), name) and each goes to
// partition hash % P or, when that one is full, the next partition (mod P)
// with room. Properties (tests/daemon/runtime/feed_partition_test.cc):
//  - deterministic (depends only on the set of names and P, not on order);
//  - balanced: every partition holds floor(F/P) or ceil(F/P) feeds;
//  - stable: adding or removing one feed moves few others (most feeds keep
//    their home partition; only overflow chains shift).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace newsflow {

// FNV-1a, 64 bit, over the bytes of `s`.
uint64_t Fnv1a64(std::string_view s);

// Partition (0..partitions-1) of every name in `feed_names` (duplicates
// count once). REQUIRES: partitions >= 1.
std::map<std::string, int> AssignFeedPartitions(
    const std::vector<std::string>& feed_names, int partitions);

}  // namespace newsflow
