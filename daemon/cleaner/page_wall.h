#pragma once

// Consent walls and paywalls: pages that answer an article URL with a
// cookie-consent dialog or a subscription offer instead of the story. Their
// text is often longer than a feed's teaser, so "keep the longer body"
// alone would publish the wall. Pure functions; any thread.
//
// Rules (decision, daemon/cleaner/README.md "Consent and paywall pages"):
//  - paywall: the page says so in schema.org terms — `isAccessibleForFree`
//    false (JSON-LD, any case, "false" as a string too, or microdata
//    `itemprop="isAccessibleForFree" content="false"`) — and the extracted
//    text has fewer than kMaxPaywallWords words (metered sites flag pages
//    that still carry the whole story: those are articles).
//  - consent wall: the extracted text reads like a consent dialog — at
//    least kMinConsentTerms distinct consent terms ("cookies", "consent",
//    "partners", "legitimate interest", ...), at least kConsentTermsPer100
//    term hits per 100 words (an article *about* privacy has far fewer),
//    fewer than kMaxConsentWords words — and either a consent-management
//    platform's marker is in the page (OneTrust, Quantcast, Didomi,
//    Sourcepoint, TrustArc, Funding Choices `fc-consent-root`, Cookiebot,
//    Usercentrics, consentmanager) or the text names kMinConsentTerms + 2
//    distinct terms.

#include <string_view>

namespace newsflow {

enum class PageWall { kNone, kConsentWall, kPaywall };

inline constexpr int kMaxPaywallWords = 400;
inline constexpr int kMinConsentTerms = 4;
inline constexpr int kConsentTermsPer100 = 6;
inline constexpr int kMaxConsentWords = 600;

// Classifies a fetched page from its raw HTML and the text extraction
// kept (ExtractPage().content.text).
PageWall DetectPageWall(std::string_view raw_html,
                        std::string_view extracted_text);

// "consent_wall" | "paywall" | "" (kNone): the article's
// content_source_reason.
std::string_view PageWallReason(PageWall wall);

}  // namespace newsflow
