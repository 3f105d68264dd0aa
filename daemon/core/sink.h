#pragma once

// The interface every sink connector implements (Kafka, JSON lines, ...).
//
// Threading: a sink is created, used and destroyed on the daemon's single
// io_context thread. Publish() never blocks. Completion callbacks are always
// invoked on that same thread (sinks whose client library calls back from
// its own threads post the callback to the io_context first).

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "daemon/core/article.h"
#include "daemon/core/error.h"

namespace newsflow {

// What happened to one published article.
enum class DeliveryOutcome {
  kDelivered,  // acknowledged by the destination; safe to mark as seen
  kRetry,      // not delivered, but may succeed later (broker down, queue full)
  kDrop,       // can never be delivered as is (e.g. permanently rejected)
};

struct DeliveryReport {
  DeliveryOutcome outcome = DeliveryOutcome::kDelivered;
  std::string error;  // one line when outcome != kDelivered
};

using DeliveryCallback = std::function<void(DeliveryReport)>;

class Sink {
 public:
  Sink() = default;
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;
  virtual ~Sink() = default;

  // The component instance name, e.g. "sink.kafka"; used in logs/metrics.
  virtual std::string_view Name() const = 0;

  // Hands `article` to the destination. `topic` routes it (empty: the sink's
  // default). `done` is called exactly once, on the io_context thread, never
  // from inside Publish() itself.
  virtual void Publish(const Article& article, const std::string& topic,
                       DeliveryCallback done) = 0;

  // True while the destination is believed reachable (used for /readyz and
  // back-pressure decisions).
  virtual bool Healthy() const { return true; }

  // Blocks up to `timeout` waiting for outstanding deliveries, then cancels
  // what is left (their callbacks receive kRetry). Called once, at shutdown,
  // after the io_context stopped; callbacks it produces are posted and run
  // when the caller polls the io_context once more.
  virtual Result<void> Close(std::chrono::milliseconds timeout) = 0;
};

}  // namespace newsflow
