// libFuzzer target: JSON Feed (1.0/1.1) through ParseFeed with a JSON
// Content-Type (so the sniffing always picks the JSON reader) and through
// ParseJsonFeed directly, then ParsedFeedToJson. Must never crash, hang or
// read out of bounds on any bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/sources/feed/feed_parser.h"
#include "connectors/sources/feed/xml_context.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  newsflow::FeedParseOptions options;
  options.document_url = "https://fuzz.example/feed.json";
  options.content_type = "application/feed+json";
  auto r = newsflow::ParseFeed(body, options);
  if (r) {
    std::string json = newsflow::ParsedFeedToJson(*r);
    (void)json;
  }
  auto direct = newsflow::feed_internal::ParseJsonFeed(body, options);
  if (direct) {
    std::string json = newsflow::ParsedFeedToJson(*direct);
    (void)json;
  }
  return 0;
}
