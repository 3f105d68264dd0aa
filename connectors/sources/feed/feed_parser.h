#pragma once

// Feed parsing: bytes of an RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed 1.x
// document → ParsedFeed (daemon/core/feed_item.h).
//
// Pure: no I/O, no shared state; safe on any thread. Never crashes or hangs
// on any input (fuzzed). The format is detected from the content, never from
// a file name; Content-Type only contributes its charset.

#include <string>
#include <string_view>

#include "daemon/core/error.h"
#include "daemon/core/feed_item.h"
#include "daemon/core/timezone.h"

namespace newsflow {

struct FeedParseOptions {
  // URL the document was fetched from; relative links (and xml:base) are
  // resolved against it. Empty: relative links stay relative.
  std::string document_url;
  // HTTP Content-Location header, if any. When set it is the document's base
  // (resolved against document_url as written, as feedparser does): a feed
  // served from /feed?id=1 with "Content-Location: /news/rss.xml" resolves
  // "a.html" to /news/a.html. xml:base still applies on top of it.
  std::string content_location;
  // HTTP Content-Type header, if any; its charset parameter takes part in
  // encoding detection (RFC 7303).
  std::string content_type;
  // Upper bound on items returned (the first N in document order).
  size_t max_items = 10'000;
  // Zone for item/feed dates that carry none (e.g. "2018-09-18 10:11:12");
  // null = UTC. Not owned; must outlive the ParseFeed call.
  const TimeZone* assumed_zone = nullptr;
};

// Parses `body`. Errors: kNotAFeed (well-formed document of another kind, or
// nothing feed-like), kParse (so broken nothing could be recovered). A feed
// that needed recovery is returned with wellformed=false and warnings.
Result<ParsedFeed> ParseFeed(std::string_view body,
                             const FeedParseOptions& options = {});

// The `newsflowd parse` view: one JSON document
// {"format","feed":{"title","link","description","language","image","updated"},
//  "wellformed","warnings":[...],
//  "items":[{"title","link","guid","published","updated","author","authors",
//            "summary","content","categories","enclosures",...}]}
// Dates are RFC 3339 UTC or null.
std::string ParsedFeedToJson(const ParsedFeed& feed);

}  // namespace newsflow
