#pragma once

// WorkerPool: a bounded thread pool for the daemon's CPU work (feed parsing,
// HTML cleaning and page extraction), so the io_context thread only does
// I/O, timers and bookkeeping.
//
//   auto parse = [body = std::move(body)] { return ParseFeed(body, {}); };
//   Result<ParsedFeed> parsed = co_await pool.Run(std::move(parse));
//
// Name the callable first, as above: GCC 12 destroys a lambda temporary
// with non-trivial captures twice when it is created inside the co_await
// expression that passes it to a coroutine (use-after-free; seen here).
//
// Run() is called from a coroutine on the io_context, runs `fn` on a worker
// thread and resumes the coroutine on its own executor (the io_context) with
// fn's result. At most `max_pending` jobs are queued or running at once;
// further Run() calls wait (on the io_context, without blocking it) for a
// slot, so a burst of feeds cannot queue unbounded work or memory. Waiters
// get slots first come, first served, and a finished job hands its slot to
// exactly one waiter (cost O(1) per job however many feeds wait).
//
// Threading: construct, call Run() and destroy on the io_context thread.
// `fn` runs on a worker: it must own everything it reads (capture by value
// or move), touch no daemon state (state store, metrics, publisher, timers)
// and return its result by value. An exception thrown by `fn` is rethrown
// from Run() on the io_context.
// Ownership: the io_context and the pool outlive every Run(). Destroying the
// pool joins the workers; jobs not yet started are dropped (their coroutines
// never resume, which is only legal once the io_context has stopped).
//
// Asio in this header: include it only from runtime .cc files.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>

#include "daemon/runtime/async_util.h"

namespace newsflow {

struct WorkerPoolOptions {
  // Worker threads; 0 = one per CPU core (std::thread::hardware_concurrency,
  // at least 1).
  size_t threads = 0;
  // Jobs queued or running at once; 0 = 2 * threads. Run() waits beyond it.
  size_t max_pending = 0;
  // Added to each worker thread's nice value (Linux: per thread), so the
  // io_context thread gets a busy CPU first; 0 = same priority.
  int nice = 5;
  // Runs (on the io_context) when every thread is taken by a job RunWithin()
  // gave up on: nothing else can run until one of them ends, which may be
  // never. The daemon exits non-zero (daemon/runtime/README.md).
  std::function<void()> on_exhausted;
};

class WorkerPool {
 public:
  WorkerPool(const asio::any_io_executor& io, WorkerPoolOptions options = {});
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `fn()` on a worker; resumes on the awaiting coroutine's executor.
  // REQUIRES: called on the io_context thread; fn returns a non-void,
  // move-constructible value.
  template <class F>
  Awaitable<std::invoke_result_t<F&>> Run(F fn);

  // The watchdog: like Run(), but waits at most `timeout` for the result
  // and returns nullopt past it. A worker thread cannot be interrupted, so
  // the job runs on; its result is discarded when it ends, and until then
  // it keeps its thread and its pending slot and counts in stuck(). When
  // stuck() reaches threads(), options.on_exhausted runs.
  // REQUIRES: as Run().
  template <class F>
  Awaitable<std::optional<std::invoke_result_t<F&>>> RunWithin(
      F fn, std::chrono::steady_clock::duration timeout);

  size_t threads() const { return threads_; }
  // Jobs RunWithin() gave up on that are still running (io_context thread).
  size_t stuck() const { return stuck_; }
  size_t max_pending() const { return max_pending_; }
  // Jobs queued or running now (io_context thread only).
  size_t pending() const { return slots_.in_use(); }
  // How many times a Run() suspended waiting for a slot, in total (io
  // context thread only). Each Run() waits at most once: a finishing job
  // hands its slot to exactly one waiter, never wakes them all to re-check.
  uint64_t slot_waits() const { return slots_.waits(); }

 private:
  // A job's result or the exception it threw.
  template <class T>
  struct Outcome {
    std::optional<T> value;
    std::exception_ptr failure;
  };
  // Posts (*job)() to the pool; completes on the awaiting executor.
  template <class T, class F>
  Awaitable<std::shared_ptr<Outcome<T>>> Dispatch(std::shared_ptr<F> job);

  // A RunWithin() job: its result arrives (on the io_context) or the timer
  // fires first and the job is abandoned.
  template <class T>
  struct TimedJob {
    explicit TimedJob(const asio::any_io_executor& io) : timer(io) {}
    asio::steady_timer timer;
    std::shared_ptr<Outcome<T>> outcome;  // set when the job ended
    bool abandoned = false;
  };

  // A job's slot is free again (io_context thread).
  void ReleaseSlot() { slots_.Release(); }

  size_t threads_;
  size_t max_pending_;
  size_t stuck_ = 0;  // io_context thread only
  std::function<void()> on_exhausted_;
  AsyncSlots slots_;  // max_pending_ of them; FIFO waiters
  asio::thread_pool pool_;
};

// Runs `fn` on `pool`, or inline on the calling thread when `pool` is null
// (unit tests that exercise a FeedPoller without threads).
template <class F>
Awaitable<std::invoke_result_t<F&>> RunCpu(WorkerPool* pool, F fn) {
  if (pool == nullptr) co_return fn();
  co_return co_await pool->Run(std::move(fn));
}

template <class F>
Awaitable<std::invoke_result_t<F&>> WorkerPool::Run(F fn) {
  using T = std::invoke_result_t<F&>;
  static_assert(!std::is_void_v<T>, "WorkerPool::Run needs a result");
  co_await slots_.Acquire();
  // fn travels on the heap, shared by the initiation and the worker job.
  std::shared_ptr<Outcome<T>> outcome =
      co_await Dispatch<T>(std::make_shared<F>(std::move(fn)));
  ReleaseSlot();
  if (outcome->failure) std::rethrow_exception(outcome->failure);
  co_return std::move(*outcome->value);
}

template <class F>
Awaitable<std::optional<std::invoke_result_t<F&>>> WorkerPool::RunWithin(
    F fn, std::chrono::steady_clock::duration timeout) {
  using T = std::invoke_result_t<F&>;
  static_assert(!std::is_void_v<T>, "WorkerPool::RunWithin needs a result");
  co_await slots_.Acquire();
  const asio::any_io_executor io = co_await asio::this_coro::executor;
  auto job = std::make_shared<TimedJob<T>>(io);
  job->timer.expires_after(timeout);
  // Tracked: io_context::run() stays alive while the job is away.
  auto tracked = asio::prefer(io, asio::execution::outstanding_work.tracked);
  asio::post(pool_, [this, job, work = std::make_shared<F>(std::move(fn)),
                     tracked = std::move(tracked)]() mutable {
    auto outcome = std::make_shared<Outcome<T>>();
    try {
      outcome->value.emplace((*work)());
    } catch (...) {
      outcome->failure = std::current_exception();
    }
    work.reset();  // the job's inputs go with the worker's turn
    asio::post(tracked, [this, job, outcome = std::move(outcome)]() mutable {
      job->outcome = std::move(outcome);
      if (!job->abandoned) {
        job->timer.cancel();  // wakes RunWithin, which frees the slot
        return;
      }
      // Late: nobody waits for this result any more.
      --stuck_;
      job->outcome.reset();
      ReleaseSlot();
    });
  });
  co_await job->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!job->outcome) {
    job->abandoned = true;
    ++stuck_;
    if (stuck_ >= threads_ && on_exhausted_) on_exhausted_();
    co_return std::nullopt;
  }
  ReleaseSlot();
  std::shared_ptr<Outcome<T>> outcome = std::move(job->outcome);
  if (outcome->failure) std::rethrow_exception(outcome->failure);
  co_return std::move(*outcome->value);
}

template <class T, class F>
Awaitable<std::shared_ptr<WorkerPool::Outcome<T>>> WorkerPool::Dispatch(
    std::shared_ptr<F> job) {
  return asio::async_initiate<const asio::use_awaitable_t<>&,
                              void(std::shared_ptr<Outcome<T>>)>(
      [this, job](auto handler) {
        // Completion goes back to the coroutine's executor; tracking work
        // keeps io_context::run() alive while the job is away.
        auto io = asio::prefer(asio::get_associated_executor(handler),
                               asio::execution::outstanding_work.tracked);
        asio::post(pool_, [job, handler = std::move(handler),
                           io = std::move(io)]() mutable {
          auto outcome = std::make_shared<Outcome<T>>();
          try {
            outcome->value.emplace((*job)());
          } catch (...) {
            outcome->failure = std::current_exception();
          }
          asio::post(io, [handler = std::move(handler),
                          outcome = std::move(outcome)]() mutable {
            std::move(handler)(std::move(outcome));
          });
        });
      },
      asio::use_awaitable);
}

}  // namespace newsflow
