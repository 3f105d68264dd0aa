#include "daemon/core/url.h"

#include <gtest/gtest.h>

namespace newsflow {
namespace {

struct WptCase {
  const char* input;
  const char* base;  // "" = no base
  const char* href;  // nullptr = the parser must fail
};

constexpr WptCase kWptCases[] = {
#include "tests/daemon/core/url_wpt_cases.inc"
};

TEST(UrlTest, WebPlatformTestsCases) {
  int checked = 0;
  for (const WptCase& c : kWptCases) {
    SCOPED_TRACE(std::string("input [") + c.input + "] base [" + c.base + "]");
    Result<Url> u = Url::Parse(c.input, std::string_view(c.base));
    if (c.href == nullptr) {
      EXPECT_FALSE(u) << "parsed as " << u->href();
    } else {
      ASSERT_TRUE(u) << u.error().message();
      EXPECT_EQ(u->href(), c.href);
      // The serialization parses back to itself.
      Result<Url> again = Url::Parse(u->href());
      ASSERT_TRUE(again);
      EXPECT_EQ(again->href(), u->href());
    }
    ++checked;
  }
  EXPECT_GE(checked, 100);
}

// Mutated WPT inputs (deterministic): whatever parses must serialize to an
// href that parses back to itself, the URL Standard's idempotence, and
// resolving against it must not break that either.
TEST(UrlTest, SerializationIsIdempotentUnderMutation) {
  constexpr std::string_view kAlphabet = "/\\?#@:.%[]2eEfx \t\xC3\xA9-";
  uint32_t state = 12345;
  auto next = [&state] {
    state = state * 1103515245u + 12345u;
    return state >> 8;
  };
  int parsed = 0;
  for (int round = 0; round < 20000; ++round) {
    const WptCase& c = kWptCases[next() % std::size(kWptCases)];
    std::string input = c.input;
    for (int edits = 1 + next() % 3; edits > 0; --edits) {
      const size_t at = input.empty() ? 0 : next() % (input.size() + 1);
      const char ch = kAlphabet[next() % kAlphabet.size()];
      if (next() % 2 == 0 && at < input.size()) {
        input[at] = ch;
      } else {
        input.insert(at, 1, ch);
      }
    }
    Result<Url> u = Url::Parse(input, std::string_view(c.base));
    if (!u) continue;
    ++parsed;
    Result<Url> again = Url::Parse(u->href());
    ASSERT_TRUE(again) << "[" << input << "] -> [" << u->href() << "]";
    ASSERT_EQ(again->href(), u->href()) << "[" << input << "]";
    Result<Url> relative = Url::Parse("../x?y#z", &*u);
    if (u->IsHttp()) {
      ASSERT_TRUE(relative) << u->href();
      Result<Url> relative_again = Url::Parse(relative->href());
      ASSERT_TRUE(relative_again) << relative->href();
      EXPECT_EQ(relative_again->href(), relative->href());
    }
  }
  EXPECT_GT(parsed, 5000);
}

// The fast paths inside url.cc (no Boost.URL for paths without dot
// segments, memoized base parses, no-op escaping skipped) must give exactly
// what the general path gives: WPT inputs, 40,000 mutations of them and of
// typical feed references, against WPT bases and feed-like bases, in both
// styles, with the base repeated (memo hit) and changing (memo miss).
TEST(UrlTest, FastPathsAgreeWithTheGeneralPath) {
  constexpr std::string_view kAlphabet = "/\\?#@:.%[]2eEfx \t\xC3\xA9-aZ/./..";
  static constexpr const char* kRefs[] = {"a.html",
                                          "/news/a.html",
                                          "//cdn.example/i.png",
                                          "img/x.png?w=1#t",
                                          "../up",
                                          "./here",
                                          "?q=1",
                                          "#frag",
                                          "http://Example.COM/A?b#c",
                                          "https://h.example:443/p/%2e/q",
                                          "p%2E%2e/x",
                                          "/a//b",
                                          "HTTP:rel",
                                          "mailto:a@b",
                                          "",
                                          "   /trim  ",
                                          "a b{c}|d",
                                          "\xE2\x82\xAC/x"};
  static constexpr const char* kBases[] = {
      "http://example.org/foo/bar",
      "https://h.example/news/feed.xml?x=1",
      "http://h.example",
      "https://h.example/a/b/",
      "/relative/base/",
      "http://[::1]:8080/x/y",
      ""};
  uint32_t state = 777;
  auto next = [&state] {
    state = state * 1103515245u + 12345u;
    return state >> 8;
  };
  struct Outcome {
    std::string parsed;  // href or "<fail>"
    std::string browser;
    std::string preserve;
    bool operator==(const Outcome&) const = default;
  };
  auto run = [](const std::string& input, const std::string& base) {
    Outcome o;
    Result<Url> u = Url::Parse(input, std::string_view(base));
    o.parsed = u ? u->href() : "<fail>";
    o.browser = ResolveUrl(base, input, ResolveStyle::kBrowser);
    o.preserve = ResolveUrl(base, input, ResolveStyle::kPreserve);
    return o;
  };
  std::vector<std::pair<std::string, std::string>> inputs;
  for (const WptCase& c : kWptCases) inputs.emplace_back(c.input, c.base);
  for (int round = 0; round < 40000; ++round) {
    std::string input;
    std::string base;
    if (round % 2 == 0) {
      const WptCase& c = kWptCases[next() % std::size(kWptCases)];
      input = c.input;
      base = c.base;
    } else {
      input = kRefs[next() % std::size(kRefs)];
      base = kBases[next() % std::size(kBases)];
    }
    for (int edits = next() % 3; edits > 0; --edits) {
      const size_t at = input.empty() ? 0 : next() % (input.size() + 1);
      const char ch = kAlphabet[next() % kAlphabet.size()];
      if (next() % 2 == 0 && at < input.size()) {
        input[at] = ch;
      } else {
        input.insert(at, 1, ch);
      }
    }
    inputs.emplace_back(std::move(input), std::move(base));
    // Same base again with another reference: the memoized base is used.
    inputs.emplace_back(kRefs[next() % std::size(kRefs)], inputs.back().second);
  }
  int fast_parsed = 0;
  for (const auto& [input, base] : inputs) {
    SetUrlFastPathsForTesting(false);
    const Outcome slow = run(input, base);
    SetUrlFastPathsForTesting(true);
    const Outcome fast = run(input, base);
    ASSERT_EQ(fast.parsed, slow.parsed)
        << "[" << input << "] on [" << base << "]";
    ASSERT_EQ(fast.browser, slow.browser)
        << "[" << input << "] on [" << base << "]";
    ASSERT_EQ(fast.preserve, slow.preserve)
        << "[" << input << "] on [" << base << "]";
    if (fast.parsed != "<fail>") ++fast_parsed;
  }
  EXPECT_GT(inputs.size(), 80000u);
  EXPECT_GT(fast_parsed, 20000);
}

// The cases issue 10 names, beyond the WPT table.
TEST(UrlTest, BrowserReadings) {
  struct Case {
    const char* input;
    const char* href;
  } cases[] = {
      {"http://0x7f.1/", "http://127.0.0.1/"},
      {"http://2130706433/", "http://127.0.0.1/"},
      {"http://0177.0.0.1/", "http://127.0.0.1/"},
      {"http://www.google.com:80/", "http://www.google.com/"},
      {"https://www.google.com:443/x", "https://www.google.com/x"},
      {"https://www.google.com:80/x", "https://www.google.com:80/x"},
      {"http://example.com/foo/../bar", "http://example.com/bar"},
      {"http://example.com/%zz", "http://example.com/%zz"},
      {"http://xn--ls8h.la/", "http://xn--ls8h.la/"},
      {"http://\xF0\x9F\x92\xA9.la/", "http://xn--ls8h.la/"},
      {"http://%41.com", "http://a.com/"},
      {"http://example.com./", "http://example.com./"},
      {"HTTP://EXAMPLE.COM/A?B#C", "http://example.com/A?B#C"},
      {"http://a:b@c/", "http://a:b@c/"},
      {"http://127.0.0.1:8080/a", "http://127.0.0.1:8080/a"},
      {"http://[::1]:8080/a", "http://[::1]:8080/a"},
      {"http://u:p@10.0.0.1:81/", "http://u:p@10.0.0.1:81/"},
      {"http://\t\nexample.com", "http://example.com/"},
      {"http://host/?'", "http://host/?%27"},
      {"http://host/?a b<c>\"d", "http://host/?a%20b%3Cc%3E%22d"},
      {"http://host/{a}|b^", "http://host/%7Ba%7D|b^"},
      {"http://foo:\xF0\x9F\x92\xA9@example.com/bar",
       "http://foo:%F0%9F%92%A9@example.com/bar"},
  };
  for (const Case& c : cases) {
    Result<Url> u = Url::Parse(c.input);
    ASSERT_TRUE(u) << c.input << ": " << u.error().message();
    EXPECT_EQ(u->href(), c.href) << c.input;
  }
  for (const char* bad : {"http://a b/", "http://exa<mple.com/", "http://",
                          "http:", "https://[::1", "http://1.2.3.4.5/",
                          "http://256.0.0.1/", "relative/only"}) {
    EXPECT_FALSE(Url::Parse(bad)) << bad;
  }
}

TEST(UrlTest, Components) {
  Result<Url> u =
      Url::Parse("HTTPS://User:Pa%20ss@WWW.Example.COM.:8443/a/b?q=1#frag");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme(), "https");
  EXPECT_TRUE(u->IsHttp());
  EXPECT_EQ(u->username(), "User");
  EXPECT_EQ(u->password(), "Pa%20ss");
  EXPECT_EQ(u->host(), "www.example.com.");
  EXPECT_EQ(u->HostKey(), "www.example.com");
  EXPECT_EQ(u->port(), 8443);
  EXPECT_EQ(u->path(), "/a/b");
  EXPECT_TRUE(u->has_query());
  EXPECT_EQ(u->query(), "q=1");
  EXPECT_EQ(u->fragment(), "frag");
  EXPECT_EQ(u->WithoutFragment().href(),
            "https://User:Pa%20ss@www.example.com.:8443/a/b?q=1");

  Result<Url> v6 = Url::Parse("http://[0:0::1]:8080/");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host(), "[::1]");
  EXPECT_EQ(v6->HostKey(), "::1");
}

TEST(UrlTest, OtherSchemesReportTheirScheme) {
  for (const char* input :
       {"javascript:alert(1)", " JavaScript:alert(1)", "java\tscript:alert(1)",
        "\x01javascript:alert(1)", "jav\nascript:x"}) {
    Result<Url> u = Url::Parse(input, "http://example.com/");
    ASSERT_TRUE(u) << input;
    EXPECT_EQ(u->scheme(), "javascript") << input;
    EXPECT_FALSE(u->IsHttp());
    EXPECT_EQ(u->host(), "");
  }
  Result<Url> mail = Url::Parse("mailto:a@b.example");
  ASSERT_TRUE(mail);
  EXPECT_EQ(mail->href(), "mailto:a@b.example");
  // Relative references against a non-http base have nothing to resolve
  // against.
  EXPECT_FALSE(Url::Parse("foo", "mailto:a@b.example"));
}

TEST(UrlTest, HostKeyAndAllowLists) {
  EXPECT_EQ(HostKeyOf("https://WWW.YouTube.com./embed/x"), "www.youtube.com");
  EXPECT_EQ(HostKeyOf("https://evil.example\\.youtube.com/embed/x"),
            "evil.example");
  EXPECT_EQ(HostKeyOf("https://www.youtube.com@evil.example/"), "evil.example");
  EXPECT_EQ(HostKeyOf("https://www.you%74ube.com/"), "www.youtube.com");
  EXPECT_EQ(HostKeyOf("http://[::1]:80/"), "::1");
  EXPECT_EQ(HostKeyOf("http://0x7f.1/"), "127.0.0.1");
  EXPECT_EQ(HostKeyOf("not a url"), "");

  Result<Url> u = Url::Parse("https://m.youtube.com/watch");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->HostIsWithin("youtube.com"));
  EXPECT_FALSE(u->HostIsWithin("tube.com"));
  Result<Url> evil = Url::Parse("https://youtube.com.evil.example/");
  ASSERT_TRUE(evil);
  EXPECT_FALSE(evil->HostIsWithin("youtube.com"));
}

TEST(UrlTest, TrackingParameters) {
  Result<Url> u = Url::Parse(
      "https://example.com/"
      "a?id=7&utm_source=rss&UTM_Medium=x&fbclid=1&q=2#top");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->WithoutTrackingParameters().href(),
            "https://example.com/a?id=7&q=2#top");
  Result<Url> only = Url::Parse("https://example.com/a?utm_source=rss&gclid=9");
  ASSERT_TRUE(only);
  EXPECT_EQ(only->WithoutTrackingParameters().href(), "https://example.com/a");
  // Percent-encoded names are what the server decodes.
  Result<Url> encoded = Url::Parse("https://example.com/?utm%5Fsource=x&a=1");
  ASSERT_TRUE(encoded);
  EXPECT_EQ(encoded->WithoutTrackingParameters().href(),
            "https://example.com/?a=1");
  EXPECT_TRUE(IsTrackingParameter("utm_campaign"));
  EXPECT_TRUE(IsTrackingParameter("MC_CID"));
  EXPECT_FALSE(IsTrackingParameter("id"));
}

// The browser-style cases the cleaner's old resolver (daemon/cleaner/
// url_util) covered, now on the model.
TEST(UrlTest, ResolveBrowserStyle) {
  const std::string base = "https://Example.com/news/2024/story.html?x=1";
  auto resolve = [&](std::string_view ref) {
    return ResolveUrl(base, ref, ResolveStyle::kBrowser);
  };
  EXPECT_EQ(resolve("img/a.png"), "https://example.com/news/2024/img/a.png");
  EXPECT_EQ(resolve("../a"), "https://example.com/news/a");
  EXPECT_EQ(resolve("/a/./b/../c"), "https://example.com/a/c");
  EXPECT_EQ(resolve("//cdn.example.net/x"), "https://cdn.example.net/x");
  EXPECT_EQ(resolve("?y=2"), "https://example.com/news/2024/story.html?y=2");
  EXPECT_EQ(resolve("#f"), "https://example.com/news/2024/story.html?x=1#f");
  EXPECT_EQ(resolve(""), "https://example.com/news/2024/story.html?x=1");
  EXPECT_EQ(resolve("  HTTP://Other.Example/P  "), "http://other.example/P");
  EXPECT_EQ(resolve("http://a b/"), "");
  EXPECT_EQ(ResolveUrl("", "relative"), "");
}

// Feed links resolve as written (gofeed/feedparser raw output; the
// conformance corpus asserts it). Cases of the feed parser's old resolver
// (connectors/sources/feed/url_resolve), now on the model.
TEST(UrlTest, ResolvePreserveStyle) {
  auto resolve = [](std::string_view base, std::string_view ref) {
    return ResolveUrl(base, ref, ResolveStyle::kPreserve);
  };
  EXPECT_EQ(resolve("http://example.com/feed/", "entry/1"),
            "http://example.com/feed/entry/1");
  EXPECT_EQ(resolve("http://example.com/a/b", "../c"), "http://example.com/c");
  EXPECT_EQ(resolve("http://example.com/a/b", "/x/./y/../z"),
            "http://example.com/x/z");
  EXPECT_EQ(resolve("http://example.com/a/b", "//Other.example/p"),
            "http://Other.example/p");
  EXPECT_EQ(resolve("http://example.com/a/b?q", "?r"),
            "http://example.com/a/b?r");
  EXPECT_EQ(resolve("http://example.com/a/b?q", "#f"),
            "http://example.com/a/b?q#f");
  EXPECT_EQ(resolve("http://example.com", "x"), "http://example.com/x");
  EXPECT_EQ(resolve("http://127.0.0.1:8097/base/", "/relative/uri"),
            "http://127.0.0.1:8097/relative/uri");
  // As written: no case change, no percent-encoding, absolute refs unchanged.
  EXPECT_EQ(resolve("http://example.com/a/", "b c/\xC3\xA9?q=<1>"),
            "http://example.com/a/b c/\xC3\xA9?q=<1>");
  EXPECT_EQ(resolve("http://example.com/a/", "%7e/%zz"),
            "http://example.com/a/%7e/%zz");
  EXPECT_EQ(resolve("http://example.com/", "HTTP://Other/./x"),
            "HTTP://Other/./x");
  EXPECT_EQ(resolve("http://example.com/a/", "b:c"), "b:c");
  // No base, or a relative one: joined as far as possible.
  EXPECT_EQ(resolve("", "x/y"), "x/y");
  EXPECT_EQ(resolve("/news/", "item"), "/news/item");
  EXPECT_EQ(resolve("news/", "../item"), "item");
  EXPECT_EQ(resolve("//cdn.example/a/", "b"), "//cdn.example/a/b");
}

TEST(UrlTest, LowerCaseSchemeAndHost) {
  EXPECT_EQ(LowerCaseSchemeAndHost("HTTP://WWW.Example.COM/Path?Q=A"),
            "http://www.example.com/Path?Q=A");
  EXPECT_EQ(LowerCaseSchemeAndHost("http://User@Example.com/"),
            "http://User@Example.com/");
  EXPECT_EQ(LowerCaseSchemeAndHost("/relative/Path"), "/relative/Path");
  EXPECT_EQ(LowerCaseSchemeAndHost("urn:ISBN:123"), "urn:ISBN:123");
  EXPECT_TRUE(HasScheme("mailto:x"));
  EXPECT_FALSE(HasScheme("a/b:c"));
  EXPECT_FALSE(HasScheme(" http://x"));
}

}  // namespace
}  // namespace newsflow
