#pragma once

// Lenient date parsing for feeds. Accepts:
//   - RFC 822/1123/2822 ("Sun, 12 Oct 2025 01:40:00 +0000"), with or
//     without day name or seconds, 2- or 4-digit years, numeric zones
//     (+hhmm, +hh:mm, +hh), named zones (GMT UT UTC Z EST EDT CST CDT MST MDT
//     PST PDT CET CEST EET EEST BST IST JST ...) or none (UTC assumed);
//   - asctime/Unix date forms ("Mon Jan  2 15:04:05 MST 2006");
//   - RFC 3339 / ISO 8601 / W3C-DTF ("2025-10-12T01:40:00.52Z",
//     "2018-09-18 10:11:12", "20040105T10:30:00Z", "2003-12", "2003");
//   - month and day names in English, German, French, Spanish, Portuguese,
//     Italian, Dutch, Greek and Russian (e.g. "Seg, 17 Set 2018 10:00:00
//     -0300", "Τρι, 29 Ιούν 2004 12:53:00 GMT").
// Returns nullopt for anything else. Pure; no allocation on the hot path.
//
// `zone` is the zone assumed for a date-time that carries none (a feed's
// configured `timezone`); null means UTC. Dates with a zone (including "Z",
// "GMT", named zones) never use it, nor do bare dates without a time of day.

#include <optional>
#include <string_view>

#include "daemon/core/time_util.h"
#include "daemon/core/timezone.h"

namespace newsflow::feed_internal {

std::optional<TimePoint> ParseFeedDate(std::string_view text,
                                       const TimeZone* zone = nullptr);

}  // namespace newsflow::feed_internal
