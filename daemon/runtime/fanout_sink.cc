#include "daemon/runtime/fanout_sink.h"

#include <cassert>
#include <memory>
#include <string>

namespace newsflow {
namespace {

struct Pending {
  size_t remaining;
  DeliveryReport combined;
  DeliveryCallback done;
};

// Retry beats drop beats dead-lettered beats delivered: a retry may still
// succeed as a whole.
int Rank(DeliveryOutcome o) {
  switch (o) {
    case DeliveryOutcome::kDelivered:
      return 0;
    case DeliveryOutcome::kDeadLettered:
      return 1;
    case DeliveryOutcome::kDrop:
      return 2;
    case DeliveryOutcome::kRetry:
      return 3;
  }
  return 3;
}

}  // namespace

FanoutSink::FanoutSink(std::vector<std::unique_ptr<Sink>> sinks)
    : sinks_(std::move(sinks)) {
  assert(!sinks_.empty());
}

SinkDestination FanoutSink::Route(const Article& article,
                                  const FeedSinkOptions& feed) const {
  SinkDestination out;
  for (const auto& sink : sinks_)
    out.parts.push_back(sink->Route(article, feed));
  return out;
}

void FanoutSink::Publish(const Article& article,
                         const SinkDestination& destination,
                         DeliveryCallback done) {
  PublishSerialized(article,
                    std::make_shared<const std::string>(ArticleToJson(article)),
                    destination, std::move(done));
}

void FanoutSink::PublishSerialized(const Article& article,
                                   SerializedArticle json,
                                   const SinkDestination& destination,
                                   DeliveryCallback done) {
  assert(destination.parts.size() == sinks_.size());
  auto pending = std::make_shared<Pending>();
  pending->remaining = sinks_.size();
  pending->done = std::move(done);
  for (size_t i = 0; i < sinks_.size(); ++i) {
    sinks_[i]->PublishSerialized(
        article, json, destination.parts[i], [pending](DeliveryReport report) {
          if (Rank(report.outcome) > Rank(pending->combined.outcome)) {
            pending->combined = std::move(report);
          }
          if (--pending->remaining == 0)
            pending->done(std::move(pending->combined));
        });
  }
}

void FanoutSink::PublishEvent(const FeedEvent& event) {
  for (auto& sink : sinks_) sink->PublishEvent(event);
}

SinkHealth FanoutSink::Health() const {
  SinkHealth out;
  for (const auto& sink : sinks_) {
    SinkHealth h = sink->Health();
    if (h.ok) continue;
    out.ok = false;
    out.problem += (out.problem.empty() ? "" : "; ") + h.problem;
  }
  return out;
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
