// libFuzzer target: the feed date parser (RFC 822 and its many real-world
// misspellings, ISO 8601 / RFC 3339, named zones, localized month names),
// with and without an assumed zone for zone-less dates, and the cleaner's
// page-date parser. Must never crash, hang, overflow (UBSan) or read out of
// bounds. The first byte picks the assumed zone.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "connectors/sources/feed/date_parser.h"
#include "daemon/cleaner/metadata.h"
#include "daemon/core/time_util.h"
#include "daemon/core/timezone.h"

namespace {

const newsflow::TimeZone* Zone(uint8_t pick) {
  static const newsflow::TimeZone kUtc;
  static const newsflow::TimeZone kPlus = *newsflow::TimeZone::Load("+05:30");
  static const newsflow::TimeZone kMinus = *newsflow::TimeZone::Load("-0800");
  static const auto kIana = newsflow::TimeZone::Load("America/New_York");
  switch (pick % 5) {
    case 0:
      return nullptr;
    case 1:
      return &kUtc;
    case 2:
      return &kPlus;
    case 3:
      return &kMinus;
    default:
      return kIana ? &*kIana : &kUtc;  // no tzdata: UTC
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto t = newsflow::feed_internal::ParseFeedDate(text, Zone(data[0]));
  if (t) {
    std::string s = newsflow::FormatRfc3339(*t);
    (void)s;
  }
  auto page = newsflow::cleaner::ParseDate(text);
  if (page) {
    std::string s = newsflow::FormatRfc3339(*page);
    (void)s;
  }
  return 0;
}
