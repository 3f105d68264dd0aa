#include "daemon/story/story_index.h"

#include <algorithm>
#include <cassert>
#include <unordered_set>

#include "daemon/core/stage_cpu.h"
#include "daemon/state/state_store.h"

namespace newsflow {

StoryIndex::StoryIndex(StateStore* store) : store_(store) {
  store_->SetStoryPruneListener([this](const std::vector<int64_t>& keys) {
    std::unordered_set<uint32_t> gone;
    for (int64_t k : keys) {
      gone.insert(static_cast<uint32_t>(k));
      indexed_.erase(static_cast<uint32_t>(k));
    }
    bands_.Remove(gone);
  });
}

StoryIndex::~StoryIndex() { store_->SetStoryPruneListener(nullptr); }

StoryIndexStats StoryIndex::stats() const {
  StoryIndexStats s = stats_;
  s.band_entries = bands_.size();
  s.band_bytes = bands_.bytes();
  return s;
}

void StoryIndex::IndexSignature(int64_t key, const std::vector<int64_t>& bands,
                                TimePoint last_seen) {
  // Keys are assigned from 1 up and never reach 2^32 stories.
  assert(key > 0 && key <= UINT32_MAX);
  for (int64_t band : bands)
    bands_.Add(band, static_cast<uint32_t>(key), kMaxStoriesPerBand);
  indexed_[static_cast<uint32_t>(key)] = last_seen;
}

Result<void> StoryIndex::Load(TimePoint now) {
  auto r = store_->ForEachStorySignature(
      now - kCandidateWindow,
      [this](int64_t key, const std::string& bytes, TimePoint last_seen) {
        IndexSignature(key, BandKeys(DecodeFingerprint(bytes)), last_seen);
      });
  if (!r) return r;
  loaded_ = true;
  next_eviction_ = now + std::chrono::hours(1);
  return {};
}

Result<void> StoryIndex::Touch(int64_t key, TimePoint now) {
  if (auto r = store_->TouchStorySignature(key, now); !r) return r;
  auto it = indexed_.find(static_cast<uint32_t>(key));
  if (it != indexed_.end()) {
    it->second = std::max(it->second, now);
    return {};
  }
  // Left the window earlier: seen again, so a candidate again.
  auto sig = store_->FindStorySignature(key);
  if (!sig) return sig.error();
  if (*sig) {
    IndexSignature(key, BandKeys(DecodeFingerprint((*sig)->signature)), now);
  }
  return {};
}

void StoryIndex::EvictOutsideWindow(TimePoint now) {
  if (now < next_eviction_) return;
  next_eviction_ = now + std::chrono::hours(1);
  const TimePoint cutoff = now - kCandidateWindow;
  std::unordered_set<uint32_t> gone;
  for (auto it = indexed_.begin(); it != indexed_.end();) {
    if (it->second < cutoff) {
      gone.insert(it->first);
      it = indexed_.erase(it);
    } else {
      ++it;
    }
  }
  bands_.Remove(gone);
  stats_.evicted += gone.size();
}

Result<std::string> StoryIndex::Assign(const std::string& article_id,
                                       const std::string& canonical_url,
                                       const StoryFingerprint& fingerprint,
                                       TimePoint now) {
  // The whole lookup and its (batched) writes count as stage `state`.
  ScopedStageCpu cpu(CpuStage::kState);
  if (!loaded_) {
    if (auto r = Load(now); !r) return r.error();
  }
  EvictOutsideWindow(now);
  auto own = store_->FindStoryOfArticle(article_id);
  if (!own) return own.error();
  if (*own) {
    // Known: same story for good; refresh its last_seen (retention).
    StoryRecord record = std::move(**own);
    record.last_seen = now;
    if (!canonical_url.empty()) record.canonical_url = canonical_url;
    if (auto r = store_->SaveStoryArticle(record); !r) return r.error();
    auto key = store_->FindStorySignatureKey(record.story_id);
    if (!key) return key.error();
    if (*key) {
      if (auto r = Touch(**key, now); !r) return r.error();
    }
    ++stats_.assigned;
    return record.story_id;
  }

  StoryRecord record;
  record.article_id = article_id;
  record.canonical_url = canonical_url;
  record.last_seen = now;
  bool by_url = false;
  if (!canonical_url.empty()) {
    auto story = store_->FindStoryByUrl(canonical_url);
    if (!story) return story.error();
    record.story_id = std::move(*story);
    by_url = !record.story_id.empty();
  }
  std::vector<int64_t> bands;
  if (!fingerprint.empty()) bands = BandKeys(fingerprint);
  if (!by_url && !fingerprint.empty()) {
    // Candidates: the representatives sharing a band (each at most once).
    std::vector<uint32_t> keys;
    for (int64_t band : bands) bands_.Find(band, &keys);
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    double best = 0;
    int64_t best_key = 0;
    // Ascending keys: on equal similarity the earlier story stays.
    for (uint32_t key : keys) {
      auto sig = store_->FindStorySignature(key);
      if (!sig) return sig.error();
      ++stats_.candidates_read;
      if (!*sig) continue;  // pruned
      const double j =
          EstimatedJaccard(fingerprint, DecodeFingerprint((*sig)->signature));
      if (j >= kSameStoryJaccard && j > best) {
        best = j;
        best_key = key;
        record.story_id = (*sig)->story_id;
      }
    }
    if (best_key != 0) {
      if (auto r = Touch(best_key, now); !r) return r.error();
    }
  }
  if (record.story_id.empty()) {
    // A new story; its first fingerprint represents it.
    record.story_id = article_id;
    if (!fingerprint.empty()) {
      auto key = store_->AddStorySignature(record.story_id,
                                           EncodeFingerprint(fingerprint), now);
      if (!key) return key.error();
      IndexSignature(*key, bands, now);
    }
  } else if (by_url && !fingerprint.empty()) {
    // Joined by URL (e.g. a teaser started the story): the story's first
    // fingerprint represents it; later ones only refresh it.
    auto key = store_->FindStorySignatureKey(record.story_id);
    if (!key) return key.error();
    if (*key) {
      if (auto r = Touch(**key, now); !r) return r.error();
    } else {
      auto added = store_->AddStorySignature(
          record.story_id, EncodeFingerprint(fingerprint), now);
      if (!added) return added.error();
      IndexSignature(*added, bands, now);
    }
  }
  if (auto r = store_->SaveStoryArticle(record); !r) return r.error();
  ++stats_.assigned;
  return record.story_id;
}

}  // namespace newsflow
