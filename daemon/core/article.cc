#include "daemon/core/article.h"

#include "daemon/core/json_writer.h"

namespace newsflow {

std::string_view ArticleEventName(ArticleEvent e) {
  return e == ArticleEvent::kUpdated ? "updated" : "created";
}

std::string_view ContentSourceName(ContentSource s) {
  return s == ContentSource::kPage ? "page" : "feed";
}

namespace {
void TimeOrNull(JsonWriter& w, std::string_view key,
                const std::optional<TimePoint>& t) {
  w.Key(key);
  if (t) {
    w.String(FormatRfc3339(*t));
  } else {
    w.Null();
  }
}
}  // namespace

std::string ArticleToJson(const Article& a) {
  JsonWriter w;
  w.BeginObject();
  w.Field("schema_version", int64_t{kSchemaVersion});
  w.Field("id", a.id);
  w.Field("event", ArticleEventName(a.event));
  w.Key("feed").BeginObject();
  w.Field("id", a.feed.id);
  w.Field("url", a.feed.url);
  w.Field("title", a.feed.title);
  w.Field("link", a.feed.link);
  w.Key("language").StringOrNull(a.feed.language);
  w.EndObject();
  w.Field("url", a.url);
  w.Field("canonical_url", a.canonical_url);
  w.Field("title", a.title);
  w.Key("authors").StringArray(a.authors);
  w.Key("categories").StringArray(a.categories);
  TimeOrNull(w, "published", a.published);
  TimeOrNull(w, "updated", a.updated);
  w.Field("fetched_at", FormatRfc3339(a.fetched_at));
  w.Field("summary", a.summary);
  w.Field("content_html", a.content_html);
  w.Field("content_text", a.content_text);
  w.Field("content_source", ContentSourceName(a.content_source));
  w.Key("language").StringOrNull(a.language);
  w.Key("image").StringOrNull(a.image);
  w.Key("enclosures").BeginArray();
  for (const auto& e : a.enclosures) {
    w.BeginObject();
    w.Field("url", e.url);
    w.Key("type").StringOrNull(e.type);
    w.Field("length", e.length);
    w.EndObject();
  }
  w.EndArray();
  w.Field("word_count", int64_t{a.word_count});
  w.Field("content_hash", a.content_hash);
  // --- issue 13, content helper ---
  w.Field("story_id", a.story_id.empty() ? a.id : a.story_id);
  w.Key("content_source_reason").StringOrNull(a.content_source_reason);
  // --- end issue 13, content helper ---
  w.EndObject();
  return w.Take();
}

}  // namespace newsflow
