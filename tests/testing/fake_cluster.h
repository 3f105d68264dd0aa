#pragma once

// FakeCluster: an in-memory Cluster (daemon/core/cluster.h) a test drives
// by hand — Assign / Revoke / Lose partitions — and that records what the
// daemon hands it (Record, DeclareFeed). WithFakeCluster() turns any sink
// descriptor into one that can carry a cluster, so the real config loader
// and daemon run in cluster mode without a broker. Unit and in-process
// integration tests only; threading as the interface says (io thread).

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config/sink_registry.h"
#include "daemon/core/cluster.h"

namespace newsflow::testing {

class FakeCluster final : public Cluster {
 public:
  struct Written {
    int partition = 0;
    StateRecord record;
  };

  explicit FakeCluster(ClusterOptions options) : options_(std::move(options)) {}

  Result<void> Start(Callbacks callbacks) override {
    callbacks_ = std::move(callbacks);
    started_ = true;
    return {};
  }
  int partitions() const override {
    return options_.partitions > 0 ? options_.partitions
                                   : kDefaultClusterPartitions;
  }
  void Record(int partition, StateRecord record) override {
    records_.push_back({partition, std::move(record)});
  }
  void DeclareFeed(int partition, StateRecord feed) override {
    declared_.push_back({partition, std::move(feed)});
  }
  ClusterStatus Status() const override {
    ClusterStatus s;
    s.instance = options_.instance;
    s.member_id = started_ ? "fake-member" : "";
    s.generation = generation_;
    s.partitions.assign(owned_.begin(), owned_.end());
    s.rebalances = rebalances_;
    return s;
  }
  void Leave(std::chrono::milliseconds, std::function<void()> done) override {
    left_ = true;
    std::vector<int> owned(owned_.begin(), owned_.end());
    if (owned.empty() || !callbacks_.revoked) {
      done();
      return;
    }
    owned_.clear();
    ++rebalances_;
    callbacks_.revoked(owned, std::move(done));
  }

  // --- driving it (io thread) ---
  void Assign(std::vector<int> partitions, std::vector<StateRecord> state) {
    for (int p : partitions) owned_.insert(p);
    ++generation_;
    ++rebalances_;
    callbacks_.assigned(std::move(partitions), std::move(state));
  }
  // `done` of the daemon sets revoke_done(); the partitions leave owned_
  // at once (the real cluster releases them after done).
  void Revoke(std::vector<int> partitions) {
    for (int p : partitions) owned_.erase(p);
    ++rebalances_;
    revoke_done_ = false;
    callbacks_.revoked(std::move(partitions), [this] { revoke_done_ = true; });
  }
  void Lose(std::vector<int> partitions) {
    for (int p : partitions) owned_.erase(p);
    ++rebalances_;
    callbacks_.lost(std::move(partitions));
  }

  bool started() const { return started_; }
  bool left() const { return left_; }
  bool revoke_done() const { return revoke_done_; }
  const Callbacks& callbacks() const { return callbacks_; }
  const std::vector<Written>& records() const { return records_; }
  const std::vector<Written>& declared() const { return declared_; }
  const ClusterOptions& options() const { return options_; }

 private:
  ClusterOptions options_;
  Callbacks callbacks_;
  std::set<int> owned_;
  std::vector<Written> records_;
  std::vector<Written> declared_;
  bool started_ = false;
  bool left_ = false;
  bool revoke_done_ = false;
  int32_t generation_ = 0;
  uint64_t rebalances_ = 0;
};

// What a test sees of the clusters a WithFakeCluster descriptor made.
struct FakeClusterHub {
  FakeCluster* cluster = nullptr;  // the last one created (owned by the daemon)
  // describe_cluster's answer.
  Result<ClusterDescription> description =
      Error(Errc::kSink, "no description set");
};

// `base` plus create_cluster (base.create's sink + a FakeCluster) and
// describe_cluster (hub->description).
inline SinkDescriptor WithFakeCluster(SinkDescriptor base,
                                      std::shared_ptr<FakeClusterHub> hub) {
  auto create = base.create;
  base.create_cluster =
      [create, hub](boost::asio::io_context& io, const SinkSettings& settings,
                    const ClusterOptions& options) -> Result<ClusterParts> {
    auto sink = create(io, settings);
    if (!sink) return sink.error();
    auto cluster = std::make_unique<FakeCluster>(options);
    hub->cluster = cluster.get();
    return ClusterParts{std::move(cluster), std::move(*sink)};
  };
  base.describe_cluster =
      [hub](const SinkSettings&, const ClusterOptions&,
            std::chrono::milliseconds) -> Result<ClusterDescription> {
    return hub->description;
  };
  return base;
}

}  // namespace newsflow::testing
