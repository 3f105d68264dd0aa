#pragma once

// KafkaCluster: cluster mode (issue 15, daemon/core/cluster.h) on Kafka
// itself — no coordinator of our own. See README.md "Cluster mode".
//
//  - Streams: `<group>.feeds` and `<group>.state`, both compacted, created
//    with the AdminAPI when missing (options.partitions or 60, replication
//    = broker default); existing ones keep their partition count, and the
//    two must agree.
//  - Ownership: a consumer of group `<group>` (client.id = instance,
//    cooperative-sticky) subscribed to `<group>.feeds`; its assignment is
//    the partitions this instance owns. A private thread polls it; the
//    rebalance callback runs there.
//  - Restore: on assignment, before `assigned` is posted, the changelog of
//    the new partitions is read to its end (read_committed) by a separate,
//    group-less consumer on the same thread; the latest value per key
//    survives, tombstones remove the key.
//  - Records: exactly_once → appended to the open transaction
//    (KafkaTransactions, shared with the sink create_cluster made);
//    otherwise sent at once by an idempotent producer (at least once, in
//    order per partition). DeclareFeed always uses that producer.
//
// Threading: created, used and destroyed on the io_context thread; every
// callback is posted there. The io_context outlives the cluster.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "connectors/sinks/kafka/kafka_sink_config.h"
#include "daemon/core/cluster.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_topic_partition_list_s rd_kafka_topic_partition_list_t;
typedef struct rd_kafka_message_s rd_kafka_message_t;

namespace newsflow {

class KafkaTransactions;

// "<group>.feeds" / "<group>.state".
std::string KafkaFeedsTopic(const ClusterOptions& options);
std::string KafkaStateTopic(const ClusterOptions& options);

// options.instance, or the host name when empty.
std::string KafkaClusterInstance(const ClusterOptions& options);

// `newsflowd cluster status`: the group as its coordinator describes it
// (AdminAPI DescribeConsumerGroups): state, members (client.id = instance)
// and their partitions of `<group>.feeds`; `partitions` from the stream's
// metadata (0 when it does not exist yet). Blocking, up to `timeout`;
// Errc::kSink when the broker does not answer. Any thread.
Result<ClusterDescription> DescribeKafkaCluster(
    const KafkaSinkOptions& sink_options, const ClusterOptions& options,
    std::chrono::milliseconds timeout);

class KafkaCluster : public Cluster {
 public:
  // Creates the record producer; no broker contact before Start().
  // `transactions` (exactly_once) is shared with the transactional sink;
  // null: at least once. Errc::kConfig on invalid librdkafka settings.
  static Result<std::unique_ptr<KafkaCluster>> Create(
      boost::asio::io_context& io, KafkaSinkOptions sink_options,
      ClusterOptions options, std::shared_ptr<KafkaTransactions> transactions);

  // Stops the group thread without waiting for the daemon (no callback
  // runs after this), closes the consumer, flushes records (≤ 5 s).
  ~KafkaCluster() override;

  // Blocks the io thread while the streams are created/checked (≤ 30 s);
  // Errc::kSink when the broker cannot be reached or the two streams
  // disagree on their partition count.
  Result<void> Start(Callbacks callbacks) override;
  int partitions() const override { return partitions_; }
  // A record for a partition this instance does not own (not assigned yet,
  // or already released) is dropped and logged: its owner's state wins.
  void Record(int partition, StateRecord record) override;
  void DeclareFeed(int partition, StateRecord feed) override;
  ClusterStatus Status() const override;
  void Leave(std::chrono::milliseconds timeout,
             std::function<void()> done) override;

  const std::string& feeds_topic() const { return feeds_topic_; }
  const std::string& state_topic() const { return state_topic_; }

 private:
  friend struct KafkaClusterCallbacks;

  KafkaCluster(boost::asio::io_context& io, KafkaSinkOptions sink_options,
               ClusterOptions options,
               std::shared_ptr<KafkaTransactions> transactions);

  // Creates the two streams if missing; their common partition count.
  Result<int> EnsureStreams();
  Result<void> CreateConsumer();
  void GroupLoop();
  static void OnRebalance(rd_kafka_t* rk, int err,
                          rd_kafka_topic_partition_list_t* partitions,
                          void* opaque);
  static void OnConsumerError(rd_kafka_t* rk, int err, const char* reason,
                              void* opaque);
  static void OnRecordDelivery(rd_kafka_t* rk,
                               const rd_kafka_message_t* message, void* opaque);
  void Assign(rd_kafka_topic_partition_list_t* list);
  void Revoke(rd_kafka_topic_partition_list_t* list, bool lost);
  // Reads `partitions` of the state stream to their end (cluster thread);
  // nullopt when stopped first.
  std::optional<std::vector<StateRecord>> Restore(
      const std::vector<int>& partitions);
  void Produce(const std::string& topic, int partition, StateRecord record);
  void SetProblem(std::string problem);
  void ClearProblem();

  boost::asio::io_context& io_;
  const KafkaSinkOptions sink_options_;
  const ClusterOptions options_;
  const std::string instance_;
  const std::string feeds_topic_;
  const std::string state_topic_;
  std::shared_ptr<KafkaTransactions> transactions_;  // null: at least once
  int partitions_ = 0;

  Callbacks callbacks_;             // set by Start(); read on the io thread
  rd_kafka_t* consumer_ = nullptr;  // owned; group thread after Start()
  rd_kafka_t* records_ = nullptr;   // owned idempotent producer
  std::thread thread_;
  std::atomic<bool> stop_{false};
  // Leave(): the thread closes the consumer (revoking through the
  // callback), then posts leave_done_.
  std::atomic<bool> leaving_{false};
  std::function<void()> leave_done_;  // moved to the thread before leaving_
  std::chrono::steady_clock::time_point leave_deadline_;
  // The io thread will not run handlers any more (destructor): revocations
  // do not wait for the daemon.
  std::atomic<bool> detached_{false};

  mutable std::mutex mu_;
  std::set<int> owned_;      // guarded by mu_
  uint64_t rebalances_ = 0;  // guarded by mu_
  std::string problem_;      // guarded by mu_; "" = healthy
  // The group itself refused us (e.g. JoinGroup: invalid session timeout,
  // authorization); guarded by mu_. Not cleared by the metadata probe, only
  // by the next successful rebalance. "" = none.
  std::string group_problem_;
  uint64_t records_unowned_ = 0;  // guarded by mu_: Record() calls dropped
  std::atomic<uint64_t> records_failed_{0};
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace newsflow
