#include "daemon/cleaner/page_wall.h"

#include <array>
#include <cctype>
#include <string>

#include "daemon/core/words.h"

namespace newsflow {
namespace {

// ASCII lower case, inline: this runs per byte of whole pages, where a
// libc tolower() call per comparison cost ~6 ms per page (bench/pipeline).
inline char LowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Case-insensitive (ASCII) find.
size_t FindNoCase(std::string_view hay, std::string_view needle,
                  size_t from = 0) {
  if (needle.empty() || hay.size() < needle.size()) return std::string::npos;
  for (size_t i = from; i + needle.size() <= hay.size(); ++i) {
    size_t j = 0;
    while (j < needle.size() &&
           LowerAscii(hay[i + j]) == LowerAscii(needle[j])) {
      ++j;
    }
    if (j == needle.size()) return i;
  }
  return std::string::npos;
}

bool DeclaresNotFree(std::string_view html) {
  static constexpr std::string_view kKey = "isAccessibleForFree";
  for (size_t at = FindNoCase(html, kKey); at != std::string::npos;
       at = FindNoCase(html, kKey, at + kKey.size())) {
    // JSON-LD: "isAccessibleForFree": false | "False" | "false".
    std::string_view after = html.substr(at + kKey.size());
    size_t i = 0;
    while (i < after.size() && i < 8 &&
           (after[i] == '"' || after[i] == '\'' || after[i] == ':' ||
            std::isspace(static_cast<unsigned char>(after[i])))) {
      ++i;
    }
    if (FindNoCase(after.substr(i, 5), "false") == 0) return true;
    // Microdata: <meta itemprop="isAccessibleForFree" content="false">,
    // attributes in either order.
    const size_t open = html.rfind('<', at);
    const size_t close = html.find('>', at);
    if (open == std::string::npos || close == std::string::npos) continue;
    std::string_view tag = html.substr(open, close - open);
    if (tag.find('>') != std::string::npos) continue;
    const size_t content = FindNoCase(tag, "content=");
    if (content == std::string::npos) continue;
    std::string_view value = tag.substr(content + 8);
    if (!value.empty() && (value[0] == '"' || value[0] == '\''))
      value.remove_prefix(1);
    if (FindNoCase(value.substr(0, 5), "false") == 0) return true;
  }
  return false;
}

// Ids, classes and script hosts of consent-management platforms.
constexpr std::array<std::string_view, 22> kCmpMarkers = {
    "onetrust-consent-sdk",
    "onetrust-banner-sdk",
    "optanon",
    "qc-cmp2",
    "quantcast.mgr.consensu",
    "didomi-host",
    "didomi-notice",
    "didomi-popup",
    "sp_message_container",
    "sp_message_iframe",
    "sourcepoint",
    "truste-consent",
    "trustarc",
    "fc-consent-root",
    "fc-dialog-container",
    "cybotcookiebotdialog",
    "cookiebot",
    "usercentrics",
    "cmpbox",
    "consentmanager.net",
    "consent-wall",
    "cookiewall"};

bool HasCmpMarker(std::string_view html) {
  for (std::string_view m : kCmpMarkers) {
    if (FindNoCase(html, m) != std::string::npos) return true;
  }
  return false;
}

// Consent dialog vocabulary (lower-case; English, German, French, Spanish,
// Italian, Dutch — the CMPs' most common languages).
constexpr std::array<std::string_view, 30> kConsentTerms = {
    "cookie",
    "consent",
    "partners",
    "privacy",
    "personal data",
    "legitimate interest",
    "accept all",
    "reject all",
    "manage options",
    "your choices",
    "preferences",
    "store and/or access",
    "precise geolocation",
    "opt out",
    "opt-out",
    "tracking",
    "advertising",
    "datenschutz",
    "einwilligung",
    "zustimm",
    "consentement",
    "données personnelles",
    "accepter",
    "consentimiento",
    "privacidad",
    "consenso",
    "toestemming",
    "werbung",
    "akzeptieren",
    "vendors"};

// `has_marker()` (a scan of the whole raw page for 22 markers) is only
// asked for when the extracted text already reads like a consent dialog.
template <class HasMarker>
bool ReadsLikeConsentDialog(std::string_view text, HasMarker has_marker) {
  const int words = CountWords(text);
  if (words == 0 || words >= kMaxConsentWords) return false;
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  int distinct = 0;
  int hits = 0;
  for (std::string_view term : kConsentTerms) {
    int n = 0;
    for (size_t at = lower.find(term); at != std::string::npos;
         at = lower.find(term, at + term.size())) {
      ++n;
    }
    if (n > 0) ++distinct;
    hits += n;
  }
  if (distinct < kMinConsentTerms) return false;
  if (hits * 100 < kConsentTermsPer100 * words) return false;
  return distinct >= kMinConsentTerms + 2 || has_marker();
}

}  // namespace

PageWall DetectPageWall(std::string_view raw_html,
                        std::string_view extracted_text) {
  // Metered sites flag every article but serve the whole story until the
  // reader's quota is used up: only a page that also came short is a wall.
  if (DeclaresNotFree(raw_html) &&
      CountWords(extracted_text) < kMaxPaywallWords) {
    return PageWall::kPaywall;
  }
  if (ReadsLikeConsentDialog(extracted_text,
                             [raw_html] { return HasCmpMarker(raw_html); }))
    return PageWall::kConsentWall;
  return PageWall::kNone;
}

std::string_view PageWallReason(PageWall wall) {
  switch (wall) {
    case PageWall::kConsentWall:
      return "consent_wall";
    case PageWall::kPaywall:
      return "paywall";
    case PageWall::kNone:
      break;
  }
  return "";
}

}  // namespace newsflow
