#pragma once

// Generic boilerplate signals shared by fragment cleaning and page
// extraction: what an element's class/id/role says about it, and the short
// text blocks that end an article (comment forms, "appeared first on"
// trailers, "read more" links). No host-specific rules.

#include <libxml/tree.h>

#include <string_view>

namespace newsflow::cleaner {

// What an element's class, id and role attributes suggest. Computed once per
// element with plain substring scans (no regex).
struct NameSignals {
  // Readability's "unlikely candidate" (nav, sidebar, share, comment...).
  bool unlikely = false;
  // Also names content ("article", "body", "content", "main"...), which
  // vetoes `unlikely`.
  bool maybe_content = false;
  // Almost certainly not article text even inside the body: share bars,
  // comment sections, related-post boxes, newsletter forms, ads.
  bool boilerplate = false;
  // Comment section (WordPress #comments/#respond, Disqus...).
  bool comments = false;
  // An embedded post (tweet, Instagram...): quoted content, never cleaned
  // away for its links.
  bool embed = false;
  // Readability-style class weight: +25 positive, -25 negative per match.
  int weight = 0;
};

NameSignals ClassifyElement(const xmlNode* element);

// True when the element is hidden (hidden attribute, aria-hidden=true,
// display:none / visibility:hidden inline style).
bool IsHidden(const xmlNode* element);

// True for a short text block that ends an article: "Leave a Reply",
// "N Comments", "Post a comment", "Related Posts", "Share this:" ...
// (boilerpipe's TerminatingBlocksFinder plus WordPress/Disqus forms).
// `text` is the block's whitespace-collapsed text.
bool IsTerminatingBlock(std::string_view text);

// True for "The post <title> appeared first on <site>." trailers and
// feed-footer lines ("This entry was posted in ...").
bool IsFeedTrailer(std::string_view text);

// True for a "read more" link text ("Continue reading", "Read more", ...).
bool IsReadMoreText(std::string_view text);

// True for a short block that introduces links to other stories: "DON'T
// MISS:", "See also", "Also read", "Read more:", "Related:" ...
bool IsLeadInBlock(std::string_view text);

// True for a copyright line ("© 2019 ...", "Copyright ...", "All rights
// reserved").
bool IsCopyrightLine(std::string_view text);

// True for a short "Updated Nov 19, 9:41 AM" / "Posted ..." / "Published
// ..." dateline.
bool IsDateline(std::string_view text);

// True for a "By Jane Doe - Nov 18, 2019" byline block.
bool IsByline(std::string_view text);

// True for a newsletter sign-up or "Follow us on ..." promotion line.
bool IsPromoLine(std::string_view text);

// True when (at least 10) letters are almost all upper-case ASCII.
bool IsShouting(std::string_view text);

// Number of whitespace-separated tokens in `text` (the boilerplate rules'
// length measure, tuned on the English corpus; an article's word count and
// the teaser test use newsflow::CountWords, daemon/core/words.h).
int CountSpaceSeparated(std::string_view text);

}  // namespace newsflow::cleaner
