// bench/cluster driver (issue 15): cluster mode's two costs, measured with
// the real binary, a real broker and the loopback site of the cluster tests
// (tests/testing/cluster_fixture.h):
//
//  1. takeover: three daemons share the feeds; one is killed (kill -9); the
//     time from the kill until every feed it polled (read from the site's
//     request log) was polled by a survivor. The victim is restarted and
//     the group settles before the next repeat; the median is printed.
//  2. throughput: two daemons, the feeds empty until the group is stable,
//     then `items` new items on every feed at once; articles/s = articles /
//     (time from adding them until a read_committed consumer has seen every
//     one). Once with exactly_once: false, once with true, same site shape,
//     same broker, same run; their ratio is the cost of exactly-once.
//
// Prints a human table then machine-readable `ratio ...` lines. Never
// asserts a timing; exits 1 only when a run did not deliver (or a group
// never settled), since then there is no number to print.

#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/cluster_fixture.h"
#include "tests/testing/kafka_test_util.h"

namespace fs = std::filesystem;
using newsflow::testing::AgentsByFeed;
using newsflow::testing::ClusterNewsSite;
using newsflow::testing::ClusterNode;
using newsflow::testing::ClusterNodeOptions;
using newsflow::testing::NewsSiteOptions;
using newsflow::testing::SteadyClock;
using newsflow::testing::SteadyTime;
using newsflow::testing::WaitFor;
using newsflow::testing::WaitForStableOwnership;
using std::chrono::duration;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

struct Options {
  std::string brokers;
  int feeds = 60;
  int repeats = 5;
  int items = 100;  // per feed, throughput run
  milliseconds poll{2000};
  milliseconds session{6000};
  std::string dir = "/tmp/nf-cluster-bench-" + std::to_string(::getpid());
};

std::string Ms(milliseconds d) { return std::to_string(d.count()) + "ms"; }

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "cluster_bench: %s\n", what.c_str());
  std::exit(1);
}

// Counts the distinct (id, content_hash) of a topic as a read_committed
// consumer sees them, on its own thread, with the time of the last new one.
class ArrivalCounter {
 public:
  ArrivalCounter(const std::string& brokers, const std::string& topic,
                 int partitions) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    for (auto [k, v] : std::vector<std::pair<const char*, std::string>>{
             {"bootstrap.servers", brokers},
             {"group.id", "nf-cluster-bench-unused"},
             {"enable.auto.commit", "false"},
             {"isolation.level", "read_committed"},
             {"log_level", "3"}}) {
      if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof(err)) !=
          RD_KAFKA_CONF_OK) {
        Fail(err);
      }
    }
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk_ == nullptr) Fail(err);
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p) {
      rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk_, list);
    rd_kafka_topic_partition_list_destroy(list);
    thread_ = std::thread([this] { Run(); });
  }
  ~ArrivalCounter() {
    stop_ = true;
    thread_.join();
    rd_kafka_assign(rk_, nullptr);
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }
  size_t distinct() const { return distinct_; }
  size_t messages() const { return messages_; }
  // Arrival of the first and of the latest new (id, content_hash).
  SteadyTime first() const {
    std::lock_guard lock(mu_);
    return first_;
  }
  SteadyTime last() const {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  void Run() {
    while (!stop_) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 100);
      if (m == nullptr) continue;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->payload != nullptr) {
        auto v = nlohmann::json::parse(
            std::string(static_cast<const char*>(m->payload), m->len), nullptr,
            false);
        if (v.is_object()) {
          ++messages_;
          if (seen_
                  .insert(v.value("id", "") + "/" + v.value("content_hash", ""))
                  .second) {
            std::lock_guard lock(mu_);
            last_ = SteadyClock::now();
            if (distinct_ == 0) first_ = last_;
            ++distinct_;
          }
        }
      }
      rd_kafka_message_destroy(m);
    }
  }

  rd_kafka_t* rk_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::set<std::string> seen_;  // consumer thread only
  std::atomic<size_t> distinct_{0};
  std::atomic<size_t> messages_{0};
  mutable std::mutex mu_;
  SteadyTime first_;
  SteadyTime last_;
};

ClusterNodeOptions NodeOptions(const Options& o, const std::string& run,
                               const std::string& name,
                               const std::string& group,
                               const std::string& topic,
                               const std::string& proxy, bool exactly_once) {
  ClusterNodeOptions n;
  n.name = name;
  n.dir = o.dir + "/" + run + "/" + name;
  n.brokers = o.brokers;
  n.topic = topic;
  n.proxy = proxy;
  n.feeds = o.feeds;
  n.group = group;
  n.exactly_once = exactly_once;
  n.session_timeout = Ms(o.session);
  n.poll_interval = Ms(o.poll);
  n.log_level = "warn";
  return n;
}

std::vector<const ClusterNode*> Ptrs(
    const std::vector<std::unique_ptr<ClusterNode>>& nodes) {
  std::vector<const ClusterNode*> out;
  for (const auto& n : nodes) {
    if (n->running()) out.push_back(n.get());
  }
  return out;
}

void Settle(const Options& o,
            const std::vector<std::unique_ptr<ClusterNode>>& nodes) {
  auto snap =
      WaitForStableOwnership(Ptrs(nodes), o.feeds, o.poll * 2, seconds(120));
  if (!snap.stable) {
    for (const auto& n : nodes) {
      std::fprintf(
          stderr, "--- %s\n%s\n", n->agent().c_str(),
          n->Log()
              .substr(n->Log().size() > 3000 ? n->Log().size() - 3000 : 0)
              .c_str());
    }
    Fail("the group did not settle: " + snap.ToString());
  }
}

// Takeover time after kill -9, `o.repeats` times; seconds, ascending.
std::vector<double> Takeover(const Options& o) {
  NewsSiteOptions so;
  so.feeds = o.feeds;
  ClusterNewsSite site(so);
  const std::string group = newsflow::testing::UniqueTopicName("nfb");
  const std::string topic =
      newsflow::testing::UniqueTopicName("bench-takeover");
  if (auto c = newsflow::testing::CreateTopic(o.brokers, topic, 6); !c) {
    Fail(c.error().ToString());
  }
  std::vector<std::unique_ptr<ClusterNode>> nodes;
  for (const char* name : {"a", "b", "c"}) {
    nodes.push_back(std::make_unique<ClusterNode>(
        NodeOptions(o, "takeover", name, group, topic, site.proxy(),
                    /*exactly_once=*/true)));
    nodes.back()->Start();
  }
  std::vector<double> out;
  for (int r = 0; r < o.repeats; ++r) {
    Settle(o, nodes);
    ClusterNode& victim = *nodes[r % nodes.size()];
    // The victim's feeds: what it polled over two intervals.
    const SteadyTime watch = SteadyClock::now();
    std::this_thread::sleep_for(o.poll * 2 + milliseconds(500));
    std::set<int> orphans;
    for (const auto& [feed, agents] : AgentsByFeed(site.Fetches(watch))) {
      if (agents.count(victim.agent())) orphans.insert(feed);
    }
    if (orphans.empty()) Fail("the victim polled nothing");
    const SteadyTime killed = SteadyClock::now();
    victim.Kill();
    std::map<int, SteadyTime> first;
    const bool all = WaitFor(
        [&] {
          for (const auto& f : site.Fetches(killed)) {
            if (f.agent != victim.agent() && orphans.count(f.feed) &&
                !first.count(f.feed)) {
              first[f.feed] = f.at;
            }
          }
          return first.size() == orphans.size();
        },
        seconds(120), milliseconds(20));
    if (!all) Fail("orphaned feeds were not taken over within 120 s");
    SteadyTime latest = killed;
    for (const auto& [feed, at] : first) latest = std::max(latest, at);
    const double s = duration<double>(latest - killed).count();
    std::printf("  takeover run %d: %.2f s (%zu feeds of %s)\n", r + 1, s,
                orphans.size(), victim.agent().c_str());
    std::fflush(stdout);
    out.push_back(s);
    victim.Start();  // same instance, same state dir: rejoins
  }
  for (auto& n : nodes) n->Stop(seconds(30));
  std::sort(out.begin(), out.end());
  return out;
}

struct Throughput {
  double articles_per_s = 0;    // first to last arrival
  double seconds_from_add = 0;  // items added -> last arrival
  size_t articles = 0;
  size_t messages = 0;
};

// Two daemons; `items` new items per feed at once; read_committed rate.
Throughput Rate(const Options& o, bool exactly_once) {
  NewsSiteOptions so;
  so.feeds = o.feeds;
  so.initial_items = 0;
  so.window = o.items;
  ClusterNewsSite site(so);
  const std::string mode = exactly_once ? "eos" : "alo";
  const std::string group = newsflow::testing::UniqueTopicName("nfb-" + mode);
  const std::string topic =
      newsflow::testing::UniqueTopicName("bench-rate-" + mode);
  if (auto c = newsflow::testing::CreateTopic(o.brokers, topic, 6); !c) {
    Fail(c.error().ToString());
  }
  std::vector<std::unique_ptr<ClusterNode>> nodes;
  for (const char* name : {"a", "b"}) {
    nodes.push_back(std::make_unique<ClusterNode>(NodeOptions(
        o, "rate-" + mode, name, group, topic, site.proxy(), exactly_once)));
    nodes.back()->Start();
  }
  Settle(o, nodes);
  ArrivalCounter counter(o.brokers, topic, 6);
  const size_t want = static_cast<size_t>(o.feeds) * o.items;
  const SteadyTime added = SteadyClock::now();
  for (int i = 0; i < o.items; ++i) site.AddItemToEveryFeed();
  if (!WaitFor([&] { return counter.distinct() >= want; }, seconds(600))) {
    Fail(mode + ": only " + std::to_string(counter.distinct()) + " of " +
         std::to_string(want) + " articles arrived");
  }
  Throughput t;
  t.articles = counter.distinct();
  // From the first article to the last: the wait for the next poll (up to
  // one interval) is not delivery.
  t.articles_per_s = (t.articles - 1) /
                     duration<double>(counter.last() - counter.first()).count();
  t.seconds_from_add = duration<double>(counter.last() - added).count();
  std::this_thread::sleep_for(milliseconds(500));
  t.messages = counter.messages();
  for (auto& n : nodes) n->Stop(seconds(30));
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Fail("missing value for " + a);
      return argv[++i];
    };
    if (a == "--brokers") {
      o.brokers = next();
    } else if (a == "--feeds") {
      o.feeds = std::stoi(next());
    } else if (a == "--repeats") {
      o.repeats = std::stoi(next());
    } else if (a == "--items") {
      o.items = std::stoi(next());
    } else if (a == "--poll-ms") {
      o.poll = milliseconds(std::stoi(next()));
    } else if (a == "--session-ms") {
      o.session = milliseconds(std::stoi(next()));
    } else {
      Fail(
          "usage: cluster_bench --brokers ADDR [--feeds N] [--repeats N] "
          "[--items N] [--poll-ms MS] [--session-ms MS]");
    }
  }
  if (o.brokers.empty()) Fail("--brokers is required");
  fs::remove_all(o.dir);

  std::printf("cluster: %d feeds, poll interval %s, session_timeout %s\n",
              o.feeds, Ms(o.poll).c_str(), Ms(o.session).c_str());
  std::printf("takeover after kill -9 (3 daemons, exactly_once, %d repeats):\n",
              o.repeats);
  std::fflush(stdout);
  const std::vector<double> takeover = Takeover(o);
  const double median = takeover[takeover.size() / 2];
  std::printf("  median %.2f s, min %.2f s, max %.2f s\n", median,
              takeover.front(), takeover.back());

  std::printf("throughput (2 daemons, %d new items on each of %d feeds):\n",
              o.items, o.feeds);
  std::fflush(stdout);
  const Throughput alo = Rate(o, /*exactly_once=*/false);
  std::printf(
      "  at_least_once  %8.0f articles/s  (%zu articles, %zu messages, "
      "%.1f s from adding the items)\n",
      alo.articles_per_s, alo.articles, alo.messages, alo.seconds_from_add);
  std::fflush(stdout);
  const Throughput eos = Rate(o, /*exactly_once=*/true);
  std::printf(
      "  exactly_once   %8.0f articles/s  (%zu articles, %zu messages, "
      "%.1f s from adding the items)\n",
      eos.articles_per_s, eos.articles, eos.messages, eos.seconds_from_add);

  const double bound = duration<double>(o.session + o.poll).count();
  std::printf(
      "ratio takeover median/(session_timeout + poll interval): %.2f"
      "  (median %.2f s)\n",
      median / bound, median);
  std::printf("ratio exactly_once/at_least_once (articles/s): %.2f\n",
              eos.articles_per_s / alo.articles_per_s);
  fs::remove_all(o.dir);
  return 0;
}
