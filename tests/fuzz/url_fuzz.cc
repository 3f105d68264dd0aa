// libFuzzer target: the URL model (daemon/core/url.h). The input is
// "BASE\0REF" (no NUL: REF against a fixed base). Beyond "no crash":
//  - a parsed URL's href is printable ASCII (spaces only in the opaque path
//    of a non-special scheme, as the URL standard has it); an http(s) href
//    parses again (against no base) and serializes to the same href;
//  - the same for WithoutTrackingParameters / WithoutFragment of it;
//  - ResolveUrl in kPreserve style never returns a C0 control or DEL
//    (UrlWithoutControls' contract: no raw control reaches a log or field).
// A broken property aborts after printing the inputs.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/core/url.h"

namespace {

[[noreturn]] void Fail(const char* what, std::string_view a,
                       std::string_view b) {
  std::fprintf(stderr, "url_fuzz: %s\n  [%.*s]\n  [%.*s]\n", what,
               static_cast<int>(a.size()), a.data(), static_cast<int>(b.size()),
               b.data());
  std::abort();
}

void CheckHref(const newsflow::Url& url, std::string_view input) {
  const std::string& href = url.href();
  // Only an opaque path (non-special schemes: "foo:a b") may keep a space.
  const bool space_ok = !url.IsHttp();
  for (char c : href) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F || (u == 0x20 && !space_ok)) {
      Fail("href not printable ASCII", input, href);
    }
  }
  // Re-parsing is checked for http(s) only: opaque paths have known
  // round-trip quirks in the URL standard itself (trailing spaces).
  if (!url.IsHttp()) return;
  auto again = newsflow::Url::Parse(href);
  if (!again) Fail("href does not parse again", input, href);
  if (again->href() != href) {
    Fail("href not idempotent", href, again->href());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view base = "https://fuzz.example/dir/page.html?q=1#f";
  std::string_view ref = in;
  if (size_t nul = in.find('\0'); nul != std::string_view::npos) {
    base = in.substr(0, nul);
    ref = in.substr(nul + 1);
  }
  auto url = newsflow::Url::Parse(ref, base);
  if (url) {
    CheckHref(*url, ref);
    CheckHref(url->WithoutTrackingParameters(), ref);
    CheckHref(url->WithoutFragment(), ref);
    url->HostKey();
    url->HostIsWithin("example.com");
  }
  auto plain = newsflow::Url::Parse(ref);
  if (plain) CheckHref(*plain, ref);
  for (auto style :
       {newsflow::ResolveStyle::kBrowser, newsflow::ResolveStyle::kPreserve}) {
    std::string r = newsflow::ResolveUrl(base, ref, style);
    if (style == newsflow::ResolveStyle::kPreserve) {
      for (char c : r) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) Fail("control in kPreserve result", ref, r);
      }
      newsflow::LowerCaseSchemeAndHost(r);
    }
  }
  newsflow::UrlWithoutControls(ref);
  newsflow::HostKeyOf(ref);
  newsflow::HasScheme(ref);
  return 0;
}
