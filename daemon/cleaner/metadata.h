#pragma once

// Page metadata from JSON-LD, OpenGraph, Twitter cards, <meta>, <link
// rel=canonical> and <html lang>.

#include <libxml/tree.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/cleaner/html_cleaner.h"

namespace newsflow::cleaner {

// Reads metadata from the whole document (call before the tree is pruned).
// URLs are resolved against `base_url`. When `article_body` is not null it
// receives the JSON-LD articleBody (raw, may be "" or carry markup).
PageMetadata ReadMetadata(xmlDoc* doc, const std::string& base_url,
                          std::string* article_body = nullptr);

// `title` without a site-name affix: "Headline | Site", "Headline – Site",
// "Headline - Site", "Site | Headline" (also " — ", " :: ", " · ", " » ",
// " / ") lose the site part when it equals `site_name` (case-insensitive,
// a leading "The " ignored) or, for a suffix, when one of `others` (the
// other title sources: h1, og:title ...) is exactly the headline part.
// Otherwise `title` unchanged.
std::string StripSiteName(const std::string& title,
                          const std::string& site_name,
                          const std::vector<std::string>& others);

// Parses ISO 8601 / RFC 3339 ("2025-10-12T06:40:00+05:00", "2025-10-12",
// "2025-10-12 06:40", "...Z", fractional seconds) and RFC 822 dates
// ("Sun, 12 Oct 2025 01:40:00 +0000"). Offsets are converted to UTC.
std::optional<TimePoint> ParseDate(std::string_view text);

// The <base href> of the document, or "".
std::string DocumentBaseHref(xmlDoc* doc);

}  // namespace newsflow::cleaner
