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
// Memory: 32 band entries per fingerprinted story within retention, 8 bytes
// each at ≤ 70 % load (~0.35–0.75 KB per story). The first Assign reads
// every stored signature to build it (StateStore::ForEachStorySignature).
//
// Threading: io_context thread only (it uses the StateStore, which is
// single-threaded). Compute the fingerprint on the worker pool first.

#include <cstdint>
#include <string>

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
};

class StoryIndex {
 public:
  // At most this many stories are indexed under one band key (the first
  // ones): a probe returns at most this many candidates, whatever the
  // texts (a band shared by many distinct stories is boilerplate).
  static constexpr int kMaxStoriesPerBand = 8;

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
  Result<void> Load();
  void IndexSignature(int64_t key, const std::vector<int64_t>& bands);

  StateStore* store_;
  BandTable bands_;
  bool loaded_ = false;
  StoryIndexStats stats_;
};

}  // namespace newsflow
