#pragma once

// The feed parser's view of a feed: what the document says, decoded from XML
// or JSON but not cleaned. Markup in summary/content is kept as the feed
// carries it. This is what `newsflowd parse` prints.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/core/time_util.h"

namespace newsflow {

// A person credited in a feed (author, contributor).
struct Person {
  std::string name;   // display name; may be empty when only e-mail is given
  std::string email;  // e-mail address without "mailto:"; may be empty
  std::string uri;    // home page; may be empty
};

// A media file attached to an item (RSS <enclosure>, Atom rel="enclosure",
// media:content, JSON Feed attachments).
struct Enclosure {
  std::string url;     // absolute URL
  std::string type;    // MIME type as given; may be empty
  int64_t length = 0;  // bytes as given; 0 when unknown
};

// One entry of a feed, in document order.
struct FeedItem {
  std::string title;  // XML-decoded; markup kept when the feed has it
  std::string link;   // absolute URL of the story ("" if none)
  std::string guid;   // id as given (RSS guid, Atom id, JSON id)
  bool guid_is_permalink = false;  // RSS isPermaLink (defaults true in RSS 2.0)
  std::optional<TimePoint> published;
  std::optional<TimePoint> updated;
  std::string author;           // first author as a display string
  std::vector<Person> authors;  // all authors, name and e-mail split
  std::string summary;          // description / summary / content_text
  std::string content;          // content:encoded / content / content_html
  std::string content_type;     // "html", "text" or "xhtml" for `content`
  std::vector<std::string> categories;
  std::vector<Enclosure> enclosures;
  std::string comments;     // comments page URL
  std::string image;        // media:thumbnail, itunes:image, JSON image
  std::string language;     // xml:lang or dc:language of the item
  std::string source_link;  // feedburner:origLink when present
};

// A whole parsed feed.
struct ParsedFeed {
  // One of "rss2 rss09x rss1 rss090 atom10 atom03 json" (the corpus names).
  std::string format;
  std::string title;
  std::string link;         // the site's home page
  std::string description;  // subtitle / description
  std::string language;
  std::string image;  // feed logo / icon
  std::optional<TimePoint> updated;
  std::optional<int> ttl_minutes;  // RSS <ttl> or derived from sy:*
  std::vector<FeedItem> items;
  bool wellformed = true;             // false when recovery was needed
  std::vector<std::string> warnings;  // what recovery did, one line each
  // The document ended inside an element (a body cut short). Items that
  // were not closed were dropped; the poll should count as failed and be
  // retried rather than trusted (validators not stored).
  bool truncated = false;
  size_t unclosed_items_dropped = 0;  // items left out because never closed
  // Items past FeedParseOptions::max_items, not parsed (counted, logged).
  size_t items_over_cap = 0;
};

}  // namespace newsflow
