// JSON Feed 1.0 / 1.1 (https://jsonfeed.org/version/1.1).

#include <nlohmann/json.hpp>

#include "connectors/sources/feed/date_parser.h"
#include "connectors/sources/feed/xml_context.h"
#include "daemon/core/url.h"

namespace newsflow::feed_internal {
namespace {

using nlohmann::json;

std::string Str(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return {};
  if (it->is_string()) return Trim(it->get_ref<const std::string&>());
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  if (it->is_number()) return it->dump();
  return {};
}

std::string Url(const json& obj, const char* key,
                const FeedParseOptions& options) {
  std::string u = Str(obj, key);
  if (u.empty() || HasScheme(u)) return UrlWithoutControls(u);
  return ResolveUrl(options.document_url, u, ResolveStyle::kPreserve);
}

Person JsonPerson(const json& a) {
  Person p;
  if (!a.is_object()) return p;
  p.name = Str(a, "name");
  p.uri = Str(a, "url");
  if (p.uri.rfind("mailto:", 0) == 0) {
    p.email = p.uri.substr(7);
    p.uri.clear();
  }
  return p;
}

// The 1.0 `author` first, then 1.1's `authors` (feeds written for both
// readers carry both; feed-rs reads them in that order), without repeats.
std::vector<Person> JsonPersons(const json& obj) {
  std::vector<Person> out;
  auto add = [&out](const json& a) {
    Person p = JsonPerson(a);
    if (p.name.empty() && p.email.empty() && p.uri.empty()) return;
    for (const Person& q : out) {
      if (q.name == p.name && q.email == p.email && q.uri == p.uri) return;
    }
    out.push_back(std::move(p));
  };
  auto it = obj.find("author");
  if (it != obj.end()) add(*it);
  it = obj.find("authors");
  if (it != obj.end() && it->is_array()) {
    for (const json& a : *it) add(a);
  }
  return out;
}

}  // namespace

Result<ParsedFeed> ParseJsonFeed(std::string_view utf8,
                                 const FeedParseOptions& options) {
  json doc = json::parse(utf8, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error::Parse("invalid JSON", "json feed");
  if (!doc.is_object()) {
    return Error(Errc::kNotAFeed, "JSON document is not an object");
  }
  std::string version = Str(doc, "version");
  auto items_it = doc.find("items");
  if (version.find("jsonfeed.org") == std::string::npos &&
      (items_it == doc.end() || !items_it->is_array())) {
    return Error(Errc::kNotAFeed, "JSON document is not a JSON Feed");
  }
  ParsedFeed feed;
  feed.format = "json";
  feed.title = Str(doc, "title");
  feed.link = Url(doc, "home_page_url", options);
  feed.description = Str(doc, "description");
  feed.language = Str(doc, "language");
  feed.image = Url(doc, "icon", options);
  if (feed.image.empty()) feed.image = Url(doc, "favicon", options);
  std::vector<Person> feed_authors = JsonPersons(doc);
  if (items_it == doc.end() || !items_it->is_array()) return feed;
  for (const json& it : *items_it) {
    if (!it.is_object()) continue;
    if (feed.items.size() >= options.max_items) {
      ++feed.items_over_cap;
      continue;
    }
    FeedItem item;
    item.guid = Str(it, "id");
    item.link = Url(it, "url", options);
    if (item.link.empty()) item.link = Url(it, "external_url", options);
    item.title = Str(it, "title");
    std::string html = Str(it, "content_html");
    std::string text = Str(it, "content_text");
    item.summary = Str(it, "summary");
    if (!html.empty()) {
      item.content = std::move(html);
      item.content_type = "html";
      if (item.summary.empty()) item.summary = std::move(text);
    } else if (!text.empty()) {
      item.content = std::move(text);
      item.content_type = "text";
    }
    item.published =
        ParseFeedDate(Str(it, "date_published"), options.assumed_zone);
    item.updated =
        ParseFeedDate(Str(it, "date_modified"), options.assumed_zone);
    item.authors = JsonPersons(it);
    if (item.authors.empty()) item.authors = feed_authors;
    if (!item.authors.empty()) {
      item.author = item.authors.front().name.empty()
                        ? item.authors.front().email
                        : item.authors.front().name;
    }
    item.image = Url(it, "image", options);
    if (item.image.empty()) item.image = Url(it, "banner_image", options);
    item.language = Str(it, "language");
    auto tags = it.find("tags");
    if (tags != it.end() && tags->is_array()) {
      for (const json& t : *tags) {
        if (t.is_string())
          item.categories.push_back(Trim(t.get<std::string>()));
      }
    }
    auto att = it.find("attachments");
    if (att != it.end() && att->is_array()) {
      for (const json& a : *att) {
        if (!a.is_object()) continue;
        Enclosure e;
        e.url = Url(a, "url", options);
        e.type = Str(a, "mime_type");
        auto sz = a.find("size_in_bytes");
        if (sz != a.end() && sz->is_number_integer()) {
          e.length = sz->get<int64_t>();
        }
        if (!e.url.empty()) item.enclosures.push_back(std::move(e));
      }
    }
    feed.items.push_back(std::move(item));
  }
  return feed;
}

}  // namespace newsflow::feed_internal
