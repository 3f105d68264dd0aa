#pragma once

// Asio glue for the runtime's coroutines. Included only by daemon/runtime
// .cc files (it pulls in Asio).

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <utility>

#include "connectors/common/http/http_client.h"
#include "connectors/sources/feed/feed_source.h"

namespace newsflow {

namespace asio = boost::asio;
template <class T>
using Awaitable = asio::awaitable<T>;

// Adapts a callback API to co_await: `start(callback)` must begin the
// operation and arrange for `callback(Result<T>)` to run exactly once on the
// awaiting coroutine's executor (all our components guarantee that). The
// result travels in a shared_ptr because Asio's handler signature wants a
// default-constructible, cheaply movable argument.
template <class T, class Start>
Awaitable<Result<T>> AwaitCallback(Start start) {
  auto shared = co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                              void(std::shared_ptr<Result<T>>)>(
      [](auto handler, Start start) {
        // std::function needs a copyable callable; the handler is move-only.
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        start([h](Result<T> r) {
          (*h)(std::make_shared<Result<T>>(std::move(r)));
        });
      },
      asio::use_awaitable, std::move(start));
  co_return std::move(*shared);
}

// co_await-able HttpClient::Fetch.
inline Awaitable<Result<HttpResponse>> AsyncFetch(HttpClient& client,
                                                  HttpRequest request) {
  return AwaitCallback<HttpResponse>(
      [&client, request = std::move(request)](FetchCallback done) mutable {
        client.Fetch(std::move(request), std::move(done));
      });
}

// A level-less "something changed" signal for coroutines on one executor:
// Wait() suspends until the next NotifyAll(). Waiters re-check their
// condition in a loop.
class AsyncEvent {
 public:
  explicit AsyncEvent(const asio::any_io_executor& executor)
      : timer_(executor, asio::steady_timer::time_point::max()) {}
  AsyncEvent(const AsyncEvent&) = delete;
  AsyncEvent& operator=(const AsyncEvent&) = delete;

  Awaitable<void> Wait() {
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  void NotifyAll() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

// Gives up a waiting AsyncSlots::Acquire(AsyncCancel*) from outside, e.g.
// FeedPoller::Stop(). Once Cancel() was called it stays cancelled (a later
// Acquire with it returns false at once). One waiter at a time; the owner
// outlives the wait. Executor thread only.
class AsyncCancel {
 public:
  AsyncCancel() = default;
  AsyncCancel(const AsyncCancel&) = delete;
  AsyncCancel& operator=(const AsyncCancel&) = delete;

  void Cancel() {
    cancelled_ = true;
    if (wake_) std::exchange(wake_, nullptr)();
  }
  bool cancelled() const { return cancelled_; }

 private:
  friend class AsyncSlots;
  bool cancelled_ = false;
  std::function<void()> wake_;  // set while an Acquire waits
};

// A counted resource with first-come-first-served waiters, on one executor:
// Acquire() takes a unit (suspending while none is free), Release() gives
// one back and hands it straight to the oldest waiter. Unlike AsyncEvent,
// a release wakes one coroutine, not all of them: 10,000 waiting pollers
// cost O(1) per release, not O(10,000).
class AsyncSlots {
 public:
  AsyncSlots(const asio::any_io_executor& executor, size_t capacity)
      : executor_(executor), capacity_(capacity) {}
  AsyncSlots(const AsyncSlots&) = delete;
  AsyncSlots& operator=(const AsyncSlots&) = delete;

  Awaitable<void> Acquire() {
    if (waiters_.empty() && in_use_ < capacity_) {
      ++in_use_;
      co_return;
    }
    ++waits_;
    auto waiter = std::make_shared<Waiter>(executor_);
    waiters_.push_back(waiter);
    while (!waiter->granted) {
      co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  // Acquire() that can be given up: true with a unit taken; false when
  // `cancel` (may be null) fired before one was granted — the waiter leaves
  // the queue holding nothing. A unit granted before the cancel is kept
  // (true): the caller gives it back.
  Awaitable<bool> Acquire(AsyncCancel* cancel) {
    if (cancel != nullptr && cancel->cancelled()) co_return false;
    if (waiters_.empty() && in_use_ < capacity_) {
      ++in_use_;
      co_return true;
    }
    ++waits_;
    auto waiter = std::make_shared<Waiter>(executor_);
    waiters_.push_back(waiter);
    if (cancel != nullptr) {
      cancel->wake_ = [weak = std::weak_ptr<Waiter>(waiter)] {
        if (auto w = weak.lock()) {
          w->abandoned = true;
          w->timer.cancel();
        }
      };
    }
    while (!waiter->granted && !waiter->abandoned) {
      co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (cancel != nullptr) cancel->wake_ = nullptr;
    co_return waiter->granted;
  }
  // True when Acquire() would return at once (a free unit, nobody queued).
  bool available() const { return waiters_.empty() && in_use_ < capacity_; }
  void Release() {
    --in_use_;
    while (!waiters_.empty() && in_use_ < capacity_) {
      std::shared_ptr<Waiter> next = std::move(waiters_.front());
      waiters_.pop_front();
      if (next->abandoned) continue;  // gave up (AsyncCancel): skipped
      ++in_use_;                      // on the waiter's behalf
      next->granted = true;
      next->timer.cancel();
    }
  }
  size_t in_use() const { return in_use_; }
  // Acquire() calls that had to wait, in total.
  uint64_t waits() const { return waits_; }

 private:
  struct Waiter {
    explicit Waiter(const asio::any_io_executor& ex)
        : timer(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    bool granted = false;
    bool abandoned = false;  // its AsyncCancel fired before a grant
  };
  asio::any_io_executor executor_;
  const size_t capacity_;
  size_t in_use_ = 0;
  uint64_t waits_ = 0;
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace newsflow
