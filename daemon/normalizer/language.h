#pragma once

// Article language: declared values normalized to BCP 47, undeclared ones
// detected from the text with CLD2 (Debian libcld2). Pure functions; any
// thread (CLD2's tables are read-only).
//
// Decision (see daemon/normalizer/README.md, "Language"):
//  - A declared value (item, page, feed, in that order) wins when it is
//    plausible. It is implausible only when the detector is confident (CLD2
//    "reliable", >= kMinDetectPercent of the text, >= kMinDetectBytes of
//    letters) and the detected language shares no writing system with the
//    declared one (declared "en", text in Cyrillic). Within one script the
//    declaration wins: publishers know their dialects better than CLD2
//    knows Bokmål from Danish.
//  - Nothing declared: the detected language when the detector is
//    confident, else no language (null) rather than a guess.

#include <string>
#include <string_view>

namespace newsflow {

// Text shorter than this (bytes of UTF-8 letters CLD2 scored) gives no
// detection.
inline constexpr int kMinDetectBytes = 48;
// The top language must cover at least this share of the scored text.
inline constexpr int kMinDetectPercent = 70;

// `value` as a BCP 47 tag: '_' read as '-', primary subtag lower-case,
// 4-letter script subtag title-case, 2-letter region upper-case, the first
// entry of a list ("en, fr") taken, "x-default"/"und"/"mul" dropped.
// Returns "" for a value that is not a language tag ("english", "12").
// "en_US" -> "en-US", "EN" -> "en", "zh-hant-tw" -> "zh-Hant-TW".
std::string NormalizeLanguageTag(std::string_view value);

// The language CLD2 finds in `text` (plain UTF-8) as a BCP 47 tag ("ja",
// "zh", "zh-Hant", "de"), or "" when the text is too short or the detector
// is not confident.
std::string DetectLanguage(std::string_view text);

// The article's language under the rule above: `declared` (raw, normalized
// here; "" = none) against what `text` says.
std::string ChooseLanguage(std::string_view declared, std::string_view text);

}  // namespace newsflow
