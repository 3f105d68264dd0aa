#include "connectors/sources/feed/feed_parser.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <pugixml.hpp>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "connectors/sources/feed/xml_context.h"
#include "connectors/sources/feed/xml_repair.h"
#include "daemon/core/encoding.h"
#include "daemon/core/json_writer.h"
#include "daemon/core/url.h"

namespace newsflow {
namespace {

using feed_internal::Ns;
using feed_internal::XmlContext;

// pugixml options: CDATA kept as separate nodes (so mixed text can be
// gathered), escapes decoded, line ends normalised; no PI, comments, DOCTYPE
// nodes or whitespace-only text nodes, which feeds never need.
constexpr unsigned kPugiOptions = pugi::parse_cdata | pugi::parse_escapes |
                                  pugi::parse_eol | pugi::parse_wconv_attribute;

// Largest repair buffer kept for the next call on the same thread.
constexpr size_t kMaxKeptBuffer = 8u << 20;

// The URL the daemon identifies an item by when it has no GUID.
const std::string& ItemUrl(const FeedItem& item) {
  return !item.source_link.empty() ? item.source_link : item.link;
}

// FNV-1a, 64 bits: deterministic across runs and platforms (std::hash is
// not), which is all a content-derived GUID needs.
uint64_t Fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  h ^= 0xff;  // field separator
  return h * 0x100000001b3ULL;
}

// Item identity (the daemon's ArticleId(feed, guid, canonical link) skips a
// repeated id within one poll as the same story):
//  - a GUID shared by items with different links identifies none of them
//    (CMS bugs: the site URL or "0" as every item's guid): it is cleared,
//    so each item is known by its link;
//  - an item with neither GUID nor link would get the id of the empty URL,
//    shared with every such item of every feed: it gets a GUID derived
//    from its title, summary and content ("urn:newsflow:item:<hex>"),
//    stable as long as those are, and never from dates (some feeds stamp
//    every item with the time of the request).
void MakeIdsUnique(ParsedFeed* feed) {
  std::unordered_map<std::string_view, size_t> first_with_guid;
  std::vector<bool> conflict(feed->items.size(), false);
  size_t conflicts = 0;
  for (size_t i = 0; i < feed->items.size(); ++i) {
    const FeedItem& item = feed->items[i];
    if (item.guid.empty()) continue;
    auto [it, inserted] = first_with_guid.emplace(item.guid, i);
    if (!inserted && ItemUrl(feed->items[it->second]) != ItemUrl(item)) {
      conflict[i] = true;
      conflict[it->second] = true;
    }
  }
  for (size_t i = 0; i < feed->items.size(); ++i) {
    FeedItem& item = feed->items[i];
    if (conflict[i]) {
      // Clear every item that shares it, so that ids do not depend on which
      // one comes first in this poll.
      item.guid.clear();
      item.guid_is_permalink = false;
      ++conflicts;
    }
    if (item.guid.empty() && ItemUrl(item).empty() &&
        !(item.title.empty() && item.summary.empty() && item.content.empty())) {
      uint64_t h = 0xcbf29ce484222325ULL;
      h = Fnv1a(h, item.title);
      h = Fnv1a(h, item.summary);
      h = Fnv1a(h, item.content);
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx",
                    static_cast<unsigned long long>(h));
      item.guid = std::string("urn:newsflow:item:") + hex;
      item.guid_is_permalink = false;
    }
  }
  if (conflicts > 0) {
    feed->warnings.push_back(std::to_string(conflicts) +
                             " items share a GUID with different links; "
                             "their GUIDs were dropped");
  }
}

// Scheme and host are case-insensitive: one spelling for every link. Legacy
// character references in summaries/content get their Unicode spelling.
// Then item ids are made unique (MakeIdsUnique).
void FinishFeed(ParsedFeed* feed, const FeedParseOptions& options) {
  if (feed->items_over_cap > 0) {
    feed->warnings.push_back(std::to_string(feed->items_over_cap) +
                             " items past the cap of " +
                             std::to_string(options.max_items) + " not read");
  }
  feed->link = LowerCaseSchemeAndHost(feed->link);
  for (FeedItem& item : feed->items) {
    item.link = LowerCaseSchemeAndHost(item.link);
    feed_internal::NormalizeCharRefs(&item.summary);
    feed_internal::NormalizeCharRefs(&item.content);
  }
  MakeIdsUnique(feed);
}

bool LooksLikeJson(std::string_view s) {
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' || c == '[';
  }
  return false;
}

// Names the dialect of `root`, or "" when it is not a feed.
std::string DetectFormat(pugi::xml_node root, const XmlContext& ctx) {
  std::string_view local = XmlContext::Local(root);
  if (local == "rss") {
    std::string_view v =
        feed_internal::TrimView(root.attribute("version").value());
    if (v == "0.91" || v == "0.92" || v == "0.93" || v == "0.94") {
      return "rss09x";
    }
    if (v == "0.90" || v == "0.9") return "rss090";
    return "rss2";
  }
  if (local == "RDF") {
    for (pugi::xml_attribute a : root.attributes()) {
      if (std::string_view(a.name()).substr(0, 5) == "xmlns" &&
          feed_internal::NsFromUri(a.value()) == Ns::kRss090) {
        return "rss090";
      }
    }
    return "rss1";
  }
  if (local == "feed" || local == "entry") {
    Ns ns = ctx.NsOf(root);
    std::string_view v =
        feed_internal::TrimView(root.attribute("version").value());
    if (ns == Ns::kAtom03 || v.substr(0, 2) == "0.") return "atom03";
    return "atom10";
  }
  if (local == "channel") return "rss09x";
  return {};
}

}  // namespace

Result<ParsedFeed> ParseFeed(std::string_view body,
                             const FeedParseOptions& options) {
  if (!options.content_location.empty()) {
    // The header sets the base; everything below only sees document_url.
    FeedParseOptions based = options;
    based.document_url = feed_internal::ApplyBase(options.document_url,
                                                  options.content_location);
    based.content_location.clear();
    return ParseFeed(body, based);
  }
  std::vector<std::string> warnings;
  DecodedText text;
  DecodeToUtf8(body, options.content_type, DocumentKind::kXml, &text,
               &warnings);
  if (feed_internal::TrimView(text.utf8).empty()) {
    return Error(Errc::kNotAFeed, "empty document");
  }
  if (LooksLikeJson(text.utf8)) {
    auto r = feed_internal::ParseJsonFeed(text.utf8, options);
    if (r) {
      r->warnings.insert(r->warnings.begin(), warnings.begin(), warnings.end());
      FinishFeed(&*r, options);
    }
    return r;
  }
  // The repaired copy is pugixml's in-place buffer. It is reused across
  // calls on this thread: a fresh multi-megabyte buffer per call costs more
  // in page faults than the parse itself. Every value is copied out of the
  // tree before returning, so nothing refers to it afterwards.
  thread_local std::string xml;
  thread_local std::string xml_retry;
  struct ShrinkLater {
    ~ShrinkLater() {
      if (xml.capacity() > kMaxKeptBuffer) std::string().swap(xml);
      if (xml_retry.capacity() > kMaxKeptBuffer) std::string().swap(xml_retry);
    }
  } shrink_later;
  feed_internal::RepairStats stats;
  feed_internal::RepairXml(text.utf8, &xml, &stats);
  pugi::xml_document first_doc;
  pugi::xml_document retry_doc;
  pugi::xml_document* doc = &first_doc;
  pugi::xml_parse_result pr = first_doc.load_buffer_inplace(
      xml.data(), xml.size(), kPugiOptions, pugi::encoding_utf8);
  bool retried = false;
  const std::string_view first_root =
      XmlContext::Local(first_doc.document_element());
  if (!pr &&
      (first_root == "rss" || first_root == "RDF" || first_root == "channel")) {
    // pugixml stops at the first error. The usual cause is HTML that was
    // not escaped inside an RSS text element ("<br>", an unclosed "<p>"):
    // repair again with those elements read as text, and keep whichever
    // tree covers more of the document. RSS only: Atom's text constructs
    // say what they hold.
    feed_internal::RepairStats retry_stats;
    feed_internal::RepairXml(text.utf8, &xml_retry, &retry_stats,
                             {.text_elements_as_text = true});
    if (retry_stats.escaped_markup > 0) {
      pugi::xml_parse_result retry_pr =
          retry_doc.load_buffer_inplace(xml_retry.data(), xml_retry.size(),
                                        kPugiOptions, pugi::encoding_utf8);
      const double first_share =
          static_cast<double>(pr.offset) / std::max<size_t>(1, xml.size());
      const double retry_share =
          retry_pr ? 1.0
                   : static_cast<double>(retry_pr.offset) /
                         std::max<size_t>(1, xml_retry.size());
      if (retry_share > first_share) {
        doc = &retry_doc;
        pr = retry_pr;
        stats = retry_stats;
        retried = true;
      }
    }
  }
  pugi::xml_node root = doc->document_element();
  if (!root) {
    // Nothing parsed; recovery may still find a root if there was one.
    for (pugi::xml_node c : doc->children()) {
      if (c.type() == pugi::node_element) {
        root = c;
        break;
      }
    }
  }
  if (!root) {
    if (!pr) {
      return Error::Parse(std::string("not XML: ") + pr.description(),
                          "offset " + std::to_string(pr.offset));
    }
    return Error(Errc::kNotAFeed, "no root element");
  }
  // Where parsing stopped, the elements on the document's rightmost path
  // may never have been closed. An item or entry among them that was cut
  // off is incomplete (its text and link may be cut anywhere): drop it rather
  // than publish half a story with an empty text.
  size_t dropped_items = 0;
  if (!pr) {
    for (pugi::xml_node open = root; open;) {
      pugi::xml_node next = open.last_child();
      while (next && next.type() != pugi::node_element)
        next = next.previous_sibling();
      const std::string_view local = XmlContext::Local(open);
      if (open != root && (local == "item" || local == "entry")) {
        // This is the n-th such element the parser opened. With at least n
        // end tags in the document, the error broke it in the middle and it
        // is kept, recovered as feed readers do; with fewer, the document
        // was cut inside it.
        const std::string name = open.name();
        size_t opened = 0;
        for (pugi::xml_node s = open; s; s = s.previous_sibling(name.c_str()))
          ++opened;
        const std::string end_tag = "</" + name;
        size_t closed = 0;
        for (size_t at = text.utf8.find(end_tag);
             at != std::string::npos && closed < opened;
             at = text.utf8.find(end_tag, at + end_tag.size())) {
          ++closed;
        }
        if (closed < opened) {
          open.parent().remove_child(open);
          ++dropped_items;
        }
        break;
      }
      open = next;
    }
  }
  // The document never closes its root element: the body was cut short
  // rather than broken in the middle.
  const bool truncated =
      !pr &&
      (dropped_items > 0 ||
       text.utf8.find("</" + std::string(root.name())) == std::string::npos);
  XmlContext ctx(options, root);
  ParsedFeed feed;
  feed.truncated = truncated;
  feed.unclosed_items_dropped = dropped_items;
  feed.format = DetectFormat(root, ctx);
  if (feed.format.empty()) {
    return Error(Errc::kNotAFeed, std::string("root element <") + root.name() +
                                      "> is not RSS, RDF or Atom");
  }
  feed.warnings = std::move(warnings);
  if (!pr) {
    feed.wellformed = false;
    feed.warnings.push_back(std::string("XML error at offset ") +
                            std::to_string(pr.offset) + ": " +
                            pr.description() + "; kept what was parsed");
  }
  if (dropped_items > 0) {
    feed.warnings.push_back(std::to_string(dropped_items) +
                            " unclosed item dropped");
  }
  if (truncated) {
    feed.warnings.push_back("document ends inside an element (cut short)");
  }
  if (retried) {
    feed.wellformed = false;
    feed.warnings.push_back(std::to_string(stats.escaped_markup) +
                            " unescaped tags in text elements escaped after an "
                            "XML error");
  }
  if (stats.leading_junk) {
    feed.wellformed = false;
    feed.warnings.push_back("dropped bytes before the first markup");
  }
  if (stats.bare_ampersands > 0) {
    feed.wellformed = false;
    feed.warnings.push_back(std::to_string(stats.bare_ampersands) +
                            " bare '&' escaped");
  }
  if (stats.html_entities > 0) {
    feed.wellformed = false;
    feed.warnings.push_back(std::to_string(stats.html_entities) +
                            " HTML named entities decoded");
  }
  if (stats.bare_lt > 0) {
    feed.wellformed = false;
    feed.warnings.push_back(std::to_string(stats.bare_lt) +
                            " stray '<' escaped");
  }
  if (stats.control_chars > 0) {
    feed.wellformed = false;
    feed.warnings.push_back(std::to_string(stats.control_chars) +
                            " control characters removed");
  }
  if (feed.format[0] == 'a') {
    feed_internal::ParseAtom(root, ctx, &feed);
  } else {
    feed_internal::ParseRss(root, ctx, &feed);
  }
  FinishFeed(&feed, options);
  return feed;
}

std::string ParsedFeedToJson(const ParsedFeed& feed) {
  JsonWriter w;
  auto date = [&w](const std::optional<TimePoint>& t) {
    if (t) {
      w.String(FormatRfc3339(*t));
    } else {
      w.Null();
    }
  };
  w.BeginObject();
  w.Field("format", feed.format);
  w.Key("feed").BeginObject();
  w.Field("title", feed.title);
  w.Key("link").StringOrNull(feed.link);
  w.Key("description").StringOrNull(feed.description);
  w.Key("language").StringOrNull(feed.language);
  w.Key("image").StringOrNull(feed.image);
  w.Key("updated");
  date(feed.updated);
  w.Key("ttl_minutes");
  if (feed.ttl_minutes) {
    w.Int(*feed.ttl_minutes);
  } else {
    w.Null();
  }
  w.EndObject();
  w.Key("wellformed").Bool(feed.wellformed);
  w.Key("warnings").StringArray(feed.warnings);
  w.Key("items").BeginArray();
  for (const FeedItem& it : feed.items) {
    w.BeginObject();
    w.Field("title", it.title);
    w.Key("link").StringOrNull(it.link);
    w.Key("guid").StringOrNull(it.guid);
    w.Key("guid_is_permalink").Bool(it.guid_is_permalink);
    w.Key("published");
    date(it.published);
    w.Key("updated");
    date(it.updated);
    w.Key("author").StringOrNull(it.author);
    w.Key("authors").BeginArray();
    for (const Person& p : it.authors) {
      w.BeginObject();
      w.Key("name").StringOrNull(p.name);
      w.Key("email").StringOrNull(p.email);
      w.Key("uri").StringOrNull(p.uri);
      w.EndObject();
    }
    w.EndArray();
    w.Key("summary").StringOrNull(it.summary);
    w.Key("content").StringOrNull(it.content);
    w.Key("content_type").StringOrNull(it.content_type);
    w.Key("categories").StringArray(it.categories);
    w.Key("enclosures").BeginArray();
    for (const Enclosure& e : it.enclosures) {
      w.BeginObject();
      w.Field("url", e.url);
      w.Key("type").StringOrNull(e.type);
      w.Key("length").Int(e.length);
      w.EndObject();
    }
    w.EndArray();
    w.Key("comments").StringOrNull(it.comments);
    w.Key("image").StringOrNull(it.image);
    w.Key("language").StringOrNull(it.language);
    w.Key("source_link").StringOrNull(it.source_link);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

}  // namespace newsflow
