// Feed → partition mapping (daemon/runtime/feed_partition.h): deterministic,
// balanced (floor/ceil of F/P), and adding one feed moves few others.

#include "daemon/runtime/feed_partition.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace newsflow {
namespace {

std::vector<std::string> Names(int n, const std::string& prefix = "feed-") {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

// Feeds per partition.
std::vector<int> Loads(const std::map<std::string, int>& m, int partitions) {
  std::vector<int> load(partitions, 0);
  for (const auto& [name, p] : m) {
    EXPECT_GE(p, 0);
    EXPECT_LT(p, partitions);
    ++load[p];
  }
  return load;
}

void ExpectBalanced(const std::vector<std::string>& names, int partitions) {
  const auto m = AssignFeedPartitions(names, partitions);
  ASSERT_EQ(m.size(), names.size());
  const int f = static_cast<int>(names.size());
  const int lo = f / partitions;
  const int hi = (f + partitions - 1) / partitions;
  const auto load = Loads(m, partitions);
  for (int p = 0; p < partitions; ++p) {
    EXPECT_TRUE(load[p] == lo || load[p] == hi)
        << "partition " << p << " holds " << load[p] << " of " << f
        << " feeds on " << partitions << " partitions";
  }
}

size_t Moved(const std::map<std::string, int>& a,
             const std::map<std::string, int>& b) {
  size_t moved = 0;
  for (const auto& [name, p] : a) {
    auto it = b.find(name);
    if (it != b.end() && it->second != p) ++moved;
  }
  return moved;
}

TEST(FeedPartitionTest, Fnv1a64KnownValues) {
  // Reference values of FNV-1a 64.
  EXPECT_EQ(Fnv1a64(""), 14695981039346656037ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(FeedPartitionTest, DeterministicWhateverTheOrder) {
  auto names = Names(200);
  const auto a = AssignFeedPartitions(names, 60);
  std::mt19937 rng(7);
  std::shuffle(names.begin(), names.end(), rng);
  names.push_back(names.front());  // a duplicate counts once
  EXPECT_EQ(AssignFeedPartitions(names, 60), a);
}

TEST(FeedPartitionTest, SixtyFeedsOnSixtyAndOnTwelvePartitions) {
  const auto names = Names(60);
  ExpectBalanced(names, 60);
  ExpectBalanced(names, 12);
  // Exactly one per partition / five per partition.
  for (int load : Loads(AssignFeedPartitions(names, 60), 60))
    EXPECT_EQ(load, 1);
  for (int load : Loads(AssignFeedPartitions(names, 12), 12))
    EXPECT_EQ(load, 5);
}

TEST(FeedPartitionTest, EveryPartitionHoldsFloorOrCeil) {
  for (int f : {0, 1, 7, 59, 61, 100, 1000, 10007}) {
    for (int p : {1, 2, 3, 7, 12, 60, 64}) {
      SCOPED_TRACE("F=" + std::to_string(f) + " P=" + std::to_string(p));
      ExpectBalanced(Names(f, "n" + std::to_string(f) + "-"), p);
    }
  }
}

// Adding one feed to 60: the exact floor/ceil balance forces overflow
// chains, so a few feeds move. Measured over 2000 name sets (README):
// P=12 mean 2.1 (worst 9), P=7 mean 1.1, P=60 (one feed per partition,
// every slot full) mean 6.6 (worst 26). The brief's "≤ 3" holds on average
// from 5 feeds per partition up, not at one per partition.
TEST(FeedPartitionTest, AddingOneFeedToSixtyMovesFew) {
  for (int p : {12, 7, 3}) {
    size_t total = 0;
    constexpr int kTrials = 200;
    for (int trial = 0; trial < kTrials; ++trial) {
      auto names = Names(60, "t" + std::to_string(trial) + "-");
      const auto before = AssignFeedPartitions(names, p);
      names.push_back("added-" + std::to_string(trial));
      const auto after = AssignFeedPartitions(names, p);
      total += Moved(before, after);
    }
    EXPECT_LE(static_cast<double>(total) / kTrials, 3.0) << "P=" << p;
  }
}

TEST(FeedPartitionTest, OneFeedOnOnePartition) {
  const auto m = AssignFeedPartitions({"only"}, 1);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m.at("only"), 0);
}

}  // namespace
}  // namespace newsflow
