// libFuzzer target: ParseFeed + ParsedFeedToJson must never crash, hang or
// read out of bounds on any bytes. The first byte picks a Content-Type
// charset so the encoding paths are fuzzed too (windows-1252 by table, the
// others through iconv). Ill-formed RSS also exercises the second repair
// pass (text elements read as text).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "connectors/sources/feed/feed_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kContentTypes[] = {
      "",
      "application/rss+xml; charset=utf-8",
      "text/xml; charset=windows-1251",
      "application/xml; charset=gb2312",
      "text/xml; charset=utf-16",
      "application/atom+xml; charset=shift_jis",
      "text/xml; charset=bogus",
      "text/xml; charset=iso-8859-1"};
  newsflow::FeedParseOptions options;
  options.document_url = "http://fuzz.example/dir/feed.xml";
  if (size > 0) {
    options.content_type =
        kContentTypes[data[0] % (sizeof kContentTypes / sizeof *kContentTypes)];
  }
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto r = newsflow::ParseFeed(body, options);
  if (r) {
    std::string json = newsflow::ParsedFeedToJson(*r);
    (void)json;
  }
  return 0;
}
