#pragma once

// FeedEvent: a feed-level event (fetch failure, recovery, moved feed, article
// id policy change). Pollers emit them (daemon/runtime/feed_events.h); sinks
// that keep an event stream publish them (Sink::PublishEvent).

#include <map>
#include <string>

#include "daemon/core/time_util.h"

namespace newsflow {

struct FeedEvent {
  // "fetch_failed" | "recovered" | "moved" | "id_policy_changed", and in
  // cluster mode (issue 15) "assigned" | "revoked" (details: partition,
  // instance; reason "lost" for a loss without handover).
  std::string type;
  std::string feed_id;   // feed name from config
  std::string feed_url;  // configured URL
  TimePoint time{};      // when it happened; epoch = now
  // Type-specific string fields, e.g. {"error": ...}, {"to": new_url},
  // {"policy": "url", "reason": "guids_changed"}.
  std::map<std::string, std::string> details;
};

// The JSON form: {"type","feed":{"id","url"},"time","details":{...}}, with
// URLs redacted as in logs (RedactUrl; RedactUrlsInText for details).
std::string FeedEventToJson(const FeedEvent& event);

}  // namespace newsflow
