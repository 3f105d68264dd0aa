// libFuzzer target: CleanFragment, ExtractPage, HtmlToPlainText and
// LooksLikeTeaser must never crash, hang or read out of bounds, and the
// sanitized HTML must never carry a <script> element.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/cleaner/html_cleaner.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view html(reinterpret_cast<const char*>(data), size);
  newsflow::CleanOptions options;
  options.base_url = "https://example.com/a/b.html";
  newsflow::CleanedContent c = newsflow::CleanFragment(html, options);
  if (c.html.find("<script") != std::string::npos) std::abort();
  newsflow::LooksLikeTeaser(html, c);
  newsflow::ExtractedPage page = newsflow::ExtractPage(html, options);
  if (page.content.html.find("<script") != std::string::npos) std::abort();
  newsflow::HtmlToPlainText(html);
  return 0;
}
