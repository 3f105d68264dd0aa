// Cluster mode, daemon side (issue 15, decision 7): the real daemon
// (in-process, jsonl sink, SQLite file, loopback feed site) with a
// FakeCluster the test drives. Checks: nothing is fetched or delivered
// before the first assignment and feeds of unassigned partitions never
// are; state writes become records on the feed's partition; assigned /
// revoked events; a revoked feed stops and the handover completes; the
// copy handed to the sink carries its item hash; restored state is applied
// before the first fetch (ETag sent, known items not republished).

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "config/sink_registry.h"
#include "connectors/sinks/jsonl/jsonl_sink_descriptor.h"
#include "daemon/core/metrics.h"
#include "daemon/runtime/daemon.h"
#include "daemon/runtime/feed_partition.h"
#include "daemon/state/state_changelog.h"
#include "tests/testing/fake_cluster.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow {
namespace {

using namespace std::chrono_literals;
using testing::FakeCluster;
using testing::FakeClusterHub;
using testing::LoopbackHttpServer;
using testing::TestRequest;
using testing::TestResponse;

constexpr int kPartitions = 4;
constexpr int kFeeds = 8;

std::vector<std::string> FeedNames() {
  std::vector<std::string> out;
  for (int i = 0; i < kFeeds; ++i) out.push_back("f" + std::to_string(i));
  return out;
}

// An RSS document of two items for `feed`, plus `extra` before the end (a
// different body with the same items).
std::string FeedBody(const std::string& feed, const std::string& extra) {
  std::string x =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<rss version=\"2.0\"><channel><title>" +
      feed + "</title><link>http://" + feed +
      ".example/</link><description>d</description>\n";
  for (int i = 0; i < 2; ++i) {
    const std::string n = std::to_string(i);
    x += "<item><title>" + feed + " story " + n + "</title><link>http://" +
         feed + ".example/a/" + n + "</link><guid>urn:" + feed + ":" + n +
         "</guid><pubDate>Mon, 06 Oct 2025 08:00:00 GMT</pubDate>"
         "<description><![CDATA[<p>Full text of " +
         feed + " story " + n +
         ", long enough to be the article body without the page. It keeps "
         "going so that no teaser heuristic asks for the page.</p>]]>"
         "</description></item>\n";
  }
  return x + extra + "</channel></rss>\n";
}

// The loopback site: /feed/<name>.xml, ETag "v1", never 304 (so a test
// sees whether known items are republished).
class Site {
 public:
  Site()
      : server_([this](const TestRequest& r) {
          TestResponse resp;
          const std::string name =
              r.path.substr(6, r.path.size() - 6 - 4);  // /feed/X.xml
          resp.headers.emplace_back("Content-Type", "application/rss+xml");
          resp.headers.emplace_back("ETag", "\"v1\"");
          std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms_));
          std::lock_guard lock(mu_);
          resp.body = FeedBody(name, extra_);
          return resp;
        }) {}
  void set_extra(std::string extra) {
    std::lock_guard lock(mu_);
    extra_ = std::move(extra);
  }
  std::string base_url() const { return server_.base_url(); }
  // Every answer is held this long before it is sent.
  void set_hold(std::chrono::milliseconds hold) {
    hold_ms_ = static_cast<int>(hold.count());
  }
  // Feed name of every request, in order, with its If-None-Match.
  std::vector<std::pair<std::string, std::string>> Requests() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const TestRequest& r : server_.requests()) {
      out.emplace_back(r.path.substr(6, r.path.size() - 6 - 4),
                       r.Header("if-none-match"));
    }
    return out;
  }
  std::set<std::string> FeedsRequested() const {
    std::set<std::string> out;
    for (const auto& [feed, inm] : Requests()) out.insert(feed);
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::string extra_;
  std::atomic<int> hold_ms_{0};
  LoopbackHttpServer server_;
};

// One daemon run in this process, on its own thread.
class ClusterDaemon {
 public:
  // `settings`: more top-level YAML (e.g. a pipeline: section).
  ClusterDaemon(const std::string& dir, const Site& site,
                std::string settings = "")
      : hub_(std::make_shared<FakeClusterHub>()),
        dir_(dir),
        settings_(std::move(settings)) {
    std::filesystem::create_directories(dir);
    registry_.Add(testing::WithFakeCluster(JsonlSinkDescriptor(), hub_));
    WriteConfig(site, FeedNames());
    DaemonOptions options;
    options.config_path = dir + "/newsflow.yaml";
    options.sinks = &registry_;
    thread_ =
        std::thread([this, options] { exit_code_ = Daemon(options).Run(); });
    EXPECT_TRUE(WaitFor([&] { return hub_->created.load(); }, 10s));
    EXPECT_TRUE(WaitFor([&] { return cluster()->started(); }, 10s));
  }

  // The config file with `feeds` (a SIGHUP reloads it).
  void WriteConfig(const Site& site, const std::vector<std::string>& feeds) {
    const std::string& dir = dir_;
    {
      std::ofstream yaml(dir + "/newsflow.yaml.tmp");
      yaml << "state: {path: " << dir << "/state.db}\n"
           << "metrics: {listen: \"\"}\n"
           << "log: {level: warn}\n"
           << "sinks: [jsonl]\n"
           << "jsonl_path: " << dir << "/out.jsonl\n"
           << "scheduler: {min_interval: 1s}\n"
           << settings_ << "cluster: {group: g, partitions: " << kPartitions
           << ", instance: t1}\n"
           << "feeds:\n";
      for (const std::string& name : feeds) {
        yaml << "  - {name: " << name << ", url: \"" << site.base_url()
             << "/feed/" << name << ".xml\", interval: 1s, full_article: "
             << "never}\n";
      }
    }
    std::filesystem::rename(dir + "/newsflow.yaml.tmp", dir + "/newsflow.yaml");
  }
  ~ClusterDaemon() {
    if (thread_.joinable()) Stop();
  }

  int Stop() {
    ::kill(::getpid(), SIGTERM);
    thread_.join();
    return exit_code_;
  }

  FakeCluster* cluster() const { return hub_->cluster; }
  testing::RecordingSink* sink() const { return hub_->sink; }
  // What the cluster recorded; valid after Stop() too.
  std::vector<FakeCluster::Written> records() const {
    return hub_->log->Records();
  }

  // Titles in the jsonl output.
  std::vector<std::string> Titles() const {
    std::vector<std::string> out;
    std::ifstream in(dir_ + "/out.jsonl");
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("title")) {
        out.push_back(j["title"].get<std::string>());
      }
    }
    return out;
  }

  template <class F>
  static bool WaitFor(F done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return done();
  }

 private:
  std::shared_ptr<FakeClusterHub> hub_;
  SinkRegistry registry_;
  std::string dir_;
  std::string settings_;
  std::thread thread_;
  int exit_code_ = -1;
};

std::string TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("nf_cluster_daemon_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

class ClusterDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mapping_ = AssignFeedPartitions(FeedNames(), kPartitions);
  }
  std::set<std::string> FeedsOn(int partition) const {
    std::set<std::string> out;
    for (const auto& [feed, p] : mapping_) {
      if (p == partition) out.insert(feed);
    }
    return out;
  }
  std::map<std::string, int> mapping_;
};

TEST_F(ClusterDaemonTest, OnlyAssignedFeedsArePolledAndRecorded) {
  Site site;
  ClusterDaemon d(TempDir("owned"), site);
  // Before the first assignment nothing is fetched.
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(site.Requests().empty());
  EXPECT_TRUE(d.Titles().empty());

  const int p = mapping_.at("f0");
  const std::set<std::string> owned = FeedsOn(p);
  d.cluster()->PostAssign({p}, {});
  ASSERT_TRUE(ClusterDaemon::WaitFor(
      [&] { return d.Titles().size() >= 2 * owned.size(); }, 15s))
      << "articles: " << d.Titles().size();
  std::this_thread::sleep_for(1500ms);  // more polls of the owned feeds
  EXPECT_EQ(site.FeedsRequested(), owned);
  for (const std::string& title : d.Titles()) {
    EXPECT_TRUE(owned.contains(title.substr(0, title.find(' ')))) << title;
  }
  // Ownership in /metrics.
  auto& metrics = MetricsRegistry::Global();
  EXPECT_EQ(metrics.GetGauge("newsflow_cluster_partitions_owned", "").value(),
            1.0);
  EXPECT_EQ(metrics.GetGauge("newsflow_cluster_feeds_owned", "").value(),
            static_cast<double>(owned.size()));
  EXPECT_GE(metrics.GetCounter("newsflow_cluster_rebalances_total", "").value(),
            1u);
  // The copies handed to the sink carry their item hash.
  for (const std::string& h : d.sink()->item_hashes()) EXPECT_FALSE(h.empty());
  EXPECT_FALSE(d.sink()->item_hashes().empty());

  // State writes became records on the feed's partition, and only those.
  std::set<std::string> feeds_recorded, articles_recorded;
  for (const auto& w : d.cluster()->records()) {
    const std::string feed = FeedOfKey(w.record.key);
    ASSERT_TRUE(owned.contains(feed)) << w.record.key;
    EXPECT_EQ(w.partition, mapping_.at(feed)) << w.record.key;
    if (w.record.key.starts_with("f/")) feeds_recorded.insert(feed);
    if (w.record.key.starts_with("a/")) articles_recorded.insert(w.record.key);
  }
  EXPECT_EQ(feeds_recorded, owned);
  EXPECT_EQ(articles_recorded.size(), 2 * owned.size());
  std::set<std::string> declared;
  for (const auto& w : d.cluster()->declared()) {
    EXPECT_EQ(w.partition, p);
    declared.insert(w.record.key);
  }
  EXPECT_EQ(declared, owned);

  // The record a transactional sink puts in the article's transaction.
  Article article;
  article.id = "urn:f0:0";
  article.feed.id = "f0";
  article.item_hash = "item-hash";
  article.content_hash = "content-hash";
  const auto [partition, record] = d.cluster()->CallDeliveredRecord(article);
  EXPECT_EQ(partition, p);
  EXPECT_EQ(record.key, "a/f0/urn:f0:0");
  auto decoded = DecodeStateRecord(record);
  ASSERT_TRUE(decoded && decoded->article);
  EXPECT_EQ(decoded->article->record.item_hash, "item-hash");
  EXPECT_EQ(decoded->article->record.content_hash, "content-hash");

  // Revoke: the feeds stop, the handover completes.
  d.cluster()->PostRevoke({p});
  ASSERT_TRUE(
      ClusterDaemon::WaitFor([&] { return d.cluster()->revoke_done(); }, 10s));
  const size_t requests = site.Requests().size();
  std::this_thread::sleep_for(2500ms);  // > 2 poll intervals
  EXPECT_EQ(site.Requests().size(), requests) << "a revoked feed was polled";

  std::map<std::string, std::set<std::string>> events;  // type -> feeds
  for (const FeedEvent& e : d.sink()->events()) {
    if (e.type == "assigned" || e.type == "revoked") {
      events[e.type].insert(e.feed_id);
      EXPECT_EQ(e.details.at("partition"), std::to_string(p));
      EXPECT_EQ(e.details.at("instance"), "t1");
    }
  }
  EXPECT_EQ(events["assigned"], owned);
  EXPECT_EQ(events["revoked"], owned);
  EXPECT_EQ(d.Stop(), 0);
}

// pipeline.max_polls_in_progress in cluster mode: pollers started by an
// assignment wait for a slot like any other (one feed request at a time),
// and a revocation while they wait completes promptly and leaves no slot
// taken.
TEST_F(ClusterDaemonTest, RevokeWhilePollsWaitForASlot) {
  Site site;
  site.set_hold(800ms);
  ClusterDaemon d(TempDir("slots"), site,
                  "pipeline: {max_polls_in_progress: 1}\n");
  auto& in_progress =
      MetricsRegistry::Global().GetGauge("newsflow_polls_in_progress", "");
  std::vector<int> all;
  for (int p = 0; p < kPartitions; ++p) all.push_back(p);
  d.cluster()->PostAssign(all, {});
  ASSERT_TRUE(
      ClusterDaemon::WaitFor([&] { return site.Requests().size() >= 2; }, 10s));
  EXPECT_EQ(in_progress.value(), 1.0);
  EXPECT_LT(site.Requests().size(), static_cast<size_t>(kFeeds))
      << "every feed was fetched at once";
  const auto revoked_at = std::chrono::steady_clock::now();
  d.cluster()->PostRevoke(all);
  ASSERT_TRUE(
      ClusterDaemon::WaitFor([&] { return d.cluster()->revoke_done(); }, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - revoked_at, 3s);
  EXPECT_TRUE(
      ClusterDaemon::WaitFor([&] { return in_progress.value() == 0.0; }, 5s))
      << "a poll slot stayed taken";
  const size_t requests = site.Requests().size();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(site.Requests().size(), requests) << "a revoked feed was polled";
  EXPECT_EQ(d.Stop(), 0);
}

// Revocation waits for the revoked feeds' articles in the sink: `done`
// comes only after their reports. A loss stops the feeds at once and
// nothing of theirs is recorded afterwards.
TEST_F(ClusterDaemonTest, RevokeWaitsForArticlesInTheSinkLostStopsAtOnce) {
  Site site;
  ClusterDaemon d(TempDir("revoke"), site);
  const int p = mapping_.at("f0");
  const std::set<std::string> owned = FeedsOn(p);
  d.sink()->hold(true);
  d.cluster()->PostAssign({p}, {});
  ASSERT_TRUE(
      ClusterDaemon::WaitFor([&] { return d.sink()->held() > 0; }, 10s));
  d.cluster()->PostRevoke({p});
  std::this_thread::sleep_for(700ms);
  EXPECT_FALSE(d.cluster()->revoke_done())
      << "done before the articles in the sink reported";
  EXPECT_TRUE(d.Titles().empty());
  d.sink()->PostRelease();
  ASSERT_TRUE(
      ClusterDaemon::WaitFor([&] { return d.cluster()->revoke_done(); }, 10s));
  EXPECT_FALSE(d.Titles().empty());

  // Another partition, then lost.
  int q = -1;
  for (const auto& [feed, part] : mapping_) {
    if (part != p) q = part;
  }
  ASSERT_GE(q, 0);
  const std::set<std::string> other = FeedsOn(q);
  d.cluster()->PostAssign({q}, {});
  ASSERT_TRUE(ClusterDaemon::WaitFor(
      [&] {
        std::set<std::string> seen;
        for (const auto& [feed, inm] : site.Requests()) {
          if (other.contains(feed)) seen.insert(feed);
        }
        return seen == other;
      },
      10s));
  d.cluster()->PostLose({q});
  std::this_thread::sleep_for(300ms);  // a poll in progress may finish
  const size_t requests = site.Requests().size();
  const size_t records = d.records().size();
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(site.Requests().size(), requests) << "a lost feed was polled";
  EXPECT_EQ(d.records().size(), records) << "a lost feed was recorded";
  EXPECT_EQ(d.Stop(), 0);
}

// A reload re-maps the feeds (the mapping depends on the whole list): after
// it, exactly the feeds the new mapping puts on owned partitions are
// polled, the added one included. (With these names no existing feed
// changes partition, so "a moved feed stops" is only checked, not forced.)
TEST_F(ClusterDaemonTest, ReloadRemapsFeeds) {
  Site site;
  ClusterDaemon d(TempDir("reload"), site);
  const std::vector<int> owned = {0, 1, 2};  // not 3
  d.cluster()->PostAssign(owned, {});
  std::set<std::string> expected;
  for (const auto& [feed, p] : mapping_) {
    if (p != 3) expected.insert(feed);
  }
  ASSERT_TRUE(ClusterDaemon::WaitFor(
      [&] { return site.FeedsRequested() == expected; }, 10s));
  // One more feed whose partition under the new mapping is owned.
  std::vector<std::string> names = FeedNames();
  std::map<std::string, int> fresh;
  for (int i = 0;; ++i) {
    names.push_back("new-" + std::to_string(i));
    fresh = AssignFeedPartitions(names, kPartitions);
    if (fresh.at(names.back()) != 3) break;
    names.pop_back();
  }
  d.WriteConfig(site, names);
  ::kill(::getpid(), SIGHUP);
  ASSERT_TRUE(ClusterDaemon::WaitFor(
      [&] { return site.FeedsRequested().contains(names.back()); }, 10s))
      << names.back() << " was not started";
  std::this_thread::sleep_for(500ms);  // polls in progress at the reload end
  const size_t before = site.Requests().size();
  std::this_thread::sleep_for(2500ms);
  const auto r = site.Requests();
  for (size_t i = before; i < r.size(); ++i) {
    EXPECT_NE(fresh.at(r[i].first), 3)
        << r[i].first << " polled on an unowned partition after the reload";
  }
  std::set<std::string> polled_after;
  for (size_t i = before; i < r.size(); ++i) polled_after.insert(r[i].first);
  std::set<std::string> owned_after;
  for (const auto& [feed, p] : fresh) {
    if (p != 3) owned_after.insert(feed);
  }
  EXPECT_EQ(polled_after, owned_after);
  EXPECT_EQ(d.Stop(), 0);
}

// A daemon that owns every partition delivers every feed's items once and
// stops; the changelog it wrote, latest record per key, as the cluster's
// restore hands it to the next owner.
std::vector<StateRecord> ChangelogOfAFullRun(Site& site) {
  std::vector<StateRecord> changelog;
  {
    ClusterDaemon a(TempDir("a"), site);
    std::vector<int> all;
    for (int p = 0; p < kPartitions; ++p) all.push_back(p);
    a.cluster()->PostAssign(all, {});
    EXPECT_TRUE(ClusterDaemon::WaitFor(
        [&] { return a.Titles().size() >= 2 * kFeeds; }, 20s))
        << a.Titles().size();
    // Every delivered article recorded (the ack is committed after the
    // sink's report).
    EXPECT_TRUE(ClusterDaemon::WaitFor(
        [&] {
          size_t n = 0;
          for (const auto& w : a.cluster()->records()) {
            n += w.record.key.starts_with("a/");
          }
          return n >= 2 * kFeeds;
        },
        10s));
    EXPECT_EQ(a.Stop(), 0);
    // The latest record per key, as the cluster's restore hands them over.
    std::map<std::string, std::string> latest;
    for (const auto& w : a.records()) latest[w.record.key] = w.record.value;
    for (auto& [k, v] : latest) changelog.push_back({k, v});
  }
  return changelog;
}

TEST_F(ClusterDaemonTest, RestoredStateIsAppliedBeforeTheFirstPoll) {
  Site site;
  std::vector<StateRecord> changelog = ChangelogOfAFullRun(site);
  ASSERT_FALSE(changelog.empty());
  // Another daemon with an empty cache takes the feeds over. The site's
  // documents differ in bytes but not in items: only the restored article
  // records keep them from being republished.
  site.set_extra("<!-- moved -->\n");
  const size_t before = site.Requests().size();
  ClusterDaemon b(TempDir("b"), site);
  std::vector<int> all;
  for (int p = 0; p < kPartitions; ++p) all.push_back(p);
  b.cluster()->PostAssign(all, changelog);
  ASSERT_TRUE(ClusterDaemon::WaitFor(
      [&] {
        auto r = site.Requests();
        std::set<std::string> seen;
        for (size_t i = before; i < r.size(); ++i) seen.insert(r[i].first);
        return seen.size() == kFeeds;
      },
      15s));
  // The first request of every feed by b sent the restored ETag.
  auto r = site.Requests();
  std::set<std::string> first_seen;
  for (size_t i = before; i < r.size(); ++i) {
    if (first_seen.insert(r[i].first).second) {
      EXPECT_EQ(r[i].second, "\"v1\"") << r[i].first;
    }
  }
  std::this_thread::sleep_for(1500ms);  // the polls' items processed
  EXPECT_TRUE(b.Titles().empty()) << "republished " << b.Titles().size();
  EXPECT_EQ(b.Stop(), 0);
}

// The records handed over with an assignment may hold feeds of other
// partitions (a feed since remapped, a record written to the topic by
// hand): only the assigned partitions' feeds take theirs. Here b gets the
// whole changelog with one partition; a feed of another partition, assigned
// later with no records, must start fresh (no restored ETag).
TEST_F(ClusterDaemonTest, RestoredRecordsOfOtherPartitionsAreNotApplied) {
  Site site;
  std::vector<StateRecord> changelog = ChangelogOfAFullRun(site);
  ASSERT_FALSE(changelog.empty());
  const int p = mapping_.begin()->second;
  int q = -1;
  for (const auto& [feed, partition] : mapping_) {
    if (partition != p) q = partition;
  }
  ASSERT_NE(q, -1);
  const std::set<std::string> on_q = FeedsOn(q);
  const size_t before = site.Requests().size();
  ClusterDaemon b(TempDir("b_foreign"), site);
  b.cluster()->PostAssign({p}, changelog);
  ASSERT_TRUE(ClusterDaemon::WaitFor(
      [&] { return site.Requests().size() > before; }, 15s));
  const size_t before_q = site.Requests().size();
  b.cluster()->PostAssign({q}, {});
  ASSERT_TRUE(ClusterDaemon::WaitFor(
      [&] {
        auto r = site.Requests();
        std::set<std::string> seen;
        for (size_t i = before_q; i < r.size(); ++i) {
          if (on_q.contains(r[i].first)) seen.insert(r[i].first);
        }
        return seen.size() == on_q.size();
      },
      15s));
  auto r = site.Requests();
  std::set<std::string> first_seen;
  for (size_t i = before_q; i < r.size(); ++i) {
    if (on_q.contains(r[i].first) && first_seen.insert(r[i].first).second) {
      EXPECT_EQ(r[i].second, "") << r[i].first << " got a foreign ETag";
    }
  }
  EXPECT_EQ(b.Stop(), 0);
}

}  // namespace
}  // namespace newsflow
