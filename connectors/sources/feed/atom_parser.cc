// Atom 1.0 (RFC 4287) and Atom 0.3, including text constructs
// (type=text|html|xhtml, 0.3 mode=escaped|base64|xml).

#include "connectors/sources/feed/date_parser.h"
#include "connectors/sources/feed/xml_context.h"

namespace newsflow::feed_internal {
namespace {

using pugi::xml_node;

bool IsElement(xml_node n) { return n.type() == pugi::node_element; }

bool IsAtom(Ns ns) {
  return ns == Ns::kAtom10 || ns == Ns::kAtom03 || ns == Ns::kCore;
}

// A text construct's value. Sets *kind to "text", "html" or "xhtml". Relative
// URLs in html/xhtml markup are resolved against the element's base.
std::string TextConstruct(xml_node node, const XmlContext& ctx,
                          std::string* kind) {
  std::string_view type = TrimView(node.attribute("type").value());
  std::string_view mode = TrimView(node.attribute("mode").value());
  std::string value;
  std::string k = "text";
  if (type == "xhtml" || type == "application/xhtml+xml" || mode == "xml") {
    k = "xhtml";
    // Atom 1.0 wraps the content in one xhtml:div, which is not part of it
    // (RFC 4287 §3.1.1.3), whatever the XHTML type is spelled; Atom 0.3 has
    // no such rule (feedparser keeps the div there; gofeed strips it).
    xml_node div;
    int elements = 0;
    bool text = false;
    for (xml_node c : node.children()) {
      if (IsElement(c)) {
        ++elements;
        div = c;
      } else if (c.type() == pugi::node_pcdata &&
                 !TrimView(c.value()).empty()) {
        text = true;
      }
    }
    const bool atom10 = type == "xhtml" || ctx.NsOf(node) == Ns::kAtom10;
    if (atom10 && elements == 1 && !text && XmlContext::Local(div) == "div") {
      value = XmlContext::InnerXml(div);
    } else {
      value = XmlContext::InnerXml(node);
    }
  } else {
    const bool textual = type.empty() || type == "text" || type == "html" ||
                         type.substr(0, 5) == "text/" ||
                         type.find("xml") != std::string_view::npos;
    if (mode == "base64" || (!textual && mode != "escaped")) {
      value = Trim(DecodeBase64(XmlContext::Text(node)));
    } else {
      value = XmlContext::Text(node);
    }
    if (type == "html" || type == "text/html" || mode == "escaped") k = "html";
  }
  if (k != "text") value = ctx.ResolveHtml(node, std::move(value));
  if (kind) *kind = k;
  return value;
}

Person ParseAtomPerson(xml_node node, const XmlContext& ctx) {
  Person p;
  bool structured = false;
  for (xml_node c : node.children()) {
    if (!IsElement(c)) continue;
    std::string_view local = XmlContext::Local(c);
    if (local == "name") {
      p.name = XmlContext::Text(c);
      structured = true;
    } else if (local == "email") {
      p.email = XmlContext::Text(c);
      structured = true;
    } else if (local == "uri" || local == "url") {
      p.uri = ctx.ResolveAt(c, XmlContext::Text(c));
      structured = true;
    }
  }
  if (!structured) p = ParsePerson(XmlContext::Text(node));
  return p;
}

std::string PersonDisplay(const Person& p) {
  if (!p.name.empty()) return p.name;
  return p.email;
}

// The link of a feed or entry: first rel=alternate (or no rel) link.
// Atom 0.3 also allows text in <link>. Returns true if it is the first
// link candidate.
void ParseLink(xml_node c, const XmlContext& ctx, std::string* link,
               FeedItem* item) {
  std::string_view rel = TrimView(c.attribute("rel").value());
  std::string href = XmlContext::Attr(c, "href");
  if (href.empty() && !c.attribute("href")) href = XmlContext::Text(c);
  if (rel.empty() || rel == "alternate") {
    if (link->empty() && !href.empty()) *link = ctx.ResolveAt(c, href);
  } else if (rel == "enclosure" && item) {
    Enclosure e;
    e.url = ctx.ResolveAt(c, href);
    e.type = XmlContext::Attr(c, "type");
    std::string_view len = TrimView(c.attribute("length").value());
    for (char ch : len) {
      if (ch < '0' || ch > '9' || e.length > (int64_t{1} << 50)) break;
      e.length = e.length * 10 + (ch - '0');
    }
    if (!e.url.empty()) item->enclosures.push_back(std::move(e));
  } else if (rel == "replies" && item && item->comments.empty()) {
    std::string_view type = TrimView(c.attribute("type").value());
    if (type.empty() || type == "text/html") {
      item->comments = ctx.ResolveAt(c, href);
    }
  }
}

void ParseEntry(xml_node node, const XmlContext& ctx, FeedItem* item) {
  std::optional<TimePoint> created;
  item->language = XmlContext::Attr(node, "xml:lang");
  bool have_published = false;
  for (xml_node c : node.children()) {
    if (!IsElement(c)) continue;
    std::string_view local = XmlContext::Local(c);
    Ns ns = ctx.NsOf(c);
    if (IsAtom(ns)) {
      if (local == "title") {
        if (item->title.empty()) item->title = TextConstruct(c, ctx, nullptr);
      } else if (local == "link") {
        ParseLink(c, ctx, &item->link, item);
      } else if (local == "id") {
        if (item->guid.empty())
          item->guid = ctx.ResolveAt(c, XmlContext::Text(c));
      } else if (local == "published") {
        // Atom 1.0's element wins over 0.3's <issued>, wherever it is.
        if (auto t =
                ParseFeedDate(c.child_value(), ctx.options().assumed_zone)) {
          item->published = t;
          have_published = true;
        }
      } else if (local == "issued") {
        if (!have_published)
          item->published =
              ParseFeedDate(c.child_value(), ctx.options().assumed_zone);
      } else if (local == "created") {
        created = ParseFeedDate(c.child_value(), ctx.options().assumed_zone);
      } else if (local == "updated" || local == "modified") {
        // The last value wins, as in feedparser.
        if (auto t = ParseFeedDate(c.child_value(), ctx.options().assumed_zone))
          item->updated = t;
      } else if (local == "author") {
        Person p = ParseAtomPerson(c, ctx);
        if (item->author.empty()) item->author = PersonDisplay(p);
        item->authors.push_back(std::move(p));
      } else if (local == "summary") {
        if (item->summary.empty())
          item->summary = TextConstruct(c, ctx, nullptr);
      } else if (local == "content") {
        if (item->content.empty()) {
          if (c.attribute("src") && !c.first_child()) continue;
          item->content = TextConstruct(c, ctx, &item->content_type);
        }
      } else if (local == "category") {
        std::string term = XmlContext::Attr(c, "term");
        if (term.empty()) term = XmlContext::Attr(c, "label");
        if (term.empty()) term = XmlContext::Text(c);
        if (!term.empty()) item->categories.push_back(std::move(term));
      }
      continue;
    }
    switch (ns) {
      case Ns::kMedia:
        if (local == "thumbnail" && item->image.empty()) {
          item->image = ctx.ResolveAt(c, XmlContext::Attr(c, "url"));
        } else if (local == "group") {
          for (xml_node g : c.children()) {
            if (IsElement(g) && XmlContext::Local(g) == "thumbnail" &&
                item->image.empty()) {
              item->image = ctx.ResolveAt(g, XmlContext::Attr(g, "url"));
            }
          }
        } else if (local == "content") {
          Enclosure e;
          e.url = ctx.ResolveAt(c, XmlContext::Attr(c, "url"));
          e.type = XmlContext::Attr(c, "type");
          if (!e.url.empty()) item->enclosures.push_back(std::move(e));
        }
        break;
      case Ns::kDc:
        if (local == "creator" && item->author.empty()) {
          item->author = XmlContext::Text(c);
          item->authors.push_back(ParsePerson(item->author));
        } else if (local == "subject") {
          std::string cat = XmlContext::Text(c);
          if (!cat.empty()) item->categories.push_back(std::move(cat));
        } else if (local == "date" && !item->published) {
          item->published =
              ParseFeedDate(c.child_value(), ctx.options().assumed_zone);
        }
        break;
      case Ns::kFeedburner:
        if (local == "origLink") {
          item->source_link = ctx.ResolveAt(c, XmlContext::Text(c));
        }
        break;
      case Ns::kContent:
        if (local == "encoded" && item->content.empty()) {
          item->content = XmlContext::Text(c);
          item->content_type = "html";
        }
        break;
      default:
        break;
    }
  }
  if (!item->published && created) item->published = created;
  // Readers need a date: an entry with only <updated> was published then.
  if (!item->published && item->updated) item->published = item->updated;
}

}  // namespace

void ParseAtom(xml_node root, const XmlContext& ctx, ParsedFeed* feed) {
  const size_t max_items = ctx.options().max_items;
  if (XmlContext::Local(root) == "entry") {  // a bare entry document
    FeedItem item;
    ParseEntry(root, ctx, &item);
    feed->items.push_back(std::move(item));
    return;
  }
  feed->language = XmlContext::Attr(root, "xml:lang");
  std::vector<Person> feed_authors;
  for (xml_node c : root.children()) {
    if (!IsElement(c)) continue;
    std::string_view local = XmlContext::Local(c);
    Ns ns = ctx.NsOf(c);
    if (!IsAtom(ns)) continue;
    if (local == "entry") {
      if (feed->items.size() >= max_items) {
        ++feed->items_over_cap;
        continue;
      }
      FeedItem item;
      ParseEntry(c, ctx, &item);
      feed->items.push_back(std::move(item));
    } else if (local == "title") {
      if (feed->title.empty()) feed->title = TextConstruct(c, ctx, nullptr);
    } else if (local == "link") {
      ParseLink(c, ctx, &feed->link, nullptr);
    } else if (local == "subtitle" || local == "tagline") {
      if (feed->description.empty()) {
        feed->description = TextConstruct(c, ctx, nullptr);
      }
    } else if (local == "updated" || local == "modified") {
      if (!feed->updated)
        feed->updated =
            ParseFeedDate(c.child_value(), ctx.options().assumed_zone);
    } else if (local == "logo") {
      feed->image = ctx.ResolveAt(c, XmlContext::Text(c));
    } else if (local == "icon") {
      if (feed->image.empty()) {
        feed->image = ctx.ResolveAt(c, XmlContext::Text(c));
      }
    } else if (local == "author") {
      feed_authors.push_back(ParseAtomPerson(c, ctx));
    }
  }
  // Entries without an author inherit the feed's (RFC 4287 §4.2.1).
  if (!feed_authors.empty()) {
    for (FeedItem& item : feed->items) {
      if (item.authors.empty()) {
        item.authors = feed_authors;
        item.author = PersonDisplay(feed_authors.front());
      }
    }
  }
}

}  // namespace newsflow::feed_internal
