#pragma once

// The normalizer turns what the parser and the cleaner produced into the
// Article that sinks publish: stable id, canonical URL, plain-text fields,
// word count and content hash. Pure functions; any thread.

#include <optional>
#include <string>
#include <string_view>

#include "daemon/core/article.h"
#include "daemon/core/feed_item.h"
#include "daemon/core/url.h"
#include "daemon/core/words.h"  // CountWords: word_count

namespace newsflow {

struct CleanedContent;
struct PageMetadata;

// The URL as a browser reads it (daemon/core/url.h: lower-case scheme and
// host, punycode, no default port, dot segments resolved, percent-encoding
// per the URL Standard) without fragment and tracking parameters (utm_*,
// fbclid, gclid, mc_cid, ...); the other parameters keep their order.
// Returns `url` unchanged when it is not an absolute http(s) URL.
std::string CanonicalizeUrl(std::string_view url);

// Stable article id (32 hex characters): a hash of the feed id and the GUID
// when the item has a usable GUID, else of the canonical URL (so the same
// story reached through two feeds without GUIDs gets one id).
std::string ArticleId(std::string_view feed_id, std::string_view guid,
                      std::string_view canonical_url);

// Hash of the raw feed item (title, link, guid, summary, content, dates):
// lets a poll skip unchanged items before any cleaning work. Without
// `include_guid` (feeds on the URL id policy, whose GUIDs churn) a new GUID
// alone does not make the item look changed.
std::string ItemHash(const FeedItem& item, bool include_guid = true);

// Everything the normalizer needs for one article.
struct NormalizeInput {
  FeedRef feed;                    // id/url from config, rest from the feed
  const FeedItem* item = nullptr;  // REQUIRES: non-null
  const CleanedContent* content = nullptr;  // REQUIRES: non-null
  ContentSource content_source = ContentSource::kFeed;
  const PageMetadata* page = nullptr;  // set when the page was fetched
  std::string language_override;       // from config; "" = detect
  TimePoint fetched_at{};
};

Article Normalize(const NormalizeInput& input);

}  // namespace newsflow
