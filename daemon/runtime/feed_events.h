#pragma once

// FeedEvents: where pollers emit feed-level events (fetch failures,
// recoveries, moved feeds, article id policy changes). Each event is logged
// and handed to the sink (Sink::PublishEvent), which publishes it if it
// keeps an event stream (see its README). The daemon only emits.
//
// Threading: io_context thread only. Does not own the sink, which must
// outlive it.

#include "daemon/core/feed_event.h"
#include "daemon/core/sink.h"

namespace newsflow {

class FeedEvents {
 public:
  explicit FeedEvents(Sink& sink) : sink_(sink) {}
  FeedEvents(const FeedEvents&) = delete;
  FeedEvents& operator=(const FeedEvents&) = delete;

  // Stamps `event` with now when its time is unset, logs it and hands it
  // to the sink; never blocks.
  void Emit(FeedEvent event);

 private:
  Sink& sink_;
};

}  // namespace newsflow
