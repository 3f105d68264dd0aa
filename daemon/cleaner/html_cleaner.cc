#include "daemon/cleaner/html_cleaner.h"

#include <string>
#include <vector>

#include "daemon/cleaner/boilerplate.h"
#include "daemon/cleaner/dom.h"
#include "daemon/cleaner/extractor.h"
#include "daemon/cleaner/metadata.h"
#include "daemon/cleaner/sanitizer.h"
#include "daemon/cleaner/selector.h"
#include "daemon/core/encoding.h"
#include "daemon/core/url.h"
#include "daemon/core/words.h"

namespace newsflow {
namespace {

using cleaner::Attr;
using cleaner::IsElement;
using cleaner::Name;

// Below this many characters an extraction is taken as a miss and retried
// with relaxed flags (Readability's charThreshold, halved: news briefs are
// short).
constexpr size_t kMinExtractedChars = 250;
// Fewer words than this (CountWords: ICU segmentation, any script) and the
// feed's body is a teaser.
constexpr int kMinFullTextWords = 15;

// Selectors may name attributes the parser would otherwise drop.
bool NeedsAllAttributes(const CleanOptions& o) {
  for (const auto* list : {&o.remove_selectors, &o.keep_selectors})
    for (const std::string& s : *list)
      if (s.find('[') != std::string::npos) return true;
  return false;
}

void RemoveSelected(xmlNode* root, const std::vector<std::string>& selectors) {
  if (!root || selectors.empty()) return;
  std::vector<xmlNode*> hits;
  cleaner::SelectorList(selectors).Collect(root, &hits);
  for (xmlNode* n : hits) {
    xmlUnlinkNode(n);
    xmlFreeNode(n);
  }
}

// JSON-LD articleBody as HTML: markup is taken as is (the sanitizer runs on
// it); plain text becomes one escaped <p> per line.
std::string ArticleBodyHtml(std::string_view body) {
  if (body.find("</") != std::string_view::npos ||
      body.find("<p") != std::string_view::npos ||
      body.find("<br") != std::string_view::npos)
    return std::string(body);
  std::string html = "<p>";
  for (char c : body) {
    switch (c) {
      case '\n':
        html += "</p><p>";
        break;
      case '&':
        html += "&amp;";
        break;
      case '<':
        html += "&lt;";
        break;
      case '>':
        html += "&gt;";
        break;
      default:
        html.push_back(c);
    }
  }
  html += "</p>";
  return html;
}

CleanedContent RenderParts(const std::vector<xmlNode*>& parts,
                           const std::string& base, bool children_only) {
  cleaner::Sanitizer sanitizer(base);
  for (xmlNode* p : parts) {
    if (children_only)
      sanitizer.RenderChildren(p);
    else
      sanitizer.Render(p);
  }
  return sanitizer.Finish();
}

std::string Collapse(std::string_view s) {
  cleaner::TextBuilder tb;
  tb.AddText(s);
  return tb.Take();
}

}  // namespace

void InitHtmlCleaner() { cleaner::InitLibxml(); }

CleanedContent CleanFragment(std::string_view html,
                             const CleanOptions& options) {
  cleaner::DocPtr doc = cleaner::ParseHtml(html, NeedsAllAttributes(options));
  xmlNode* body = cleaner::FindBody(doc.get());
  if (!body) return {};
  RemoveSelected(body, options.remove_selectors);
  cleaner::ExtractFlags flags;
  flags.strip_unlikely = false;
  cleaner::PreClean(body, flags);
  cleaner::CleanContent({body}, "", flags, /*is_fragment=*/true);
  return RenderParts({body}, options.base_url, /*children_only=*/true);
}

ExtractedPage ExtractPage(std::string_view bytes, const CleanOptions& options) {
  ExtractedPage page;
  DecodedText decoded;
  std::vector<std::string> warnings;
  DecodeToUtf8(bytes, options.content_type, DocumentKind::kHtml, &decoded,
               &warnings);
  if (!warnings.empty()) {
    std::string line = warnings.front();
    if (warnings.size() > 1)
      line += " (+" + std::to_string(warnings.size() - 1) + " more)";
    cleaner::LogDecodingDiagnostic(std::move(line));
  }
  const std::string_view html = decoded.utf8;
  const bool all_attributes = NeedsAllAttributes(options);
  cleaner::DocPtr doc = cleaner::ParseHtml(html, all_attributes);
  if (!doc) return page;
  std::string base = options.base_url;
  std::string base_href = cleaner::DocumentBaseHref(doc.get());
  if (!base_href.empty()) {
    // <base href> as the browser applies it; an unusable one is ignored.
    std::string resolved = ResolveUrl(base, base_href);
    if (!resolved.empty()) base = std::move(resolved);
  }
  std::string ld_body;
  page.metadata = cleaner::ReadMetadata(doc.get(), base, &ld_body);
  if (!Url::Parse(base) && !page.metadata.canonical_url.empty())
    base = page.metadata.canonical_url;

  if (!options.keep_selectors.empty()) {
    xmlNode* body = cleaner::FindBody(doc.get());
    RemoveSelected(body, options.remove_selectors);
    std::vector<xmlNode*> kept;
    if (body)
      cleaner::SelectorList(options.keep_selectors).Collect(body, &kept);
    if (!kept.empty()) {
      cleaner::ExtractFlags flags;
      flags.strip_unlikely = false;
      for (xmlNode* k : kept) cleaner::PreClean(k, flags);
      cleaner::CleanContent(kept, page.metadata.title, flags, false);
      page.content = RenderParts(kept, base, false);
      return page;
    }
  }

  // Readability's retry ladder: each attempt relaxes one more heuristic.
  static const cleaner::ExtractFlags kAttempts[] = {{true, true, true},
                                                    {false, true, true},
                                                    {false, false, true},
                                                    {false, false, false}};
  CleanedContent best;
  bool first = true;
  for (const cleaner::ExtractFlags& flags : kAttempts) {
    if (!first) {
      doc = cleaner::ParseHtml(html, all_attributes);
      if (!doc) break;
    }
    first = false;
    xmlNode* body = cleaner::FindBody(doc.get());
    if (!body) break;
    RemoveSelected(body, options.remove_selectors);
    cleaner::PreClean(body, flags);
    std::vector<xmlNode*> parts = cleaner::FindMainContent(body, flags);
    cleaner::CleanContent(parts, page.metadata.title, flags, false);
    CleanedContent got = RenderParts(parts, base, false);
    if (got.text.size() > best.text.size()) best = std::move(got);
    if (best.text.size() >= kMinExtractedChars) break;
  }
  // Baseline: when every attempt came back nearly empty (script-rendered
  // pages), the publisher's own JSON-LD articleBody is the best text left.
  if (best.text.size() < kMinExtractedChars &&
      ld_body.size() > best.text.size()) {
    CleanOptions ld_options;
    ld_options.base_url = base;
    CleanedContent from_ld =
        CleanFragment(ArticleBodyHtml(ld_body), ld_options);
    if (from_ld.text.size() >= kMinExtractedChars) best = std::move(from_ld);
  }
  page.content = std::move(best);
  return page;
}

std::string HtmlToPlainText(std::string_view html) {
  if (html.find('<') == std::string_view::npos &&
      html.find('&') == std::string_view::npos)
    return Collapse(html);
  cleaner::DocPtr doc = cleaner::ParseHtml(html);
  xmlNode* body = cleaner::FindBody(doc.get());
  if (!body) return {};
  cleaner::Sanitizer sanitizer("");
  sanitizer.RenderChildren(body);
  return sanitizer.Finish().text;
}

bool LooksLikeTeaser(std::string_view raw_html, const CleanedContent& cleaned) {
  const std::string& text = cleaned.text;
  if (CountWords(text) < kMinFullTextWords) return true;
  // Ends with an ellipsis ("…", "...", "[…]").
  std::string_view t = text;
  while (!t.empty() && (t.back() == ']' || t.back() == ' ')) t.remove_suffix(1);
  if (t.ends_with("...") || t.ends_with("\xE2\x80\xA6")) return true;
  // A "read more" link in the last part of the raw content.
  std::string raw_text = HtmlToPlainText(raw_html);
  std::string tail = cleaner::ToLower(std::string_view(raw_text).substr(
      raw_text.size() > 600 ? raw_text.size() - 600 : 0));
  for (std::string_view marker :
       {"continue reading", "read more", "read the full", "keep reading",
        "read the rest", "[\xE2\x80\xA6]", "[...]"}) {
    if (tail.find(marker) != std::string::npos) return true;
  }
  return false;
}

}  // namespace newsflow
