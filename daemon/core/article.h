#pragma once

// The normalized article: the value sinks publish (schema_version 1,
// see docs/article.schema.json and ../shared/DESIGN.md). Fields are added,
// never renamed.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/error.h"
#include "daemon/core/feed_item.h"
#include "daemon/core/time_util.h"

namespace newsflow {

inline constexpr int kSchemaVersion = 1;
// The `$id` of docs/article.schema.json (draft-07) for this schema version;
// sent as the CloudEvents `ce_dataschema` header.
inline constexpr char kSchemaUri[] =
    "https://newsflow.example/schemas/article/1.json";

// Where an article's body came from.
enum class ContentSource { kFeed, kPage };

// Article::content_source_reason (issue 12): the item wanted its page (a
// teaser, or full_article: always) and the page could not be fetched (bound of
// pipeline.max_page_attempts reached, or a permanent failure); the body is
// the feed's.
inline constexpr char kReasonPageFetchFailed[] = "page_fetch_failed";

// Whether this publication is a new article or a changed version of one
// already published.
enum class ArticleEvent { kCreated, kUpdated };

// The feed an article came from, as configured and as the feed describes
// itself.
struct FeedRef {
  std::string id;   // the feed's name from config
  std::string url;  // the configured feed URL (query string kept)
  std::string title;
  std::string link;
  std::string language;
};

struct Article {
  std::string id;  // stable: see normalizer ArticleId()
  ArticleEvent event = ArticleEvent::kCreated;
  FeedRef feed;
  std::string url;            // link as published
  std::string canonical_url;  // tracking parameters removed
  std::string title;          // plain text
  std::vector<std::string> authors;
  std::vector<std::string> categories;
  std::optional<TimePoint> published;
  std::optional<TimePoint> updated;
  TimePoint fetched_at{};
  std::string summary;       // plain text
  std::string content_html;  // sanitized HTML of the body
  std::string content_text;  // paragraphs separated by a blank line
  ContentSource content_source = ContentSource::kFeed;
  std::string language;  // BCP 47 tag or ""
  std::string image;     // URL or "" (serialized as null)
  std::vector<Enclosure> enclosures;
  int word_count = 0;
  std::string content_hash;  // ContentHash(title, content_text)

  // --- issue 13, content helper: story grouping and walls -----------------
  // The id of the first article of the same story (same canonical URL or
  // near-duplicate content_text; daemon/story/README.md). "" = this
  // article's own id (serialized as `id`).
  std::string story_id;
  // Why content_source is not what it normally would be; "" = null.
  // Values: "consent_wall", "paywall" (the page was a wall, the feed's
  // content was kept), "page_fetch_failed".
  std::string content_source_reason;
  // --- end issue 13, content helper ---------------------------------------

  // Internal, never serialized: the hash of the feed item this article was
  // built from (set by the Publisher on the copy it hands to the sink, so
  // a transactional sink can record it with the article; issue 15).
  std::string item_hash;
};

// The definition of Article::content_hash, versioned: the state store keeps
// the version each stored hash was computed with, so a new definition does
// not make every stored article look edited (daemon/state/README.md).
//   1: lower-case hex SHA-256 of the UTF-8 bytes of content_text.
//   2: lower-case hex SHA-256 of the UTF-8 bytes of title, one line feed
//      (0x0A), then content_text. (title is plain text with whitespace
//      collapsed: it never holds a line feed, so the split is unambiguous.)
inline constexpr int kContentHashVersion = 2;

// content_hash by the current definition (version 2): an edited headline
// with the same body is a new version of the story.
std::string ContentHash(std::string_view title, std::string_view content_text);

// content_hash by definition 1 (text only), to compare with hashes stored
// before version 2.
std::string ContentHashV1(std::string_view content_text);

// Serializes `article` as one line of compact JSON (no trailing newline).
std::string ArticleToJson(const Article& article);

// The inverse of ArticleToJson, for values this build wrote (the durable
// outbox stores them and re-publishes after a restart):
// ArticleToJson(*ArticleFromJson(ArticleToJson(a))) == ArticleToJson(a).
// A field added to Article must be read here too (article_test checks the
// round trip of a fully populated article). Errors: kParse.
Result<Article> ArticleFromJson(std::string_view json);

std::string_view ArticleEventName(ArticleEvent e);    // "created"|"updated"
std::string_view ContentSourceName(ContentSource s);  // "feed"|"page"

}  // namespace newsflow
