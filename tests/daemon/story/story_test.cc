#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "daemon/normalizer/normalizer.h"
#include "daemon/state/state_store.h"
#include "daemon/story/fingerprint.h"
#include "daemon/story/story_index.h"

namespace newsflow {
namespace {

const char kStory[] =
    "The city council voted on Tuesday to extend the tram line to the "
    "harbour, ending a debate that had run for more than ten years. The new "
    "section will add six stops and is expected to open in 2029.\n\n"
    "Supporters said the line would take thousands of cars off the roads "
    "every day. Opponents warned that the cost estimate had already doubled "
    "since the first plans were drawn up, and that the harbour district "
    "would be a building site for at least four years.\n\n"
    "Construction is due to begin next spring, the mayor said. The council "
    "will publish the timetable for the works in January, and residents "
    "along the route will be invited to three public meetings.";

const char kOtherStory[] =
    "A new public library opened downtown on Saturday, and hundreds of "
    "residents lined up before the doors opened to get a first look at the "
    "building. The library holds more than two hundred thousand books, a "
    "children's reading room and quiet study spaces. The city says it will "
    "also host free classes for adults who want to learn new skills. "
    "Visitors praised the bright reading rooms and the large windows "
    "overlooking the river.";

// The same story as a partner site republishes it: its own lead-in and
// trailer around the text.
std::string Syndicated(const std::string& text) {
  return "This article first appeared on The Harbour Courier and is "
         "republished here with permission.\n\n" +
         text +
         "\n\nSign up for our morning newsletter. Follow Partner Wire on "
         "social media for more local news.";
}

TEST(FingerprintTest, SimilarTextsAreCloseOthersFar) {
  const StoryFingerprint a = FingerprintText(kStory);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a.minhash.size(), static_cast<size_t>(kMinHashes));
  EXPECT_DOUBLE_EQ(EstimatedJaccard(a, FingerprintText(kStory)), 1.0);
  // Case and punctuation do not matter.
  std::string shouted = kStory;
  for (char& c : shouted) c = static_cast<char>(std::toupper(c));
  EXPECT_DOUBLE_EQ(EstimatedJaccard(a, FingerprintText(shouted)), 1.0);
  EXPECT_GE(EstimatedJaccard(a, FingerprintText(Syndicated(kStory))),
            kSameStoryJaccard);
  EXPECT_LT(EstimatedJaccard(a, FingerprintText(kOtherStory)), 0.1);
  // Too short to tell stories apart.
  EXPECT_TRUE(FingerprintText("Read the full story on our site.").empty());
  EXPECT_TRUE(FingerprintText("").empty());
  // CJK text without spaces is fingerprinted per character.
  EXPECT_FALSE(
      FingerprintText("東京都内に新しい市立図書館が今月開館し、初日から多"
                      "くの市民が訪れました。館内には約二十万冊の本が並"
                      "び")
          .empty());
  // Round trip through the store's encoding; bands are deterministic.
  EXPECT_EQ(DecodeFingerprint(EncodeFingerprint(a)).minhash, a.minhash);
  EXPECT_TRUE(DecodeFingerprint("short").empty());
  EXPECT_EQ(BandKeys(a).size(), static_cast<size_t>(kBands));
  EXPECT_EQ(BandKeys(a), BandKeys(FingerprintText(kStory)));
}

class StoryIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("nf_story_" + std::to_string(::getpid()) + ".db");
    std::filesystem::remove(path_);
    Open();
  }
  void TearDown() override {
    index_.reset();
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path_.string() + suffix);
  }
  void Open() {
    index_.reset();
    store_.reset();
    auto s = StateStore::Open(path_.string());
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
    index_ = std::make_unique<StoryIndex>(store_.get());
  }
  std::string Assign(const std::string& id, const std::string& url,
                     const std::string& text, TimePoint at = Now()) {
    auto r =
        index_->Assign(id, CanonicalizeUrl(url), FingerprintText(text), at);
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? *r : "";
  }

  std::filesystem::path path_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<StoryIndex> index_;
};

TEST_F(StoryIndexTest, SameUrlOrNearDuplicateTextIsOneStory) {
  // The first article of a story is its own story.
  EXPECT_EQ(Assign("a1", "https://courier.example/tram", kStory), "a1");
  // Another feed, same canonical URL (tracking parameters dropped), text
  // only a teaser: same story by URL.
  EXPECT_EQ(Assign("a2", "https://courier.example/tram?utm_source=rss#top",
                   "Council extends tram line."),
            "a1");
  // A partner's copy: other URL (with tracking), other boilerplate.
  EXPECT_EQ(Assign("a3",
                   "https://partner.example/news/2026/tram-line?utm_medium="
                   "social&fbclid=x",
                   Syndicated(kStory)),
            "a1");
  // A different story.
  EXPECT_EQ(Assign("b1", "https://courier.example/library", kOtherStory), "b1");
  // An article keeps its story when it is updated.
  EXPECT_EQ(
      Assign("a3", "https://partner.example/news/2026/tram-line", kOtherStory),
      "a1");
}

TEST_F(StoryIndexTest, StableAcrossRestarts) {
  EXPECT_EQ(Assign("a1", "https://courier.example/tram", kStory), "a1");
  Open();  // the daemon restarted
  EXPECT_EQ(Assign("a3", "https://partner.example/t", Syndicated(kStory)),
            "a1");
  EXPECT_EQ(Assign("a1", "https://courier.example/tram", kStory), "a1");
}

TEST_F(StoryIndexTest, RetentionPrunesFingerprints) {
  const TimePoint now = Now();
  EXPECT_EQ(Assign("a1", "https://courier.example/tram", kStory,
                   now - std::chrono::hours(24 * 100)),
            "a1");
  EXPECT_EQ(Assign("b1", "https://courier.example/library", kOtherStory, now),
            "b1");
  ASSERT_TRUE(PruneByRetention(*store_, std::chrono::hours(24 * 90), now));
  EXPECT_EQ(*store_->CountStories(), 1);
  // The pruned story is gone: a copy now starts a story of its own.
  EXPECT_EQ(Assign("a3", "https://partner.example/t", Syndicated(kStory)),
            "a3");
}

// The lookup is sublinear: among thousands of stored fingerprints of
// unrelated texts, a new text's band keys fetch only a handful of them.
TEST_F(StoryIndexTest, LookupReadsCandidatesNotEveryFingerprint) {
  std::mt19937 rng(7);
  const std::vector<std::string> vocabulary = {
      "river", "council", "market", "school", "train",  "bridge", "museum",
      "park",  "storm",   "report", "budget", "police", "doctor", "farmer",
      "match", "season",  "album",  "film",   "court",  "harbour"};
  auto random_text = [&] {
    std::string t;
    for (int w = 0; w < 80; ++w)
      t += vocabulary[rng() % vocabulary.size()] + std::to_string(rng() % 50) +
           " ";
    return t;
  };
  for (int i = 0; i < 3000; ++i) {
    const StoryFingerprint fp = FingerprintText(random_text());
    StoryRecord r;
    r.article_id = r.story_id = "r" + std::to_string(i);
    r.canonical_url = "https://x.example/" + r.article_id;
    r.signature = EncodeFingerprint(fp);
    r.last_seen = Now();
    ASSERT_TRUE(store_->SaveStory(r, BandKeys(fp)));
  }
  auto candidates =
      store_->FindStoryCandidates(BandKeys(FingerprintText(kStory)));
  ASSERT_TRUE(candidates);
  EXPECT_LT(candidates->size(), 30u);
  EXPECT_EQ(Assign("a1", "https://courier.example/tram", kStory), "a1");
}

}  // namespace
}  // namespace newsflow
