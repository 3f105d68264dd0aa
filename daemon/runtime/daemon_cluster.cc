// Cluster mode (issue 15, decision 7; docs/cluster.md): the daemon side of
// daemon/core/cluster.h. Several daemons with the same `cluster.group`
// share the feeds: the group assigns partitions, a daemon polls the feeds
// the mapping (feed_partition.h) puts on its partitions, restores their
// state from the changelog before the first poll and mirrors their state
// writes back to it. Nothing here names the broker.

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cassert>

#include "daemon/core/logging.h"
#include "daemon/core/metrics.h"
#include "daemon/runtime/daemon_impl.h"
#include "daemon/runtime/feed_partition.h"
#include "daemon/state/state_changelog.h"

namespace newsflow {
namespace {

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') {
    return "newsflowd";
  }
  return buf;
}

std::string JoinInts(const std::vector<int>& v) {
  std::string out;
  for (int x : v) {
    if (!out.empty()) out += ",";
    out += std::to_string(x);
  }
  return out;
}

}  // namespace

Result<void> Daemon::Impl::CreateCluster() {
  assert(config_.cluster.has_value());
  // The loader accepted `cluster:` only with exactly one listed sink that
  // can carry a cluster.
  assert(config_.sinks.size() == 1);
  const SinkDescriptor* descriptor = sink_types_.Find(config_.sinks.front());
  assert(descriptor != nullptr && descriptor->create_cluster);
  ClusterOptions options = *config_.cluster;
  if (options.instance.empty()) options.instance = HostName();
  // Kept apart from config_, which a reload compares with the file.
  cluster_instance_ = options.instance;
  auto parts = descriptor->create_cluster(
      io_, config_.SinkSettingsFor(descriptor->type), options);
  if (!parts) return parts.error();
  cluster_ = std::move(parts->cluster);
  sink_ = std::move(parts->sink);
  assert(cluster_ && sink_);
  return {};
}

Result<void> Daemon::Impl::StartCluster() {
  Cluster::Callbacks callbacks;
  callbacks.assigned = [this](std::vector<int> partitions,
                              std::vector<StateRecord> state) {
    OnAssigned(std::move(partitions), std::move(state));
  };
  callbacks.revoked = [this](std::vector<int> partitions,
                             std::function<void()> done) {
    OnRevoked(std::move(partitions), std::move(done));
  };
  callbacks.lost = [this](std::vector<int> partitions) {
    OnLost(std::move(partitions));
  };
  callbacks.delivered_record = [this](const Article& article) {
    return DeliveredRecord(article);
  };
  store_->SetObserver(
      [this](const StateChange& change) { MirrorStateChange(change); });
  if (auto started = cluster_->Start(std::move(callbacks)); !started) {
    return started.error();
  }
  left_cluster_ = false;
  MapFeeds();
  UpdateClusterMetrics();
  log_->info(
      "Joined the cluster; feeds start when partitions are assigned. "
      "group={} instance={} partitions={} feeds={} exactly_once={}",
      config_.cluster->group, cluster_instance_, cluster_->partitions(),
      feed_partitions_.size(), config_.cluster->exactly_once);
  return {};
}

void Daemon::Impl::MapFeeds() {
  std::vector<std::string> names;
  names.reserve(config_.feeds.size());
  feed_urls_.clear();
  for (const FeedConfig& f : config_.feeds) {
    names.push_back(f.name);
    feed_urls_[f.name] = f.url;
  }
  feed_partitions_ = AssignFeedPartitions(names, cluster_->partitions());
}

void Daemon::Impl::EmitOwnershipEvents(const char* type,
                                       const std::vector<std::string>& feeds,
                                       const std::string& reason) {
  for (const std::string& name : feeds) {
    // A reload during a revocation may have removed the feed meanwhile.
    auto p = feed_partitions_.find(name);
    auto url = feed_urls_.find(name);
    std::map<std::string, std::string> details{
        {"partition",
         std::to_string(p == feed_partitions_.end() ? -1 : p->second)},
        {"instance", cluster_instance_}};
    if (!reason.empty()) details["reason"] = reason;
    events_->Emit(FeedEvent{type,
                            name,
                            url == feed_urls_.end() ? "" : url->second,
                            {},
                            std::move(details)});
  }
}

bool Daemon::Impl::OwnsFeed(const std::string& feed) const {
  if (!cluster_) return true;
  auto it = feed_partitions_.find(feed);
  return it != feed_partitions_.end() && owned_partitions_.contains(it->second);
}

std::vector<std::string> Daemon::Impl::FeedsOf(
    const std::vector<int>& partitions) const {
  const std::set<int> wanted(partitions.begin(), partitions.end());
  std::vector<std::string> out;
  for (const auto& [feed, p] : feed_partitions_) {
    if (wanted.contains(p)) out.push_back(feed);
  }
  return out;
}

void Daemon::Impl::ReconcileOwnedFeeds() {
  std::vector<std::string> to_stop;
  for (const auto& [name, poller] : pollers_) {
    if (!OwnsFeed(name)) to_stop.push_back(name);
  }
  for (const std::string& name : to_stop) StopFeed(name);
  if (stopping_) return;
  for (const FeedConfig& feed : config_.feeds) {
    if (OwnsFeed(feed.name) && !pollers_.contains(feed.name)) StartFeed(feed);
  }
}

void Daemon::Impl::OnAssigned(std::vector<int> partitions,
                              std::vector<StateRecord> state) {
  ++cluster_rebalances_;
  if (stopping_) {
    // Shutting down: the partitions are given back by Leave(); nothing of
    // theirs is restored, reconciled, announced or started.
    log_->info("Partitions assigned while stopping; ignored. partitions={}",
               JoinInts(partitions));
    return;
  }
  const std::vector<std::string> feeds = FeedsOf(partitions);
  // Only records of these partitions' feeds are applied: anything else in
  // their changelog (a feed since remapped, or a record somebody wrote to
  // the topic by hand) could overwrite the state of a feed owned elsewhere.
  {
    const std::set<std::string> mine(feeds.begin(), feeds.end());
    const size_t before = state.size();
    std::erase_if(state, [&](const StateRecord& r) {
      return !mine.contains(FeedOfKey(r.key));
    });
    if (state.size() != before) {
      log_->info(
          "Restored records of feeds not on these partitions skipped. "
          "count={} partitions={}",
          before - state.size(), JoinInts(partitions));
    }
  }
  // The changelog wins over the local cache for these feeds; the writes
  // are not mirrored back (they are what the changelog already says).
  restoring_ = true;
  size_t bad = 0;
  auto applied = ApplyStateRecords(*store_, state, &bad);
  restoring_ = false;
  if (!applied) {
    log_->error(
        "Could not apply the restored state; the feeds start from the local "
        "cache. partitions={} error={}",
        JoinInts(partitions), applied.error().ToString());
  }
  if (bad > 0) {
    std::string example;
    for (const StateRecord& r : state) {
      if (auto e = DecodeStateRecord(r); !e) {
        example = e.error().ToString();
        break;
      }
    }
    log_->warn(
        "Restored state records not understood; skipped. count={} first={}",
        bad, example);
  }
  for (int p : partitions) owned_partitions_.insert(p);
  log_->info(
      "Partitions assigned. partitions={} feeds={} restored_records={} "
      "owned_partitions={}",
      JoinInts(partitions), feeds.size(), applied ? *applied : 0,
      owned_partitions_.size());
  // Outbox entries of these feeds: drop what the previous owner delivered,
  // deliver the rest.
  publisher_->Reconcile(std::set<std::string>(feeds.begin(), feeds.end()));
  if (!first_assignment_seen_ && !stopping_) {
    first_assignment_seen_ = true;
    publisher_->StartDelivering();
  }
  EmitOwnershipEvents("assigned", feeds);
  for (const std::string& name : feeds) {
    cluster_->DeclareFeed(feed_partitions_.at(name),
                          StateRecord{name, feed_urls_.at(name)});
  }
  ReconcileOwnedFeeds();
  UpdateClusterMetrics();
}

void Daemon::Impl::OnRevoked(std::vector<int> partitions,
                             std::function<void()> done) {
  ++cluster_rebalances_;
  for (int p : partitions) {
    owned_partitions_.erase(p);
    revoking_partitions_.insert(p);
  }
  std::vector<std::string> feeds = FeedsOf(partitions);
  log_->info("Partitions revoked; handing over. partitions={} feeds={}",
             JoinInts(partitions), feeds.size());
  // Stops their pollers (as a reload removal does) and parks their outbox
  // entries that are not in the sink yet.
  ReconcileOwnedFeeds();
  publisher_->OwnershipChanged();
  UpdateClusterMetrics();
  asio::co_spawn(io_,
                 FinishRevocation(std::move(feeds), std::move(partitions),
                                  std::move(done)),
                 asio::detached);
}

Awaitable<void> Daemon::Impl::FinishRevocation(std::vector<std::string> feeds,
                                               std::vector<int> partitions,
                                               std::function<void()> done) {
  const auto deadline =
      std::chrono::steady_clock::now() + config_.cluster->session_timeout;
  asio::steady_timer timer(io_);
  for (;;) {
    bool busy = false;
    for (const std::string& feed : feeds) {
      if (publisher_->InSinkOf(feed) > 0) busy = true;
    }
    for (const auto& poller : retiring_) {
      if (!poller->finished() &&
          std::find(feeds.begin(), feeds.end(), poller->config().name) !=
              feeds.end()) {
        busy = true;
      }
    }
    if (!busy) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      log_->warn(
          "Revocation: articles of the revoked feeds still in the sink at "
          "the deadline; handing over anyway (the next owner delivers them "
          "again if they were not). partitions={}",
          JoinInts(partitions));
      break;
    }
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  for (int p : partitions) revoking_partitions_.erase(p);
  EmitOwnershipEvents("revoked", feeds);
  UpdateClusterMetrics();
  done();
}

void Daemon::Impl::OnLost(std::vector<int> partitions) {
  ++cluster_rebalances_;
  for (int p : partitions) {
    owned_partitions_.erase(p);
    revoking_partitions_.erase(p);
  }
  const std::vector<std::string> feeds = FeedsOf(partitions);
  log_->warn(
      "Partitions lost without a handover (session expired or fenced); "
      "their feeds stop at once. partitions={} feeds={}",
      JoinInts(partitions), feeds.size());
  ReconcileOwnedFeeds();
  publisher_->OwnershipChanged();
  EmitOwnershipEvents("revoked", feeds, "lost");
  UpdateClusterMetrics();
}

std::pair<int, StateRecord> Daemon::Impl::DeliveredRecord(
    const Article& article) {
  ArticleRecord record;
  record.id = article.id;
  record.feed_id = article.feed.id;
  record.item_hash = article.item_hash;
  record.content_hash = article.content_hash;
  record.first_published = article.fetched_at;
  record.last_published = article.fetched_at;
  // An update keeps the first delivery time the store has.
  if (auto known = store_->FindArticle(article.id);
      known && known->has_value()) {
    record.first_published = (*known)->first_published;
  }
  auto it = feed_partitions_.find(article.feed.id);
  const int partition = it == feed_partitions_.end() ? -1 : it->second;
  return {partition, ArticleStateRecord(record)};
}

void Daemon::Impl::MirrorStateChange(const StateChange& change) {
  if (restoring_ || !cluster_) return;
  std::optional<StateRecord> record = RecordOfChange(change);
  if (!record) return;
  auto it = feed_partitions_.find(FeedOfKey(record->key));
  if (it == feed_partitions_.end()) return;
  // Owned, or revoked and still handing over; a lost partition's writes
  // must not reach the changelog any more.
  if (!owned_partitions_.contains(it->second) &&
      !revoking_partitions_.contains(it->second)) {
    return;
  }
  cluster_->Record(it->second, std::move(*record));
}

void Daemon::Impl::UpdateClusterMetrics() {
  if (!cluster_) return;
  auto& r = MetricsRegistry::Global();
  size_t feeds = 0;
  for (const auto& [feed, p] : feed_partitions_) {
    if (owned_partitions_.contains(p)) ++feeds;
  }
  r.GetGauge("newsflow_cluster_partitions_owned",
             "Partitions of the cluster's feeds stream this daemon owns.")
      .Set(static_cast<double>(owned_partitions_.size()));
  r.GetGauge("newsflow_cluster_feeds_owned",
             "Configured feeds on the partitions this daemon owns.")
      .Set(static_cast<double>(feeds));
  Counter& rebalances =
      r.GetCounter("newsflow_cluster_rebalances_total",
                   "Assignments, revocations and losses of partitions seen.");
  if (cluster_rebalances_ > rebalances.value()) {
    rebalances.Inc(cluster_rebalances_ - rebalances.value());
  }
  const ClusterStatus status = cluster_->Status();
  const char* help =
      "exactly_once transactions of this daemon, by outcome "
      "(committed|aborted).";
  Counter& committed = r.GetCounter("newsflow_cluster_transactions_total", help,
                                    {{"outcome", "committed"}});
  Counter& aborted = r.GetCounter("newsflow_cluster_transactions_total", help,
                                  {{"outcome", "aborted"}});
  if (status.transactions_committed > tx_committed_seen_) {
    committed.Inc(status.transactions_committed - tx_committed_seen_);
    tx_committed_seen_ = status.transactions_committed;
  }
  if (status.transactions_aborted > tx_aborted_seen_) {
    aborted.Inc(status.transactions_aborted - tx_aborted_seen_);
    tx_aborted_seen_ = status.transactions_aborted;
  }
}

std::string Daemon::Impl::ClusterStatusLine() const {
  if (!cluster_) return "";
  size_t feeds = 0;
  for (const auto& [feed, p] : feed_partitions_) {
    if (owned_partitions_.contains(p)) ++feeds;
  }
  std::string line = "cluster " + config_.cluster->group + ": " +
                     std::to_string(feeds) + " feeds in " +
                     std::to_string(owned_partitions_.size()) + " partitions";
  if (!first_assignment_seen_) line += " (waiting for an assignment)";
  const ClusterStatus status = cluster_->Status();
  if (!status.healthy && !status.problem.empty()) {
    line += "; cluster: " + status.problem;
  }
  return line;
}

}  // namespace newsflow
