#pragma once

// Lenient pre-processing of UTF-8 XML before pugixml sees it. Real feeds are
// often not well-formed; this pass turns the common breakage into what the
// author meant, in one linear scan:
//   - bytes before the first markup and the XML declaration are dropped
//     (encoding was already decided, see daemon/core/encoding.h);
//   - HTML named entities (&aacute; &nbsp; ...) become UTF-8 characters;
//   - a bare '&' (no valid reference follows) becomes "&amp;", so
//     "&copy=2;" stays literal;
//   - a '<' that cannot start markup ("more <3") becomes "&lt;";
//   - C0 control characters not allowed in XML are removed, and numeric
//     references to them are dropped.
// CDATA sections, comments and the DOCTYPE are copied verbatim (minus control
// characters).

#include <string>
#include <string_view>

namespace newsflow::feed_internal {

struct RepairOptions {
  // Second chance after pugixml failed: the content of the RSS text
  // elements (title, description, summary, author, category, comments,
  // link, guid, pubDate; unprefixed) is taken as text up to the matching
  // end tag, so unescaped HTML in it ("<br>", an unclosed "<p>") is escaped
  // instead of breaking the tree. CDATA inside is kept.
  bool text_elements_as_text = false;
};

struct RepairStats {
  int bare_ampersands = 0;
  int escaped_markup = 0;  // tags escaped by text_elements_as_text
  int html_entities = 0;
  int bare_lt = 0;
  int control_chars = 0;
  bool leading_junk = false;
};

// Appends the repaired form of `in` to `*out` (which is cleared first).
void RepairXml(std::string_view in, std::string* out, RepairStats* stats,
               const RepairOptions& options = {});

// Looks up an HTML 4 named entity (without '&' and ';'). Returns its code
// point or 0.
uint32_t LookupHtmlEntity(std::string_view name);

// In decoded HTML (a summary or content that carried "&amp;#146;"): the
// character references &#128;..&#159; are windows-1252 punctuation and
// become their Unicode references (&#x2019;), and "&#X" is spelled "&#x",
// as feedparser does. Leaves `html` untouched when it has no "&#".
void NormalizeCharRefs(std::string* html);

}  // namespace newsflow::feed_internal
