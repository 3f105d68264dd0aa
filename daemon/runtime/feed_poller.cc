#include "daemon/runtime/feed_poller.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/this_coro.hpp>
#include <cctype>
#include <numeric>
#include <unordered_map>

#include "daemon/core/logging.h"
#include "daemon/core/metrics.h"
#include "daemon/core/stage_cpu.h"
#include "daemon/core/url.h"
#include "daemon/normalizer/id_policy.h"
#include "daemon/normalizer/normalizer.h"
#include "daemon/runtime/backlog_order.h"
#include "daemon/runtime/poll_slots.h"
#include "daemon/runtime/runtime_metrics.h"
#include "daemon/runtime/worker_pool.h"

namespace newsflow {

namespace {

MetricLabels FeedLabel(const std::string& feed) { return {{"feed", feed}}; }

// True when a permanent redirect of `configured_url` was confirmed and the
// feed is polled at its target (state as loaded, before this poll's stages
// ran). A move recorded for another configured URL (the operator changed
// `url:` since) does not count.
bool IsMoved(const FeedState& state, const std::string& configured_url,
             int move_hits) {
  return !state.moved_to.empty() && state.moved_hits >= move_hits &&
         state.url == state.moved_to && state.moved_from == configured_url;
}

}  // namespace

// What FetchFeed produced: the classified, parsed answer (or the error)
// and when it arrived.
struct FeedPoller::Fetched {
  Result<FeedPollResult> result = Error::Internal("poll did not run");
  TimePoint now;
  std::string outcome;  // FetchOutcomeName(result)
  bool parsed = false;  // a body went through the parser (and came back)
  // The parse ran past pipeline.parse_timeout; its result will be dropped.
  bool parse_timed_out = false;
};

namespace {

// How long a feed whose parser died `crashes` times in a row is skipped:
// one hour after the second death, doubling, at most a day.
std::chrono::seconds QuarantineFor(int crashes) {
  const int doublings = std::clamp(crashes - 2, 0, 5);
  return std::min<std::chrono::seconds>(
      std::chrono::hours(1) * (1 << doublings), std::chrono::hours(24));
}

}  // namespace

FeedPoller::FeedPoller(const asio::any_io_executor& executor, PollerEnv env,
                       FeedConfig feed, const DaemonConfig& config)
    : env_(env),
      feed_(std::move(feed)),
      scheduler_(config.scheduler),
      pipeline_(config.pipeline),
      plan_(std::make_shared<const FeedPlan>(MakeFeedPlan(feed_, config))),
      sleep_(executor),
      fetch_event_(executor),
      rng_(std::random_device{}()) {
  current_url_ = feed_.url;
  if (!plan_->warning.empty()) {
    GetLogger("feed." + feed_.name)->warn("{}", plan_->warning);
  }
}

void FeedPoller::Stop() {
  stopped_ = true;
  sleep_.cancel();
  if (fetch_cancel_) *fetch_cancel_ = true;  // the transfer ends, too
  fetch_event_.NotifyAll();
  slot_cancel_.Cancel();  // a wait for a poll slot ends holding nothing
}

void FeedPoller::ApplySettings(const DaemonConfig& config) {
  scheduler_ = config.scheduler;
  pipeline_ = config.pipeline;
  plan_ = std::make_shared<const FeedPlan>(MakeFeedPlan(feed_, config));
}

std::chrono::milliseconds FeedPoller::PlannedDelay() const {
  PollPlan plan;
  plan.interval = scheduler_.adaptive && adaptive_ && !plan_->interval_explicit
                      ? *adaptive_
                      : plan_->interval;
  plan.consecutive_failures = consecutive_failures_;
  plan.hints = hints_;
  plan.hints.ttl = ttl_;
  return NextPollDelay(plan, scheduler_);
}

Awaitable<void> FeedPoller::Run(std::shared_ptr<FeedPoller> self, bool once) {
  auto log = GetLogger("feed." + self->feed_.name);
  auto& metrics = MetricsRegistry::Global();
  Gauge& next_poll =
      metrics.GetGauge("newsflow_feed_next_poll_seconds",
                       "Seconds until the feed's next scheduled poll.",
                       FeedLabel(self->feed_.name));
  std::uniform_real_distribution<double> jitter(-1.0, 1.0);
  if (self->first_poll_at_ > std::chrono::steady_clock::now() &&
      !self->stopped_) {
    // Replacing a poller (reload): keep its schedule.
    self->next_poll_at_ = self->first_poll_at_;
    self->sleep_.expires_at(self->first_poll_at_);
    co_await self->sleep_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  while (!self->stopped_) {
    // Back-pressure: no fetching while the outbox is full (disk budget).
    if (self->env_.publisher != nullptr) {
      co_await self->env_.publisher->WaitForRoom();
      if (self->stopped_) break;
    }
    Result<PollSummary> summary = Error::Internal("poll did not run");
    try {
      summary = co_await self->PollOnce();
    } catch (const std::exception& e) {
      // The edge: nothing below should throw, but one feed must never take
      // the daemon down.
      summary =
          Error::Internal(std::string("unexpected exception: ") + e.what(),
                          "feed " + self->feed_.name);
      ++self->consecutive_failures_;
    }
    self->last_poll_failed_ = !summary || summary->truncated;
    if (once || self->stopped_) break;
    PollPlan plan;
    // An interval the operator wrote on the feed wins over the adaptive one.
    plan.interval = self->scheduler_.adaptive && self->adaptive_ &&
                            !self->plan_->interval_explicit
                        ? *self->adaptive_
                        : self->plan_->interval;
    plan.consecutive_failures = self->consecutive_failures_;
    plan.hints = self->hints_;
    plan.hints.ttl = self->ttl_;
    plan.jitter = jitter(self->rng_);
    const auto delay = NextPollDelay(plan, self->scheduler_);
    next_poll.Set(std::chrono::duration<double>(delay).count());
    log->debug("Next poll scheduled. delay_ms={} consecutive_failures={}",
               delay.count(), self->consecutive_failures_);
    self->next_poll_at_ = std::chrono::steady_clock::now() + delay;
    self->sleep_.expires_at(self->next_poll_at_);
    co_await self->sleep_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  self->finished_ = true;
}

Awaitable<Result<PollSummary>> FeedPoller::PollOnce() {
  // First a poll slot (pipeline.max_polls_in_progress; one of the feed
  // host's, then a global one), held until this poll's articles are durable
  // (returned from here). Taken before the fetch, never after it: a fetched
  // body waiting for a slot would hold body budget that the polls in
  // progress need for their pages (deadlock; poll_slots.h). The host is the
  // last poll's URL's (a confirmed move), else the configured one; the
  // feed's state is loaded after the wait, fresh.
  PollSlots::Held slot;
  if (env_.polls != nullptr) {
    slot = co_await env_.polls->Acquire(HostKeyOf(current_url_), &slot_cancel_);
    if (!slot || stopped_) {
      // Stopped while waiting; a slot granted meanwhile is released at once.
      co_return Error(Errc::kCancelled,
                      "poll abandoned while waiting for a slot: poller stopped",
                      "feed " + feed_.name);
    }
  }
  auto loaded = env_.store->LoadFeed(feed_.name);
  if (!loaded) co_return loaded.error();
  FeedState state = std::move(*loaded);
  consecutive_failures_ = state.consecutive_failures;  // survives restarts
  if (auto quarantined = CheckParserCrashes(state)) co_return *quarantined;

  // Room before the fetch: Run() waits while the outbox is full, so no feed
  // body is fetched and parsed only to wait, held in memory, for room; a
  // built article goes to the outbox on disk at once (README.md).
  Fetched fetched = co_await FetchFeed(PlanRequest(state));
  if (stopped_ && !fetched.result &&
      fetched.result.error().code() == Errc::kCancelled) {
    co_return fetched.result.error();  // abandoned by Stop(): not a failure
  }
  if (fetched.parsed) state.parse_crashes = 0;
  if (fetched.parse_timed_out) {
    CountParserDeath(state, "The parser ran past pipeline.parse_timeout");
  }
  RecordOutcome(fetched, state);
  if (!fetched.result) {
    (void)CommitFeedState(state);
    co_return fetched.result.error();
  }
  FeedPollResult& result = *fetched.result;
  state.url = FollowMove(result, state);
  LearnSchedule(result, fetched.now);

  PollSummary summary;
  summary.status = result.status;
  FeedValidators validators = result.validators;
  const bool truncated = result.feed.truncated;
  if (result.feed.items_over_cap > 0) {
    // Never silent: the operator learns that a feed lists more items than
    // the parser reads (and which feed).
    MetricsRegistry::Global()
        .GetCounter("newsflow_feed_items_over_cap_total",
                    "Feed items past the per-document cap, not read.",
                    FeedLabel(feed_.name))
        .Inc(result.feed.items_over_cap);
    GetLogger("feed." + feed_.name)
        ->warn(
            "Feed lists more items than the cap; the rest were not read. "
            "feed={} items_over_cap={}",
            feed_.name, result.feed.items_over_cap);
  }
  if (result.status == FeedPollStatus::kNew) {
    // pipeline.first_poll_backlog: the first successful poll of a feed
    // publishes at most that many new items; the older backlog is
    // remembered as seen, not published.
    const size_t backlog_limit =
        state.last_success ? 0 : pipeline_.first_poll_backlog;
    auto processed = co_await ProcessItems(std::move(result), backlog_limit);
    if (!processed) co_return processed.error();
    summary = *processed;
    // Store the validators only when every item is safely delivered:
    // otherwise the next poll would get a 304 and never retry the rest.
    // Nor for a document cut short: the next poll must fetch it whole.
    if (summary.incomplete > 0 || truncated) validators = {};
  } else {
    // Nothing new: keep the stored body hash (the 304 carries none).
    validators.body_hash = state.body_hash;
  }
  state.etag = validators.etag;
  state.last_modified = validators.last_modified;
  state.body_hash = validators.body_hash;
  summary.truncated = truncated;
  if (!truncated) state.last_success = Now();
  if (auto saved = CommitFeedState(state); !saved) co_return saved.error();
  auto log = GetLogger("feed." + feed_.name);
  if (summary.status == FeedPollStatus::kNew) {
    log->info("Feed polled. items={} published={} unchanged={} incomplete={}",
              summary.items, summary.published, summary.unchanged,
              summary.incomplete);
  } else {
    log->debug("Feed unchanged. status={}", fetched.outcome);
  }
  co_return summary;
}

// Stage 1: the request — the configured URL or a confirmed move, and the
// stored validators when they belong to that URL.
FeedPollRequest FeedPoller::PlanRequest(const FeedState& state) {
  // A permanent redirect seen often enough replaces the configured URL.
  const int move_hits = std::max(1, scheduler_.redirect_move_hits);
  const bool moved = IsMoved(state, feed_.url, move_hits);
  current_url_ = moved ? state.moved_to : feed_.url;
  FeedPollRequest request;
  request.feed_name = feed_.name;
  request.http = FeedRequestFor(*plan_, current_url_);
  request.assumed_zone = plan_->assumed_zone;
  // Validators are only trusted for the URL they were stored for.
  if (state.url == current_url_) {
    request.previous = {state.etag, state.last_modified, state.body_hash};
  }
  // Servers that answer 304 to anything would hide changes for ever: every
  // Nth poll asks without validators (the body hash still avoids rework).
  ++polls_;
  request.unconditional = scheduler_.unconditional_every > 0 &&
                          polls_ % scheduler_.unconditional_every == 0;
  return request;
}

// Stage 2: the transfer on the io_context, then classification (body hash,
// validators) and parsing on a worker.
Awaitable<FeedPoller::Fetched> FeedPoller::FetchFeed(FeedPollRequest request) {
  const std::string where = "feed " + feed_.name + " (" + current_url_ + ")";
  const auto fetch_start = std::chrono::steady_clock::now();
  // Stop() abandons the fetch: its answer, when it comes, is dropped.
  auto answer = std::make_shared<std::optional<Result<HttpResponse>>>();
  fetch_cancel_ = std::make_shared<bool>(stopped_);
  HttpRequest http_request = ConditionalRequest(request);
  http_request.cancelled = fetch_cancel_;
  env_.http->Fetch(std::move(http_request),
                   [answer, self = shared_from_this()](Result<HttpResponse> r) {
                     *answer = std::move(r);
                     self->fetch_event_.NotifyAll();
                   });
  while (!answer->has_value() && !stopped_) co_await fetch_event_.Wait();
  Result<HttpResponse> response =
      answer->has_value() ? std::move(**answer)
                          : Result<HttpResponse>(Error(
                                Errc::kCancelled,
                                "feed fetch abandoned: poller stopped", where));
  const std::chrono::duration<double> fetch_seconds =
      std::chrono::steady_clock::now() - fetch_start;
  Fetched fetched;
  fetched.now = Now();
  if (response) {
    hints_ = HintsFromResponse(*response, fetched.now);
    // Only a 2xx body can reach the parser; 304s (most polls of a quiet
    // feed) cost no state writes.
    const bool may_parse = response->status >= 200 && response->status < 300 &&
                           !response->body.empty();
    // Named, not inline in co_await: see worker_pool.h (GCC 12). The body
    // (and its share of http.max_body_bytes_in_flight) is released on the
    // worker when the parse is done with it.
    auto classify = [request = std::move(request),
                     response = std::move(*response),
                     hook = env_.before_parse_for_test]() mutable {
      if (hook) hook();
      ScopedStageCpu cpu(CpuStage::kParse);
      return ClassifyFeedResponse(request, std::move(response));
    };
    // The crash guard is committed before the parse and cleared after it:
    // found set at the next poll, the parser died on this body.
    if (may_parse) (void)env_.store->SetParseInProgress(feed_.name, true);
    if (env_.workers != nullptr) {
      // The watchdog: a parse past the bound is abandoned (its thread runs
      // on; the result is dropped) and counts like a crash.
      const auto timeout = pipeline_.parse_timeout;
      auto parsed =
          co_await env_.workers->RunWithin(std::move(classify), timeout);
      if (parsed) {
        fetched.result = std::move(*parsed);
      } else {
        fetched.parse_timed_out = true;
        fetched.result =
            Error(Errc::kParse,
                  "parser timed out after " + std::to_string(timeout.count()) +
                      " ms (pipeline.parse_timeout); result discarded",
                  where);
      }
    } else {
      fetched.result = classify();
    }
    if (may_parse) (void)env_.store->SetParseInProgress(feed_.name, false);
    fetched.parsed = may_parse && !fetched.parse_timed_out;
  } else {
    hints_ = {};
    // Name the feed in `where`; curl's message already carries the URL.
    const Error& e = response.error();
    fetched.result = Error(e.code(), e.message(), where, e.http_status());
  }
  fetched.outcome = fetched.parse_timed_out ? "parse_timeout"
                                            : FetchOutcomeName(fetched.result);
  FetchDurationHistogram(fetched.outcome).Observe(fetch_seconds.count());
  co_return fetched;
}

// Before the fetch: a crash guard left set means the process died inside
// the parser on this feed's last body. Two deaths in a row quarantine the
// feed (skipped with a growing pause, a metric and a feed event) instead of
// letting Restart= feed the same document to the parser again.
std::optional<Error> FeedPoller::CheckParserCrashes(FeedState& state) {
  auto log = GetLogger("feed." + feed_.name);
  Gauge& gauge = MetricsRegistry::Global().GetGauge(
      "newsflow_feed_quarantined",
      "1 while the feed is skipped because the parser died on it twice.",
      FeedLabel(feed_.name));
  if (!state.last_attempt) {
    // A feed's first poll: create its row so the guard has one to mark.
    (void)env_.store->SaveFeed(state);
  }
  if (state.parse_in_progress) {
    state.parse_in_progress = false;
    state.last_attempt = Now();  // the quarantine counts from here
    CountParserDeath(state,
                     "The process died while parsing this feed's last "
                     "document");
    (void)CommitFeedState(state);
  }
  if (state.parse_crashes < 2) {
    gauge.Set(0);
    return std::nullopt;
  }
  const TimePoint since = state.last_attempt.value_or(Now());
  const TimePoint until = since + QuarantineFor(state.parse_crashes);
  if (Now() >= until) {
    log->warn("Quarantine over; parsing this feed again. feed={} crashes={}",
              feed_.name, state.parse_crashes);
    gauge.Set(0);
    return std::nullopt;
  }
  gauge.Set(1);
  log->warn(
      "Feed quarantined: the parser died or timed out on its last {} "
      "documents; skipped until {}. feed={}",
      state.parse_crashes, FormatRfc3339(until), feed_.name);
  return Error(Errc::kBlocked,
               "quarantined after " + std::to_string(state.parse_crashes) +
                   " parser crashes or timeouts in a row, until " +
                   FormatRfc3339(until),
               "feed " + feed_.name);
}

void FeedPoller::CountParserDeath(FeedState& state, std::string_view how) {
  state.parse_crashes += 1;
  GetLogger("feed." + feed_.name)
      ->error("{}. feed={} url={} crashes_in_a_row={}", how, feed_.name,
              current_url_.empty() ? feed_.url : current_url_,
              state.parse_crashes);
  if (state.parse_crashes >= 2) {
    MetricsRegistry::Global()
        .GetGauge(
            "newsflow_feed_quarantined",
            "1 while the feed is skipped because the parser died on it twice.",
            FeedLabel(feed_.name))
        .Set(1);
    if (env_.events != nullptr) {
      env_.events->Emit(
          {"quarantined",
           feed_.name,
           feed_.url,
           Now(),
           {{"parser_crashes", std::to_string(state.parse_crashes)},
            {"for_seconds",
             std::to_string(QuarantineFor(state.parse_crashes).count())}}});
    }
  }
}

// Stage 3: metrics, the outage detector, the failure streak and its events.
void FeedPoller::RecordOutcome(const Fetched& fetched, FeedState& state) {
  auto& metrics = MetricsRegistry::Global();
  const std::string& outcome = fetched.outcome;
  const TimePoint now = fetched.now;
  metrics
      .GetCounter("newsflow_feed_fetches_total", "Feed fetches by outcome.",
                  {{"feed", feed_.name}, {"outcome", outcome}})
      .Inc();
  OutageDetector& outage =
      env_.outage != nullptr ? *env_.outage : OutageDetector::Global();
  const Result<FeedPollResult>& result = fetched.result;
  const bool network_failure = !result && IsNetworkFailure(result.error());
  // A document cut short parsed, but the poll failed: the failure streak,
  // backoff and events treat it like any other retryable failure.
  std::optional<Error> truncated;
  if (result && result->feed.truncated) {
    truncated = Error(Errc::kParse,
                      "document cut short; " +
                          std::to_string(result->feed.unclosed_items_dropped) +
                          " unclosed item(s) not published",
                      current_url_);
  }
  outage.Record(HostKeyOf(current_url_), network_failure, now);
  state.last_attempt = now;
  Gauge& failures_gauge =
      metrics.GetGauge("newsflow_feed_consecutive_failures",
                       "Failed polls of the feed since its last success.",
                       FeedLabel(feed_.name));
  if (result && !truncated) {
    if (env_.events != nullptr && consecutive_failures_ > 0) {
      env_.events->Emit(
          {"recovered",
           feed_.name,
           feed_.url,
           now,
           {{"failed_polls", std::to_string(consecutive_failures_)}}});
    }
    consecutive_failures_ = 0;
    state.consecutive_failures = 0;
    state.last_error.clear();
    failures_gauge.Set(0);
    metrics
        .GetGauge("newsflow_feed_last_success_timestamp_seconds",
                  "Unix time of the feed's last successful poll.",
                  FeedLabel(feed_.name))
        .Set(std::chrono::duration<double>(now.time_since_epoch()).count());
    if (result->validators_distrusted) {
      GetLogger("feed." + feed_.name)
          ->info(
              "Server repeated its validators with a different body; "
              "ignoring them. feed={}",
              feed_.name);
    }
    return;
  }
  auto log = GetLogger("feed." + feed_.name);
  const Error& error = truncated ? *truncated : result.error();
  // "<outcome>: <error>": the outcome is the stable label of
  // newsflow_feed_fetches_total, so /metrics can name the kind without
  // guessing it from the message.
  state.last_error = outcome + ": " + error.ToString();
  if (network_failure && outage.InOutage(now)) {
    // Many hosts unreachable at once: our network, not this feed. Retry
    // at the normal interval instead of backing off.
    log->warn(
        "Feed poll failed during a suspected local network outage; "
        "not backing off. outcome={} error={}",
        outcome, error.ToString());
  } else {
    state.consecutive_failures += 1;
    log->warn(
        "Feed poll failed. feed={} outcome={} error={} "
        "consecutive_failures={}",
        feed_.name, outcome, error.ToString(), state.consecutive_failures);
  }
  // One event per failure streak, not per poll: operators alert on it.
  if (env_.events != nullptr && consecutive_failures_ == 0 &&
      state.consecutive_failures > 0) {
    env_.events->Emit({"fetch_failed",
                       feed_.name,
                       feed_.url,
                       now,
                       {{"outcome", outcome}, {"error", error.ToString()}}});
  }
  consecutive_failures_ = state.consecutive_failures;
  failures_gauge.Set(consecutive_failures_);
}

// Stage 4: redirect bookkeeping — only consistent permanent redirects move
// the feed.
std::string FeedPoller::FollowMove(const FeedPollResult& result,
                                   FeedState& state) {
  auto log = GetLogger("feed." + feed_.name);
  const int move_hits = std::max(1, scheduler_.redirect_move_hits);
  const bool moved = IsMoved(state, feed_.url, move_hits);
  const std::string& target = result.effective_url;
  const bool permanent = (result.first_redirect_status == 301 ||
                          result.first_redirect_status == 308) &&
                         !target.empty() && target != current_url_;
  if (!permanent) {
    if (!moved) {
      state.moved_to.clear();
      state.moved_hits = 0;
      state.moved_from.clear();
    }
    return current_url_;
  }
  if (state.moved_to == target && state.moved_from == feed_.url) {
    state.moved_hits += 1;
  } else {
    state.moved_to = target;
    state.moved_hits = 1;
    state.moved_from = feed_.url;
  }
  if (state.moved_hits < move_hits) {
    log->info("Feed permanently redirected. feed={} to={} hits={}/{}",
              feed_.name, target, state.moved_hits, move_hits);
    return current_url_;
  }
  log->warn(
      "Feed moved permanently; polling the new URL from now on "
      "(update the configuration). feed={} from={} to={} hits={}",
      feed_.name, current_url_, target, state.moved_hits);
  if (env_.events != nullptr) {
    env_.events->Emit({"moved",
                       feed_.name,
                       feed_.url,
                       Now(),
                       {{"from", current_url_}, {"to", target}}});
  }
  MetricsRegistry::Global()
      .GetCounter("newsflow_feed_moves_total",
                  "Confirmed permanent redirects of feed URLs.",
                  FeedLabel(feed_.name))
      .Inc();
  return target;
}

// Stage 5: scheduling hints the document itself carries (RSS <ttl>, the
// publishing rate of its items). A 304 or an unchanged body keeps the last.
void FeedPoller::LearnSchedule(const FeedPollResult& result, TimePoint now) {
  if (result.status != FeedPollStatus::kNew) return;
  const ParsedFeed& doc = result.feed;
  ttl_.reset();
  if (doc.ttl_minutes && *doc.ttl_minutes > 0) {
    ttl_ = std::chrono::minutes(*doc.ttl_minutes);
  }
  std::vector<TimePoint> dates;
  for (const FeedItem& item : doc.items) {
    if (item.published) {
      dates.push_back(*item.published);
    } else if (item.updated) {
      dates.push_back(*item.updated);
    }
  }
  adaptive_ = AdaptiveInterval(dates, now);
}

// Stage 7: the one place the feed's stored state is written.
Result<void> FeedPoller::CommitFeedState(const FeedState& state) {
  return env_.store->SaveFeed(state);
}

namespace {

// What the pool found out about a built article (filters, fingerprint).
struct Analyzed {
  Article article;
  FilterVerdict verdict;
  StoryFingerprint fingerprint;
};

// Counts one poll's articles whose outbox write failed (their `done` gets
// kRetry before Publisher::Durable() returns).
struct PollBatch {
  size_t written = 0;
  size_t failed = 0;
};

// When a feed switches to URL ids, the articles it already published under
// GUID ids are re-keyed (a copy of their record under the URL id), so the
// switch does not republish the whole feed. Candidates for an item's old id:
// its GUID in this document (when no other story shares it) and the GUID
// its URL had in the previous document.
void AdoptUrlIds(StateStore& store, const std::string& feed_id,
                 const std::vector<ItemKey>& items,
                 const std::vector<ItemKey>& previous) {
  std::unordered_map<std::string, int> guid_uses;
  for (const ItemKey& k : items) ++guid_uses[k.guid];
  std::unordered_map<std::string, std::string> previous_guid;
  for (const ItemKey& k : previous)
    previous_guid.emplace(k.canonical_url, k.guid);
  for (const ItemKey& k : items) {
    if (k.canonical_url.empty()) continue;
    const std::string url_id = PolicyArticleId(feed_id, IdPolicy::kUrl, k);
    auto existing = store.FindArticle(url_id);
    if (!existing || *existing) continue;
    std::vector<std::string> old_guids;
    if (!k.guid.empty() && guid_uses[k.guid] == 1) old_guids.push_back(k.guid);
    if (auto it = previous_guid.find(k.canonical_url);
        it != previous_guid.end() && !it->second.empty()) {
      old_guids.push_back(it->second);
    }
    for (const std::string& guid : old_guids) {
      auto old = store.FindArticle(ArticleId(feed_id, guid, k.canonical_url));
      if (!old || !*old) continue;
      ArticleRecord record = **old;
      record.id = url_id;
      record.feed_id = feed_id;
      record.tombstone = false;
      (void)store.MarkPublished(record);
      break;
    }
  }
}

}  // namespace

// Loads the feed's id policy, decides it for this document (see
// id_policy.h), records it with the document's items, and announces a
// change. Returns the policy to use.
Result<IdPolicy> FeedPoller::ApplyIdPolicy(const std::vector<ItemKey>& keys) {
  auto record = env_.store->LoadIdPolicy(feed_.name);
  if (!record) return record.error();
  IdPolicyState previous;
  previous.policy = record->policy == "url" ? IdPolicy::kUrl : IdPolicy::kGuid;
  previous.reason = record->reason;
  previous.last_items = DecodeItemKeys(record->last_items);
  const IdPolicyDecision decision = DecideIdPolicy(previous, keys);
  if (decision.changed) {
    GetLogger("feed." + feed_.name)
        ->warn(
            "Article ids now come from URLs; the feed's GUIDs are unreliable. "
            "reason={}",
            decision.reason);
    AdoptUrlIds(*env_.store, feed_.name, keys, previous.last_items);
    record->changed_at = Now();
    if (env_.events != nullptr) {
      env_.events->Emit(
          {"id_policy_changed",
           feed_.name,
           feed_.url,
           Now(),
           {{"policy", std::string(IdPolicyName(decision.policy))},
            {"previous", std::string(IdPolicyName(previous.policy))},
            {"reason", decision.reason}}});
    }
  }
  record->policy = std::string(IdPolicyName(decision.policy));
  record->reason = decision.reason;
  // An empty document says nothing about GUIDs: keep the previous items.
  if (!keys.empty()) record->last_items = EncodeItemKeys(keys);
  if (auto saved = env_.store->SaveIdPolicy(*record); !saved)
    return saved.error();
  return decision.policy;
}

Awaitable<Result<PollSummary>> FeedPoller::ProcessItems(FeedPollResult result,
                                                        size_t backlog_limit) {
  auto log = GetLogger("feed." + feed_.name);
  ParsedFeed& feed = result.feed;
  // A fresh context per poll: in-flight builds keep the one they started with.
  auto build = std::make_shared<BuildContext>();
  build->http = env_.http;
  build->workers = env_.workers;
  build->plan = plan_;
  build->feed.id = plan_->name;
  build->feed.url = plan_->url;
  build->feed.title = feed.title;
  build->feed.link = feed.link;
  build->feed.language = feed.language;
  std::shared_ptr<const BuildContext> ctx = build;

  PollSummary summary;
  summary.status = FeedPollStatus::kNew;
  summary.items = feed.items.size();
  auto batch = std::make_shared<PollBatch>();
  std::unordered_set<std::string> seen_this_poll;
  size_t new_items = 0;  // unknown items met so far (first-poll backlog)

  std::vector<ItemKey> keys;
  keys.reserve(feed.items.size());
  for (const FeedItem& item : feed.items) {
    const std::string& url =
        !item.source_link.empty() ? item.source_link : item.link;
    keys.push_back({item.guid, CanonicalizeUrl(url)});
  }
  auto policy = ApplyIdPolicy(keys);
  if (!policy) co_return policy.error();

  // With a first-poll backlog limit the newest items are the ones kept,
  // whatever order the document lists them in; otherwise document order.
  std::vector<size_t> order(feed.items.size());
  std::iota(order.begin(), order.end(), size_t{0});
  if (backlog_limit > 0) order = NewestFirstOrder(feed.items);
  for (const size_t index : order) {
    FeedItem& item = feed.items[index];
    if (stopped_) {
      ++summary.incomplete;
      continue;
    }
    const std::string id = PolicyArticleId(feed_.name, *policy, keys[index]);
    // An id repeated inside one document is the same story: first wins.
    if (!seen_this_poll.insert(id).second) continue;
    const std::string item_hash = ItemHash(item, *policy == IdPolicy::kGuid);
    // Built and in the outbox (not delivered yet): dedup against its newest
    // entry there, not against what the store last saw delivered.
    const PendingArticle* pending = env_.publisher->FindPending(id);
    if (pending != nullptr && pending->item_hash == item_hash) {
      ++summary.unchanged;
      continue;
    }
    auto known = env_.store->FindArticle(id);
    if (!known) co_return known.error();
    // Rejected by the filters once: seen for good, never re-evaluated.
    if (pending == nullptr && *known &&
        (*known)->content_hash == kFilteredContentHash) {
      ++summary.filtered;
      continue;
    }
    if (pending == nullptr && *known && (*known)->item_hash == item_hash) {
      ++summary.unchanged;
      continue;
    }
    if (!*known && backlog_limit > 0 && ++new_items > backlog_limit) {
      // Beyond the first-poll backlog: remembered, never published. An
      // empty content hash makes a later edit publish as "updated".
      ArticleRecord record;
      record.id = id;
      record.feed_id = feed_.name;
      record.item_hash = item_hash;
      record.first_published = record.last_published = Now();
      if (auto r = env_.store->MarkPublished(record); !r) co_return r.error();
      ++summary.unchanged;
      continue;
    }
    // Failed page fetches of this item in earlier polls (issue 12): the
    // builder falls back to the feed's content at pipeline.max_page_attempts.
    auto page_attempts = env_.store->PageAttempts(id);
    if (!page_attempts) co_return page_attempts.error();
    Result<Article> article =
        co_await BuildArticle(ctx, std::move(item), *page_attempts);
    if (!article) {
      // The builder fails only on a retryable page fetch: count it.
      ++summary.incomplete;
      auto counted = env_.store->AddPageAttempt(id, feed_.name, Now());
      log->warn(
          "Article skipped until the next poll. error={} failed_page_polls={}",
          article.error().ToString(), counted ? *counted : -1);
      continue;
    }
    // Forgotten once the item is final (published, dead-lettered or
    // unchanged); a failed delivery keeps the count.
    const bool clear_attempts = *page_attempts > 0;
    // The same story as the newest built version (in the outbox, else
    // delivered, if stored under the current hash definition): nothing to
    // publish.
    pending = env_.publisher->FindPending(id);  // may have changed meanwhile
    const bool known_current =
        *known && (*known)->content_hash_version == kContentHashVersion;
    const std::string* last_content = pending != nullptr
                                          ? &pending->content_hash
                                      : known_current ? &(*known)->content_hash
                                                      : nullptr;
    if (last_content != nullptr && *last_content == article->content_hash) {
      // The item changed in the feed but the story did not.
      if (pending == nullptr) (void)env_.store->UpdateItemHash(id, item_hash);
      if (clear_attempts) (void)env_.store->ClearPageAttempts(id);
      ++summary.unchanged;
      continue;
    }
    if (pending == nullptr && *known && (*known)->content_hash_version == 1 &&
        (*known)->content_hash == ContentHashV1(article->content_text)) {
      // Stored before content_hash covered the title: the text is the same,
      // so this is not taken as an edit (whether the title changed then
      // cannot be told). Re-stored with the current definition, silently;
      // from now on a headline edit publishes "updated".
      (void)env_.store->UpdateHashes(id, item_hash, article->content_hash,
                                     kContentHashVersion);
      if (clear_attempts) (void)env_.store->ClearPageAttempts(id);
      ++summary.unchanged;
      continue;
    }
    // Published before (delivered, or built and waiting in the outbox).
    const bool built_before = *known || pending != nullptr;
    // The id the store knows the story by (the normalizer may have used a
    // page's canonical URL, or the GUID under the URL policy).
    article->id = id;
    // Filters and the story fingerprint: CPU work, on the pool.
    auto analyze = [filter = plan_->filter,
                    with_story = env_.stories != nullptr,
                    a = std::move(*article)]() mutable {
      Analyzed out;
      if (filter) out.verdict = filter->Check(a);
      if (out.verdict.pass && with_story)
        out.fingerprint = FingerprintText(a.content_text);
      out.article = std::move(a);
      return out;
    };
    Analyzed analyzed = co_await RunCpu(env_.workers, std::move(analyze));
    *article = std::move(analyzed.article);
    if (!analyzed.verdict.pass) {
      // Recorded as seen (never re-evaluated, never published), counted.
      ArticleRecord record;
      record.id = id;
      record.feed_id = feed_.name;
      record.item_hash = item_hash;
      record.content_hash = kFilteredContentHash;
      record.first_published = record.last_published = Now();
      if (auto r = env_.store->MarkPublished(record); !r) co_return r.error();
      MetricsRegistry::Global()
          .GetCounter("newsflow_articles_filtered_total",
                      "Articles rejected by filters, by feed and rule.",
                      {{"feed", feed_.name}, {"rule", analyzed.verdict.rule}})
          .Inc();
      log->debug("Article filtered. id={} rule={}", id, analyzed.verdict.rule);
      ++summary.filtered;
      continue;
    }
    if (env_.stories != nullptr) {
      auto story = env_.stories->Assign(id, article->canonical_url,
                                        analyzed.fingerprint, Now());
      if (!story) co_return story.error();
      article->story_id = std::move(*story);
    }
    article->event =
        built_before ? ArticleEvent::kUpdated : ArticleEvent::kCreated;
    co_await env_.publisher->WaitForRoom();
    ++batch->written;
    env_.publisher->Publish(
        *article, plan_->sink_options, item_hash,
        [batch, store = env_.store, events = env_.events, id, clear_attempts,
         feed_name = feed_.name,
         feed_url = feed_.url](const DeliveryReport& report) {
          // Runs once the sink's report is final, or with kRetry when the
          // outbox write failed (the article was not accepted).
          if (report.outcome == DeliveryOutcome::kRetry) {
            ++batch->failed;
            return;
          }
          if (clear_attempts && IsFinal(report.outcome)) {
            (void)store->ClearPageAttempts(id);
          }
          if (report.outcome == DeliveryOutcome::kDeadLettered &&
              events != nullptr) {
            // Final (recorded by the Publisher): not a failure of the poll.
            events->Emit({"dead_lettered",
                          feed_name,
                          feed_url,
                          Now(),
                          {{"article_id", id},
                           {"reason", report.dead_letter_reason},
                           {"error", report.error}}});
          }
        });
  }
  // The poll is done when its articles are durable in the outbox, not
  // delivered: the feed's validators may then be stored (CommitFeedState),
  // and delivery goes on without this poll.
  co_await env_.publisher->Durable();
  summary.published = batch->written - batch->failed;
  summary.incomplete += batch->failed;
  co_return summary;
}

}  // namespace newsflow
