// libFuzzer target: CleanFragment, ExtractPage, HtmlToPlainText and
// LooksLikeTeaser must never crash, hang or read out of bounds, and the
// sanitized HTML must never carry a <script> element, also with fuzzed
// keep/remove selectors.

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
  // The first line doubles as operator selectors (keep and remove).
  std::string_view line = html.substr(0, html.find('\n'));
  if (line.size() <= 80) {
    newsflow::CleanOptions sel = options;
    sel.keep_selectors = {std::string(line), "div p"};
    sel.remove_selectors = {std::string(line.substr(line.size() / 2))};
    newsflow::ExtractedPage kept = newsflow::ExtractPage(html, sel);
    if (kept.content.html.find("<script") != std::string::npos) std::abort();
  }
  return 0;
}
