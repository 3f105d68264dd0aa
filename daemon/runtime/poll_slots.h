#pragma once

// PollSlots: how many feed polls may be in progress at once
// (pipeline.max_polls_in_progress), and of one host
// (http.max_host_connections).
//
// A poll is in progress from before its feed request is sent until its last
// article is durable in the outbox (FeedPoller::PollOnce returned). While
// in progress it holds at most its parsed feed and one page at a time, so
// memory is bounded by http.max_body_bytes_in_flight plus
// max_polls_in_progress x one parsed feed, however many feeds are due.
// Without the bound, every due feed was fetched and parsed at once and its
// items waited, uncounted, for the worker pool (4,000 feeds: 720 MB RSS).
//
// The slot is taken before the fetch, not after it: a fetched body waiting
// for a slot would hold its share of the body budget while the polls in
// progress need budget for their page fetches — once waiting bodies fill
// the budget, nothing can move (deadlock).
//
// Fairness per host: a poll first takes one of its host's slots (at most
// max_per_host polls of one host in progress), then a global one; both
// queues are first come first served (AsyncSlots). Without the host slot,
// 300 feeds of one publisher at the head of the queue would hold every
// global slot while they wait for that host's politeness spacing, starving
// every other host. The host is HostKeyOf(url) (daemon/core/url.h), the key
// HttpClient's politeness uses. A host's entry exists only while a poll
// holds or waits for it.
//
// Threading: the daemon's io_context only. Owned by the Daemon; Held slots
// left in coroutine frames destroyed after it release nothing.

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>

#include "daemon/core/metrics.h"
#include "daemon/runtime/async_util.h"

namespace newsflow {

class PollSlots {
 public:
  // `in_progress` (gauge) and `waits` (counter) may be null.
  PollSlots(const asio::any_io_executor& executor, size_t max_polls,
            size_t max_per_host, Gauge* in_progress = nullptr,
            Counter* waits = nullptr);
  PollSlots(const PollSlots&) = delete;
  PollSlots& operator=(const PollSlots&) = delete;

  // A host slot and a global slot, given back on destruction (RAII:
  // exceptions, Stop, reload). Empty (false) when not acquired.
  class Held {
   public:
    Held() = default;
    Held(Held&& other) noexcept { *this = std::move(other); }
    Held& operator=(Held&& other) noexcept;
    ~Held() { Reset(); }
    explicit operator bool() const { return slots_ != nullptr; }
    // Gives the slots back now.
    void Reset();

   private:
    friend class PollSlots;
    PollSlots* slots_ = nullptr;
    std::weak_ptr<void> alive_;  // the PollSlots still exists
    std::string host_;
  };

  // Waits for a slot of `host`, then a global one. Empty when `cancel`
  // (may be null) fired first: nothing is held then.
  Awaitable<Held> Acquire(std::string host, AsyncCancel* cancel);

  size_t in_progress() const { return global_.in_use(); }
  // Polls of `host` in progress.
  size_t host_in_progress(const std::string& host) const;
  // Hosts with a poll in progress or waiting (entries kept).
  size_t hosts() const { return hosts_.size(); }
  // Acquire() calls that had to wait (for the host or the global slot).
  uint64_t waits() const { return waits_; }

 private:
  struct HostEntry {
    std::unique_ptr<AsyncSlots> slots;
    size_t users = 0;  // polls holding or waiting for this host
  };
  void Release(const std::string& host);
  void DropUser(const std::string& host);
  void Publish();

  asio::any_io_executor executor_;
  const size_t max_per_host_;
  AsyncSlots global_;
  std::unordered_map<std::string, HostEntry> hosts_;
  Gauge* in_progress_gauge_;
  Counter* waits_counter_;
  uint64_t waits_ = 0;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace newsflow
