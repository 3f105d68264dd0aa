#pragma once

// StoryIndex: gives each article the id of its story — the first article
// seen with the same canonical URL or a near-duplicate content_text
// (fingerprint.h) — and remembers it in the state store, so the answer is
// the same after a restart. An article that starts a story is its own
// story. Once an article has a story it keeps it (updates do not move it).
//
// Cost (issue 16): independent of the number of stored articles and of
// the number of copies of a story. Each story has at most one
// representative signature (its first fingerprinted article's; a copy
// that joins adds none), and the LSH band keys of the representatives are
// kept in memory (BandTable, at most kMaxStoriesPerBand stories per band
// key), so Assign does a fixed number of indexed lookups (article id,
// canonical URL, story id) plus one signature read per candidate — never
// a scan, never a read per copy. Its writes are batched by the store
// into the next outbox transaction (StateStore, story tables).
//
// Window: only stories seen (started, joined or updated) within
// kCandidateWindow are in the band index, so memory follows the recent
// article rate, not state.retention: a near-duplicate arriving later than
// that after its story's last copy starts a new story (the canonical-URL
// match has no window). A story seen again (by URL, or an update of one of
// its articles) is indexed again.
//
// Memory: 32 band entries per fingerprinted story in the window, 8 bytes
// each at ≤ 70 % load (~0.35–0.75 KB per story), plus its last-seen time.
// The first Assign reads the window's signatures to build it
// (StateStore::ForEachStorySignature).
//
// Threading: io_context thread only (it uses the StateStore, which is
// single-threaded). Compute the fingerprint on the worker pool first.

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/core/error.h"
#include "daemon/core/time_util.h"
#include "daemon/story/band_table.h"
#include "daemon/story/fingerprint.h"

namespace newsflow {

class StateStore;

struct StoryIndexStats {
  uint64_t assigned = 0;         // Assign calls that succeeded
  uint64_t candidates_read = 0;  // representative signatures read, compared
  uint64_t band_entries = 0;     // entries in the in-memory band index
  uint64_t band_bytes = 0;       // its memory
  uint64_t evicted = 0;          // stories that left the candidate window
};

class StoryIndex {
 public:
  // At most this many stories are indexed under one band key (the first
  // ones): a probe returns at most this many candidates, whatever the
  // texts (a band shared by many distinct stories is boilerplate).
  static constexpr int kMaxStoriesPerBand = 8;
  // Stories not seen for this long leave the band index (see above).
  // Syndicated copies of a story appear within hours to a day or two.
  static constexpr std::chrono::hours kCandidateWindow{72};

  // `store` must outlive the index. Registers as the store's story prune
  // listener (one StoryIndex per store).
  explicit StoryIndex(StateStore* store);
  ~StoryIndex();
  StoryIndex(const StoryIndex&) = delete;
  StoryIndex& operator=(const StoryIndex&) = delete;

  // The story id of `article_id` (see above); records the article with
  // `now` as its last_seen (retention prunes story records with the
  // articles, PruneByRetention). The record is committed with the next
  // outbox append (or earlier), so it is durable no later than the
  // article's outbox row.
  Result<std::string> Assign(const std::string& article_id,
                             const std::string& canonical_url,
                             const StoryFingerprint& fingerprint,
                             TimePoint now);

  StoryIndexStats stats() const;

 private:
  // Builds the band index from the store (once, at the first Assign).
  Result<void> Load(TimePoint now);
  void IndexSignature(int64_t key, const std::vector<int64_t>& bands,
                      TimePoint last_seen);
  // Records that the story of signature `key` was seen at `now` (store and
  // window), indexing it again if it had left the window.
  Result<void> Touch(int64_t key, TimePoint now);
  // Drops the stories last seen before now - kCandidateWindow from the band
  // index (one pass over it, at most hourly).
  void EvictOutsideWindow(TimePoint now);

  StateStore* store_;
  BandTable bands_;
  // Last seen of every indexed signature key (the window).
  std::unordered_map<uint32_t, TimePoint> indexed_;
  TimePoint next_eviction_{};
  bool loaded_ = false;
  StoryIndexStats stats_;
};

}  // namespace newsflow
