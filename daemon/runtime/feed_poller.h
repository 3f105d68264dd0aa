#pragma once

// FeedPoller: the life of one configured feed — poll, turn new or changed
// items into articles, publish them, remember what was delivered, sleep,
// repeat. One coroutine per feed on the daemon's io_context.
//
// A poll (PollOnce) is a sequence of named stages, top to bottom:
//   PlanRequest → FetchFeed (HTTP on the io_context; classification and
//   parsing on the worker pool) → RecordOutcome → FollowMove →
//   LearnSchedule → ProcessItems → CommitFeedState (the only place the
//   feed's FeedState is written).
// Everything touching the state store, metrics, publisher and timers runs
// on the io_context; parsing, cleaning and extraction on env.workers.
//
// Ownership: shared by its coroutine and the Daemon (shared_ptr), so Stop()
// during a poll is safe. The environment objects (HttpClient, StateStore,
// Publisher, WorkerPool) are owned by the Daemon and outlive every poller.

#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>

#include "config/config.h"
#include "daemon/normalizer/id_policy.h"
#include "daemon/runtime/article_builder.h"
#include "daemon/runtime/async_util.h"
#include "daemon/runtime/feed_events.h"
#include "daemon/runtime/feed_plan.h"
#include "daemon/runtime/publisher.h"
#include "daemon/runtime/scheduler.h"
#include "daemon/state/state_store.h"
#include "daemon/story/story_index.h"

namespace newsflow {

class PollSlots;

// The long-lived objects every poller uses.
struct PollerEnv {
  HttpClient* http = nullptr;
  StateStore* store = nullptr;
  Publisher* publisher = nullptr;
  // Shared outage detector; nullptr = OutageDetector::Global().
  OutageDetector* outage = nullptr;
  FeedEvents* events = nullptr;  // feed-level events; may be null
  // CPU work (parsing, cleaning, extraction); null runs it inline on the
  // io_context thread (tests only: the daemon always passes its pool).
  WorkerPool* workers = nullptr;
  // Story ids (issue 13); null: every article is its own story (tests).
  StoryIndex* stories = nullptr;
  // Polls in progress (pipeline.max_polls_in_progress, per host and in
  // total; poll_slots.h); null: unbounded (tests).
  PollSlots* polls = nullptr;
  // Tests only: runs on the worker just before a feed body is parsed (a
  // stand-in for a parser that takes too long). Null in the daemon.
  std::function<void()> before_parse_for_test;
};

// What one poll did.
struct PollSummary {
  FeedPollStatus status = FeedPollStatus::kNew;
  size_t items = 0;       // items in the document
  size_t published = 0;   // written to the durable outbox (delivery follows)
  size_t unchanged = 0;   // known items skipped
  size_t incomplete = 0;  // items to retry on the next poll
  size_t filtered = 0;    // rejected by filters, recorded as seen
  // The document was cut short: its complete items were processed, but the
  // poll counts as failed (retried, validators not stored).
  bool truncated = false;
};

class FeedPoller : public std::enable_shared_from_this<FeedPoller> {
 public:
  FeedPoller(const asio::any_io_executor& executor, PollerEnv env,
             FeedConfig feed, const DaemonConfig& config);
  FeedPoller(const FeedPoller&) = delete;
  FeedPoller& operator=(const FeedPoller&) = delete;

  // Polls until Stop(); with `once`, polls a single time. Never throws: a
  // failed poll is logged and retried with backoff.
  static Awaitable<void> Run(std::shared_ptr<FeedPoller> self, bool once);

  // One poll. With env.polls it first waits for a poll slot (its host's,
  // then a global one; poll_slots.h) and holds it until it returns; Stop()
  // ends that wait (a kCancelled error). Errors name the feed and URL.
  // Sends the stored validators
  // (every scheduler.unconditional_every-th poll none), follows a confirmed
  // permanent move, records the outcome (metrics, outage detector) and the
  // scheduling hints used by Run().
  Awaitable<Result<PollSummary>> PollOnce();

  // Delay Run() would sleep after the latest poll (jitter 0); for tests.
  std::chrono::milliseconds PlannedDelay() const;
  // URL the next poll fetches (the configured one, or a confirmed move).
  const std::string& current_url() const { return current_url_; }

  // Ends Run() at the next opportunity: a sleeping poller wakes at once, a
  // fetching one abandons its feed fetch (its answer is dropped), a polling
  // one stops before its next item. Idempotent.
  void Stop();

  // Reload (live fields of the reload table): http fetch settings,
  // scheduler and first_poll_backlog of `config` apply from the next poll
  // on (the plan is rebuilt for the same FeedConfig; a poll in progress
  // keeps the plan it started with). io_context thread.
  void ApplySettings(const DaemonConfig& config);

  // Steady time Run() sleeps until before its next poll; epoch while the
  // first poll has not ended.
  std::chrono::steady_clock::time_point next_poll_at() const {
    return next_poll_at_;
  }
  // Call before Run(): the first poll waits until `at` (the schedule of the
  // poller this one replaces) instead of starting at once.
  void ResumeScheduleAt(std::chrono::steady_clock::time_point at) {
    first_poll_at_ = at;
  }

  const FeedConfig& config() const { return feed_; }
  bool stopped() const { return stopped_; }
  // True once Run() returned.
  bool finished() const { return finished_; }
  // Result of the most recent poll (for `run --once` exit codes).
  bool last_poll_failed() const { return last_poll_failed_; }

 private:
  struct Fetched;  // what FetchFeed produced

  // The stages of PollOnce, in order. `state` is the feed's stored state,
  // updated in memory by the stages and written by CommitFeedState only.
  // The parser crash guard; an error while the feed is quarantined.
  std::optional<Error> CheckParserCrashes(FeedState& state);
  // One more parser death (a crash found at start-up or a parse past
  // pipeline.parse_timeout) in `state`: logged, and from the second in a
  // row on a `quarantined` event. CommitFeedState writes it.
  void CountParserDeath(FeedState& state, std::string_view how);
  FeedPollRequest PlanRequest(const FeedState& state);
  Awaitable<Fetched> FetchFeed(FeedPollRequest request);
  void RecordOutcome(const Fetched& fetched, FeedState& state);
  // Returns the URL to store (a confirmed move's target, else the fetched).
  std::string FollowMove(const FeedPollResult& result, FeedState& state);
  void LearnSchedule(const FeedPollResult& result, TimePoint now);
  // `backlog_limit` > 0: publish at most that many unknown items (the
  // feed's first poll), the newest by date (NewestFirstOrder); the older
  // unknown items are recorded as seen.
  Awaitable<Result<PollSummary>> ProcessItems(FeedPollResult result,
                                              size_t backlog_limit);
  Result<void> CommitFeedState(const FeedState& state);

  Result<IdPolicy> ApplyIdPolicy(const std::vector<ItemKey>& keys);

  PollerEnv env_;
  const FeedConfig feed_;
  SchedulerConfig scheduler_;  // ApplySettings replaces it
  PipelineConfig pipeline_;    // ApplySettings replaces it
  // The feed's requests and per-feed settings; replaced whole (one
  // assignment) when settings change, in-flight builds keep theirs.
  std::shared_ptr<const FeedPlan> plan_;
  asio::steady_timer sleep_;
  // Wakes a feed fetch in FetchFeed when it completes or Stop() is called.
  AsyncEvent fetch_event_;
  // The running feed fetch's cancel flag (HttpRequest::cancelled); Stop()
  // sets it so a retired poller's transfer ends instead of running on.
  std::shared_ptr<bool> fetch_cancel_;
  // Stop() ends a wait for a poll slot (env_.polls).
  AsyncCancel slot_cancel_;
  std::chrono::steady_clock::time_point next_poll_at_{};
  std::chrono::steady_clock::time_point first_poll_at_{};
  std::mt19937 rng_;
  int consecutive_failures_ = 0;
  // Scheduling state from the latest polls.
  std::string current_url_;
  int64_t polls_ = 0;
  ScheduleHints hints_;
  std::optional<std::chrono::seconds> ttl_;       // from the last document
  std::optional<std::chrono::seconds> adaptive_;  // from the last document
  bool stopped_ = false;
  bool finished_ = false;
  bool last_poll_failed_ = false;
};

}  // namespace newsflow
