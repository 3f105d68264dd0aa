#pragma once

// KafkaTransactions: the exactly-once half of cluster mode (issue 15,
// decision 6). Shared by the transactional KafkaSink (articles) and the
// KafkaCluster (state records, the group consumer whose metadata fences a
// zombie). Everything appended between two commits goes into one Kafka
// transaction of the producer `transactional.id = <group>.<instance>`,
// together with the positions of the owned feeds-stream partitions
// (send_offsets_to_transaction with the group consumer's metadata, KIP-447).
//
// Batches: appends go to the open batch (io thread, under a mutex). A
// private commit thread seals the open batch every commit_interval when it
// is not empty (or at once when CommitNow() asks), and runs
// begin_transaction → produce every item → send_offsets_to_transaction →
// commit_transaction. One batch commits at a time; appends during a commit
// go to the next batch.
//  - committed: every article of the batch reports kDelivered;
//  - aborted (abortable error): articles report kRetry (their delivered
//    records are dropped with them, never committed alone); state records
//    go back to the front of the next batch; a record that failed for good
//    (KafkaPermanentReason) is not re-queued: an article is dead-lettered in
//    the next batch (kDeadLettered once that commits) or reported kDrop
//    without a dead-letter topic, a state record is dropped (logged);
//  - fatal (fenced, ...): as aborted, and the producer is recreated
//    (init_transactions fences its predecessor); unhealthy until a commit
//    succeeds.
//
// Threading: Append*, DropPartitions, Close and the destructor on the io
// thread; CommitNow on any thread but the io thread (it blocks);
// SetConsumer/SetDeliveredRecord from any thread; Health/counters anywhere.
// Every DeliveryCallback is posted to the io_context, never run inline.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "connectors/sinks/kafka/kafka_sink_config.h"
#include "daemon/core/cluster.h"
#include "daemon/core/sink.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_message_s rd_kafka_message_t;

namespace newsflow {

struct KafkaTransactionsOptions {
  // Producer settings (brokers, librdkafka overrides, dead-letter topic).
  KafkaSinkOptions sink;
  // "transactional.id": <group>.<instance>.
  std::string transactional_id;
  // "transaction.timeout.ms" (= the cluster's session timeout, so that a
  // dead instance's open transaction is aborted by the time its partitions
  // move); also bounds each transactional call and message.timeout.ms.
  std::chrono::milliseconds transaction_timeout{10000};
  // How often the open batch is committed.
  std::chrono::milliseconds commit_interval{200};
};

class KafkaTransactions {
 public:
  // Creates the transactional producer (does not wait for a broker:
  // init_transactions runs on the commit thread) and starts the commit
  // thread. Errc::kConfig on invalid librdkafka settings.
  static Result<std::shared_ptr<KafkaTransactions>> Create(
      boost::asio::io_context& io, KafkaTransactionsOptions options);

  KafkaTransactions(const KafkaTransactions&) = delete;
  KafkaTransactions& operator=(const KafkaTransactions&) = delete;
  // Close(0) if not closed.
  ~KafkaTransactions();

  // io thread. An article record: `done` runs once the transaction holding
  // it commits or aborts. `delivered` (when set) is the changelog record
  // that marks it delivered ({partition, record} to `state_topic`); it is
  // committed in the same transaction or not at all. `limit` is the trim
  // limit the value was built for (a rejected too-large value lowers the
  // sink's limit through `on_too_large`).
  struct ArticleItem {
    std::string topic;
    std::string key;
    std::string value;
    std::vector<std::pair<std::string, std::string>> headers;
    size_t limit = 0;
    DeliveryCallback done;
    int delivered_partition = -1;  // -1: no delivered record
    StateRecord delivered;
  };
  void AppendArticle(ArticleItem article);

  // io thread (or the cluster thread): a changelog record to `partition` of
  // the state topic; an empty value is sent as a tombstone (null value).
  void AppendRecord(int partition, StateRecord record);

  // The changelog topic records go to (set once by the cluster before any
  // append). Any thread.
  void SetStateTopic(std::string topic);

  // The group consumer whose metadata and owned feeds-topic positions are
  // sent with every transaction; nullptr unbinds (the cluster calls it
  // before destroying its consumer; blocks while a commit reads it).
  void SetConsumer(rd_kafka_t* consumer, std::string feeds_topic);

  // The cluster callback that gives an article its delivered record (io
  // thread); may be empty.
  void SetDeliveredRecord(
      std::function<std::pair<int, StateRecord>(const Article&)> fn);
  // Called by the sink's Publish (io thread): {-1, {}} without a callback.
  std::pair<int, StateRecord> DeliveredRecordFor(const Article& article);

  // Commits everything appended before the call; blocks until that commit
  // ended or `timeout` passed. True when it committed (or nothing was
  // open). NOT on the io thread.
  bool CommitNow(std::chrono::milliseconds timeout);

  // Ownership of `partitions` was lost: their items in the open batch are
  // removed (articles kRetry, records dropped). io or cluster thread.
  void DropPartitions(const std::vector<int>& partitions);

  // Called by the sink after a too-large rejection of an article value of
  // `size` bytes (from the commit thread).
  void SetTooLargeHook(std::function<void(size_t size)> hook);

  // Stops the commit thread after the commit in progress (bounded by
  // `timeout`); whatever is still open is reported kRetry (posted), state
  // records are lost (their feeds are not owned any more after Leave).
  // Idempotent. io thread.
  void Close(std::chrono::milliseconds timeout);

  // Readiness of the transactional sink (see healthy_). Thread-safe.
  SinkHealth Health() const;
  uint64_t committed() const { return committed_.load(); }
  uint64_t aborted() const { return aborted_.load(); }
  // Producers recreated after a fatal error (fencing).
  int producer_generation() const { return producer_generation_.load(); }

 private:
  struct Item;
  using Batch = std::deque<std::unique_ptr<Item>>;

  KafkaTransactions(boost::asio::io_context& io,
                    KafkaTransactionsOptions options);

  Result<void> NewProducer();
  void CommitLoop();
  // Runs one transaction over `batch` (commit thread); *committed tells
  // whether it committed. Returns the items to put at the front of the
  // next batch.
  Batch CommitBatch(Batch batch, bool* committed);
  // Produces `item` inside the open transaction; the immediate error or 0.
  int ProduceItem(Item& item);
  // Settles `batch` after an abort: reports, dead letters, re-queues.
  Batch SettleAborted(Batch batch, const std::string& why);
  // Purges, destroys and recreates the producer after a fatal error.
  void RecreateProducer();
  // Serves delivery reports until none is in flight (bounded).
  void DrainReports();
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* message,
                         void* opaque);
  static void OnError(rd_kafka_t* rk, int err, const char* reason,
                      void* opaque);
  void Report(Item& item, DeliveryReport report);
  void SetProblem(std::string problem);
  // Metadata probe (commit thread): sets healthy_ when the broker answers
  // and no fatal error is pending.
  void Probe();

  boost::asio::io_context& io_;
  const KafkaTransactionsOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Batch open_;                     // guarded by mu_
  uint64_t appended_seq_ = 0;      // guarded by mu_: appends so far
  uint64_t committed_seq_ = 0;     // guarded by mu_: appends settled so far
  bool commit_requested_ = false;  // guarded by mu_
  bool stop_ = false;              // guarded by mu_
  bool closed_ = false;            // io thread
  std::string state_topic_;        // guarded by mu_

  std::mutex consumer_mu_;          // held while a commit reads the consumer
  rd_kafka_t* consumer_ = nullptr;  // not owned; guarded by consumer_mu_
  std::string feeds_topic_;         // guarded by consumer_mu_

  std::function<std::pair<int, StateRecord>(const Article&)> delivered_fn_;
  std::function<void(size_t)> too_large_hook_;  // set before appends

  rd_kafka_t* producer_ = nullptr;  // commit thread (after Create)
  bool producer_ready_ = false;     // init_transactions succeeded
  std::thread thread_;

  std::atomic<uint64_t> committed_{0};
  std::atomic<uint64_t> aborted_{0};
  std::atomic<int> producer_generation_{0};
  // Health: not ok until the first metadata probe (commit thread: at start,
  // then every 5 s, 3 s timeout) answered, after a failed probe, and after
  // a fatal error or failed init_transactions until a commit succeeds.
  std::atomic<bool> healthy_{false};
  bool failing_ = false;  // commit thread: fatal/init failure, no commit since
  mutable std::mutex problem_mu_;
  std::string problem_ = "no broker answered yet";  // guarded by problem_mu_
  std::atomic<int> in_flight_{0};  // produced, delivery not reported yet
  bool last_commit_ok_ = true;     // guarded by mu_
};

}  // namespace newsflow
