#pragma once

// Asio glue for the runtime's coroutines. Included only by daemon/runtime
// .cc files (it pulls in Asio).

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <memory>

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

// A first-come-first-served wait queue for coroutines on one executor:
// Wait() suspends until a NotifyOne() picks this waiter (oldest first).
// Where AsyncEvent wakes every waiter to re-check its condition (O(waiters)
// per event: quadratic when thousands of feeds wait for a few slots), this
// wakes exactly one, so handing out slots costs O(1) each. The waiter
// resumes after the notifying handler returned (the wake-up is posted).
class AsyncWaitQueue {
 public:
  explicit AsyncWaitQueue(const asio::any_io_executor& executor)
      : executor_(executor) {}
  AsyncWaitQueue(const AsyncWaitQueue&) = delete;
  AsyncWaitQueue& operator=(const AsyncWaitQueue&) = delete;

  Awaitable<void> Wait() {
    // The timer is shared with the queue: a waiter's frame may outlive its
    // entry (NotifyOne) and the queue may outlive a destroyed frame.
    auto timer = std::make_shared<asio::steady_timer>(
        executor_, asio::steady_timer::time_point::max());
    waiters_.push_back(timer);
    co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  }
  // Wakes the oldest waiter; false when nobody waits.
  bool NotifyOne() {
    if (waiters_.empty()) return false;
    std::shared_ptr<asio::steady_timer> first = std::move(waiters_.front());
    waiters_.pop_front();
    first->cancel();
    return true;
  }
  size_t waiting() const { return waiters_.size(); }

 private:
  asio::any_io_executor executor_;
  std::deque<std::shared_ptr<asio::steady_timer>> waiters_;
};

}  // namespace newsflow
