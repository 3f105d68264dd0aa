#pragma once

// StateStore: what newsflowd remembers across restarts, in one SQLite file
// (WAL journal, synchronous=NORMAL, busy_timeout): the articles it has
// delivered (with item and content hashes, for dedup and update detection)
// and per-feed HTTP validators and health.
//
// Threading: NOT thread-safe. Use one StateStore from one thread only (the
// daemon's io_context thread). Calls are synchronous and short (one indexed
// row, no fsync with WAL+NORMAL on commit); Prune may take longer and is
// meant to run rarely (e.g. hourly).
//
// Durability: with synchronous=NORMAL a power loss may lose the last few
// commits (never corrupt the file). That can only re-publish articles (same
// key, same content), which the delivery contract allows; it never loses one.
//
// Errors: every failure is Errc::kState with where() = the database path.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/core/article.h"
#include "daemon/core/error.h"
#include "daemon/core/time_util.h"

struct sqlite3;

namespace newsflow {

// ArticleRecord::content_hash of an article the filters rejected (issue
// 13): recorded as seen, never built or evaluated again, never published.
inline constexpr char kFilteredContentHash[] = "filtered";

// An article the sinks acknowledged (or, with kFilteredContentHash, one the
// filters rejected).
struct ArticleRecord {
  std::string id;            // article id (stable, see normalizer)
  std::string feed_id;       // feed name from config; "" for a tombstone
  std::string item_hash;     // hash of the raw feed item as last seen
  std::string content_hash;  // content_hash of the published article
  // The definition content_hash was computed with (daemon/core/article.h);
  // rows stored before the column existed read as 1.
  int content_hash_version = kContentHashVersion;
  TimePoint first_published{};  // first delivery
  TimePoint last_published{};   // latest delivery (created or updated)
  // True when the row was pruned to a tombstone: feed_id is "", everything
  // else is as it was when pruned. The article is still "known".
  bool tombstone = false;
};

// What the fetcher and scheduler remember about one feed.
struct FeedState {
  std::string feed_id;        // feed name from config
  std::string url;            // URL last fetched
  std::string etag;           // ETag validator ("" = none)
  std::string last_modified;  // Last-Modified validator ("" = none)
  std::string body_hash;      // hash of the last body (no-change skip)
  std::optional<TimePoint> last_success;  // last successful fetch
  std::optional<TimePoint> last_attempt;  // last fetch attempt
  std::string last_error;                 // last failure, "" after a success
  int consecutive_failures = 0;           // failures since the last success
  std::string moved_to;                   // candidate permanent-redirect target
  int moved_hits = 0;  // consecutive fetches that redirected to moved_to
  // The configured URL that redirected to moved_to: a move belongs to it,
  // and a feed whose configured URL changed starts fresh.
  std::string moved_from;
  // Crash guard for the feed parser: set (and committed) before a body is
  // parsed, cleared after. Found set at the next poll, it means the process
  // died inside the parser; parse_crashes counts such deaths in a row and a
  // feed with two or more is quarantined (daemon/runtime/feed_poller.h).
  bool parse_in_progress = false;
  int parse_crashes = 0;
};

// A feed's article id policy (daemon/normalizer/id_policy.h), stored as
// text so the store does not depend on the normalizer.
struct FeedIdPolicyRecord {
  std::string feed_id;
  std::string policy = "guid";          // "guid" | "url"
  std::string reason;                   // why "url" was chosen
  std::optional<TimePoint> changed_at;  // when the policy last changed
  std::string last_items;  // EncodeItemKeys() of the previous document
};

// One built article in the durable outbox (table `outbox`): written before
// any sink sees it, removed when the sink's report is final (OutboxAck).
struct OutboxEntry {
  int64_t seq = 0;           // assigned by OutboxAppend; build order
  std::string id;            // article id = the record key
  std::string feed_id;       // feed name from config
  std::string item_hash;     // the feed item's hash when it was built
  std::string content_hash;  // the article's content hash
  std::string destination;   // the sink's route, encoded (runtime/outbox.h)
  std::string value;         // ArticleToJson of the article
  TimePoint created_at{};    // when it was written to the outbox
  // Bytes the entry is accounted for (outbox.max_bytes): value +
  // destination + ids and hashes + a fixed per-row overhead. Set by
  // OutboxAppend and OutboxLoad.
  int64_t bytes = 0;
};

// What OutboxAck does for one entry: delete it and, when `record` is set,
// mark the article delivered (MarkPublished) in the same transaction.
struct OutboxDone {
  int64_t seq = 0;
  std::optional<ArticleRecord> record;
};

// One article's place in a story (issue 13, daemon/story/): its story id
// and canonical URL. Table `story_articles`.
struct StoryRecord {
  std::string article_id;
  std::string story_id;
  std::string canonical_url;
  TimePoint last_seen{};
};

// A story's representative fingerprint (issue 16, daemon/story/README.md):
// the MinHash signature (EncodeFingerprint bytes) of the story's first
// fingerprinted article. At most one per story. Table `story_signatures`.
struct StorySignature {
  int64_t key = 0;  // > 0, assigned by AddStorySignature
  std::string story_id;
  std::string signature;
  TimePoint last_seen{};  // the latest article that joined the story
};

// One successful state write that a changelog mirrors (cluster mode,
// daemon/state/state_changelog.h). Exactly one pointer is set; they point
// at the values as written and are valid during the observer call only.
struct StateChange {
  const FeedState* feed = nullptr;                // SaveFeed
  const FeedIdPolicyRecord* id_policy = nullptr;  // SaveIdPolicy
  // MarkPublished, OutboxAck (delivered), UpdateItemHash, UpdateHashes
  // (the row re-read after the update), MarkDeadLettered. Live rows only:
  // a tombstone has no feed.
  const ArticleRecord* article = nullptr;
  // With `article`: the dead-letter reason (MarkDeadLettered); "" = not
  // dead-lettered.
  std::string dead_letter_reason;
};

// Persistent dedup and feed state. Non-copyable; owns the SQLite handle.
class StateStore {
 public:
  // Current schema version (PRAGMA user_version).
  static constexpr int kSchemaVersion = 2;

  // Opens or creates the database at `path` and creates the schema. The
  // parent directory must exist (it is not created). ":memory:" gives a
  // private in-memory database (tests; no WAL). Fails with kState when the
  // file cannot be opened or written, or was written by a newer schema.
  static Result<std::unique_ptr<StateStore>> Open(const std::string& path);

  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Returns the record for `id`, a tombstone record (see ArticleRecord) when
  // the article was pruned, or nullopt when the id was never published.
  Result<std::optional<ArticleRecord>> FindArticle(const std::string& id);

  // Records a delivered article: inserts, or updates feed_id, item_hash,
  // content_hash and last_published of an existing row while keeping its
  // first_published. A tombstone for the id is revived (its first_published
  // is kept as well).
  Result<void> MarkPublished(const ArticleRecord& record);

  // Updates only item_hash of a known article or tombstone (the item changed
  // in the feed but its cleaned content did not). kNotFound when unknown.
  Result<void> UpdateItemHash(const std::string& id,
                              const std::string& item_hash);

  // Updates item_hash, content_hash and content_hash_version of a known
  // article or tombstone, keeping everything else (a hash of an older
  // definition re-stored without publishing). kNotFound when unknown.
  Result<void> UpdateHashes(const std::string& id, const std::string& item_hash,
                            const std::string& content_hash,
                            int content_hash_version);

  // Returns the stored state, or FeedState{feed_id} when there is none.
  Result<FeedState> LoadFeed(const std::string& feed_id);

  // Inserts or replaces the state of state.feed_id.
  Result<void> SaveFeed(const FeedState& state);
  // Sets only the parse crash guard of `feed_id`'s row (which must exist),
  // committed at once: it must survive the crash it is there to detect.
  Result<void> SetParseInProgress(const std::string& feed_id, bool value);

  // Turns every article whose last_published < `cutoff` into a tombstone
  // (all fields but feed_id), so an expired item still
  // present in a feed is recognised, not published again as new. When
  // `tombstone_cutoff` is given, tombstones whose last_published is older
  // than it are deleted for good. Returns the number of articles pruned
  // (tombstones deleted are not counted). One transaction.
  Result<int64_t> Prune(TimePoint cutoff,
                        std::optional<TimePoint> tombstone_cutoff = {});

  // Returns the stored id policy, or FeedIdPolicyRecord{feed_id} (guid).
  Result<FeedIdPolicyRecord> LoadIdPolicy(const std::string& feed_id);

  // Inserts or replaces the id policy of record.feed_id.
  Result<void> SaveIdPolicy(const FeedIdPolicyRecord& record);

  // The durable outbox (same file, so an ack and "mark seen" are one
  // transaction). Appends `entries` (their seq is ignored) in one
  // transaction and sets each one's seq and bytes, increasing in the given
  // order and never reused (AUTOINCREMENT). On error nothing was written.
  Result<void> OutboxAppend(std::vector<OutboxEntry>& entries);

  // Deletes the acked entries and records the delivered ones (see
  // OutboxAck), in one transaction. An unknown seq is ignored.
  Result<void> OutboxAck(const std::vector<OutboxDone>& acks);

  // Up to `limit` entries with seq > `after_seq`, in seq order. With
  // `with_value` false, `value` and `destination` are left empty (bytes is
  // still set): the resume index, which reads no blob pages.
  Result<std::vector<OutboxEntry>> OutboxLoad(int64_t after_seq, size_t limit,
                                              bool with_value = true);
  // --- issue 13/16: story records (story_table.cc) ----------------------
  // Tables `story_articles` (article id -> story id, canonical URL,
  // last_seen) and `story_signatures` (one representative MinHash signature
  // per story, by integer key). The LSH band index over the signatures is
  // kept in memory by daemon/story/StoryIndex (rebuilt with
  // ForEachStorySignature), not here.
  //
  // Writes are batched: SaveStoryArticle, AddStorySignature and
  // TouchStorySignature are kept in memory (the Find* calls see them) and
  // committed in the next OutboxAppend's transaction, before its outbox
  // rows — so a story record is durable no later than the outbox row of
  // the article it was assigned to — or by FlushStories (also called when
  // kMaxPendingStoryWrites are pending, by PruneStories and at close).

  // Pending story writes beyond this are committed at once (FlushStories).
  static constexpr size_t kMaxPendingStoryWrites = 4096;

  // The record of `article_id`, or nullopt.
  Result<std::optional<StoryRecord>> FindStoryOfArticle(
      const std::string& article_id);
  // The story of the earliest-seen article with this canonical URL, or "".
  Result<std::string> FindStoryByUrl(const std::string& canonical_url);
  // Inserts or replaces the record of record.article_id (batched).
  Result<void> SaveStoryArticle(const StoryRecord& record);
  // The signature with `key`, or nullopt (none, or pruned).
  Result<std::optional<StorySignature>> FindStorySignature(int64_t key);
  // The key of `story_id`'s signature, or nullopt when it has none.
  Result<std::optional<int64_t>> FindStorySignatureKey(
      const std::string& story_id);
  // Adds the signature of `story_id`, which must have none (batched);
  // returns its key.
  Result<int64_t> AddStorySignature(const std::string& story_id,
                                    const std::string& signature,
                                    TimePoint last_seen);
  // Sets the last_seen of signature `key` (batched; retention).
  Result<void> TouchStorySignature(int64_t key, TimePoint last_seen);
  // Calls fn(key, signature, last_seen) for every stored signature last
  // seen at or after `since`, in key order (commits pending writes first).
  Result<void> ForEachStorySignature(
      TimePoint since,
      const std::function<void(int64_t, const std::string&, TimePoint)>& fn);
  // Commits the pending story writes (one transaction).
  Result<void> FlushStories();
  // Deletes records and signatures last seen before `cutoff`; returns how
  // many records. Calls the prune listener with the deleted signatures'
  // keys.
  Result<int64_t> PruneStories(TimePoint cutoff);
  // Called by PruneStories with the keys of the signatures it deleted
  // (after the commit). StoryIndex drops them from its band index.
  void SetStoryPruneListener(
      std::function<void(const std::vector<int64_t>&)> listener) {
    story_prune_listener_ = std::move(listener);
  }
  // Number of story records (articles) and of signatures (committed and
  // pending).
  Result<int64_t> CountStories();
  Result<int64_t> CountStorySignatures();
  // --- end issue 13 -------------------------------------------------------

  // Number of live (non-tombstone) article rows.
  Result<int64_t> CountArticles();

  // Number of tombstones.
  Result<int64_t> CountTombstones();

  // --- issue 12 (delivery): per-item page attempts and dead letters, in
  // their own tables (state_store_delivery.cc), created with IF NOT EXISTS
  // like feed_id_policy (no schema version bump).

  // Polls whose page fetch for article `id` failed so far (0 when none).
  Result<int> PageAttempts(const std::string& id);
  // Counts one more failed page fetch of `id` (an item of `feed_id`) at
  // `now`; returns the new count.
  Result<int> AddPageAttempt(const std::string& id, const std::string& feed_id,
                             TimePoint now);
  // Forgets the failed page fetches of `id` (its article was published).
  Result<void> ClearPageAttempts(const std::string& id);
  // Records `record` as seen (MarkPublished: never rebuilt while the item
  // is unchanged) and that the sink sent it to its dead-letter destination
  // for `reason`.
  Result<void> MarkDeadLettered(const ArticleRecord& record,
                                const std::string& reason);
  // Why `id` was dead-lettered (the latest time), or nullopt when it never
  // was.
  Result<std::optional<std::string>> FindDeadLetter(const std::string& id);
  // Deletes page attempts and dead-letter rows last touched before
  // `cutoff`; returns how many rows went.
  Result<int64_t> PruneDeliveryRecords(TimePoint cutoff);
  // --- end issue 12

  // --- issue 15 (cluster mode) ---
  // Called after each successful SaveFeed, SaveIdPolicy, MarkPublished,
  // OutboxAck (per delivered record), UpdateItemHash, UpdateHashes and
  // MarkDeadLettered, on the caller's thread. Not for SetParseInProgress
  // (a local crash guard), Prune or the outbox. Empty = none.
  void SetObserver(std::function<void(const StateChange&)> observer) {
    observer_ = std::move(observer);
  }
  // Stores `record` exactly as given (first_published included), replacing
  // any row or tombstone of its id: a restored changelog record. Does not
  // call the observer.
  Result<void> PutArticle(const ArticleRecord& record);
  // Records the dead-letter reason of `record` (which PutArticle stored)
  // without calling the observer: a restored changelog record.
  Result<void> PutDeadLetter(const ArticleRecord& record,
                             const std::string& reason);

  const std::string& path() const { return path_; }

 private:
  void Notify(const StateChange& change) const {
    if (observer_) observer_(change);
  }
  // The live row of `id` to the observer (after an update by id).
  void NotifyArticle(const std::string& id);

  class Statement;
  struct Statements;

  StateStore(std::string path, sqlite3* db);
  Result<void> Init();
  Result<void> InitDeliveryTables();  // issue 12, state_store_delivery.cc
  Error SqlError(const std::string& what) const;
  Result<void> Exec(const char* sql);
  // PRAGMA user_version: the schema version the file was written with.
  Result<int> ReadSchemaVersion();
  // Inside an open transaction: upsert `record` and delete its tombstone.
  bool UpsertArticle(const ArticleRecord& record);
  Result<void> InitStoryTables();         // story_table.cc: tables, migration
  Result<void> PrepareStoryStatements();  // story_table.cc
  // Inside an open transaction: writes the pending story writes.
  bool WritePendingStories();
  // After the commit that wrote them: forgets the pending story writes.
  void ClearPendingStories();
  size_t PendingStoryWrites() const;

  std::string path_;
  sqlite3* db_;  // owned
  std::unique_ptr<Statements> stmts_;
  // Checkpoints the WAL on its own connection and thread (files only), so
  // that copying pages into the database and its fsync never run on the
  // caller's thread; see Init().
  class Checkpointer;
  std::unique_ptr<Checkpointer> checkpointer_;
  std::function<void(const StateChange&)> observer_;
  // Story statements and pending story writes (story_table.cc).
  struct StoryTables;
  struct StoryTablesDeleter {
    void operator()(StoryTables* p) const;
  };
  std::unique_ptr<StoryTables, StoryTablesDeleter> story_;
  std::function<void(const std::vector<int64_t>&)> story_prune_listener_;
};

// Retention as the daemon applies it (hourly, from its Supervise loop):
// articles last published before now - `retention` become tombstones, and
// tombstones older than now - kTombstoneRetentionFactor * `retention` are
// deleted. Story records (issue 13) last seen before now - `retention`
// are deleted. Returns the number of articles tombstoned.
inline constexpr int kTombstoneRetentionFactor = 4;
Result<int64_t> PruneByRetention(StateStore& store,
                                 std::chrono::hours retention, TimePoint now);

}  // namespace newsflow
