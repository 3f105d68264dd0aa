// libFuzzer target: page metadata (JSON-LD, OpenGraph, Twitter cards, <meta>,
// canonical links, <html lang>) over any HTML, plus the pieces it uses on
// the extracted strings (StripSiteName, ParseDate). Must never crash, hang
// or read out of bounds. Seeds and the dictionary lean on JSON-LD.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/cleaner/dom.h"
#include "daemon/cleaner/metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view html(reinterpret_cast<const char*>(data), size);
  newsflow::cleaner::DocPtr doc = newsflow::cleaner::ParseHtml(html);
  if (!doc) return 0;
  std::string article_body;
  newsflow::PageMetadata m = newsflow::cleaner::ReadMetadata(
      doc.get(), "https://fuzz.example/news/story.html", &article_body);
  std::string title =
      newsflow::cleaner::StripSiteName(m.title, m.site_name, {m.site_name});
  (void)title;
  newsflow::cleaner::ParseDate(m.site_name);
  newsflow::cleaner::DocumentBaseHref(doc.get());
  return 0;
}
