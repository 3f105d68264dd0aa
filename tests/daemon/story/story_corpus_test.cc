// story_id against the extraction corpus (issue 13): its 90 pages are 90
// distinct stories from different sites, so no two may share a story id
// (false merges); and a syndicated copy of each — the same text in a
// partner's page with other boilerplate, at another URL with tracking
// parameters — must join the original's story.

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "daemon/cleaner/html_cleaner.h"
#include "daemon/core/text_util.h"
#include "daemon/normalizer/normalizer.h"
#include "daemon/state/state_store.h"
#include "daemon/story/fingerprint.h"
#include "daemon/story/story_index.h"
#include "tests/testing/corpus.h"

namespace newsflow {
namespace {

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out.push_back(c);
  }
  return out;
}

// The partner's page: its own navigation, lead-in, trailer, related links
// and footer around the story's paragraphs.
std::string PartnerPage(const std::string& text) {
  std::string html =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Partner "
      "Wire</title></head><body><nav><a href=\"/\">Home</a> <a "
      "href=\"/world\">World</a> <a href=\"/sport\">Sport</a></nav>"
      "<article><p><em>This story was first published by our partners and "
      "is republished here under a content-sharing agreement.</em></p>";
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find("\n\n", start);
    if (end == std::string::npos) end = text.size();
    html += "<p>" + Escape(text.substr(start, end - start)) + "</p>";
    start = end + 2;
  }
  html +=
      "<p>Partner Wire is supported by readers like you. Sign up for our "
      "daily newsletter to get the day's headlines every morning.</p>"
      "</article><aside><h3>Most read</h3><ul><li><a href=\"/a\">Storm "
      "closes roads</a></li><li><a href=\"/b\">Budget vote delayed</a></li>"
      "</ul></aside><footer>(c) 2026 Partner Wire. All rights reserved."
      "</footer></body></html>";
  return html;
}

TEST(StoryCorpusTest, NoFalseMergesAndSyndicatedCopiesMerge) {
  NF_REQUIRE_CORPUS("extraction/dev");
  const std::vector<testing::ExtractionPage> gold =
      testing::LoadExtractionPages("extraction/dev");
  ASSERT_FALSE(gold.empty());
  auto store = StateStore::Open(":memory:");
  ASSERT_TRUE(store);
  StoryIndex index(store->get());

  struct Page {
    std::string id;
    std::string text;
    StoryFingerprint fp;
  };
  std::vector<Page> pages;
  int false_merges = 0;
  for (const testing::ExtractionPage& entry : gold) {
    const std::string& id = entry.id;
    ASSERT_FALSE(entry.html.empty()) << id;
    CleanOptions options;
    options.base_url = entry.url;
    Page p{id, ExtractPage(entry.html, options).content.text, {}};
    p.fp = FingerprintText(p.text);
    auto story =
        index.Assign(id, CanonicalizeUrl(options.base_url), p.fp, Now());
    ASSERT_TRUE(story) << story.error().ToString();
    if (*story != id) {
      ++false_merges;
      ADD_FAILURE() << id << " merged into " << *story;
    }
    pages.push_back(std::move(p));
  }
  // The closest pair of distinct stories, for the record.
  double max_jaccard = 0;
  for (size_t i = 0; i < pages.size(); ++i)
    for (size_t j = i + 1; j < pages.size(); ++j)
      max_jaccard =
          std::max(max_jaccard, EstimatedJaccard(pages[i].fp, pages[j].fp));

  int fingerprinted = 0, merged = 0, copies = 0;
  for (const Page& p : pages) {
    if (p.fp.empty()) continue;
    ++fingerprinted;
    const std::string copy_text =
        ExtractPage(PartnerPage(p.text), {}).content.text;
    ++copies;
    auto story = index.Assign(
        "copy-" + p.id,
        CanonicalizeUrl("https://partner-wire.example/syndicated/" +
                        p.id.substr(0, 12) +
                        "?utm_source=partner&utm_medium=feed&fbclid=abc"),
        FingerprintText(copy_text), Now());
    ASSERT_TRUE(story);
    if (*story == p.id) {
      ++merged;
    } else {
      ADD_FAILURE() << "copy of " << p.id << " not merged (J="
                    << EstimatedJaccard(p.fp, FingerprintText(copy_text))
                    << ")";
    }
  }
  std::printf(
      "story_id on extraction/dev: pages=%zu fingerprinted=%d "
      "false_merges=%d max_jaccard_distinct=%.3f syndicated_copies=%d "
      "merged=%d (threshold J>=%.2f, %d bands x %d rows)\n",
      pages.size(), fingerprinted, false_merges, max_jaccard, copies, merged,
      kSameStoryJaccard, kBands, kRowsPerBand);
  EXPECT_EQ(false_merges, 0);
  EXPECT_EQ(merged, copies);
  EXPECT_GE(fingerprinted, 85);
}

}  // namespace
}  // namespace newsflow
