#pragma once

// The changelog records of cluster mode (issue 15, decision 5;
// docs/cluster.md): per-feed state as StateRecords (key, JSON value) that
// the cluster writes to the feed's partition and hands back, latest per
// key, to the daemon that is assigned the feed next.
//
// Keys (feed names are [A-Za-z0-9._-], so '/' separates unambiguously):
//   f/<feed>                FeedState (validators, body hash, failures —
//                           the backoff —, moves, parse crash count)
//   p/<feed>                FeedIdPolicyRecord
//   a/<feed>/<article id>   ArticleRecord (+ dead-letter reason)
// Values are JSON objects; times are integer milliseconds since the epoch.
// The parse crash guard (FeedState::parse_in_progress) is local to a
// process and always restored as false. Unknown JSON fields are ignored
// (a newer daemon may add some); a missing field takes its default.
//
// Threading: plain functions; ApplyStateRecords uses the store, so on the
// store's thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/cluster.h"
#include "daemon/core/error.h"
#include "daemon/state/state_store.h"

namespace newsflow {

// An article record as the changelog carries it.
struct ChangelogArticle {
  ArticleRecord record;
  std::string dead_letter_reason;  // "" = delivered (not dead-lettered)
};

// One decoded record: exactly one of the three is set.
struct ChangelogEntry {
  std::string feed;  // the feed the key names
  std::optional<FeedState> feed_state;
  std::optional<FeedIdPolicyRecord> id_policy;
  std::optional<ChangelogArticle> article;
};

StateRecord FeedStateRecord(const FeedState& state);
StateRecord IdPolicyRecord(const FeedIdPolicyRecord& record);
// REQUIRES: !record.feed_id.empty() (a tombstone has no feed).
StateRecord ArticleStateRecord(const ArticleRecord& record,
                               const std::string& dead_letter_reason = "");

// The record of a state write (StateStore observer); nullopt when the
// change has no feed (never for the three kinds above with a feed).
std::optional<StateRecord> RecordOfChange(const StateChange& change);

// The feed a key names ("" when the key is not one of ours).
std::string FeedOfKey(std::string_view key);

// kParse for an unknown key shape or a bad value.
Result<ChangelogEntry> DecodeStateRecord(const StateRecord& record);

// Writes every decodable record into `store`, exactly as recorded (the
// changelog wins over the local cache for those feeds): SaveFeed,
// SaveIdPolicy, PutArticle (+ PutDeadLetter). Records with an empty value
// are skipped (tombstones are dropped by the cluster already). Returns how
// many were applied; undecodable records are counted in `*bad` (may be
// null) and skipped; a store failure stops and is returned. The caller
// keeps the store's observer from mirroring these writes back.
Result<size_t> ApplyStateRecords(StateStore& store,
                                 const std::vector<StateRecord>& records,
                                 size_t* bad = nullptr);

}  // namespace newsflow
