#pragma once

// Shared helpers for the XML feed dialects (RSS, Atom): namespace lookup on
// top of pugixml (which has none), text gathering across mixed PCDATA/CDATA
// and child markup, and xml:base-aware URL resolution. Private to the feed
// parser.

#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/sources/feed/feed_parser.h"
#include "daemon/core/feed_item.h"

namespace newsflow::feed_internal {

// Namespaces the parser understands. kCore: no namespace or the dialect's
// own (RSS, RSS 1.0, RSS 0.90, or any unknown default namespace).
enum class Ns {
  kCore,
  kAtom10,
  kAtom03,
  kDc,
  kDcTerms,
  kContent,
  kMedia,
  kItunes,
  kFeedburner,
  kRdf,
  kXhtml,
  kRss1,
  kRss090,
  kSyndication,
  kOther,
};

// Maps a namespace URI to Ns (trimmed, case-insensitive, tolerant of a
// missing or extra trailing slash).
Ns NsFromUri(std::string_view uri);

class XmlContext {
 public:
  XmlContext(const FeedParseOptions& options, pugi::xml_node root);
  XmlContext(const XmlContext&) = delete;
  XmlContext& operator=(const XmlContext&) = delete;

  // Namespace of an element (prefix looked up in the document's
  // declarations, or the nearest default namespace).
  Ns NsOf(pugi::xml_node node) const;
  // The name without prefix.
  static std::string_view Local(pugi::xml_node node);

  // All character data of `node`, with child elements serialized as markup;
  // trimmed.
  static std::string Text(pugi::xml_node node);
  // Serialized children (inner XML) of `node`.
  static std::string InnerXml(pugi::xml_node node);
  // Trimmed attribute value.
  static std::string Attr(pugi::xml_node node, const char* name);

  // Resolves `url` (found on or inside `node`) against xml:base attributes
  // and the document URL. Absolute URLs are returned as is.
  std::string ResolveAt(pugi::xml_node node, std::string_view url) const;

  // The effective base URL of `node` (xml:base chain over document_url).
  std::string BaseAt(pugi::xml_node node) const;

  // Resolves relative href/src/... attribute values inside the HTML `html`
  // (found in `node`) against the element's base. Returns `html` unchanged
  // when there is no base or nothing to resolve.
  std::string ResolveHtml(pugi::xml_node node, std::string html) const;

  const FeedParseOptions& options() const { return options_; }

 private:
  static Ns DefaultNsAt(pugi::xml_node node);

  const FeedParseOptions& options_;
  bool has_xml_base_ = false;
  bool inner_default_ns_ = false;  // an xmlns="" below the root
  Ns root_default_ns_ = Ns::kCore;
  // prefix → namespace, from every xmlns:prefix declaration (first wins).
  std::vector<std::pair<std::string, Ns>> prefixes_;
};

std::string_view TrimView(std::string_view s);
std::string Trim(std::string_view s);

// `base` moved by one base-setting reference (xml:base, the HTTP
// Content-Location header): resolved, and when absolute, in the form a
// browser would use (a backslash is a slash, controls dropped). A reference
// that would make the base another scheme than http(s) (javascript:, data:,
// file:) or an invalid URL is ignored: `base` stays, so no relative link can
// resolve into it.
std::string ApplyBase(const std::string& base, std::string_view ref);

// Splits an author string ("a@b.c (Name)", "Name <a@b.c>", "a@b.c", "Name")
// into a Person.
Person ParsePerson(std::string_view text);

// Decodes a base64 body (Atom 0.3 mode="base64"); invalid input yields "".
std::string DecodeBase64(std::string_view in);

// The dialect parsers. `root` is the document element; they fill `feed`.
void ParseRss(pugi::xml_node root, const XmlContext& ctx, ParsedFeed* feed);
void ParseAtom(pugi::xml_node root, const XmlContext& ctx, ParsedFeed* feed);
Result<ParsedFeed> ParseJsonFeed(std::string_view utf8,
                                 const FeedParseOptions& options);

}  // namespace newsflow::feed_internal
