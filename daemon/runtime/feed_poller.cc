#include "daemon/runtime/feed_poller.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>
#include <boost/asio/this_coro.hpp>

#include "daemon/core/logging.h"
#include "daemon/normalizer/id_policy.h"
#include "daemon/normalizer/normalizer.h"

namespace newsflow {

std::chrono::milliseconds NextPollDelay(std::chrono::seconds interval,
                                        const SchedulerConfig& scheduler,
                                        int consecutive_failures,
                                        double jitter) {
  using std::chrono::milliseconds;
  const auto min_ms = std::chrono::duration_cast<milliseconds>(scheduler.min_interval);
  const auto max_ms = std::chrono::duration_cast<milliseconds>(scheduler.max_interval);
  auto base = std::clamp(std::chrono::duration_cast<milliseconds>(interval),
                         min_ms, std::max(min_ms, max_ms));
  // Exponential backoff, never giving up: the delay stops growing at
  // max_interval but the feed keeps being polled.
  for (int i = 0; i < consecutive_failures && base < max_ms; ++i) base *= 2;
  base = std::min(base, std::max(min_ms, max_ms));
  const double factor = 1.0 + 0.1 * std::clamp(jitter, -1.0, 1.0);
  return milliseconds(static_cast<int64_t>(static_cast<double>(base.count()) * factor));
}

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
  base.user_agent = feed_.user_agent.empty() ? config.http.user_agent : feed_.user_agent;
  base.proxy = feed_.proxy.empty() ? config.http.proxy : feed_.proxy;
  base.headers = feed_.headers;
  base.connect_timeout = config.http.connect_timeout;
  base.total_timeout = config.http.total_timeout;
  base.max_body_bytes = config.http.max_body_bytes;
  base.max_redirects = config.http.max_redirects;
  feed_request_ = base;
  feed_request_.url = feed_.url;

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

Awaitable<void> FeedPoller::Run(std::shared_ptr<FeedPoller> self, bool once) {
  auto log = GetLogger("feed." + self->feed_.name);
  std::uniform_real_distribution<double> jitter(-1.0, 1.0);
  while (!self->stopped_) {
    Result<PollSummary> summary = Error::Internal("poll did not run");
    try {
      summary = co_await self->PollOnce();
    } catch (const std::exception& e) {
      // The edge: nothing below should throw, but one feed must never take
      // the daemon down.
      summary = Error::Internal(std::string("unexpected exception: ") + e.what(),
                                "feed " + self->feed_.name);
    }
    self->last_poll_failed_ = !summary;
    if (!summary) {
      ++self->consecutive_failures_;
      log->warn("Feed poll failed. error={} consecutive_failures={}",
                summary.error().ToString(), self->consecutive_failures_);
    } else {
      self->consecutive_failures_ = 0;
    }
    if (once || self->stopped_) break;
    const auto delay = NextPollDelay(self->feed_.interval, self->scheduler_,
                                     self->consecutive_failures_,
                                     jitter(self->rng_));
    self->sleep_.expires_after(delay);
    co_await self->sleep_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  self->finished_ = true;
}

Awaitable<Result<PollSummary>> FeedPoller::PollOnce() {
  auto log = GetLogger("feed." + feed_.name);
  auto state = env_.store->LoadFeed(feed_.name);
  if (!state) co_return state.error();
  FeedPollRequest request;
  request.feed_name = feed_.name;
  request.http = feed_request_;
  // Validators are only trusted for the URL they were stored for.
  if (state->url == feed_.url) {
    request.previous = {state->etag, state->last_modified, state->body_hash};
  }
  Result<FeedPollResult> result = co_await AsyncPollFeed(*env_.http, request);
  state->last_attempt = Now();
  if (!result) {
    state->last_error = result.error().ToString();
    state->consecutive_failures += 1;
    (void)env_.store->SaveFeed(*state);
    co_return result.error();
  }
  PollSummary summary;
  summary.status = result->status;
  if (result->status != FeedPollStatus::kNew) {
    log->debug("Feed unchanged. status={}",
               result->status == FeedPollStatus::kNotModified ? "304" : "same_body");
    state->url = feed_.url;
    state->etag = result->validators.etag;
    state->last_modified = result->validators.last_modified;
    state->last_success = Now();
    state->last_error.clear();
    state->consecutive_failures = 0;
    (void)env_.store->SaveFeed(*state);
    co_return summary;
  }
  FeedValidators validators = result->validators;
  auto processed = co_await ProcessItems(std::move(*result));
  if (!processed) co_return processed.error();
  state = env_.store->LoadFeed(feed_.name);
  if (!state) co_return state.error();
  state->url = feed_.url;
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
  if (auto saved = env_.store->SaveFeed(*state); !saved) co_return saved.error();
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
  for (const ItemKey& k : previous) previous_guid.emplace(k.canonical_url, k.guid);
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
        ->warn("Article ids now come from URLs; the feed's GUIDs are unreliable. reason={}",
               decision.reason);
    AdoptUrlIds(*env_.store, feed_.name, keys, previous.last_items);
    record->changed_at = Now();
    if (env_.events != nullptr) {
      env_.events->Emit({"id_policy_changed", feed_.name, feed_.url, Now(),
                         {{"policy", std::string(IdPolicyName(decision.policy))},
                          {"previous", std::string(IdPolicyName(previous.policy))},
                          {"reason", decision.reason}}});
    }
  }
  record->policy = std::string(IdPolicyName(decision.policy));
  record->reason = decision.reason;
  // An empty document says nothing about GUIDs: keep the previous items.
  if (!keys.empty()) record->last_items = EncodeItemKeys(keys);
  if (auto saved = env_.store->SaveIdPolicy(*record); !saved) return saved.error();
  return decision.policy;
}

Awaitable<Result<PollSummary>> FeedPoller::ProcessItems(FeedPollResult result) {
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

  std::vector<ItemKey> keys;
  keys.reserve(feed.items.size());
  for (const FeedItem& item : feed.items) {
    const std::string& url = !item.source_link.empty() ? item.source_link : item.link;
    keys.push_back({item.guid, CanonicalizeUrl(url)});
  }
  auto policy = ApplyIdPolicy(keys);
  if (!policy) co_return policy.error();

  for (size_t index = 0; index < feed.items.size(); ++index) {
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
    env_.publisher->Publish(*article, default_topic_, item_hash,
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
