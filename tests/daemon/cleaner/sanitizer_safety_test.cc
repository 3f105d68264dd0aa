// Runs CleanFragment over every HTML payload of the feedparser "sanitize"
// conformance feeds (files whose .expect.json has meta.html_sanitized) and
// checks the output carries no script, no event handler and no
// javascript:/data:/vbscript: URL.

#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/cleaner/html_cleaner.h"
#include "daemon/core/text_util.h"
#include "tests/testing/corpus.h"

namespace newsflow {
namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Escaped HTML lives in text content; inline XHTML lives as child elements.
// Collect both forms for every element of the feed.
void CollectPayloads(xmlNode* n, std::vector<std::string>* out) {
  for (xmlNode* c = n; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    xmlChar* text = xmlNodeGetContent(c);
    if (text) {
      std::string t(reinterpret_cast<char*>(text));
      if (t.find('<') != std::string::npos || t.find('&') != std::string::npos)
        out->push_back(t);
      xmlFree(text);
    }
    bool has_element_child = false;
    for (xmlNode* k = c->children; k; k = k->next)
      if (k->type == XML_ELEMENT_NODE) has_element_child = true;
    if (has_element_child) {
      xmlBuffer* buf = xmlBufferCreate();
      for (xmlNode* k = c->children; k; k = k->next)
        xmlNodeDump(buf, c->doc, k, 0, 0);
      out->push_back(reinterpret_cast<const char*>(xmlBufferContent(buf)));
      xmlBufferFree(buf);
    }
    CollectPayloads(c->children, out);
  }
}

// Unsafe markers in sanitized output. The output is our own serialization
// (every attribute quoted), so attribute names appear as ` name="`.
std::string FindUnsafe(const std::string& html) {
  std::string l = ToLowerAscii(html);
  if (l.find("<script") != std::string::npos) return "<script";
  if (l.find("<style") != std::string::npos) return "<style";
  if (l.find("<form") != std::string::npos) return "<form";
  if (l.find("<object") != std::string::npos) return "<object";
  if (l.find("<embed") != std::string::npos) return "<embed";
  if (l.find("javascript:") != std::string::npos) return "javascript:";
  if (l.find("vbscript:") != std::string::npos) return "vbscript:";
  if (l.find("=\"data:") != std::string::npos) return "data: url";
  // Any attribute named on*.
  for (size_t i = l.find(" on"); i != std::string::npos;
       i = l.find(" on", i + 1)) {
    size_t j = i + 3;
    while (j < l.size() && std::isalpha(static_cast<unsigned char>(l[j]))) ++j;
    if (j < l.size() && l[j] == '=') {
      // Only inside a tag: the last '<' before i must be after the last '>'.
      size_t lt = l.rfind('<', i), gt = l.rfind('>', i);
      if (lt != std::string::npos && (gt == std::string::npos || lt > gt))
        return "on* handler";
    }
  }
  // <iframe> only for allow-listed video hosts.
  for (size_t i = l.find("<iframe"); i != std::string::npos;
       i = l.find("<iframe", i + 1)) {
    std::string tag = l.substr(i, l.find('>', i) - i);
    if (tag.find("youtube") == std::string::npos &&
        tag.find("vimeo") == std::string::npos &&
        tag.find("dailymotion") == std::string::npos)
      return "iframe";
  }
  return {};
}

TEST(SanitizerSafetyTest, FeedparserSanitizeCorpus) {
  namespace fs = std::filesystem;
  NF_REQUIRE_CORPUS("feeds/feedparser");
  const fs::path dir = fs::path(testing::CorpusPath("feeds/feedparser"));
  ASSERT_TRUE(fs::exists(dir)) << dir;
  int files = 0, payloads = 0, unsafe_inputs = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string path = entry.path().string();
    if (!path.ends_with(".expect.json")) continue;
    nlohmann::json expect =
        nlohmann::json::parse(ReadFile(entry.path()), nullptr, false);
    if (expect.is_discarded() || !expect.contains("meta") ||
        !expect["meta"].value("html_sanitized", false))
      continue;
    std::string feed_path = path.substr(0, path.size() - 12);
    std::string feed = ReadFile(feed_path);
    ++files;
    std::vector<std::string> found;
    xmlDoc* doc = xmlReadMemory(feed.data(), static_cast<int>(feed.size()),
                                nullptr, nullptr,
                                XML_PARSE_RECOVER | XML_PARSE_NONET |
                                    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc) {
      CollectPayloads(xmlDocGetRootElement(doc), &found);
      xmlFreeDoc(doc);
    }
    found.push_back(feed);  // the raw bytes too, as if a feed lied about type
    for (const std::string& html : found) {
      ++payloads;
      if (!FindUnsafe(html).empty()) ++unsafe_inputs;
      CleanOptions options;
      options.base_url = "http://example.com/feed/";
      CleanedContent c = CleanFragment(html, options);
      std::string bad = FindUnsafe(c.html);
      EXPECT_TRUE(bad.empty()) << feed_path << ": " << bad << "\n" << c.html;
      ExtractedPage page = ExtractPage(html, options);
      bad = FindUnsafe(page.content.html);
      EXPECT_TRUE(bad.empty()) << feed_path << " (page): " << bad << "\n"
                               << page.content.html;
    }
  }
  std::printf("sanitize corpus: %d feeds, %d payloads, %d unsafe inputs\n",
              files, payloads, unsafe_inputs);
  EXPECT_GE(files, 400);
  // The check has teeth: many inputs trip it before sanitizing.
  EXPECT_GE(unsafe_inputs, 200);
}

}  // namespace
}  // namespace newsflow
