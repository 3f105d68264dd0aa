// Structure-aware libFuzzer target: deep nesting of every element the
// parsers recurse into. The input is not a document but a small
// description that the target expands:
//
//   binary:  byte 0 = kind (mod kKindCount), bytes 1-3 = depth (big-endian,
//            mod kMaxDepth + 1), the rest = payload text for the innermost
//            level;
//   text:    "#<kind name> <depth> [payload]", e.g. "#media_group 30000"
//            (for reproducers written by hand; see tests/fuzz/README.md).
//
// Each kind wraps the payload `depth` times in one element and hands the
// document to the entry point that reads it: ParseFeed (+ CleanFragment of
// every item's content, as the daemon does), ExtractPage + CleanFragment,
// or LoadConfigString. Depth goes up to 100,000. Nothing is asserted beyond
// "no crash, no sanitizer report": a stack overflow in a recursive walk is
// the bug this target looks for.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.h"
#include "connectors/builtin.h"
#include "connectors/sources/feed/feed_parser.h"
#include "daemon/cleaner/html_cleaner.h"

namespace {

constexpr uint32_t kMaxDepth = 100000;
constexpr uint32_t kMaxBlockDepth = 11000;  // yaml_block_map, see Expand

enum class Reader { kFeed, kPage, kConfig };

struct Kind {
  const char* name;
  Reader reader;
  const char* prefix;  // document before the nesting
  const char* open;    // one level, opening
  const char* close;   // one level, closing
  const char* suffix;  // document after the nesting
};

constexpr char kRssHead[] =
    "<?xml version=\"1.0\"?><rss version=\"2.0\" "
    "xmlns:media=\"http://search.yahoo.com/mrss/\" "
    "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" "
    "xmlns:x=\"urn:x\"><channel><title>t</title><link>http://n.example/"
    "</link><item><title>i</title><link>http://n.example/1</link>";
constexpr char kRssTail[] = "</item></channel></rss>";
constexpr char kAtomHead[] =
    "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\" "
    "xmlns:media=\"http://search.yahoo.com/mrss/\"><title>t</title>"
    "<id>urn:t</id><entry><title>e</title><id>urn:e</id>"
    "<link href=\"http://n.example/1\"/>";
constexpr char kAtomTail[] = "</entry></feed>";
constexpr char kPageHead[] =
    "<!DOCTYPE html><html><head><title>t</title></head><body><article>"
    "<h1>t</h1><p>A first paragraph long enough to be content.</p>";
constexpr char kPageTail[] = "</article></body></html>";
constexpr char kJsonFeedHead[] =
    "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\","
    "\"items\":[{\"id\":\"1\",\"url\":\"http://n.example/1\","
    "\"content_text\":\"x\",\"_ext\":";
constexpr char kJsonFeedTail[] = "}]}";
constexpr char kLdHead[] =
    "<!DOCTYPE html><html><head><title>t</title>"
    "<script type=\"application/ld+json\">";
constexpr char kLdTail[] =
    "</script></head><body><article><p>Body text of the story, long enough "
    "to be content.</p></article></body></html>";

// The innermost payload goes between the last `open` and the first `close`.
constexpr Kind kKinds[] = {
    {"media_group", Reader::kFeed, kRssHead, "<media:group>", "</media:group>",
     kRssTail},
    {"atom_media_group", Reader::kFeed, kAtomHead, "<media:group>",
     "</media:group>", kAtomTail},
    {"atom_xhtml_div", Reader::kFeed,
     "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">"
     "<title>t</title><id>urn:t</id><entry><title>e</title><id>urn:e</id>"
     "<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">",
     "<div>", "</div>", "</div></content></entry></feed>"},
    {"rss_extension", Reader::kFeed, kRssHead, "<x:a>", "</x:a>", kRssTail},
    {"rss_html_in_content", Reader::kFeed,
     "<?xml version=\"1.0\"?><rss version=\"2.0\" "
     "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel>"
     "<title>t</title><item><title>i</title><content:encoded>",
     "&lt;div&gt;", "&lt;/div&gt;",
     "</content:encoded></item></channel></rss>"},
    {"html_div", Reader::kPage, kPageHead, "<div>", "</div>", kPageTail},
    {"html_blockquote", Reader::kPage, kPageHead, "<blockquote>",
     "</blockquote>", kPageTail},
    {"html_list", Reader::kPage, kPageHead, "<ul><li>", "</li></ul>",
     kPageTail},
    {"html_table", Reader::kPage, kPageHead, "<table><tr><td>",
     "</td></tr></table>", kPageTail},
    {"html_inline", Reader::kPage, kPageHead, "<span><b>", "</b></span>",
     kPageTail},
    {"json_feed_array", Reader::kFeed, kJsonFeedHead, "[", "]", kJsonFeedTail},
    {"json_feed_object", Reader::kFeed, kJsonFeedHead, "{\"a\":", "}",
     kJsonFeedTail},
    {"jsonld_graph", Reader::kPage, kLdHead, "{\"@graph\":[", "]}", kLdTail},
    {"jsonld_array", Reader::kPage, kLdHead, "[", "]", kLdTail},
    {"yaml_flow_sequence", Reader::kConfig, "feeds: ", "[", "]", "\n"},
    {"yaml_flow_map", Reader::kConfig, "feeds: ", "{a: ", "}", "\n"},
    {"yaml_block_map", Reader::kConfig, "", "a:\n", "", "\n"},
};
constexpr size_t kKindCount = sizeof kKinds / sizeof *kKinds;

// Default innermost payloads, per reader, when the description has none.
const char* DefaultPayload(const Kind& kind) {
  std::string_view name = kind.name;
  if (name.rfind("json_feed", 0) == 0 || name.rfind("yaml", 0) == 0) {
    return "1";
  }
  if (name.rfind("jsonld", 0) == 0) {
    return "{\"@type\":\"NewsArticle\",\"headline\":\"h\","
           "\"datePublished\":\"2025-10-12T06:40:00+05:00\","
           "\"author\":{\"@type\":\"Person\",\"name\":\"A\"}}";
  }
  if (name.rfind("media_group", 0) == 0 || name == "atom_media_group") {
    return "<media:content url=\"http://n.example/a.jpg\" medium=\"image\"/>";
  }
  return "Deep text of the story.";
}

struct Description {
  const Kind* kind = nullptr;
  uint32_t depth = 0;
  std::string_view payload;
};

bool ParseDescription(std::string_view in, Description* d) {
  if (!in.empty() && in[0] == '#') {
    in.remove_prefix(1);
    size_t sp = in.find(' ');
    std::string_view name = in.substr(0, sp);
    for (const Kind& k : kKinds) {
      if (name == k.name) d->kind = &k;
    }
    if (d->kind == nullptr || sp == std::string_view::npos) return false;
    in.remove_prefix(sp + 1);
    uint64_t depth = 0;
    size_t i = 0;
    for (; i < in.size() && in[i] >= '0' && in[i] <= '9' && depth <= kMaxDepth;
         ++i) {
      depth = depth * 10 + static_cast<uint64_t>(in[i] - '0');
    }
    d->depth = static_cast<uint32_t>(depth > kMaxDepth ? kMaxDepth : depth);
    while (i < in.size() && (in[i] == ' ' || in[i] == '\n')) ++i;
    d->payload = in.substr(i);
    return true;
  }
  if (in.size() < 4) return false;
  const auto* b = reinterpret_cast<const uint8_t*>(in.data());
  d->kind = &kKinds[b[0] % kKindCount];
  d->depth =
      ((uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3]) % (kMaxDepth + 1);
  d->payload = in.substr(4);
  return true;
}

std::string Expand(const Description& d) {
  const Kind& k = *d.kind;
  std::string doc = k.prefix;
  std::string_view open = k.open, close = k.close;
  doc.reserve(doc.size() + size_t{d.depth} * (open.size() + close.size()) +
              256);
  if (std::string_view(k.name) == "yaml_block_map") {
    // Block nesting is spelled by indentation: level i is indented i spaces,
    // so the document grows with depth squared; kMaxBlockDepth keeps it
    // under 64 MB.
    const uint32_t depth = d.depth > kMaxBlockDepth ? kMaxBlockDepth : d.depth;
    for (uint32_t i = 0; i < depth; ++i) {
      doc.append(i, ' ');
      doc.append("a:\n");
    }
    doc.append(depth, ' ');
  } else {
    for (uint32_t i = 0; i < d.depth; ++i) doc.append(open);
  }
  doc.append(d.payload.empty() ? std::string_view(DefaultPayload(k))
                               : d.payload);
  for (uint32_t i = 0; i < d.depth; ++i) doc.append(close);
  doc.append(k.suffix);
  return doc;
}

void Read(const Kind& kind, const std::string& doc) {
  switch (kind.reader) {
    case Reader::kFeed: {
      newsflow::FeedParseOptions options;
      options.document_url = "http://n.example/feed";
      auto r = newsflow::ParseFeed(doc, options);
      if (!r) return;
      std::string json = newsflow::ParsedFeedToJson(*r);
      (void)json;
      for (const newsflow::FeedItem& item : r->items) {
        newsflow::CleanFragment(item.content.empty() ? item.summary
                                                     : item.content);
      }
      return;
    }
    case Reader::kPage: {
      newsflow::CleanOptions options;
      options.base_url = "http://n.example/story.html";
      newsflow::ExtractPage(doc, options);
      newsflow::CleanFragment(doc, options);
      return;
    }
    case Reader::kConfig: {
      auto r = newsflow::LoadConfigString(doc, "/nonexistent-fuzz/n.yaml",
                                          newsflow::BuiltinSinks());
      (void)r;
      return;
    }
  }
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Description d;
  if (!ParseDescription(
          std::string_view(reinterpret_cast<const char*>(data), size), &d)) {
    return 0;
  }
  Read(*d.kind, Expand(d));
  return 0;
}
