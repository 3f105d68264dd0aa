#pragma once

// FanoutSink: publishes every article to several sinks (`sinks: [a, b]`),
// each to the destination its own Route() chose. The article counts as
// delivered only when every sink delivered it; if any says retry, the whole
// article is retried (a sink that already had it receives a duplicate:
// at-least-once, never a loss).
//
// Threading: as every Sink. Owns the sinks it fans out to.

#include <memory>
#include <vector>

#include "daemon/core/sink.h"

namespace newsflow {

class FanoutSink final : public Sink {
 public:
  // REQUIRES: sinks non-empty.
  explicit FanoutSink(std::vector<std::unique_ptr<Sink>> sinks);

  std::string_view Name() const override { return "sink.fanout"; }
  // parts[i] = sinks[i]->Route(...).
  SinkDestination Route(const Article& article,
                        const FeedSinkOptions& feed) const override;
  // REQUIRES: destination from Route() (one part per sink). Serializes
  // the article once and hands the same bytes to every sink
  // (PublishSerialized).
  void Publish(const Article& article, const SinkDestination& destination,
               DeliveryCallback done) override;
  // Every sink gets `json` (shared, not copied).
  void PublishSerialized(const Article& article, SerializedArticle json,
                         const SinkDestination& destination,
                         DeliveryCallback done) override;
  // To every sink.
  void PublishEvent(const FeedEvent& event) override;
  // Ok when every sink is; else the problems joined with "; ".
  SinkHealth Health() const override;
  Result<void> Close(std::chrono::milliseconds timeout) override;

 private:
  std::vector<std::unique_ptr<Sink>> sinks_;
};

}  // namespace newsflow
