#pragma once

// The cleaner: turns HTML into the clean body a consumer wants.
//
// Two entry points, both pure functions of their input (no I/O, no global
// state beyond libxml2's one-time init, safe to call from any thread):
//
//  - CleanFragment(): HTML that came inside a feed (content:encoded,
//    description, Atom content, JSON Feed content_html). Sanitizes it with an
//    allow-list and strips the boilerplate publishers append (share bars,
//    comment forms, "Related" boxes, newsletter boxes, tracking pixels,
//    "The post ... appeared first on ..." and "Continue reading" trailers).
//
//  - ExtractPage(): a whole article page (teaser feeds, `newsflowd extract`).
//    Finds the main content, cleans it the same way and reads page metadata
//    (JSON-LD, OpenGraph, <meta>, <link rel=canonical>, <html lang>).
//
// Both parse with libxml2's HTML parser (htmlReadMemory with
// RECOVER|NONET|NOERROR|NOWARNING|COMPACT) and never fail on any input: the
// worst case is an empty result.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/time_util.h"

namespace newsflow {

// Initializes libxml2's globals (xmlInitParser) once per process. Call it
// on the main thread before cleaning on other threads (the daemon's worker
// pool does); the entry points below call it too, so single-threaded users
// may skip it. Parser errors are suppressed per document (NOERROR|
// NOWARNING). What libxml2 still reports on its own (encoding errors such
// as "input conversion failed ... bytes 0x9D") goes through the logger,
// never to stderr: the cleaner installs libxml2's (thread-local) error
// handlers on each thread that parses. See ScopedHtmlDiagnostics.
void InitHtmlCleaner();

// While alive, libxml2 diagnostics raised on this thread are logged by the
// logger `logger_name` (e.g. "feed.bbc-world") naming `subject` (e.g. the
// page URL, redacted by the logger), at warning priority, rate-limited
// process-wide (at most 20 lines a minute; the count of suppressed ones is
// said in the next line). Without one, they go to logger "cleaner" with no
// subject. Not copyable; nest freely (the innermost wins).
class ScopedHtmlDiagnostics {
 public:
  ScopedHtmlDiagnostics(std::string logger_name, std::string subject);
  ~ScopedHtmlDiagnostics();
  ScopedHtmlDiagnostics(const ScopedHtmlDiagnostics&) = delete;
  ScopedHtmlDiagnostics& operator=(const ScopedHtmlDiagnostics&) = delete;

  const std::string& logger_name() const { return logger_name_; }
  const std::string& subject() const { return subject_; }

 private:
  std::string logger_name_;
  std::string subject_;
  ScopedHtmlDiagnostics* outer_;
};

struct CleanOptions {
  // Absolute URL the HTML came from; relative links and images are resolved
  // against it (or against a <base href> in a page). Empty: left as is.
  std::string base_url;
  // HTTP Content-Type the page came with (ExtractPage only): its charset
  // takes part in encoding detection (daemon/core/encoding.h). Empty: the
  // page's BOM / <meta> / UTF-8 validity decide.
  std::string content_type;
  // Operator-supplied CSS selectors whose elements are removed before
  // anything else: tag, .class, #id, [attr], [attr=value], descendant and
  // child (>) combinators, comma groups ("div.article p", ".ad, #share").
  std::vector<std::string> remove_selectors;
  // Selectors that, when one matches, are taken as the article body
  // (page extraction only).
  std::vector<std::string> keep_selectors;
};

// Cleaned body of an article.
struct CleanedContent {
  // Sanitized HTML: allow-listed elements and attributes only, every text
  // and attribute escaped, absolute http(s) URLs with tracking parameters
  // removed. No script/style/form/iframe (except allow-listed video hosts),
  // no event handlers, no javascript:/data: URLs.
  std::string html;
  // Plain text: paragraphs separated by a blank line, headings as their own
  // paragraphs, list items on their own lines, whitespace collapsed.
  std::string text;
};

// Page metadata read from JSON-LD, OpenGraph, Twitter cards and <meta>.
struct PageMetadata {
  std::string title;
  std::vector<std::string> authors;
  std::optional<TimePoint> published;
  std::optional<TimePoint> updated;
  std::string canonical_url;
  std::string image;
  std::string site_name;
  std::string language;
  std::string description;
};

struct ExtractedPage {
  CleanedContent content;
  PageMetadata metadata;
};

// Cleans an HTML fragment carried by a feed.
CleanedContent CleanFragment(std::string_view html,
                             const CleanOptions& options = {});

// Extracts the main article of a full page. `html` is the page's bytes in
// any encoding: decoded to UTF-8 first (BOM, options.content_type's charset,
// <meta>, UTF-8 validity; see daemon/core/encoding.h). CleanFragment and
// HtmlToPlainText take UTF-8.
ExtractedPage ExtractPage(std::string_view html,
                          const CleanOptions& options = {});

// Plain text of an HTML fragment (feed summaries, titles with markup):
// tags dropped, entities decoded, whitespace collapsed. No boilerplate
// removal.
std::string HtmlToPlainText(std::string_view html);

// True when feed content is only a teaser of the story: short (fewer than 15
// words by CountWords, daemon/core/words.h, the rule of `word_count`), ends
// with an ellipsis or a "read more"/"continue reading" link, or is just the
// "appeared first on" trailer after cleaning. `cleaned` is the result of
// CleanFragment on `raw_html`.
bool LooksLikeTeaser(std::string_view raw_html, const CleanedContent& cleaned);

}  // namespace newsflow
