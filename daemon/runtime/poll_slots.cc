#include "daemon/runtime/poll_slots.h"

#include <algorithm>
#include <utility>

namespace newsflow {

PollSlots::PollSlots(const asio::any_io_executor& executor, size_t max_polls,
                     size_t max_per_host, Gauge* in_progress, Counter* waits)
    : executor_(executor),
      max_per_host_(std::max<size_t>(1, max_per_host)),
      global_(executor, std::max<size_t>(1, max_polls)),
      in_progress_gauge_(in_progress),
      waits_counter_(waits) {}

PollSlots::Held& PollSlots::Held::operator=(Held&& other) noexcept {
  if (this != &other) {
    Reset();
    slots_ = std::exchange(other.slots_, nullptr);
    alive_ = std::move(other.alive_);
    host_ = std::move(other.host_);
  }
  return *this;
}

void PollSlots::Held::Reset() {
  PollSlots* slots = std::exchange(slots_, nullptr);
  if (slots != nullptr && !alive_.expired()) slots->Release(host_);
  alive_.reset();
}

Awaitable<PollSlots::Held> PollSlots::Acquire(std::string host,
                                              AsyncCancel* cancel) {
  HostEntry& entry = hosts_[host];
  if (!entry.slots) {
    entry.slots = std::make_unique<AsyncSlots>(executor_, max_per_host_);
  }
  ++entry.users;  // the entry stays while this call holds or waits
  AsyncSlots* host_slots = entry.slots.get();
  if (!host_slots->available() || !global_.available()) {
    ++waits_;
    if (waits_counter_ != nullptr) waits_counter_->Inc();
  }
  if (!co_await host_slots->Acquire(cancel)) {
    DropUser(host);
    co_return Held();
  }
  if (!co_await global_.Acquire(cancel)) {
    host_slots->Release();
    DropUser(host);
    co_return Held();
  }
  Publish();
  Held held;
  held.slots_ = this;
  held.alive_ = alive_;
  held.host_ = std::move(host);
  co_return held;
}

size_t PollSlots::host_in_progress(const std::string& host) const {
  auto it = hosts_.find(host);
  return it == hosts_.end() ? 0 : it->second.slots->in_use();
}

void PollSlots::Release(const std::string& host) {
  global_.Release();
  auto it = hosts_.find(host);
  if (it != hosts_.end()) {
    it->second.slots->Release();
    DropUser(host);
  }
  Publish();
}

void PollSlots::DropUser(const std::string& host) {
  auto it = hosts_.find(host);
  if (it != hosts_.end() && --it->second.users == 0) hosts_.erase(it);
}

void PollSlots::Publish() {
  if (in_progress_gauge_ != nullptr) {
    in_progress_gauge_->Set(static_cast<double>(global_.in_use()));
  }
}

}  // namespace newsflow
