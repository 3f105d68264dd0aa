#pragma once

// FakeCluster: an in-memory Cluster (daemon/core/cluster.h) a test drives
// by hand — Assign / Revoke / Lose partitions — and that records what the
// daemon hands it (Record, DeclareFeed). WithFakeCluster() turns any sink
// descriptor into one that can carry a cluster, so the real config loader
// and daemon run in cluster mode without a broker. Unit and in-process
// integration tests only.
//
// Threading: the Cluster interface and Assign/Revoke/Lose run on the io
// thread; Post*() may be called from any thread (they post to the
// io_context given at creation); the accessors copy under a mutex.

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
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

  // What the daemon wrote; shared so that it outlives the cluster (a test
  // reads it after the daemon ended).
  struct Log {
    mutable std::mutex mu;
    std::vector<Written> records;
    std::vector<Written> declared;
    std::vector<Written> Records() const {
      std::lock_guard lock(mu);
      return records;
    }
  };

  explicit FakeCluster(ClusterOptions options,
                       boost::asio::io_context* io = nullptr,
                       std::shared_ptr<Log> log = std::make_shared<Log>())
      : options_(std::move(options)), io_(io), log_(std::move(log)) {}

  Result<void> Start(Callbacks callbacks) override {
    callbacks_ = std::move(callbacks);
    std::lock_guard lock(mu_);
    started_ = true;
    return {};
  }
  int partitions() const override {
    return options_.partitions > 0 ? options_.partitions
                                   : kDefaultClusterPartitions;
  }
  void Record(int partition, StateRecord record) override {
    std::lock_guard lock(log_->mu);
    log_->records.push_back({partition, std::move(record)});
  }
  void DeclareFeed(int partition, StateRecord feed) override {
    std::lock_guard lock(log_->mu);
    log_->declared.push_back({partition, std::move(feed)});
  }
  ClusterStatus Status() const override {
    std::lock_guard lock(mu_);
    ClusterStatus s;
    s.instance = options_.instance;
    s.member_id = started_ ? "fake-member" : "";
    s.generation = generation_;
    s.partitions.assign(owned_.begin(), owned_.end());
    s.rebalances = rebalances_;
    return s;
  }
  void Leave(std::chrono::milliseconds, std::function<void()> done) override {
    std::vector<int> owned;
    {
      std::lock_guard lock(mu_);
      left_ = true;
      owned.assign(owned_.begin(), owned_.end());
    }
    if (owned.empty() || !callbacks_.revoked) {
      done();
      return;
    }
    {
      std::lock_guard lock(mu_);
      owned_.clear();
      ++rebalances_;
    }
    callbacks_.revoked(owned, std::move(done));
  }

  // --- driving it (io thread) ---
  void Assign(std::vector<int> partitions, std::vector<StateRecord> state) {
    {
      std::lock_guard lock(mu_);
      for (int p : partitions) owned_.insert(p);
      ++generation_;
      ++rebalances_;
    }
    callbacks_.assigned(std::move(partitions), std::move(state));
  }
  // `done` of the daemon sets revoke_done(); the partitions leave owned_
  // at once (the real cluster releases them after done).
  void Revoke(std::vector<int> partitions) {
    {
      std::lock_guard lock(mu_);
      for (int p : partitions) owned_.erase(p);
      ++rebalances_;
      revoke_done_ = false;
    }
    callbacks_.revoked(std::move(partitions), [this] {
      std::lock_guard lock(mu_);
      revoke_done_ = true;
    });
  }
  void Lose(std::vector<int> partitions) {
    {
      std::lock_guard lock(mu_);
      for (int p : partitions) owned_.erase(p);
      ++rebalances_;
    }
    callbacks_.lost(std::move(partitions));
  }
  // The same from any thread (REQUIRES: created with an io_context).
  void PostAssign(std::vector<int> partitions, std::vector<StateRecord> state) {
    boost::asio::post(*io_,
                      [this, partitions, state] { Assign(partitions, state); });
  }
  void PostRevoke(std::vector<int> partitions) {
    boost::asio::post(*io_, [this, partitions] { Revoke(partitions); });
  }
  void PostLose(std::vector<int> partitions) {
    boost::asio::post(*io_, [this, partitions] { Lose(partitions); });
  }

  // callbacks().delivered_record(article) on the io thread, from any
  // other thread; waits for the answer.
  std::pair<int, StateRecord> CallDeliveredRecord(const Article& article) {
    std::promise<std::pair<int, StateRecord>> answer;
    boost::asio::post(
        *io_, [&] { answer.set_value(callbacks_.delivered_record(article)); });
    return answer.get_future().get();
  }

  bool started() const {
    std::lock_guard lock(mu_);
    return started_;
  }
  bool left() const {
    std::lock_guard lock(mu_);
    return left_;
  }
  bool revoke_done() const {
    std::lock_guard lock(mu_);
    return revoke_done_;
  }
  // io thread only.
  const Callbacks& callbacks() const { return callbacks_; }
  std::vector<Written> records() const { return log_->Records(); }
  std::vector<Written> declared() const {
    std::lock_guard lock(log_->mu);
    return log_->declared;
  }
  const ClusterOptions& options() const { return options_; }

 private:
  ClusterOptions options_;
  boost::asio::io_context* io_ = nullptr;
  mutable std::mutex mu_;
  Callbacks callbacks_;
  std::shared_ptr<Log> log_;
  std::set<int> owned_;
  bool started_ = false;
  bool left_ = false;
  bool revoke_done_ = false;
  int32_t generation_ = 0;
  uint64_t rebalances_ = 0;
};

// Forwards to `inner` and records the feed events and the item hashes of
// the articles handed to it (thread-safe accessors). With hold(true) it
// keeps the articles handed to it (in the sink, not reported) until
// PostRelease().
class RecordingSink final : public Sink {
 public:
  RecordingSink(std::unique_ptr<Sink> inner, boost::asio::io_context* io)
      : inner_(std::move(inner)), io_(io) {}
  std::string_view Name() const override { return inner_->Name(); }
  SinkDestination Route(const Article& a,
                        const FeedSinkOptions& f) const override {
    return inner_->Route(a, f);
  }
  void Publish(const Article& article, const SinkDestination& destination,
               DeliveryCallback done) override {
    {
      std::lock_guard lock(mu_);
      item_hashes_.push_back(article.item_hash);
      if (hold_) {
        held_.push_back({article, destination, std::move(done)});
        return;
      }
    }
    inner_->Publish(article, destination, std::move(done));
  }
  void hold(bool on) {
    std::lock_guard lock(mu_);
    hold_ = on;
  }
  size_t held() const {
    std::lock_guard lock(mu_);
    return held_.size();
  }
  // Stops holding and hands what was held to the inner sink (io thread).
  void PostRelease() {
    boost::asio::post(*io_, [this] {
      std::vector<Held> held;
      {
        std::lock_guard lock(mu_);
        hold_ = false;
        held.swap(held_);
      }
      for (Held& h : held) {
        inner_->Publish(h.article, h.destination, std::move(h.done));
      }
    });
  }
  void PublishEvent(const FeedEvent& event) override {
    {
      std::lock_guard lock(mu_);
      events_.push_back(event);
    }
    inner_->PublishEvent(event);
  }
  SinkHealth Health() const override { return inner_->Health(); }
  Result<void> Close(std::chrono::milliseconds timeout) override {
    std::vector<Held> held;
    {
      std::lock_guard lock(mu_);
      held.swap(held_);
    }
    for (Held& h : held) {
      boost::asio::post(*io_, [done = std::move(h.done)] {
        done({DeliveryOutcome::kRetry, "closed while held"});
      });
    }
    return inner_->Close(timeout);
  }
  std::vector<FeedEvent> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<std::string> item_hashes() const {
    std::lock_guard lock(mu_);
    return item_hashes_;
  }

 private:
  struct Held {
    Article article;
    SinkDestination destination;
    DeliveryCallback done;
  };
  std::unique_ptr<Sink> inner_;
  boost::asio::io_context* io_;
  mutable std::mutex mu_;
  bool hold_ = false;
  std::vector<Held> held_;
  std::vector<FeedEvent> events_;
  std::vector<std::string> item_hashes_;
};

// What a test sees of the clusters a WithFakeCluster descriptor made.
struct FakeClusterHub {
  // The last one created (owned by the daemon). Set on the daemon's thread
  // before it runs handlers; read it after `created` became true.
  FakeCluster* cluster = nullptr;
  std::atomic<bool> created{false};
  RecordingSink* sink = nullptr;  // the sink bound to `cluster`
  // What every cluster made from this hub recorded (outlives them).
  std::shared_ptr<FakeCluster::Log> log = std::make_shared<FakeCluster::Log>();
  // describe_cluster's answer.
  Result<ClusterDescription> description =
      Error(Errc::kSink, "no description set");
};

// `base` plus create_cluster (base.create's sink in a RecordingSink + a
// FakeCluster) and
// describe_cluster (hub->description).
inline SinkDescriptor WithFakeCluster(SinkDescriptor base,
                                      std::shared_ptr<FakeClusterHub> hub) {
  auto create = base.create;
  base.create_cluster =
      [create, hub](boost::asio::io_context& io, const SinkSettings& settings,
                    const ClusterOptions& options) -> Result<ClusterParts> {
    auto sink = create(io, settings);
    if (!sink) return sink.error();
    auto cluster = std::make_unique<FakeCluster>(options, &io, hub->log);
    auto recording = std::make_unique<RecordingSink>(std::move(*sink), &io);
    hub->cluster = cluster.get();
    hub->sink = recording.get();
    hub->created = true;
    return ClusterParts{std::move(cluster), std::move(recording)};
  };
  base.describe_cluster =
      [hub](const SinkSettings&, const ClusterOptions&,
            std::chrono::milliseconds) -> Result<ClusterDescription> {
    return hub->description;
  };
  return base;
}

}  // namespace newsflow::testing
