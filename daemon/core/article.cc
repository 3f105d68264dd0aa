#include "daemon/core/article.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "daemon/core/hash.h"
#include "daemon/core/json_writer.h"

namespace newsflow {

std::string ContentHash(std::string_view title, std::string_view content_text) {
  std::string data;
  data.reserve(title.size() + 1 + content_text.size());
  data.append(title);
  data.push_back('\n');
  data.append(content_text);
  return Sha256Hex(data);
}

std::string ContentHashV1(std::string_view content_text) {
  return Sha256Hex(content_text);
}

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

namespace {

// "2025-10-12T01:40:00Z" or "2025-10-12T01:40:00.123Z" (FormatRfc3339).
std::optional<TimePoint> ParseRfc3339Utc(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0, n = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h,
                  &mi, &s, &n) != 6) {
    return std::nullopt;
  }
  std::string_view rest = std::string_view(text).substr(n);
  if (rest.size() == 5 && rest[0] == '.') {
    int m = 0;
    if (std::sscanf(text.c_str() + n, ".%3dZ", &m) != 1) return std::nullopt;
    ms = m;
    rest.remove_prefix(4);
  }
  if (rest != "Z") return std::nullopt;
  return MakeUtc(y, mo, d, h, mi, s, ms);
}

std::string StringOrEmpty(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  return it->get<std::string>();
}

}  // namespace

Result<Article> ArticleFromJson(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Error(Errc::kParse, "article JSON does not parse");
  }
  try {
    Article a;
    a.id = j.at("id").get<std::string>();
    a.event = j.at("event").get<std::string>() == "updated"
                  ? ArticleEvent::kUpdated
                  : ArticleEvent::kCreated;
    const nlohmann::json& f = j.at("feed");
    a.feed.id = StringOrEmpty(f, "id");
    a.feed.url = StringOrEmpty(f, "url");
    a.feed.title = StringOrEmpty(f, "title");
    a.feed.link = StringOrEmpty(f, "link");
    a.feed.language = StringOrEmpty(f, "language");
    a.url = StringOrEmpty(j, "url");
    a.canonical_url = StringOrEmpty(j, "canonical_url");
    a.title = StringOrEmpty(j, "title");
    a.authors = j.at("authors").get<std::vector<std::string>>();
    a.categories = j.at("categories").get<std::vector<std::string>>();
    auto time = [&j](const char* key) -> Result<std::optional<TimePoint>> {
      const std::string text = StringOrEmpty(j, key);
      if (text.empty()) return std::optional<TimePoint>();
      auto t = ParseRfc3339Utc(text);
      if (!t) return Error(Errc::kParse, std::string("bad time in ") + key);
      return t;
    };
    for (auto [key, field] :
         {std::pair{"published", &a.published}, {"updated", &a.updated}}) {
      auto t = time(key);
      if (!t) return t.error();
      *field = *t;
    }
    auto fetched = time("fetched_at");
    if (!fetched) return fetched.error();
    if (!*fetched) return Error(Errc::kParse, "fetched_at missing");
    a.fetched_at = **fetched;
    a.summary = StringOrEmpty(j, "summary");
    a.content_html = StringOrEmpty(j, "content_html");
    a.content_text = StringOrEmpty(j, "content_text");
    a.content_source = StringOrEmpty(j, "content_source") == "page"
                           ? ContentSource::kPage
                           : ContentSource::kFeed;
    a.language = StringOrEmpty(j, "language");
    a.image = StringOrEmpty(j, "image");
    for (const nlohmann::json& e : j.at("enclosures")) {
      Enclosure enclosure;
      enclosure.url = StringOrEmpty(e, "url");
      enclosure.type = StringOrEmpty(e, "type");
      enclosure.length = e.at("length").get<int64_t>();
      a.enclosures.push_back(std::move(enclosure));
    }
    a.word_count = j.at("word_count").get<int>();
    a.content_hash = StringOrEmpty(j, "content_hash");
    // --- issue 13 fields ---
    a.story_id = StringOrEmpty(j, "story_id");
    if (a.story_id == a.id) a.story_id.clear();  // "" = own id (see .h)
    a.content_source_reason = StringOrEmpty(j, "content_source_reason");
    return a;
  } catch (const nlohmann::json::exception& e) {
    return Error(Errc::kParse, std::string("article JSON: ") + e.what());
  }
}

}  // namespace newsflow
