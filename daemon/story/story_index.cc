#include "daemon/story/story_index.h"

#include "daemon/state/state_store.h"

namespace newsflow {

Result<std::string> StoryIndex::Assign(const std::string& article_id,
                                       const std::string& canonical_url,
                                       const StoryFingerprint& fingerprint,
                                       TimePoint now) {
  auto own = store_->FindStoryOfArticle(article_id);
  if (!own) return own.error();
  const std::vector<int64_t> bands = BandKeys(fingerprint);
  StoryRecord record;
  record.article_id = article_id;
  record.canonical_url = canonical_url;
  record.signature = EncodeFingerprint(fingerprint);
  record.last_seen = now;
  if (*own) {
    // Known: same story for good; refresh what the index knows of it.
    record.story_id = (*own)->story_id;
    if (record.signature.empty()) record.signature = (*own)->signature;
    if (auto r = store_->SaveStory(
            record, BandKeys(DecodeFingerprint(record.signature)));
        !r) {
      return r.error();
    }
    return record.story_id;
  }
  if (!canonical_url.empty()) {
    auto by_url = store_->FindStoryByUrl(canonical_url);
    if (!by_url) return by_url.error();
    record.story_id = *by_url;
  }
  if (record.story_id.empty() && !fingerprint.empty()) {
    auto candidates = store_->FindStoryCandidates(bands);
    if (!candidates) return candidates.error();
    double best = 0;
    for (const StoryRecord& c : *candidates) {
      const double j =
          EstimatedJaccard(fingerprint, DecodeFingerprint(c.signature));
      // Ties: the earliest-seen story.
      if (j >= kSameStoryJaccard &&
          (j > best || (j == best && c.last_seen < record.last_seen))) {
        best = j;
        record.story_id = c.story_id;
      }
    }
  }
  if (record.story_id.empty()) record.story_id = article_id;
  if (auto r = store_->SaveStory(record, bands); !r) return r.error();
  return record.story_id;
}

}  // namespace newsflow
