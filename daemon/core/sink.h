#pragma once

// The interface every sink connector implements (connectors/sinks/*). The
// daemon knows sinks only through it: routing, event streams and health are
// the sink's own business.
//
// Threading: a sink is created, used and destroyed on the daemon's single
// io_context thread. Publish() never blocks. Completion callbacks are always
// invoked on that same thread (sinks whose client library calls back from
// its own threads post the callback to the io_context first).

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/core/article.h"
#include "daemon/core/error.h"
#include "daemon/core/feed_event.h"

namespace newsflow {

// What happened to one published article.
enum class DeliveryOutcome {
  kDelivered,  // acknowledged by the destination; safe to mark as seen
  kRetry,      // not delivered, but may succeed later (broker down, queue full)
  kDrop,       // can never be delivered as is (e.g. permanently rejected)
  // Rejected for good by the destination, and delivered to the sink's
  // dead-letter destination instead (issue 12). Final like kDelivered: the
  // pipeline records the item (never rebuilt while unchanged) and counts
  // it as dead-lettered, not published.
  kDeadLettered,
};

// True for the outcomes after which the item is recorded and not offered
// again: kDelivered and kDeadLettered.
inline bool IsFinal(DeliveryOutcome outcome) {
  return outcome == DeliveryOutcome::kDelivered ||
         outcome == DeliveryOutcome::kDeadLettered;
}

struct DeliveryReport {
  DeliveryReport() = default;
  DeliveryReport(DeliveryOutcome outcome, std::string error,
                 std::string dead_letter_reason = {})
      : outcome(outcome),
        error(std::move(error)),
        dead_letter_reason(std::move(dead_letter_reason)) {}

  DeliveryOutcome outcome = DeliveryOutcome::kDelivered;
  std::string error;  // one line when outcome != kDelivered
  // kDeadLettered: a short snake_case reason (e.g. "message_too_large"),
  // the same the sink put on the dead-letter record.
  std::string dead_letter_reason;
};

using DeliveryCallback = std::function<void(DeliveryReport)>;

// A feed's sink-owned settings (FeedConfig::sink_options: per-feed keys
// that sink descriptors declare, e.g. a feed's own destination), by key.
using FeedSinkOptions = std::map<std::string, std::string>;

// Where one article goes, as chosen by Sink::Route(). Only the sink that
// made it interprets it; empty name = the sink's default destination.
struct SinkDestination {
  std::string name;
  // FanoutSink: one destination per fanned-out sink, in its order.
  std::vector<SinkDestination> parts;
};

// An article's serialization, ArticleToJson(article), made once and shared
// read-only: the Publisher stores these bytes in its outbox and hands the
// same bytes to the sink, which may keep them (e.g. until its destination
// acknowledged) without copying or serializing again. Never null where a
// sink receives it.
using SerializedArticle = std::shared_ptr<const std::string>;

// Whether a sink's destination is believed reachable (readiness).
struct SinkHealth {
  bool ok = true;
  std::string problem;  // one line when !ok, e.g. "<what> unreachable (...)"
};

class Sink {
 public:
  Sink() = default;
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;
  virtual ~Sink() = default;

  // The component instance name, e.g. "sink.jsonl"; used in logs/metrics.
  virtual std::string_view Name() const = 0;

  // The sink's own routing: where `article` of a feed with `feed` options
  // goes (from the article, e.g. its categories, and the sink's options).
  // Default: the sink's default destination.
  virtual SinkDestination Route(const Article& article,
                                const FeedSinkOptions& feed) const {
    (void)article;
    (void)feed;
    return {};
  }

  // Hands `article` to `destination` (a Route() result of this sink). `done`
  // is called exactly once, on the io_context thread, never from inside
  // Publish() itself.
  virtual void Publish(const Article& article,
                       const SinkDestination& destination,
                       DeliveryCallback done) = 0;

  // Publish() of an article whose serialization the caller already made
  // (the Publisher: the value of its outbox row). REQUIRES: `json` non-null
  // and *json == ArticleToJson(article). Same contract as Publish(); a sink
  // whose destination takes that JSON uses these bytes instead of
  // serializing the article again (what it writes must be the same bytes
  // Publish() would write). Default: Publish(article, destination, done).
  virtual void PublishSerialized(const Article& article, SerializedArticle json,
                                 const SinkDestination& destination,
                                 DeliveryCallback done) {
    (void)json;
    Publish(article, destination, std::move(done));
  }

  // Hands a feed-level event to the sink's event stream, if it keeps one
  // (best effort, never blocks, no callback). Default: ignored.
  virtual void PublishEvent(const FeedEvent& event) { (void)event; }

  // The sink's health check, asked by readiness (/readyz, READY=1,
  // STATUS=). Cheap; io_context thread.
  virtual SinkHealth Health() const { return {}; }

  // Blocks up to `timeout` waiting for outstanding deliveries, then cancels
  // what is left (their callbacks receive kRetry). Called once, at shutdown,
  // after the io_context stopped; callbacks it produces are posted and run
  // when the caller polls the io_context once more.
  virtual Result<void> Close(std::chrono::milliseconds timeout) = 0;
};

}  // namespace newsflow
