#include "daemon/runtime/feed_poller.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/this_coro.hpp>
#include <cctype>
#include <numeric>
#include <unordered_map>

#include "daemon/core/logging.h"
#include "daemon/core/metrics.h"
#include "daemon/core/url.h"
#include "daemon/normalizer/id_policy.h"
#include "daemon/normalizer/normalizer.h"
#include "daemon/runtime/backlog_order.h"
#include "daemon/runtime/runtime_metrics.h"

namespace newsflow {

namespace {

MetricLabels FeedLabel(const std::string& feed) { return {{"feed", feed}}; }

}  // namespace

FeedPoller::FeedPoller(const asio::any_io_executor& executor, PollerEnv env,
                       FeedConfig feed, const DaemonConfig& config)
    : env_(env),
      feed_(std::move(feed)),
      scheduler_(config.scheduler),
      pipeline_(config.pipeline),
      default_topic_(feed_.topic),
      build_(std::make_shared<BuildContext>()),
      sleep_(executor),
      rng_(std::random_device{}()) {
  HttpRequest base;
  base.user_agent =
      feed_.user_agent.empty() ? config.http.user_agent : feed_.user_agent;
  base.proxy = feed_.proxy.empty() ? config.http.proxy : feed_.proxy;
  base.headers = feed_.headers;
  base.connect_timeout = config.http.connect_timeout;
  base.total_timeout = config.http.total_timeout;
  base.max_body_bytes = config.http.max_body_bytes;
  base.max_redirects = config.http.max_redirects;
  feed_request_ = base;
  feed_request_.url = feed_.url;
  // Credentials go to the feed only, never to the pages its items link to.
  feed_request_.cookie = feed_.cookies;
  current_url_ = feed_.url;
  if (!feed_.timezone.empty()) {
    // The config loader validated the name; tzdata may still have vanished
    // since. Dates then stay UTC rather than the feed being dropped.
    auto zone = TimeZone::Load(feed_.timezone);
    if (zone) {
      assumed_zone_ = std::make_shared<const TimeZone>(std::move(*zone));
    } else {
      GetLogger("feed." + feed_.name)
          ->warn("timezone ignored, zone-less dates read as UTC: {}",
                 zone.error().ToString());
    }
  }
  // Page links come from the feed's publisher, not the operator: guard them,
  // and keep the feed's credentials away from whatever hosts they name.
  base.allow_private_targets = config.http.allow_private_targets;
  std::erase_if(base.headers, [](const auto& header) {
    std::string name = header.first;
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return name == "authorization" || name == "cookie" ||
           name == "proxy-authorization";
  });

  build_->http = env_.http;
  build_->page_request = base;
  build_->feed.id = feed_.name;
  build_->feed.url = feed_.url;
  build_->full_article = feed_.full_article;
  build_->clean.remove_selectors = feed_.remove_selectors;
  build_->clean.keep_selectors = feed_.keep_selectors;
  build_->language_override = feed_.language;
}

void FeedPoller::Stop() {
  stopped_ = true;
  sleep_.cancel();
}

std::chrono::milliseconds FeedPoller::PlannedDelay() const {
  PollPlan plan;
  plan.interval = scheduler_.adaptive && adaptive_ && !feed_.interval_explicit
                      ? *adaptive_
                      : feed_.interval;
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
  while (!self->stopped_) {
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
    self->last_poll_failed_ = !summary;
    if (once || self->stopped_) break;
    PollPlan plan;
    // An interval the operator wrote on the feed wins over the adaptive one.
    plan.interval = self->scheduler_.adaptive && self->adaptive_ &&
                            !self->feed_.interval_explicit
                        ? *self->adaptive_
                        : self->feed_.interval;
    plan.consecutive_failures = self->consecutive_failures_;
    plan.hints = self->hints_;
    plan.hints.ttl = self->ttl_;
    plan.jitter = jitter(self->rng_);
    const auto delay = NextPollDelay(plan, self->scheduler_);
    next_poll.Set(std::chrono::duration<double>(delay).count());
    log->debug("Next poll scheduled. delay_ms={} consecutive_failures={}",
               delay.count(), self->consecutive_failures_);
    self->sleep_.expires_after(delay);
    co_await self->sleep_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  self->finished_ = true;
}

Awaitable<Result<PollSummary>> FeedPoller::PollOnce() {
  auto log = GetLogger("feed." + feed_.name);
  auto& metrics = MetricsRegistry::Global();
  auto state = env_.store->LoadFeed(feed_.name);
  if (!state) co_return state.error();
  consecutive_failures_ = state->consecutive_failures;  // survives restarts
  // A permanent redirect seen often enough replaces the configured URL.
  const int move_hits = std::max(1, scheduler_.redirect_move_hits);
  const bool moved = !state->moved_to.empty() &&
                     state->moved_hits >= move_hits &&
                     state->url == state->moved_to;
  current_url_ = moved ? state->moved_to : feed_.url;
  FeedPollRequest request;
  request.feed_name = feed_.name;
  request.http = feed_request_;
  request.http.url = current_url_;
  request.assumed_zone = assumed_zone_;
  // Validators are only trusted for the URL they were stored for.
  if (state->url == current_url_) {
    request.previous = {state->etag, state->last_modified, state->body_hash};
  }
  // Servers that answer 304 to anything would hide changes for ever: every
  // Nth poll asks without validators (the body hash still avoids rework).
  ++polls_;
  request.unconditional = scheduler_.unconditional_every > 0 &&
                          polls_ % scheduler_.unconditional_every == 0;
  const std::string where = "feed " + feed_.name + " (" + current_url_ + ")";
  const auto fetch_start = std::chrono::steady_clock::now();
  Result<HttpResponse> response =
      co_await AsyncFetch(*env_.http, ConditionalRequest(request));
  const std::chrono::duration<double> fetch_seconds =
      std::chrono::steady_clock::now() - fetch_start;
  const TimePoint now = Now();
  Result<FeedPollResult> result = Error::Internal("unclassified", where);
  if (response) {
    hints_ = HintsFromResponse(*response, now);
    result = ClassifyFeedResponse(request, std::move(*response));
  } else {
    hints_ = {};
    // Name the feed in `where`; curl's message already carries the URL.
    const Error& e = response.error();
    result = Error(e.code(), e.message(), where, e.http_status());
  }
  const std::string outcome = FetchOutcomeName(result);
  FetchDurationHistogram(outcome).Observe(fetch_seconds.count());
  metrics
      .GetCounter("newsflow_feed_fetches_total", "Feed fetches by outcome.",
                  {{"feed", feed_.name}, {"outcome", outcome}})
      .Inc();
  OutageDetector& outage =
      env_.outage != nullptr ? *env_.outage : OutageDetector::Global();
  const bool network_failure = !result && IsNetworkFailure(result.error());
  outage.Record(HostKeyOf(current_url_), network_failure, now);
  state->last_attempt = now;
  Gauge& failures_gauge =
      metrics.GetGauge("newsflow_feed_consecutive_failures",
                       "Failed polls of the feed since its last success.",
                       FeedLabel(feed_.name));
  if (!result) {
    // "<outcome>: <error>": the outcome is the stable label of
    // newsflow_feed_fetches_total, so /metrics can name the kind without
    // guessing it from the message.
    state->last_error = outcome + ": " + result.error().ToString();
    if (network_failure && outage.InOutage(now)) {
      // Many hosts unreachable at once: our network, not this feed. Retry
      // at the normal interval instead of backing off.
      log->warn(
          "Feed poll failed during a suspected local network outage; "
          "not backing off. outcome={} error={}",
          outcome, result.error().ToString());
    } else {
      state->consecutive_failures += 1;
      log->warn(
          "Feed poll failed. feed={} outcome={} error={} "
          "consecutive_failures={}",
          feed_.name, outcome, result.error().ToString(),
          state->consecutive_failures);
    }
    // One event per failure streak, not per poll: operators alert on it.
    if (env_.events != nullptr && consecutive_failures_ == 0 &&
        state->consecutive_failures > 0) {
      env_.events->Emit(
          {"fetch_failed",
           feed_.name,
           feed_.url,
           now,
           {{"outcome", outcome}, {"error", result.error().ToString()}}});
    }
    consecutive_failures_ = state->consecutive_failures;
    failures_gauge.Set(consecutive_failures_);
    (void)env_.store->SaveFeed(*state);
    co_return result.error();
  }
  // Redirect bookkeeping: only consistent permanent redirects move the feed.
  const std::string target = result->effective_url;
  const bool permanent = (result->first_redirect_status == 301 ||
                          result->first_redirect_status == 308) &&
                         !target.empty() && target != current_url_;
  bool move_confirmed = false;
  if (permanent) {
    if (state->moved_to == target) {
      state->moved_hits += 1;
    } else {
      state->moved_to = target;
      state->moved_hits = 1;
    }
    move_confirmed = state->moved_hits >= move_hits;
    if (move_confirmed) {
      log->warn(
          "Feed moved permanently; polling the new URL from now on "
          "(update the configuration). feed={} from={} to={} hits={}",
          feed_.name, current_url_, target, state->moved_hits);
      if (env_.events != nullptr) {
        env_.events->Emit({"moved",
                           feed_.name,
                           feed_.url,
                           now,
                           {{"from", current_url_}, {"to", target}}});
      }
      metrics
          .GetCounter("newsflow_feed_moves_total",
                      "Confirmed permanent redirects of feed URLs.",
                      FeedLabel(feed_.name))
          .Inc();
    } else {
      log->info("Feed permanently redirected. feed={} to={} hits={}/{}",
                feed_.name, target, state->moved_hits, move_hits);
    }
  } else if (!moved) {
    state->moved_to.clear();
    state->moved_hits = 0;
  }
  const std::string stored_url = move_confirmed ? target : current_url_;
  const std::string moved_to = state->moved_to;
  const int moved_hits = state->moved_hits;
  if (env_.events != nullptr && consecutive_failures_ > 0) {
    env_.events->Emit(
        {"recovered",
         feed_.name,
         feed_.url,
         now,
         {{"failed_polls", std::to_string(consecutive_failures_)}}});
  }
  consecutive_failures_ = 0;
  failures_gauge.Set(0);
  metrics
      .GetGauge("newsflow_feed_last_success_timestamp_seconds",
                "Unix time of the feed's last successful poll.",
                FeedLabel(feed_.name))
      .Set(std::chrono::duration<double>(now.time_since_epoch()).count());
  if (result->validators_distrusted) {
    log->info(
        "Server repeated its validators with a different body; "
        "ignoring them. feed={}",
        feed_.name);
  }
  PollSummary summary;
  summary.status = result->status;
  if (result->status != FeedPollStatus::kNotModified &&
      result->status != FeedPollStatus::kUnchangedBody) {
    const ParsedFeed& doc = result->feed;
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
  if (result->status != FeedPollStatus::kNew) {
    log->debug("Feed unchanged. status={}", outcome);
    state->url = stored_url;
    state->etag = result->validators.etag;
    state->last_modified = result->validators.last_modified;
    state->last_success = Now();
    state->last_error.clear();
    state->consecutive_failures = 0;
    (void)env_.store->SaveFeed(*state);
    co_return summary;
  }
  FeedValidators validators = result->validators;
  // pipeline.first_poll_backlog: the first successful poll of a feed
  // publishes at most that many new items; the older backlog is remembered
  // as seen, not published.
  const size_t backlog_limit =
      state->last_success ? 0 : pipeline_.first_poll_backlog;
  auto processed = co_await ProcessItems(std::move(*result), backlog_limit);
  if (!processed) co_return processed.error();
  state = env_.store->LoadFeed(feed_.name);
  if (!state) co_return state.error();
  state->url = stored_url;
  state->moved_to = moved_to;
  state->moved_hits = moved_hits;
  state->last_success = Now();
  state->last_error.clear();
  state->consecutive_failures = 0;
  // Store the validators only when every item is safely delivered:
  // otherwise the next poll would get a 304 and never retry the rest.
  if (processed->incomplete == 0) {
    state->etag = validators.etag;
    state->last_modified = validators.last_modified;
    state->body_hash = validators.body_hash;
  } else {
    state->etag.clear();
    state->last_modified.clear();
    state->body_hash.clear();
  }
  if (auto saved = env_.store->SaveFeed(*state); !saved)
    co_return saved.error();
  log->info("Feed polled. items={} published={} unchanged={} incomplete={}",
            processed->items, processed->published, processed->unchanged,
            processed->incomplete);
  co_return *processed;
}

namespace {

// Counts one poll's outstanding deliveries; the poll waits for zero.
struct PollBatch {
  explicit PollBatch(const asio::any_io_executor& ex) : done(ex) {}
  size_t outstanding = 0;
  size_t delivered = 0;
  size_t failed = 0;
  AsyncEvent done;
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
  auto build = std::make_shared<BuildContext>(*build_);
  build->feed.title = feed.title;
  build->feed.link = feed.link;
  build->feed.language = feed.language;
  std::shared_ptr<const BuildContext> ctx = build;

  PollSummary summary;
  summary.status = FeedPollStatus::kNew;
  summary.items = feed.items.size();
  auto batch = std::make_shared<PollBatch>(co_await asio::this_coro::executor);
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
    if (env_.publisher->IsInFlight(id)) {
      ++summary.incomplete;
      continue;
    }
    const std::string item_hash = ItemHash(item, *policy == IdPolicy::kGuid);
    auto known = env_.store->FindArticle(id);
    if (!known) co_return known.error();
    if (*known && (*known)->item_hash == item_hash) {
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
    Result<Article> article = co_await BuildArticle(ctx, std::move(item));
    if (!article) {
      ++summary.incomplete;
      log->warn("Article skipped until the next poll. error={}",
                article.error().ToString());
      continue;
    }
    if (*known && (*known)->content_hash == article->content_hash) {
      // The item changed in the feed but the story did not.
      (void)env_.store->UpdateItemHash(id, item_hash);
      ++summary.unchanged;
      continue;
    }
    // The id the store knows the story by (the normalizer may have used a
    // page's canonical URL, or the GUID under the URL policy).
    article->id = id;
    article->event = *known ? ArticleEvent::kUpdated : ArticleEvent::kCreated;
    co_await env_.publisher->WaitForCapacity();
    if (env_.publisher->IsInFlight(id)) {  // another feed got there first
      ++summary.incomplete;
      continue;
    }
    ++batch->outstanding;
    env_.publisher->Publish(
        *article, default_topic_, item_hash,
        [batch](const DeliveryReport& report) {
          --batch->outstanding;
          if (report.outcome == DeliveryOutcome::kDelivered) {
            ++batch->delivered;
          } else {
            ++batch->failed;
          }
          batch->done.NotifyAll();
        });
  }
  while (batch->outstanding > 0) co_await batch->done.Wait();
  summary.published = batch->delivered;
  summary.incomplete += batch->failed;
  co_return summary;
}

}  // namespace newsflow
