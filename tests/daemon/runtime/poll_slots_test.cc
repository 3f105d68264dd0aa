// PollSlots (pipeline.max_polls_in_progress): the global bound, the bound
// per host, first come first served, a cancelled waiter that leaves holding
// nothing, and host entries that do not outlive their polls.

#include "daemon/runtime/poll_slots.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace newsflow {
namespace {

using namespace std::chrono_literals;

// Acquires a slot for `host`, holds it for `hold`, records the order of
// grants and the most polls in progress seen, per host and in total.
struct Recorder {
  std::vector<std::string> granted;  // "<host>#<n>" in grant order
  std::map<std::string, int> now;
  std::map<std::string, int> peak;
  int total = 0;
  int peak_total = 0;
  int finished = 0;
  int cancelled = 0;
};

Awaitable<void> Poll(PollSlots& slots, Recorder& rec, std::string host,
                     std::string tag, std::chrono::milliseconds hold,
                     AsyncCancel* cancel = nullptr) {
  auto held = co_await slots.Acquire(host, cancel);
  if (!held) {
    ++rec.cancelled;
    co_return;
  }
  rec.granted.push_back(tag);
  rec.peak[host] = std::max(rec.peak[host], ++rec.now[host]);
  rec.peak_total = std::max(rec.peak_total, ++rec.total);
  asio::steady_timer t(co_await asio::this_coro::executor, hold);
  co_await t.async_wait(asio::use_awaitable);
  --rec.now[host];
  --rec.total;
  ++rec.finished;
}

TEST(PollSlotsTest, BoundsPollsInProgressAndCountsWaits) {
  asio::io_context io;
  Gauge gauge;
  Counter waits;
  PollSlots slots(io.get_executor(), 2, 2, &gauge, &waits);
  Recorder rec;
  for (int i = 0; i < 12; ++i) {
    const std::string host = "h" + std::to_string(i);
    asio::co_spawn(io, Poll(slots, rec, host, host, 5ms), asio::detached);
  }
  io.run();
  EXPECT_EQ(rec.finished, 12);
  EXPECT_EQ(rec.peak_total, 2);
  EXPECT_EQ(slots.in_progress(), 0u);
  EXPECT_EQ(gauge.value(), 0.0);
  EXPECT_EQ(slots.waits(), 10u);
  EXPECT_EQ(waits.value(), 10u);
  EXPECT_EQ(slots.hosts(), 0u) << "host entries outlived their polls";
  // First come, first served.
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(rec.granted[i], "h" + std::to_string(i));
}

// 8 polls of host A queued first, then one each of B..E; 3 slots, 1 per
// host: A never has two in progress, and B..E are not starved behind A's
// queue (they all start before A's third poll; without the host slot A's
// first three would take every slot and B would wait behind a3..a7).
TEST(PollSlotsTest, OneHostCannotTakeEveryGlobalSlot) {
  asio::io_context io;
  PollSlots slots(io.get_executor(), 3, 1);
  Recorder rec;
  for (int i = 0; i < 8; ++i) {
    asio::co_spawn(io, Poll(slots, rec, "a", "a" + std::to_string(i), 20ms),
                   asio::detached);
  }
  for (const char* h : {"b", "c", "d", "e"}) {
    asio::co_spawn(io, Poll(slots, rec, h, h, 20ms), asio::detached);
  }
  io.run();
  EXPECT_EQ(rec.finished, 12);
  EXPECT_EQ(rec.peak["a"], 1);
  EXPECT_EQ(rec.peak_total, 3);
  ASSERT_EQ(rec.granted.size(), 12u);
  const auto a2 = std::find(rec.granted.begin(), rec.granted.end(), "a2");
  for (const char* h : {"b", "c", "d", "e"}) {
    EXPECT_LT(std::find(rec.granted.begin(), rec.granted.end(), h), a2)
        << h << " waited behind host a's queue";
  }
  EXPECT_EQ(slots.hosts(), 0u);
}

// Stop() while waiting (for the host's slot or the global one): the waiter
// returns at once holding nothing, the queue moves on past it, and nothing
// leaks.
TEST(PollSlotsTest, CancelledWaitersLeaveHoldingNothing) {
  asio::io_context io;
  Gauge gauge;
  PollSlots slots(io.get_executor(), 1, 1, &gauge);
  Recorder rec;
  AsyncCancel cancel_same_host, cancel_global, cancel_before;
  cancel_before.Cancel();
  asio::co_spawn(io, Poll(slots, rec, "a", "a0", 50ms), asio::detached);
  asio::co_spawn(io, Poll(slots, rec, "a", "a1", 1ms, &cancel_same_host),
                 asio::detached);  // waits for host a
  asio::co_spawn(io, Poll(slots, rec, "b", "b0", 1ms, &cancel_global),
                 asio::detached);  // waits for the global slot
  asio::co_spawn(io, Poll(slots, rec, "c", "c0", 1ms, &cancel_before),
                 asio::detached);  // cancelled before it asked
  asio::co_spawn(io, Poll(slots, rec, "d", "d0", 1ms), asio::detached);
  asio::steady_timer stop(io, 10ms);
  stop.async_wait([&](auto) {
    EXPECT_EQ(slots.in_progress(), 1u);
    EXPECT_EQ(slots.hosts(), 3u);  // a (2 users), b, d waiting; c never
    cancel_same_host.Cancel();
    cancel_global.Cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  io.run();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(rec.cancelled, 3);
  EXPECT_EQ(rec.finished, 2);
  EXPECT_EQ(rec.granted, (std::vector<std::string>{"a0", "d0"}));
  EXPECT_EQ(slots.in_progress(), 0u);
  EXPECT_EQ(gauge.value(), 0.0);
  EXPECT_EQ(slots.hosts(), 0u);
}

// A waiter granted a slot and cancelled before it resumed keeps the grant
// (Acquire says so) and gives it back: no slot is lost.
TEST(PollSlotsTest, GrantThenCancelIsReleased) {
  asio::io_context io;
  PollSlots slots(io.get_executor(), 1, 1);
  AsyncCancel cancel;
  bool got = false;
  asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        auto first = co_await slots.Acquire("a", nullptr);
        asio::co_spawn(
            co_await asio::this_coro::executor,
            [&]() -> Awaitable<void> {
              auto second = co_await slots.Acquire("b", &cancel);
              got = static_cast<bool>(second);
            },
            asio::detached);
        asio::steady_timer t(co_await asio::this_coro::executor, 5ms);
        co_await t.async_wait(asio::use_awaitable);
        first.Reset();    // grants the waiter...
        cancel.Cancel();  // ...which is cancelled before it resumes
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(got);
  EXPECT_EQ(slots.in_progress(), 0u);
  EXPECT_EQ(slots.hosts(), 0u);
}

// Held slots in coroutine frames destroyed after the PollSlots (daemon
// shutdown order) release nothing and do not crash.
TEST(PollSlotsTest, HeldOutlivingTheSlotsIsHarmless) {
  asio::io_context io;
  auto slots = std::make_unique<PollSlots>(io.get_executor(), 1, 1);
  PollSlots::Held held;
  asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        held = co_await slots->Acquire("a", nullptr);
      },
      asio::detached);
  io.run();
  ASSERT_TRUE(held);
  slots.reset();
  held.Reset();
  EXPECT_FALSE(held);
}

}  // namespace
}  // namespace newsflow
