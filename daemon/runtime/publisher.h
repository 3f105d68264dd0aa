#pragma once

// Publisher: hands articles to the sink, bounds how many are in flight, and
// marks an article as seen in the state store only after the sink
// acknowledged it (at-least-once: a crash before the ack re-publishes, never
// loses).
//
// Back-pressure: WaitForCapacity() suspends feed pollers while
// `max_in_flight` articles await their delivery report, so a slow or absent
// broker pauses fetching instead of growing memory.
//
// Threading: io_context thread only. Owns nothing it is given; the sink and
// the store must outlive it.

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>

#include "daemon/core/article.h"
#include "daemon/core/sink.h"
#include "daemon/runtime/async_util.h"
#include "daemon/state/state_store.h"

namespace newsflow {

struct PublisherStats {
  uint64_t published = 0;      // delivered, event=created
  uint64_t updated = 0;        // delivered, event=updated
  uint64_t retried = 0;        // reported kRetry (offered again next poll)
  uint64_t dropped = 0;        // reported kDrop
  uint64_t dead_lettered = 0;  // reported kDeadLettered (issue 12)
  uint64_t state_errors = 0;
};

class Publisher {
 public:
  Publisher(const asio::any_io_executor& executor, Sink& sink,
            StateStore& store, size_t max_in_flight);
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Suspends until fewer than max_in_flight articles are outstanding
  // (in flight or reserved).
  Awaitable<void> WaitForCapacity();

  // Waits for capacity and reserves one article slot, counted like an
  // article in flight, for an article about to be built (page fetch,
  // cleaning): capacity is taken before the work, so no built article ever
  // waits for room. Unreserve() gives the slot back; call it just before
  // Publish() (same turn) or when nothing is published.
  Awaitable<void> Reserve();
  void Unreserve();

  // True while an article with this id awaits its delivery report.
  bool IsInFlight(const std::string& id) const {
    return in_flight_ids_.contains(id);
  }
  size_t in_flight() const { return in_flight_ids_.size(); }

  // The sink's health check says ok. Cheap; io_context thread.
  bool SinkHealthy() const { return sink_.Health().ok; }

  const PublisherStats& stats() const { return stats_; }

  // Publishes `article` to where the sink's own routing sends it
  // (Sink::Route with the feed's sink options). On kDelivered the
  // state store records (id, feed, item_hash, content_hash). `done` runs
  // after that, on the io_context thread. Metrics (MetricsRegistry::Global):
  // newsflow_articles_published_total{feed,event},
  // newsflow_articles_failed_total{feed,outcome=retry|drop},
  // newsflow_articles_in_flight, newsflow_delivery_latency_seconds (Publish()
  // to delivery report). On kDeadLettered the store records the article as
  // seen and dead-lettered (StateStore::MarkDeadLettered) and
  // newsflow_articles_dead_lettered_total{feed} counts it.
  // REQUIRES: !IsInFlight(article.id).
  void Publish(const Article& article, const FeedSinkOptions& feed,
               std::string item_hash,
               std::function<void(const DeliveryReport&)> done);

 private:
  Sink& sink_;
  StateStore& store_;
  const size_t max_in_flight_;
  // A coroutine waiting in WaitForCapacity() / Reserve().
  struct Waiter {
    explicit Waiter(const asio::any_io_executor& ex)
        : timer(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    bool reserve = false;  // take a slot on its behalf when granted
    bool granted = false;
  };
  Awaitable<void> Wait(bool reserve);
  // Wakes waiters, first come first served, while there is room: exactly
  // the ones that can go on (10,000 pollers waiting must not all wake to
  // re-check on every acknowledgement).
  void Grant();
  bool HasRoom() const {
    return in_flight_ids_.size() + reserved_ < max_in_flight_;
  }

  asio::any_io_executor executor_;
  std::unordered_set<std::string> in_flight_ids_;
  size_t reserved_ = 0;  // slots taken by Reserve()
  std::deque<std::shared_ptr<Waiter>> waiters_;
  PublisherStats stats_;
};

}  // namespace newsflow
