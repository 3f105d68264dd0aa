#include "daemon/core/feed_event.h"

#include "daemon/core/json_writer.h"

namespace newsflow {

std::string FeedEventToJson(const FeedEvent& event) {
  JsonWriter w;
  w.BeginObject();
  w.Field("type", event.type);
  w.Key("feed").BeginObject();
  w.Field("id", event.feed_id);
  w.Field("url", event.feed_url);
  w.EndObject();
  w.Field("time", FormatRfc3339(event.time));
  w.Key("details").BeginObject();
  for (const auto& [key, value] : event.details) w.Field(key, value);
  w.EndObject();
  w.EndObject();
  return w.Take();
}

}  // namespace newsflow
