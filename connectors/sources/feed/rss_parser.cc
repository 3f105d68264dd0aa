// RSS 0.90, 0.91-0.94, 1.0 (RDF) and 2.0, with the common extension
// namespaces (content, dc, dcterms, media, itunes, feedburner, atom).

#include <cstdlib>

#include "connectors/sources/feed/date_parser.h"
#include "connectors/sources/feed/xml_context.h"

namespace newsflow::feed_internal {
namespace {

using pugi::xml_node;

bool IsElement(xml_node n) { return n.type() == pugi::node_element; }

int64_t ParseLength(std::string_view s) {
  s = TrimView(s);
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return v;
    if (v > (int64_t{1} << 50)) return 0;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool IsImageType(std::string_view type, std::string_view medium) {
  return medium == "image" || type.substr(0, 6) == "image/";
}

void AddPerson(std::string_view text, FeedItem* item) {
  std::string t = Trim(text);
  if (t.empty()) return;
  Person p = ParsePerson(t);
  // The display string is the name when the feed gives one
  // ("a@b.c (Name)" → "Name"), else the text as given.
  if (item->author.empty()) item->author = p.name.empty() ? t : p.name;
  item->authors.push_back(std::move(p));
}

// How deep media:group / media:content may nest before the rest is ignored.
// Real feeds nest two levels at most; a hostile one nested 30,000 deep
// overflowed the stack when this walk had no bound.
constexpr int kMaxMediaDepth = 16;

// media:content / media:thumbnail / media:group (recursive, depth-capped).
void ParseMedia(xml_node node, const XmlContext& ctx, FeedItem* item,
                int depth = 0) {
  if (depth > kMaxMediaDepth) return;
  std::string_view local = XmlContext::Local(node);
  if (local == "thumbnail") {
    std::string url = ctx.ResolveAt(node, XmlContext::Attr(node, "url"));
    if (!url.empty() && item->image.empty()) item->image = std::move(url);
  } else if (local == "content") {
    std::string url = ctx.ResolveAt(node, XmlContext::Attr(node, "url"));
    if (url.empty()) return;
    Enclosure e;
    e.type = XmlContext::Attr(node, "type");
    e.length = ParseLength(node.attribute("fileSize").value());
    std::string medium = XmlContext::Attr(node, "medium");
    bool image = IsImageType(e.type, medium);
    e.url = url;
    item->enclosures.push_back(std::move(e));
    if (image && item->image.empty()) item->image = std::move(url);
    for (xml_node c : node.children()) {
      if (IsElement(c)) ParseMedia(c, ctx, item, depth + 1);
    }
  } else if (local == "group") {
    for (xml_node c : node.children()) {
      if (IsElement(c)) ParseMedia(c, ctx, item, depth + 1);
    }
  } else if (local == "description" && item->summary.empty()) {
    item->summary = XmlContext::Text(node);
  } else if (local == "title" && item->title.empty()) {
    item->title = XmlContext::Text(node);
  } else if (local == "keywords" && item->categories.empty()) {
    std::string kw = XmlContext::Text(node);
    size_t start = 0;
    while (start <= kw.size()) {
      size_t comma = kw.find(',', start);
      if (comma == std::string::npos) comma = kw.size();
      std::string k = Trim(std::string_view(kw).substr(start, comma - start));
      if (!k.empty()) item->categories.push_back(std::move(k));
      start = comma + 1;
    }
  }
}

// The text of a core <link>, or its href attribute when it has no text.
std::string LinkValue(xml_node node) {
  std::string text = XmlContext::Text(node);
  return !text.empty() ? text : XmlContext::Attr(node, "href");
}

// The href of an atom:link with rel alternate (or none).
bool AtomAlternate(xml_node node) {
  std::string_view rel = TrimView(node.attribute("rel").value());
  return rel.empty() || rel == "alternate";
}

void ParseItem(xml_node node, const XmlContext& ctx, bool rss2,
               FeedItem* item) {
  bool have_pubdate = false;
  bool guid_permalink = false;
  bool summary_from_summary = false;
  std::string atom_link;
  std::string lang = XmlContext::Attr(node, "xml:lang");
  for (xml_node c : node.children()) {
    if (!IsElement(c)) continue;
    std::string_view local = XmlContext::Local(c);
    switch (ctx.NsOf(c)) {
      case Ns::kCore:
      case Ns::kRss1:
      case Ns::kRss090:
        if (local == "title") {
          if (item->title.empty()) item->title = XmlContext::Text(c);
        } else if (local == "link") {
          // A later <link> replaces an earlier one (gofeed, feedparser);
          // <link href=".."/> is a common slip for the Atom form.
          std::string link = LinkValue(c);
          if (!link.empty()) item->link = ctx.ResolveAt(c, link);
        } else if (local == "description") {
          // <summary> is not RSS, but feeds use it next to <description>:
          // the first of the two is the summary, the second the content.
          if (item->summary.empty()) {
            item->summary = ctx.ResolveHtml(c, XmlContext::Text(c));
          } else if (item->content.empty() && summary_from_summary) {
            item->content = ctx.ResolveHtml(c, XmlContext::Text(c));
            item->content_type = "html";
          }
        } else if (local == "summary") {
          if (item->summary.empty()) {
            item->summary = ctx.ResolveHtml(c, XmlContext::Text(c));
            summary_from_summary = true;
          } else if (item->content.empty()) {
            item->content = ctx.ResolveHtml(c, XmlContext::Text(c));
            item->content_type = "html";
          }
        } else if (local == "guid") {
          item->guid = XmlContext::Text(c);
          std::string_view pl = TrimView(c.attribute("isPermaLink").value());
          guid_permalink =
              pl.empty() ? rss2 : (pl == "true" || pl == "True" || pl == "1");
        } else if (local == "pubDate") {
          if (auto t =
                  ParseFeedDate(c.child_value(), ctx.options().assumed_zone)) {
            item->published = t;
            have_pubdate = true;
          }
        } else if (local == "author") {
          AddPerson(XmlContext::Text(c), item);
        } else if (local == "category") {
          std::string cat = XmlContext::Text(c);
          if (!cat.empty()) item->categories.push_back(std::move(cat));
        } else if (local == "enclosure") {
          Enclosure e;
          e.url = ctx.ResolveAt(c, XmlContext::Attr(c, "url"));
          e.type = XmlContext::Attr(c, "type");
          e.length = ParseLength(c.attribute("length").value());
          if (!e.url.empty()) item->enclosures.push_back(std::move(e));
        } else if (local == "comments") {
          item->comments = ctx.ResolveAt(c, XmlContext::Text(c));
        } else if (local == "encoded") {  // <encoded> without namespace
          if (item->content.empty()) {
            item->content = XmlContext::Text(c);
            item->content_type = "html";
          }
        } else if (local == "body" && item->content.empty()) {
          item->content = ctx.ResolveHtml(c, XmlContext::InnerXml(c));
          item->content_type = "xhtml";
        } else if (local == "fullitem" && item->content.empty()) {
          item->content = ctx.ResolveHtml(c, XmlContext::Text(c));
          item->content_type = "html";
        } else if (local == "source") {
          // RSS 2.0 <source url>: the originating feed; not the item link.
        }
        break;
      case Ns::kContent:
        if (local == "encoded" && item->content.empty()) {
          item->content = ctx.ResolveHtml(c, XmlContext::Text(c));
          item->content_type = "html";
        }
        break;
      case Ns::kXhtml:
        if (local == "body" && item->content.empty()) {
          item->content = ctx.ResolveHtml(c, XmlContext::InnerXml(c));
          item->content_type = "xhtml";
        }
        break;
      case Ns::kDc:
        if (local == "creator" || local == "author") {
          AddPerson(XmlContext::Text(c), item);
        } else if (local == "date") {
          if (auto t =
                  ParseFeedDate(c.child_value(), ctx.options().assumed_zone)) {
            if (!item->published) item->published = t;
            if (!item->updated) item->updated = t;
          }
        } else if (local == "subject") {
          std::string cat = XmlContext::Text(c);
          if (!cat.empty()) item->categories.push_back(std::move(cat));
        } else if (local == "language") {
          lang = XmlContext::Text(c);
        } else if (local == "identifier" && item->guid.empty()) {
          item->guid = XmlContext::Text(c);
        } else if (local == "title" && item->title.empty()) {
          item->title = XmlContext::Text(c);
        } else if (local == "description" && item->summary.empty()) {
          item->summary = XmlContext::Text(c);
        }
        break;
      case Ns::kDcTerms:
        if (local == "modified" || local == "updated") {
          if (auto t =
                  ParseFeedDate(c.child_value(), ctx.options().assumed_zone))
            item->updated = t;
        } else if (local == "issued" || local == "created") {
          if (auto t =
                  ParseFeedDate(c.child_value(), ctx.options().assumed_zone)) {
            if (!item->published) item->published = t;
          }
        }
        break;
      case Ns::kMedia:
        ParseMedia(c, ctx, item);
        break;
      case Ns::kItunes:
        if (local == "image" && item->image.empty()) {
          item->image = ctx.ResolveAt(c, XmlContext::Attr(c, "href"));
        } else if (local == "author" && item->author.empty()) {
          AddPerson(XmlContext::Text(c), item);
        } else if (local == "summary" && item->summary.empty()) {
          item->summary = XmlContext::Text(c);
        }
        break;
      case Ns::kFeedburner:
        if (local == "origLink") {
          item->source_link = ctx.ResolveAt(c, XmlContext::Text(c));
        }
        break;
      case Ns::kAtom10:
        if (local == "link" && atom_link.empty() && AtomAlternate(c)) {
          atom_link = ctx.ResolveAt(c, XmlContext::Attr(c, "href"));
        } else if (local == "updated") {
          if (auto t =
                  ParseFeedDate(c.child_value(), ctx.options().assumed_zone))
            item->updated = t;
        } else if (local == "published" && !item->published) {
          item->published =
              ParseFeedDate(c.child_value(), ctx.options().assumed_zone);
        } else if (local == "author" && item->author.empty()) {
          AddPerson(XmlContext::Text(c.child("atom:name")).empty()
                        ? XmlContext::Text(c)
                        : XmlContext::Text(c.child("atom:name")),
                    item);
        }
        break;
      default:
        break;
    }
  }
  (void)have_pubdate;
  if (item->link.empty() && !atom_link.empty()) item->link = atom_link;
  if (item->guid.empty() && node.attribute("rdf:about")) {
    item->guid = XmlContext::Attr(node, "rdf:about");
  }
  item->guid_is_permalink = guid_permalink;
  if (item->link.empty() && guid_permalink && !item->guid.empty()) {
    item->link = ctx.ResolveAt(node, item->guid);
  }
  item->language = std::move(lang);
  if (!item->published && item->updated) item->published = item->updated;
}

int SyPeriodMinutes(std::string_view period) {
  period = TrimView(period);
  if (period == "hourly") return 60;
  if (period == "daily") return 24 * 60;
  if (period == "weekly") return 7 * 24 * 60;
  if (period == "monthly") return 30 * 24 * 60;
  if (period == "yearly") return 365 * 24 * 60;
  return 0;
}

void ParseChannel(xml_node channel, const XmlContext& ctx, ParsedFeed* feed) {
  std::string atom_link;
  int sy_period = 0, sy_frequency = 1;
  for (xml_node c : channel.children()) {
    if (!IsElement(c)) continue;
    std::string_view local = XmlContext::Local(c);
    switch (ctx.NsOf(c)) {
      case Ns::kCore:
      case Ns::kRss1:
      case Ns::kRss090:
        if (local == "title") {
          if (feed->title.empty()) feed->title = XmlContext::Text(c);
        } else if (local == "link") {
          std::string link = LinkValue(c);
          if (!link.empty()) feed->link = ctx.ResolveAt(c, link);
        } else if (local == "description") {
          if (feed->description.empty()) {
            feed->description = XmlContext::Text(c);
          }
        } else if (local == "language") {
          feed->language = XmlContext::Text(c);
        } else if (local == "image") {
          xml_node url = c.child("url");
          if (url) feed->image = ctx.ResolveAt(url, XmlContext::Text(url));
          if (feed->image.empty()) {
            feed->image = ctx.ResolveAt(c, XmlContext::Attr(c, "rdf:resource"));
          }
        } else if (local == "lastBuildDate") {
          if (auto t =
                  ParseFeedDate(c.child_value(), ctx.options().assumed_zone))
            feed->updated = t;
        } else if (local == "pubDate") {
          if (!feed->updated)
            feed->updated =
                ParseFeedDate(c.child_value(), ctx.options().assumed_zone);
        } else if (local == "ttl") {
          int64_t v = ParseLength(c.child_value());
          if (v > 0 && v < 1'000'000) feed->ttl_minutes = static_cast<int>(v);
        }
        break;
      case Ns::kDc:
        if (local == "date" && !feed->updated) {
          feed->updated =
              ParseFeedDate(c.child_value(), ctx.options().assumed_zone);
        } else if (local == "language" && feed->language.empty()) {
          feed->language = XmlContext::Text(c);
        } else if (local == "title" && feed->title.empty()) {
          feed->title = XmlContext::Text(c);
        }
        break;
      case Ns::kAtom10:
        if (local == "link" && atom_link.empty() && AtomAlternate(c)) {
          atom_link = ctx.ResolveAt(c, XmlContext::Attr(c, "href"));
        }
        break;
      case Ns::kItunes:
        if (local == "image" && feed->image.empty()) {
          feed->image = ctx.ResolveAt(c, XmlContext::Attr(c, "href"));
        }
        break;
      case Ns::kSyndication:
        if (local == "updatePeriod") {
          sy_period = SyPeriodMinutes(c.child_value());
        } else if (local == "updateFrequency") {
          int64_t f = ParseLength(c.child_value());
          if (f > 0 && f < 100000) sy_frequency = static_cast<int>(f);
        }
        break;
      default:
        break;
    }
  }
  if (feed->link.empty()) feed->link = atom_link;
  if (!feed->ttl_minutes && sy_period > 0) {
    feed->ttl_minutes = std::max(1, sy_period / sy_frequency);
  }
}

}  // namespace

void ParseRss(xml_node root, const XmlContext& ctx, ParsedFeed* feed) {
  // RSS 2.0/0.9x: items inside <channel>. RSS 1.0/0.90: items are siblings
  // of <channel> under rdf:RDF. Accept both everywhere: broken feeds mix.
  std::string_view version = TrimView(root.attribute("version").value());
  const bool rss2 =
      XmlContext::Local(root) == "rss" && !(version.substr(0, 3) == "0.9");
  xml_node channel;
  for (xml_node c : root.children()) {
    if (IsElement(c) && XmlContext::Local(c) == "channel") {
      channel = c;
      break;
    }
  }
  if (XmlContext::Local(root) == "channel") channel = root;
  if (channel) ParseChannel(channel, ctx, feed);
  const size_t max_items = ctx.options().max_items;
  auto collect = [&](xml_node parent) {
    for (xml_node c : parent.children()) {
      if (!IsElement(c) || XmlContext::Local(c) != "item") continue;
      Ns ns = ctx.NsOf(c);
      if (ns != Ns::kCore && ns != Ns::kRss1 && ns != Ns::kRss090) continue;
      if (feed->items.size() >= max_items) {
        ++feed->items_over_cap;
        continue;
      }
      FeedItem item;
      ParseItem(c, ctx, rss2, &item);
      feed->items.push_back(std::move(item));
    }
  };
  if (channel) collect(channel);
  if (channel != root) collect(root);
}

}  // namespace newsflow::feed_internal
