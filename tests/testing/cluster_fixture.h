#pragma once

// Cluster mode (issue 15) harness for integration tests and bench/cluster,
// real parts only:
//  - ClusterNewsSite: a loopback news site of N RSS feeds (one host name
//    per feed, reached through the daemons' http.proxy) whose items the
//    test adds over time; it logs every feed request with its User-Agent
//    and time, so "which daemon polled which feed when" is read from the
//    site, not from the code under test.
//  - ClusterNode: one `newsflowd run --config <yaml>` process with its own
//    state dir, metrics port, `http.user_agent: nf-<name>` and
//    `cluster: {group, exactly_once, instance: nf-<name>, session_timeout}`,
//    publishing to the kafka sink on the test broker; kill -9 or SIGTERM.
//  - ReadArticles: the articles topic read to its end (read_committed or
//    not), as (id, content_hash, title) per message.
//
// Threading: the site's handler runs on its connection threads; every
// public method of every class here is meant for the test thread (the
// site's are also thread-safe).

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/core/error.h"
#include "tests/testing/daemon_process.h"
#include "tests/testing/kafka_test_util.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow::testing {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;

// Name and URL of feed `feed` of `feeds`: "f07" (two digits, three from
// 101 feeds on), "http://f07.cluster.test/rss.xml".
std::string ClusterFeedName(int feed, int feeds);
std::string ClusterFeedUrl(int feed, int feeds);

struct NewsSiteOptions {
  // Number of feeds, named FeedName(0..feeds-1).
  int feeds = 60;
  // Items every feed has at the start.
  int initial_items = 5;
  // Items a feed lists (its newest); older ones drop out of the feed.
  int window = 10;
  // Length of an item's description (the article text; full_article: never).
  size_t text_bytes = 600;
};

// One feed request the site answered.
struct FeedFetch {
  int feed = -1;
  std::string agent;  // the User-Agent header
  SteadyTime at;
  int status = 0;  // 200 or 304
};

class ClusterNewsSite {
 public:
  explicit ClusterNewsSite(NewsSiteOptions options = {});
  ClusterNewsSite(const ClusterNewsSite&) = delete;
  ClusterNewsSite& operator=(const ClusterNewsSite&) = delete;

  // "http://127.0.0.1:PORT": the daemons' http.proxy.
  std::string proxy() const { return server_->base_url(); }
  int feeds() const { return options_.feeds; }
  std::string FeedName(int feed) const;  // ClusterFeedName
  std::string FeedUrl(int feed) const;   // ClusterFeedUrl
  // The feed index of a FeedName, or -1.
  int FeedIndex(const std::string& name) const;

  // Adds one item to `feed` (listed from its next answer on).
  void AddItem(int feed);
  void AddItemToEveryFeed();

  // Feed requests answered at or after `since`, in arrival order.
  std::vector<FeedFetch> Fetches(SteadyTime since = SteadyTime{}) const;
  // Titles ("f07 item 3") the site listed in a 200 answer so far: what the
  // topic must hold, computed here, not by the code under test.
  std::set<std::string> ServedTitles() const;
  // Every item that exists now (served or not yet).
  size_t ItemCount() const;
  // The title of item `item` of `feed`.
  std::string Title(int feed, int item) const;

 private:
  TestResponse Serve(const TestRequest& req);

  const NewsSiteOptions options_;
  mutable std::mutex mu_;
  std::vector<int> items_;  // per feed: items 0..items_[f]-1 exist
  std::vector<FeedFetch> fetches_;
  std::set<std::string> served_titles_;
  std::unique_ptr<LoopbackHttpServer> server_;  // last: stops first
};

// feed -> the agents that fetched it, over `fetches`.
std::map<int, std::set<std::string>> AgentsByFeed(
    const std::vector<FeedFetch>& fetches);
// agent -> the feeds it fetched, over `fetches`.
std::map<std::string, std::set<int>> FeedsByAgent(
    const std::vector<FeedFetch>& fetches);

struct ClusterNodeOptions {
  // Short name: instance and User-Agent are "nf-<name>".
  std::string name;
  // Working directory of this node (state db, config, log); created.
  std::string dir;
  std::string brokers;
  std::string topic;  // articles
  std::string proxy;  // the site
  int feeds = 60;     // ClusterFeedName/ClusterFeedUrl(0..feeds-1)
  // false: no `cluster:` section at all (a single node, as before issue 15).
  bool cluster = true;
  std::string group;
  bool exactly_once = true;
  std::string session_timeout = "6s";
  std::string poll_interval = "2s";  // every feed's own `interval:`
  std::string commit_interval = "200ms";
  std::string drain_timeout = "5s";
  std::string log_level = "info";
};

class ClusterNode {
 public:
  // Writes the node's YAML; does not start it.
  explicit ClusterNode(ClusterNodeOptions options);
  // SIGKILL if still running.
  ~ClusterNode();
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // Starts `newsflowd run --config <yaml>` (again, after Kill/Stop: same
  // instance, same state dir). Precondition: not running.
  void Start();
  // kill -9 and reap.
  void Kill();
  // SIGTERM; waits up to `timeout` for the exit code (nullopt: still
  // running, then killed).
  std::optional<int> Stop(std::chrono::milliseconds timeout);
  // SIGTERM without waiting (pair with Wait()).
  void Terminate();
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // Started and neither killed, stopped nor reaped by Wait.
  bool running() const { return process_ != nullptr; }
  // running() and the process has not exited (no zombie either).
  bool Alive() const;
  pid_t pid() const;

  const std::string& name() const { return options_.name; }
  // "nf-<name>": User-Agent and cluster.instance.
  std::string agent() const { return "nf-" + options_.name; }
  const std::string& config_path() const { return config_path_; }
  uint16_t metrics_port() const { return metrics_port_; }
  // A sample of the running daemon's /metrics; -1 when the endpoint or the
  // series is not there.
  double Metric(const std::string& series) const;
  // newsflow_cluster_feeds_owned, -1 when absent.
  double FeedsOwned() const { return Metric("newsflow_cluster_feeds_owned"); }
  // Every run's output so far.
  std::string Log() const;

 private:
  const ClusterNodeOptions options_;
  std::string config_path_;
  std::string log_path_;
  uint16_t metrics_port_ = 0;
  std::unique_ptr<DaemonProcess> process_;
};

// Waits until the running `nodes` report newsflow_cluster_feeds_owned > 0
// each, adding up to `feeds`, with every value unchanged for `quiet`.
// Returns the last values read (per node, -1 = no answer) and whether the
// state was reached before `timeout`.
// A daemon that exited ends the wait at once (`exited` names it).
struct OwnershipSnapshot {
  bool stable = false;
  std::vector<double> owned;
  std::string exited;
  std::string ToString() const;
};
OwnershipSnapshot WaitForStableOwnership(
    const std::vector<const ClusterNode*>& nodes, int feeds,
    std::chrono::milliseconds quiet, std::chrono::milliseconds timeout);

// One article message of the topic.
struct TopicArticle {
  std::string id;
  std::string content_hash;
  std::string title;
  std::string event;
  int32_t partition = -1;
  int64_t offset = -1;
};
// The articles topic read to its end (ConsumeToEnd), parsed.
Result<std::vector<TopicArticle>> ReadArticles(
    const std::string& bootstrap, const std::string& topic, Isolation isolation,
    std::chrono::milliseconds timeout);

// Counts per (id, content_hash) and the titles seen.
struct ArticleTally {
  std::map<std::pair<std::string, std::string>, int> copies;
  std::set<std::string> titles;
  size_t messages = 0;
  // (id, hash) pairs seen more than once, as "title xN" lines (at most 20).
  std::string Duplicates() const;
  size_t DuplicateCount() const;
};
ArticleTally Tally(const std::vector<TopicArticle>& articles);

// `want` minus `have`, as a short list ("a, b, ... (N missing)").
std::string MissingTitles(const std::set<std::string>& want,
                          const std::set<std::string>& have);

// Waits until `done()` holds, polling every `step`, for at most `timeout`.
bool WaitFor(const std::function<bool()>& done,
             std::chrono::milliseconds timeout,
             std::chrono::milliseconds step = std::chrono::milliseconds(100));

}  // namespace newsflow::testing
