#include "daemon/runtime/worker_pool.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <latch>
#include <memory>
#include <thread>

namespace newsflow {
namespace {

size_t ThreadCount(size_t wanted) {
  if (wanted > 0) return wanted;
  return std::max<size_t>(1, std::thread::hardware_concurrency());
}

}  // namespace

WorkerPool::WorkerPool(const asio::any_io_executor& io,
                       WorkerPoolOptions options)
    : threads_(ThreadCount(options.threads)),
      max_pending_(options.max_pending > 0 ? options.max_pending
                                           : 2 * threads_),
      on_exhausted_(std::move(options.on_exhausted)),
      slots_(io, max_pending_),
      pool_(threads_) {
  // One job per thread: each names its thread "nf-worker" (so per-thread
  // CPU can be told apart in /proc and top -H) and lowers its own priority,
  // then waits until all did, so no thread runs two of them.
  // Shared: a worker may still be inside arrive_and_wait() when this
  // constructor has seen the count reach zero.
  auto started =
      std::make_shared<std::latch>(static_cast<std::ptrdiff_t>(threads_));
  for (size_t i = 0; i < threads_; ++i) {
    asio::post(pool_, [started, nice = options.nice] {
      (void)::pthread_setname_np(::pthread_self(), "nf-worker");
      if (nice != 0) {
        const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
        // Best effort: a failure only costs the io thread its head start.
        (void)::setpriority(PRIO_PROCESS, tid,
                            ::getpriority(PRIO_PROCESS, tid) + nice);
      }
      started->arrive_and_wait();
    });
  }
  started->wait();
}

WorkerPool::~WorkerPool() {
  pool_.stop();
  pool_.join();
}

}  // namespace newsflow
