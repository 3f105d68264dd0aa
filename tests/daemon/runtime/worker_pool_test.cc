#include "daemon/runtime/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace newsflow {
namespace {

using namespace std::chrono_literals;

TEST(WorkerPoolTest, RunsOnAWorkerAndResumesOnTheIoThread) {
  asio::io_context io;
  WorkerPool pool(io.get_executor(), {.threads = 2});
  const auto io_thread = std::this_thread::get_id();
  std::thread::id worker_thread;
  std::thread::id resumed_on;
  std::string result;
  asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        auto job = [&worker_thread, s = std::string("abc")] {
          worker_thread = std::this_thread::get_id();
          return s + "def";
        };
        result = co_await pool.Run(std::move(job));
        resumed_on = std::this_thread::get_id();
      },
      asio::detached);
  io.run();  // returns only after the job came back (tracked work)
  EXPECT_EQ(result, "abcdef");
  EXPECT_NE(worker_thread, io_thread);
  EXPECT_EQ(resumed_on, io_thread);
  EXPECT_EQ(pool.pending(), 0u);
}

TEST(WorkerPoolTest, IoThreadKeepsRunningWhileAJobWorks) {
  asio::io_context io;
  WorkerPool pool(io.get_executor(), {.threads = 1});
  std::atomic<bool> release{false};
  int ticks = 0;
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        co_await pool.Run([&] {
          while (!release) std::this_thread::sleep_for(1ms);
          return 0;
        });
        done = true;
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        asio::steady_timer t(co_await asio::this_coro::executor);
        for (; ticks < 5; ++ticks) {
          t.expires_after(5ms);
          co_await t.async_wait(asio::use_awaitable);
        }
        release = true;  // only reachable while the job blocks a worker
      },
      asio::detached);
  io.run();
  EXPECT_EQ(ticks, 5);
  EXPECT_TRUE(done);
}

TEST(WorkerPoolTest, BoundsQueuedJobs) {
  asio::io_context io;
  WorkerPool pool(io.get_executor(), {.threads = 1, .max_pending = 2});
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  size_t most_pending = 0;
  int finished = 0;
  for (int i = 0; i < 8; ++i) {
    asio::co_spawn(
        io,
        [&]() -> Awaitable<void> {
          co_await pool.Run([&] {
            most = std::max(most.load(), ++running);
            std::this_thread::sleep_for(2ms);
            --running;
            return 0;
          });
          ++finished;
        },
        asio::detached);
  }
  asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        asio::steady_timer t(co_await asio::this_coro::executor);
        while (finished < 8) {
          most_pending = std::max(most_pending, pool.pending());
          t.expires_after(1ms);
          co_await t.async_wait(asio::use_awaitable);
        }
      },
      asio::detached);
  io.run();
  EXPECT_EQ(finished, 8);
  EXPECT_EQ(most.load(), 1);  // one thread
  EXPECT_LE(most_pending, 2u);
  EXPECT_GE(most_pending, 1u);
}

// Thousands of feeds wait for a handful of slots: each finished job must
// hand its slot to one waiter (FIFO), not wake every waiter to re-check
// (which made the daemon's CPU grow with feeds x jobs). Counted, not timed.
TEST(WorkerPoolTest, WaitersGetSlotsInOrderWithOneWaitEach) {
  asio::io_context io;
  WorkerPool pool(io.get_executor(), {.threads = 1, .max_pending = 1});
  constexpr int kJobs = 400;
  std::vector<int> started;  // io thread only
  int finished = 0;
  for (int i = 0; i < kJobs; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> Awaitable<void> {
          auto job = [i] { return i; };
          const int n = co_await pool.Run(std::move(job));
          started.push_back(n);
          ++finished;
        },
        asio::detached);
  }
  io.run();
  ASSERT_EQ(finished, kJobs);
  // Every Run but the first waited, once each (was ~kJobs^2 / 2 wake-ups).
  EXPECT_EQ(pool.slot_waits(), static_cast<uint64_t>(kJobs - 1));
  for (int i = 0; i < kJobs; ++i) EXPECT_EQ(started[i], i) << "FIFO order";
  EXPECT_EQ(pool.pending(), 0u);
}

TEST(WorkerPoolTest, ExceptionsComeBackToTheCaller) {
  asio::io_context io;
  WorkerPool pool(io.get_executor(), {.threads = 1});
  std::string caught;
  asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        try {
          co_await pool.Run([]() -> int { throw std::runtime_error("boom"); });
        } catch (const std::runtime_error& e) {
          caught = e.what();
        }
        // The slot was released.
        EXPECT_EQ(pool.pending(), 0u);
      },
      asio::detached);
  io.run();
  EXPECT_EQ(caught, "boom");
}

TEST(WorkerPoolTest, DefaultsToOneThreadPerCore) {
  asio::io_context io;
  WorkerPool pool(io.get_executor());
  EXPECT_EQ(pool.threads(),
            std::max<size_t>(1, std::thread::hardware_concurrency()));
  EXPECT_EQ(pool.max_pending(), 2 * pool.threads());
}

TEST(WorkerPoolTest, NullPoolRunsInline) {
  asio::io_context io;
  std::thread::id ran_on;
  asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        co_await RunCpu(static_cast<WorkerPool*>(nullptr), [&] {
          ran_on = std::this_thread::get_id();
          return 1;
        });
      },
      asio::detached);
  io.run();
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

// The watchdog: a job past its bound is given up on (nullopt at once, not
// when it ends); its slot stays taken until it really ends, then frees.
TEST(WorkerPoolTest, RunWithinGivesUpOnASlowJobAndFreesItsSlotLater) {
  asio::io_context io;
  WorkerPool pool(io.get_executor(), {.threads = 2, .max_pending = 2});
  std::atomic<bool> release{false};
  std::optional<int> slow_result = 7;
  std::optional<int> fast_result;
  std::chrono::steady_clock::duration waited{};
  size_t stuck_after_timeout = 0;
  size_t pending_after_timeout = 0;
  asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        const auto start = std::chrono::steady_clock::now();
        auto slow = [&release] {
          while (!release) std::this_thread::sleep_for(1ms);
          return 1;
        };
        slow_result = co_await pool.RunWithin(std::move(slow), 50ms);
        waited = std::chrono::steady_clock::now() - start;
        stuck_after_timeout = pool.stuck();
        pending_after_timeout = pool.pending();
        auto fast = [] { return 2; };
        fast_result = co_await pool.RunWithin(std::move(fast), 5s);
        release = true;
      },
      asio::detached);
  io.run();  // ends once the abandoned job ended too (tracked work)
  EXPECT_FALSE(slow_result.has_value());
  EXPECT_LT(waited, 2s);
  EXPECT_EQ(stuck_after_timeout, 1u);
  EXPECT_EQ(pending_after_timeout, 1u);  // the stuck job keeps its slot
  EXPECT_EQ(fast_result, 2);
  EXPECT_EQ(pool.stuck(), 0u);
  EXPECT_EQ(pool.pending(), 0u);
}

TEST(WorkerPoolTest, RunWithinReturnsResultsAndExceptionsInTime) {
  asio::io_context io;
  WorkerPool pool(io.get_executor(), {.threads = 1});
  std::optional<std::string> result;
  bool threw = false;
  asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        auto job = [] { return std::string("ok"); };
        result = co_await pool.RunWithin(std::move(job), 10s);
        auto bad = []() -> int { throw std::runtime_error("boom"); };
        try {
          co_await pool.RunWithin(std::move(bad), 10s);
        } catch (const std::runtime_error&) {
          threw = true;
        }
      },
      asio::detached);
  io.run();
  EXPECT_EQ(result, "ok");
  EXPECT_TRUE(threw);
  EXPECT_EQ(pool.stuck(), 0u);
}

TEST(WorkerPoolTest, ExhaustedWhenEveryThreadIsStuck) {
  asio::io_context io;
  std::atomic<bool> release{false};
  int exhausted = 0;
  size_t stuck_when_exhausted = 0;
  WorkerPool* pool_ptr = nullptr;
  WorkerPoolOptions options{.threads = 2};
  options.on_exhausted = [&] {
    ++exhausted;
    stuck_when_exhausted = pool_ptr->stuck();
    release = true;  // a daemon exits here; the test lets the jobs end
  };
  WorkerPool pool(io.get_executor(), std::move(options));
  pool_ptr = &pool;
  for (int i = 0; i < 2; ++i) {
    asio::co_spawn(
        io,
        [&]() -> Awaitable<void> {
          auto stuck = [&release] {
            while (!release) std::this_thread::sleep_for(1ms);
            return 0;
          };
          (void)co_await pool.RunWithin(std::move(stuck), 20ms);
        },
        asio::detached);
  }
  io.run();
  EXPECT_EQ(exhausted, 1);
  EXPECT_EQ(stuck_when_exhausted, 2u);
}

}  // namespace
}  // namespace newsflow
