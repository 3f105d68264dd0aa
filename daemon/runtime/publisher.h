#pragma once

// Publisher: the durable outbox between the article builders and the sink.
//
// Every built article is written to the outbox (the `outbox` table of the
// state store, so an ack and "mark seen" are one transaction) before the
// sink sees it, and leaves it only when the sink's report is final:
// kDelivered removes it and marks the article seen in the same transaction;
// kDrop removes it without marking it; kRetry keeps it and offers it again
// (after kRetryDelay). A crash or SIGTERM leaves what is not final in the
// outbox; Resume() at the next start delivers it before anything newer.
// At-least-once: a crash between the sink's ack and its commit re-publishes
// (same key, same value), never loses.
//
// Batching: appends and acks are committed together, one transaction per
// io_context turn (Flush is posted once per turn), or at once when the
// uncommitted appends exceed kMaxBatchBytes.
//
// Order: entries carry an increasing seq (build order). At most one entry
// per key (article id) is in the sink at a time and entries of one key are
// handed over in seq order, so an `updated` never overtakes its `created`
// (also across retries and restarts).
//
// Memory: at most `max_in_flight` articles are in the sink and at most as
// many more wait in memory; the rest of the outbox stays on disk and is
// loaded in seq order as room frees up. Per outbox entry only a small index
// row (~100 bytes: seq, id, hashes) is kept in memory.
//
// Back-pressure: WaitForRoom() suspends feed pollers while the outbox holds
// `max_bytes` or more (bytes as OutboxEntry::bytes counts them).
//
// Threading: io_context thread only. The sink and the store must outlive
// it.

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "daemon/core/article.h"
#include "daemon/core/metrics.h"
#include "daemon/core/sink.h"
#include "daemon/runtime/async_util.h"
#include "daemon/state/state_store.h"

namespace newsflow {

struct PublisherStats {
  uint64_t published = 0;  // delivered, event=created
  uint64_t updated = 0;    // delivered, event=updated
  uint64_t retried = 0;  // reported kRetry (kept in the outbox, offered again)
  uint64_t dropped = 0;  // reported kDrop (removed, not marked seen)
  uint64_t dead_lettered = 0;  // reported kDeadLettered (removed, marked seen)
  uint64_t state_errors = 0;
};

// The newest outbox entry of an article id (dedup: "built, not delivered").
struct PendingArticle {
  std::string item_hash;     // of the feed item it was built from
  std::string content_hash;  // of the built article
  size_t entries = 0;        // outbox entries of this id (updates queue up)
};

// SinkDestination as stored in the outbox (JSON text), and back.
std::string EncodeDestination(const SinkDestination& destination);
Result<SinkDestination> DecodeDestination(std::string_view text);

class Publisher {
 public:
  // No disk bound.
  static constexpr int64_t kUnbounded = INT64_MAX;
  // A kRetry entry is offered again after this long.
  static constexpr std::chrono::milliseconds kRetryDelay{1000};
  // Uncommitted appends beyond this are committed at once.
  static constexpr size_t kMaxBatchBytes = 8 << 20;

  Publisher(const asio::any_io_executor& executor, Sink& sink,
            StateStore& store, size_t max_in_flight,
            int64_t max_bytes = kUnbounded);
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;
  ~Publisher();

  // Reads the outbox a previous run left (its index, not the values) and
  // starts delivering it. Call once, before the pollers start.
  Result<void> Resume();

  // Suspends while the outbox is full (bytes >= max_bytes).
  Awaitable<void> WaitForRoom();

  // The newest outbox entry for `id` (written or being written), or null.
  const PendingArticle* FindPending(const std::string& id) const;
  bool IsInFlight(const std::string& id) const {
    return FindPending(id) != nullptr;
  }

  // Publishes `article` to where the sink's routing sends it (Sink::Route
  // with the feed's sink options): writes it to the outbox (batched), then
  // hands it to the sink when it is durable and its key is free. `done`
  // runs once: kDelivered / kDrop when the sink's report is final (the
  // store is updated first), or kRetry when the outbox write failed (the
  // article was not accepted). It does not run for an entry still in the
  // outbox when the process stops. Metrics (MetricsRegistry::Global):
  // newsflow_articles_published_total{feed,event},
  // newsflow_articles_failed_total{feed,outcome=retry|drop},
  // newsflow_articles_in_flight, newsflow_delivery_latency_seconds (hand-over
  // to report), newsflow_outbox_articles, newsflow_outbox_bytes,
  // newsflow_outbox_oldest_age_seconds. kDeadLettered is final like
  // kDelivered: the entry leaves the outbox, the store records the article as
  // seen and dead-lettered (StateStore::MarkDeadLettered) and
  // newsflow_articles_dead_lettered_total{feed} counts it.
  void Publish(const Article& article, const FeedSinkOptions& feed,
               std::string item_hash,
               std::function<void(const DeliveryReport&)> done);

  // Suspends until every article Published before the call is committed to
  // the outbox (or its write failed; its `done` then got kRetry).
  Awaitable<void> Durable();

  // Stops handing entries to the sink (shutdown: what is not in the sink
  // stays in the outbox). Reports of those in the sink still count.
  void StopDelivering();

  // --- cluster mode (issue 15, docs/cluster.md) ---
  // Entries of feeds for which `owns_feed` is false are not handed to the
  // sink: they are parked (kept on disk, not in memory; their `done` is
  // dropped, like at a stop) until Reconcile() of their feed. With it set,
  // an entry whose article the store already records with the same content
  // hash (delivered by the instance that owned the feed before) is removed
  // without sending. Set before Resume(); empty = every feed (single node).
  void SetOwnership(std::function<bool(const std::string& feed)> owns_feed) {
    owns_feed_ = std::move(owns_feed);
  }
  // (Re)starts handing entries to the sink after StopDelivering() or a
  // start in cluster mode before the first assignment.
  void StartDelivering();
  // The owned set changed: parks what is held of feeds no longer owned.
  void OwnershipChanged();
  // `feeds` were assigned (their restored state is in the store): parked
  // entries whose article is recorded with the same content hash are
  // removed without sending, the others become deliverable again.
  void Reconcile(const std::set<std::string>& feeds);
  // Entries of `feed` in the sink now (revocation waits for 0).
  size_t InSinkOf(const std::string& feed) const {
    auto it = in_flight_by_feed_.find(feed);
    return it == in_flight_by_feed_.end() ? 0 : it->second;
  }
  size_t parked() const { return parked_.size(); }

  // Shutdown, after the io_context stopped: stops delivering and commits
  // what is batched (the last reports).
  void FlushNow() {
    delivering_ = false;
    Flush();
  }

  size_t in_flight() const { return in_flight_; }
  // Entries in the outbox, committed or being written.
  size_t outbox_articles() const { return index_.size() + staged_.size(); }
  int64_t outbox_bytes() const { return bytes_ + staged_bytes_; }
  int64_t max_bytes() const { return max_bytes_; }
  bool OutboxFull() const { return outbox_bytes() >= max_bytes_; }
  // created_at of the oldest committed entry; nullopt when empty.
  std::optional<TimePoint> OldestEntry() const;
  // Sets the outbox gauges (also done after every commit).
  void UpdateGauges() const;

  bool SinkHealthy() const { return sink_.Health().ok; }
  const PublisherStats& stats() const { return stats_; }

 private:
  // Published, not yet committed.
  struct Staged {
    OutboxEntry entry;
    Article article;
    SinkDestination destination;
    std::function<void(const DeliveryReport&)> done;
  };
  // Committed and in memory (waiting, or in the sink).
  struct Loaded {
    int64_t seq = 0;
    std::string item_hash;
    Article article;
    // The outbox row's value, ArticleToJson(article): handed to the sink
    // with the article (Sink::PublishSerialized), so an article is
    // serialized once on its way out.
    SerializedArticle value;
    SinkDestination destination;
    std::function<void(const DeliveryReport&)> done;
    std::chrono::steady_clock::time_point not_before{};  // retry delay
  };
  struct IndexRow {
    std::string id;
    int64_t bytes = 0;
    TimePoint created_at{};
  };

  void ScheduleFlush();
  void Flush();
  void Dispatch();
  void Send(Loaded entry);
  void OnReport(Loaded entry, DeliveryReport report);
  void ArmRetry(std::chrono::steady_clock::time_point at);
  void ReleasePending(const std::string& id);
  // Cluster mode: false when `entry` must not be sent now (parked, or
  // removed because the store records it delivered).
  bool MaySend(const Loaded& entry);
  void Park(const Loaded& entry);

  asio::any_io_executor executor_;
  Sink& sink_;
  StateStore& store_;
  const size_t max_in_flight_;
  const int64_t max_bytes_;
  // Every committed entry by seq.
  std::map<int64_t, IndexRow> index_;
  int64_t bytes_ = 0;     // sum of index_ bytes
  int64_t last_seq_ = 0;  // highest committed seq
  // Entries with seq <= loaded_through_ are in memory (held_, in the sink)
  // or acked; the ones above are on disk only.
  int64_t loaded_through_ = 0;
  std::vector<Staged> staged_;
  int64_t staged_bytes_ = 0;
  uint64_t staged_generation_ = 0;     // Publish() calls so far
  uint64_t committed_generation_ = 0;  // of those, written (or failed)
  std::map<int64_t, Loaded> held_;     // in memory, not in the sink
  size_t in_flight_ = 0;
  std::unordered_set<std::string> in_flight_keys_;
  std::vector<OutboxDone> acks_;  // final reports not yet committed
  std::vector<std::string> acked_ids_;
  std::unordered_map<std::string, PendingArticle> pending_;
  // `done` callbacks of entries not in memory, by seq.
  std::unordered_map<int64_t, std::function<void(const DeliveryReport&)>>
      dones_;
  bool flush_posted_ = false;
  bool delivering_ = true;
  bool was_full_ = false;
  asio::steady_timer retry_timer_;
  std::chrono::steady_clock::time_point retry_at_{};
  AsyncEvent changed_;  // commit done (Durable)
  AsyncEvent room_;     // the outbox has room again (WaitForRoom)
  size_t room_waiters_ = 0;
  PublisherStats stats_;
  // Cluster mode (empty: single node).
  std::function<bool(const std::string&)> owns_feed_;
  struct ParkedRow {
    std::string feed;
    std::string id;
    std::string content_hash;
  };
  std::map<int64_t, ParkedRow> parked_;  // by seq
  std::unordered_map<std::string, size_t> in_flight_by_feed_;
  std::shared_ptr<spdlog::logger> log_;
  Gauge* articles_gauge_ = nullptr;  // the registry's, for ever
  Gauge* bytes_gauge_ = nullptr;
  Gauge* max_bytes_gauge_ = nullptr;
  Gauge* oldest_gauge_ = nullptr;
};

}  // namespace newsflow
