#include "daemon/core/feed_event.h"

#include "daemon/core/json_writer.h"
#include "daemon/core/logging.h"

namespace newsflow {

std::string FeedEventToJson(const FeedEvent& event) {
  JsonWriter w;
  w.BeginObject();
  w.Field("type", event.type);
  w.Key("feed").BeginObject();
  w.Field("id", event.feed_id);
  // Events leave the process (a topic operators share widely): the same
  // redaction as log lines, for the URL and for every detail (error texts
  // quote URLs with their tokens).
  w.Field("url", RedactUrl(event.feed_url));
  w.EndObject();
  w.Field("time", FormatRfc3339(event.time));
  w.Key("details").BeginObject();
  for (const auto& [key, value] : event.details) {
    w.Field(key, RedactUrlsInText(value));
  }
  w.EndObject();
  w.EndObject();
  return w.Take();
}

}  // namespace newsflow
