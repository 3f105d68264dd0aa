#pragma once

// StoryIndex: gives each article the id of its story — the first article
// seen with the same canonical URL or a near-duplicate content_text
// (fingerprint.h) — and remembers it in the state store, so the answer is
// the same after a restart. An article that starts a story is its own
// story. Once an article has a story it keeps it (updates do not move it).
//
// Threading: io_context thread only (it uses the StateStore, which is
// single-threaded). Compute the fingerprint on the worker pool first;
// Assign does indexed lookups (canonical URL; kBands LSH band keys) and
// compares signatures only of the candidates the bands return — never a
// scan of the stored fingerprints.

#include <string>

#include "daemon/core/error.h"
#include "daemon/core/time_util.h"
#include "daemon/story/fingerprint.h"

namespace newsflow {

class StateStore;

class StoryIndex {
 public:
  // `store` must outlive the index.
  explicit StoryIndex(StateStore* store) : store_(store) {}
  StoryIndex(const StoryIndex&) = delete;
  StoryIndex& operator=(const StoryIndex&) = delete;

  // The story id of `article_id` (see above); records the article with
  // `now` as its last_seen (retention prunes story records with the
  // articles, PruneByRetention).
  Result<std::string> Assign(const std::string& article_id,
                             const std::string& canonical_url,
                             const StoryFingerprint& fingerprint,
                             TimePoint now);

 private:
  StateStore* store_;
};

}  // namespace newsflow
