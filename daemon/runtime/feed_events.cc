#include "daemon/runtime/feed_events.h"

#include <spdlog/spdlog.h>

#include "daemon/core/logging.h"

namespace newsflow {

void FeedEvents::Emit(FeedEvent event) {
  if (event.time == TimePoint{}) event.time = Now();
  GetLogger("events")->info("Feed event. type={} feed={}", event.type,
                            event.feed_id);
  sink_.PublishEvent(event);
}

}  // namespace newsflow
