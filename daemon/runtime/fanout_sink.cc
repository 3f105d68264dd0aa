#include "daemon/runtime/fanout_sink.h"

#include <cassert>

namespace newsflow {
namespace {

struct Pending {
  size_t remaining;
  DeliveryReport combined;
  DeliveryCallback done;
};

// Retry beats drop beats delivered: a retry may still succeed as a whole.
int Rank(DeliveryOutcome o) {
  switch (o) {
    case DeliveryOutcome::kDelivered:
      return 0;
    case DeliveryOutcome::kDrop:
      return 1;
    case DeliveryOutcome::kRetry:
      return 2;
  }
  return 2;
}

}  // namespace

FanoutSink::FanoutSink(std::vector<std::unique_ptr<Sink>> sinks)
    : sinks_(std::move(sinks)) {
  assert(!sinks_.empty());
}

void FanoutSink::Publish(const Article& article, const std::string& topic,
                         DeliveryCallback done) {
  auto pending = std::make_shared<Pending>();
  pending->remaining = sinks_.size();
  pending->done = std::move(done);
  for (auto& sink : sinks_) {
    sink->Publish(article, topic, [pending](DeliveryReport report) {
      if (Rank(report.outcome) > Rank(pending->combined.outcome)) {
        pending->combined = std::move(report);
      }
      if (--pending->remaining == 0)
        pending->done(std::move(pending->combined));
    });
  }
}

bool FanoutSink::Healthy() const {
  for (const auto& sink : sinks_) {
    if (!sink->Healthy()) return false;
  }
  return true;
}

Result<void> FanoutSink::Close(std::chrono::milliseconds timeout) {
  Result<void> first_error;
  for (auto& sink : sinks_) {
    auto r = sink->Close(timeout);
    if (!r && first_error) first_error = r.error();
  }
  return first_error;
}

}  // namespace newsflow
