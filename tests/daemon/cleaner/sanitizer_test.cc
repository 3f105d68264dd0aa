// URL handling of the sanitizer: allow-lists compare the host a browser
// would connect to (daemon/core/url.h), not what a naive split of the text
// finds. Every case below is one a naive parser reads differently from a
// browser.

#include "daemon/cleaner/sanitizer.h"

#include <gtest/gtest.h>

#include <string>

#include "daemon/cleaner/html_cleaner.h"

namespace newsflow::cleaner {
namespace {

constexpr std::string_view kPage = "https://news.example/2024/story.html";

TEST(SanitizerUrlTest, IframeAllowListUsesTheBrowsersHost) {
  // Allowed: the host a browser sees is a video host.
  for (const char* src : {
           "https://www.youtube.com/embed/abc",
           "https://WWW.YOUTUBE.COM/embed/abc",     // case
           "https://www.youtube.com./embed/abc",    // trailing dot
           "https://www.you%74ube.com/embed/abc",   // percent-encoded host
           "//www.youtube-nocookie.com/embed/abc",  // protocol-relative
           "https://player.vimeo.com/video/1",
           "https:\\\\www.youtube.com\\embed\\abc",  // backslashes
           "https://www.youtu\tbe.com/embed/abc",    // tab inside the host
       }) {
    EXPECT_TRUE(IsAllowedIframeSource(kPage, src)) << src;
  }
  // Refused: a naive parser finds "youtube.com" in these, a browser loads
  // another host.
  for (const char* src : {
           "https://evil.example\\.youtube.com/embed/abc",    // '\' ends host
           "https://evil.example\\@www.youtube.com/embed/",   // still evil
           "https://www.youtube.com@evil.example/embed/abc",  // userinfo
           "https://www.youtube.com:443@evil.example/",       // userinfo
           "https://evil.example/www.youtube.com/embed/abc",  // path
           "https://evil.example?.youtube.com/",              // query
           "https://evil.example#.youtube.com/",              // fragment
           "https://youtube.com.evil.example/embed/abc",      // suffix
           "https://evilyoutube.com/embed/abc",               // not a label
           "//evil.example/youtube.com/embed/abc",      // protocol-relative
           "javascript://www.youtube.com/%0Aalert(1)",  // scheme
           "java\tscript://www.youtube.com/%0Aalert(1)",
           "data:text/html,youtube.com",
           "/embed/abc",  // relative: the page's own host
       }) {
    EXPECT_FALSE(IsAllowedIframeSource(kPage, src)) << src;
  }
}

TEST(SanitizerUrlTest, EmittedIframesAreSandboxedAndUseTheParsedUrl) {
  CleanOptions options;
  options.base_url = std::string(kPage);
  const CleanedContent c = CleanFragment(
      "<p>Watch</p>"
      "<iframe src=\"https://evil.example\\.youtube.com/embed/x\"></iframe>"
      "<iframe src=\"https://www.youtube.com@evil.example/embed/y\"></iframe>"
      "<iframe src=\"//WWW.YouTube.com/embed/z?utm_source=rss\" width=\"560\">"
      "</iframe>",
      options);
  EXPECT_EQ(c.html.find("evil.example"), std::string::npos) << c.html;
  EXPECT_NE(c.html.find("<iframe src=\"https://www.youtube.com/embed/z\" "
                        "sandbox=\"allow-scripts allow-same-origin "
                        "allow-presentation allow-popups\" width=\"560\""),
            std::string::npos)
      << c.html;
}

TEST(SanitizerUrlTest, EntityEncodedSchemesAreReadLikeABrowser) {
  CleanOptions options;
  options.base_url = std::string(kPage);
  const CleanedContent c = CleanFragment(
      "<p><a href=\"jav&#x09;ascript:alert(1)\">a</a> "
      "<a href=\"&#106;avascript:alert(2)\">b</a> "
      "<a href=\"java&#10;script:alert(3)\">c</a> "
      "<a href=\"&#x20;&#x01;javascript:alert(4)\">d</a> "
      "<a href=\"JAVASCRIPT&colon;alert(5)\">e</a> "
      "<a href=\"&#x2F;&#x2F;evil.example/x\">f</a></p>",
      options);
  // Every emitted link is an absolute https URL (libxml2 decodes the
  // character references first; "&colon;" is not an HTML4 entity, so it
  // stays text and makes a harmless relative path).
  int links = 0;
  for (size_t at = c.html.find("href=\""); at != std::string::npos;
       at = c.html.find("href=\"", at + 1)) {
    EXPECT_EQ(c.html.compare(at + 6, 8, "https://"), 0) << c.html;
    ++links;
  }
  EXPECT_EQ(c.html.find("javascript"), std::string::npos) << c.html;
  EXPECT_GE(links, 1);
  // Protocol-relative: the browser goes to evil.example, and so does the
  // link we emit (spelled out).
  EXPECT_NE(c.html.find("href=\"https://evil.example/x\""), std::string::npos)
      << c.html;
}

TEST(SanitizerUrlTest, LazyImagePlaceholderSchemeReadLikeABrowser) {
  // " DATA:..." is a data: URL to a browser, so the lazy source is used.
  CleanOptions options;
  options.base_url = std::string(kPage);
  const CleanedContent c = CleanFragment(
      "<p>Text <img src=\" DATA:image/gif;base64,R0lGOD\" "
      "data-src=\"/media/real.jpg\" alt=\"x\"></p>",
      options);
  EXPECT_NE(c.html.find("<img src=\"https://news.example/media/real.jpg\""),
            std::string::npos)
      << c.html;
}

TEST(SanitizerUrlTest, LinksAreWhatTheBrowserWouldLoad) {
  const std::string base(kPage);
  // Schemes are read as a browser reads them: entities are already decoded
  // by the HTML parser, tabs/newlines vanish, leading controls are trimmed.
  for (const char* href :
       {"javascript:alert(1)", " JaVaScRiPt:alert(1)", "java\tscript:alert(1)",
        "java\nscript:alert(1)", "\x01javascript:alert(1)",
        "vbscript:msgbox(1)", "data:text/html,<script>", "file:///etc/passwd",
        "http://a b/", "https://[::1"}) {
    EXPECT_EQ(SafeUrl(base, href, /*allow_mailto=*/true), "") << href;
  }
  EXPECT_EQ(SafeUrl(base, "mailto:desk@news.example", true),
            "mailto:desk@news.example");
  EXPECT_EQ(SafeUrl(base, "mailto:desk@news.example", false), "");
  EXPECT_EQ(SafeUrl(base, "\\\\evil.example\\x", false),
            "https://evil.example/x");
  EXPECT_EQ(
      SafeUrl(base, "HTTPS://Www.Example.COM:443/a/../b?utm_medium=x", false),
      "https://www.example.com/b");
  EXPECT_EQ(SafeUrl(base, "../img/a b.png", false),
            "https://news.example/img/a%20b.png");
  EXPECT_EQ(SafeUrl(base, "https://\xF0\x9F\x92\xA9.la/", false),
            "https://xn--ls8h.la/");
  // No page URL: relative references stay relative, protocol-relative ones
  // get https, nothing is resolved against a made-up host.
  EXPECT_EQ(SafeUrl("", " img/a.png\n", false), "img/a.png");
  EXPECT_EQ(SafeUrl("", "//cdn.example/a.png", false),
            "https://cdn.example/a.png");
  EXPECT_EQ(SafeUrl("", "java\tscript:alert(1)", false), "");
}

}  // namespace
}  // namespace newsflow::cleaner
