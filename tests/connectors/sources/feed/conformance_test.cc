// Conformance of the feed parser against the shared corpus
// (corpus/feeds/README.md): every *.expect.json is applied with the README's
// rules and the pass rate of asserted fields is reported per source and per
// field. The test fails when the overall rate drops below kMinPassRate.
//
// NF_CONFORMANCE_VERBOSE=1 prints every failed assertion.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "connectors/sources/feed/feed_parser.h"
#include "daemon/core/url.h"
#include "tests/testing/corpus.h"

namespace newsflow {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Raise this as the parser improves; keep it just under the measured rate.
constexpr double kMinPassRate = 0.991;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TrimWs(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

std::string Date(const std::optional<TimePoint>& t) {
  return t ? FormatRfc3339(*t) : "null";
}

// "2004-01-01T19:48:21.000Z" and "...21Z" are the same instant.
std::string NormalizeDate(std::string s) {
  size_t dot = s.find('.');
  if (dot != std::string::npos && s.size() >= 2 && s.back() == 'Z') {
    std::string frac = s.substr(dot + 1, s.size() - dot - 2);
    frac.resize(3, '0');
    s = frac == "000" ? s.substr(0, dot) + "Z"
                      : s.substr(0, dot) + "." + frac + "Z";
  }
  return s;
}

struct Tally {
  int pass = 0;
  int total = 0;
  void Add(bool ok) {
    ++total;
    pass += ok ? 1 : 0;
  }
  double Rate() const { return total ? static_cast<double>(pass) / total : 1; }
};

class Scorer {
 public:
  void Check(const std::string& source, const std::string& field, bool ok,
             const std::string& file, const std::string& detail) {
    by_source_[source].Add(ok);
    by_field_[field].Add(ok);
    overall_.Add(ok);
    if (!ok) failures_.push_back(file + ": " + field + ": " + detail);
  }
  void Print() const {
    std::printf("conformance: %d/%d asserted fields pass (%.2f%%)\n",
                overall_.pass, overall_.total, 100 * overall_.Rate());
    for (const auto& [k, t] : by_source_) {
      std::printf("  source %-12s %5d/%-5d %.2f%%\n", k.c_str(), t.pass,
                  t.total, 100 * t.Rate());
    }
    std::vector<std::pair<std::string, Tally>> fields(by_field_.begin(),
                                                      by_field_.end());
    std::sort(fields.begin(), fields.end(), [](const auto& a, const auto& b) {
      return a.second.Rate() < b.second.Rate();
    });
    for (const auto& [k, t] : fields) {
      std::printf("  field  %-20s %5d/%-5d %.2f%%\n", k.c_str(), t.pass,
                  t.total, 100 * t.Rate());
    }
    const char* verbose = std::getenv("NF_CONFORMANCE_VERBOSE");
    size_t limit = verbose && *verbose == '1' ? failures_.size() : 30;
    for (size_t i = 0; i < failures_.size() && i < limit; ++i) {
      std::printf("  FAIL %s\n", failures_[i].c_str());
    }
    if (failures_.size() > limit) {
      std::printf("  ... %zu more (NF_CONFORMANCE_VERBOSE=1)\n",
                  failures_.size() - limit);
    }
  }
  double Rate() const { return overall_.Rate(); }
  int Total() const { return overall_.total; }

 private:
  Tally overall_;
  std::map<std::string, Tally> by_source_;
  std::map<std::string, Tally> by_field_;
  std::vector<std::string> failures_;
};

std::string Short(std::string s) {
  if (s.size() > 160) s = s.substr(0, 160) + "...";
  return s;
}

TEST(FeedConformanceTest, Corpus) {
  NF_REQUIRE_CORPUS("feeds");
  const fs::path root = fs::path(testing::CorpusPath("feeds"));
  ASSERT_TRUE(fs::is_directory(root)) << root;
  std::vector<fs::path> expects;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.size() > 12 &&
        name.compare(name.size() - 12, 12, ".expect.json") == 0) {
      expects.push_back(e.path());
    }
  }
  std::sort(expects.begin(), expects.end());
  ASSERT_GT(expects.size(), 1000u);

  Scorer scorer;
  int files = 0, parsed = 0;
  for (const fs::path& expect_path : expects) {
    json ex = json::parse(ReadFile(expect_path), nullptr, false);
    ASSERT_FALSE(ex.is_discarded()) << expect_path;
    std::string feed_path = expect_path.string();
    feed_path.resize(feed_path.size() - 12);
    const std::string rel = fs::relative(feed_path, root).string();
    const std::string body = ReadFile(feed_path);
    const json meta = ex.value("meta", json::object());
    const std::string source = meta.value("source", "unknown");

    FeedParseOptions options;
    options.document_url = meta.value("request_url", "");
    if (meta.contains("http_headers") && meta["http_headers"].is_object()) {
      for (const auto& [k, v] : meta["http_headers"].items()) {
        std::string key = k;
        for (char& c : key) c = static_cast<char>(std::tolower(c));
        if (!v.is_string()) continue;
        if (key == "content-type") options.content_type = v.get<std::string>();
        if (key == "content-location") {
          options.content_location = v.get<std::string>();
        }
      }
    }
    ++files;
    Result<ParsedFeed> r = ParseFeed(body, options);  // must not crash
    if (r) ++parsed;

    if (ex.value("expect_error", false)) {
      scorer.Check(source, "expect_error", !r, rel, "parsed but must fail");
      continue;
    }
    if (ex.value("format", "") == "cdf") continue;      // out of scope
    if (meta.value("html_sanitized", false)) continue;  // the cleaner's job
    const bool has_fields = ex.contains("feed") || ex.contains("items") ||
                            ex.contains("items_count") || ex.contains("format");
    if (ex.value("xml_wellformed", false) &&
        ex.value("must_not_crash", false)) {
      scorer.Check(source, "parse_ok", static_cast<bool>(r), rel,
                   r ? "" : r.error().ToString());
    }
    if (!has_fields) continue;
    if (!r) {
      scorer.Check(source, "parse_ok", false, rel, r.error().ToString());
      continue;
    }
    const ParsedFeed& f = *r;
    if (ex.contains("format") && !ex.value("must_not_crash", false)) {
      std::string want = ex["format"];
      scorer.Check(source, "format", f.format == want, rel,
                   "got " + f.format + " want " + want);
    }
    if (ex.contains("feed")) {
      const json& fe = ex["feed"];
      if (fe.contains("title")) {
        std::string want = TrimWs(fe["title"].get<std::string>());
        scorer.Check(source, "feed.title", TrimWs(f.title) == want, rel,
                     "got [" + Short(f.title) + "] want [" + Short(want) + "]");
      }
      if (fe.contains("link")) {
        std::string want = TrimWs(fe["link"].get<std::string>());
        scorer.Check(source, "feed.link", TrimWs(f.link) == want, rel,
                     "got [" + f.link + "] want [" + want + "]");
      }
    }
    if (ex.contains("items_count")) {
      int want = ex["items_count"];
      scorer.Check(source, "items_count",
                   static_cast<int>(f.items.size()) == want, rel,
                   "got " + std::to_string(f.items.size()) + " want " +
                       std::to_string(want));
    }
    if (!ex.contains("items")) continue;
    const json& items = ex["items"];
    for (size_t i = 0; i < items.size(); ++i) {
      const json& want = items[i];
      if (want.empty()) continue;
      const FeedItem* got = i < f.items.size() ? &f.items[i] : nullptr;
      static const FeedItem kEmpty;
      const FeedItem& it = got ? *got : kEmpty;
      const std::string where = rel + "#" + std::to_string(i);
      auto exact = [&](const char* key, const std::string& value) {
        if (!want.contains(key) || !want[key].is_string()) return;
        std::string w = TrimWs(want[key].get<std::string>());
        scorer.Check(source, std::string("items.") + key, TrimWs(value) == w,
                     where,
                     "got [" + Short(value) + "] want [" + Short(w) + "]");
      };
      exact("title", it.title);
      exact("link", it.link);
      exact("guid", it.guid);
      exact("author", it.author);
      auto date = [&](const char* key, const std::optional<TimePoint>& t) {
        if (!want.contains(key)) return;
        std::string w = want[key].is_null()
                            ? "null"
                            : NormalizeDate(want[key].get<std::string>());
        scorer.Check(source, std::string("items.") + key, Date(t) == w, where,
                     "got " + Date(t) + " want " + w);
      };
      date("published", it.published);
      date("updated", it.updated);
      const bool either = source == "feedparser";
      auto contains = [&](const char* key, const std::string& primary,
                          const std::string& other) {
        if (!want.contains(key)) return;
        std::string w = TrimWs(want[key].get<std::string>());
        bool ok = primary.find(w) != std::string::npos ||
                  (either && other.find(w) != std::string::npos);
        scorer.Check(source, std::string("items.") + key, ok, where,
                     "got [" + Short(primary) + "] want [" + Short(w) + "]");
      };
      contains("summary_contains", it.summary, it.content);
      contains("content_contains", it.content, it.summary);
    }
  }
  std::printf("conformance: %d files, %d parsed without error\n", files,
              parsed);
  scorer.Print();
  EXPECT_GT(scorer.Total(), 1000);
  EXPECT_GE(scorer.Rate(), kMinPassRate);
}

}  // namespace
}  // namespace newsflow
