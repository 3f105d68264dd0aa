#include "bench/deliver/bench_articles.h"

#include <cstdio>

#include "daemon/core/time_util.h"

namespace newsflow::bench {

// Prose with a realistic word distribution; deterministic per index.
std::string Prose(size_t bytes, unsigned seed) {
  static const char* kWords[] = {
      "the",        "of",        "and",    "to",   "in",    "a",      "said",
      "government", "minister",  "on",     "for",  "was",   "with",   "police",
      "market",     "year",      "people", "city", "after", "report", "two",
      "new",        "officials", "week",   "than", "border"};
  std::string s;
  unsigned state = seed * 2654435761u + 1;
  while (s.size() < bytes) {
    state = state * 1103515245u + 12345u;
    s += kWords[(state >> 16) % (sizeof(kWords) / sizeof(kWords[0]))];
    s += (state >> 8) % 17 == 0 ? ".\n\n" : " ";
  }
  return s;
}

Article MakeArticle(int i, const std::string& salt) {
  newsflow::Article a;
  char id[48];
  std::snprintf(id, sizeof(id), "%s%032x", salt.c_str(),
                static_cast<unsigned>(i * 40503u));
  a.id = id;
  a.feed = {"bench-feed", "https://news.example/feed.xml", "Bench News",
            "https://news.example/", "en"};
  a.url =
      "https://news.example/2025/10/" + std::to_string(i) + "?utm_source=rss";
  a.canonical_url = "https://news.example/2025/10/" + std::to_string(i);
  a.title = "Story number " + std::to_string(i) + " about the border market";
  a.authors = {"Staff Reporter"};
  a.categories = {"World", "Economy"};
  a.published = newsflow::Now();
  a.fetched_at = newsflow::Now();
  a.summary = Prose(200, i + 7);
  const size_t text_bytes = 800 + (static_cast<size_t>(i) * 7919u) % 2600;
  a.content_text = Prose(text_bytes, i);
  a.content_html = "<p>" + a.content_text + "</p>";
  a.language = "en";
  a.word_count = 400;
  a.content_hash = std::string(64, 'a');
  return a;
}

}  // namespace newsflow::bench
