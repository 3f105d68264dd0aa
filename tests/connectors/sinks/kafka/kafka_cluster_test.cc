// Integration tests: KafkaCluster (cluster mode, issue 15) and the
// transactional KafkaSink against the real local broker (ctest fixture
// kafka_broker), checked with independent librdkafka consumers. Several
// instances run in one process, each on its own io_context thread.

#include "connectors/sinks/kafka/kafka_cluster.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "connectors/sinks/kafka/kafka_sink.h"
#include "connectors/sinks/kafka/kafka_sink_descriptor.h"
#include "connectors/sinks/kafka/kafka_transactions.h"
#include "daemon/core/time_util.h"
#include "tests/testing/kafka_test_util.h"

namespace newsflow {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr auto kSession = milliseconds(6000);  // the broker's minimum

// One daemon stand-in: an io_context on its own thread, the cluster parts
// created and used there, and what the callbacks saw.
class Node {
 public:
  explicit Node(std::string instance)
      : instance_(std::move(instance)), guard_(io_.get_executor()) {
    thread_ = std::thread([this] { io_.run(); });
  }

  // Runs `f` on the io thread and returns its result.
  template <class F>
  auto Run(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }
  ~Node() {
    Run([this] {
      parts_.sink.reset();
      parts_.cluster.reset();
    });
    guard_.reset();
    io_.stop();
    thread_.join();
  }

  Result<void> Start(const KafkaSinkOptions& sink, ClusterOptions options) {
    options.instance = instance_;
    return Run([&]() -> Result<void> {
      auto settings = std::make_shared<KafkaSinkSettings>();
      settings->options = sink;
      auto parts =
          KafkaSinkDescriptor().create_cluster(io_, *settings, options);
      if (!parts) return parts.error();
      parts_ = std::move(*parts);
      Cluster::Callbacks cb;
      cb.assigned = [this](std::vector<int> p, std::vector<StateRecord> s) {
        std::lock_guard lock(mu_);
        for (int x : p) owned_.insert(x);
        assigned_.push_back(p);
        for (auto& r : s) restored_[r.key] = r.value;
        cv_.notify_all();
      };
      cb.revoked = [this](std::vector<int> p, std::function<void()> done) {
        if (on_revoke_) on_revoke_(p);
        {
          std::lock_guard lock(mu_);
          for (int x : p) owned_.erase(x);
          revoked_.push_back(p);
          cv_.notify_all();
        }
        done();
      };
      cb.lost = [this](std::vector<int> p) {
        std::lock_guard lock(mu_);
        for (int x : p) owned_.erase(x);
        lost_.push_back(p);
        cv_.notify_all();
      };
      cb.delivered_record = [](const Article& a) {
        return std::make_pair(0, StateRecord{"a/" + a.id, a.content_hash});
      };
      return parts_.cluster->Start(std::move(cb));
    });
  }

  // Leave(), waiting for its `done`.
  bool Leave(milliseconds timeout) {
    auto left = std::make_shared<std::promise<void>>();
    Run([&] { parts_.cluster->Leave(timeout, [left] { left->set_value(); }); });
    return left->get_future().wait_for(timeout + seconds(5)) ==
           std::future_status::ready;
  }

  template <class Pred>
  bool WaitFor(Pred pred, milliseconds limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return pred(); });
  }

  std::set<int> owned() {
    std::lock_guard lock(mu_);
    return owned_;
  }

  Cluster& cluster() { return *parts_.cluster; }
  Sink& sink() { return *parts_.sink; }
  const std::string& instance() const { return instance_; }

  std::mutex mu_;
  std::condition_variable cv_;
  std::set<int> owned_;
  std::vector<std::vector<int>> assigned_, revoked_, lost_;
  std::map<std::string, std::string> restored_;
  // Runs in the revoked callback (io thread) before `done`: the daemon's
  // hand-over of the last state records. Set before the rebalance.
  std::function<void(const std::vector<int>&)> on_revoke_;

 private:
  std::string instance_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type>
      guard_;
  std::thread thread_;
  ClusterParts parts_;
};

struct Message {
  int32_t partition = -1;
  std::string key;
  std::string value;
  bool null_value = false;
};

// Reads every partition of `topic` from the beginning to its end, with
// `isolation` ("read_committed" / "read_uncommitted").
std::vector<Message> ReadTopic(const std::string& bootstrap,
                               const std::string& topic,
                               const std::string& isolation) {
  std::vector<Message> out;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err,
                    sizeof(err));
  rd_kafka_conf_set(conf, "isolation.level", isolation.c_str(), err,
                    sizeof(err));
  rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof(err));
  rd_kafka_conf_set(conf, "group.id", "nf-test-unused", err, sizeof(err));
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (rk == nullptr) return out;
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  int partitions = 0;
  if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (md->topic_cnt == 1) partitions = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
  }
  rd_kafka_topic_destroy(rkt);
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::set<int> eof;
  const auto deadline = Clock::now() + seconds(20);
  while (static_cast<int>(eof.size()) < partitions && Clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      eof.insert(m->partition);
    } else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      Message msg;
      msg.partition = m->partition;
      if (m->key != nullptr) {
        msg.key.assign(static_cast<const char*>(m->key), m->key_len);
      }
      msg.null_value = m->payload == nullptr;
      if (m->payload != nullptr) {
        msg.value.assign(static_cast<const char*>(m->payload), m->len);
      }
      out.push_back(std::move(msg));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_assign(rk, nullptr);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

Article MakeArticle(const std::string& id) {
  Article a;
  a.id = id;
  a.feed.id = "feed-1";
  a.feed.url = "https://example.org/feed.xml";
  a.url = "https://example.org/story/" + id;
  a.canonical_url = a.url;
  a.title = "Story " + id;
  a.fetched_at = *MakeUtc(2026, 11, 29, 1, 0, 0, 0);
  a.content_text = "Body of " + id;
  a.content_hash = "hash-" + id;
  a.word_count = 3;
  return a;
}

class KafkaClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = testing::TestBrokerBootstrap();
    ASSERT_TRUE(b) << b.error().ToString();
    sink_.brokers = *b;
    sink_.linger_ms = 5;
    options_.group = testing::UniqueTopicName("nf-cluster");
    options_.partitions = 6;
    options_.session_timeout = kSession;
  }

  KafkaSinkOptions sink_;
  ClusterOptions options_;
};

std::set<int> All6() { return {0, 1, 2, 3, 4, 5}; }

TEST_F(KafkaClusterTest, TwoInstancesSplitThePartitionsAndHandOverOnLeave) {
  Node a("node-a"), b("node-b");
  ASSERT_TRUE(a.Start(sink_, options_));
  EXPECT_EQ(a.Run([&] { return a.cluster().partitions(); }), 6);
  ASSERT_TRUE(a.WaitFor([&] { return a.owned_ == All6(); }, seconds(20)))
      << "a alone should own all 6 partitions";
  ASSERT_TRUE(b.Start(sink_, options_));

  // Cooperative: a hands some partitions to b; disjoint, covering all 6.
  auto split = [&] {
    std::set<int> oa = a.owned(), ob = b.owned(), all;
    for (int p : oa) all.insert(p);
    for (int p : ob) {
      if (oa.count(p) != 0) return false;
      all.insert(p);
    }
    return !oa.empty() && !ob.empty() && all == All6();
  };
  const auto deadline = Clock::now() + seconds(25);
  while (!split() && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(split()) << "a owns " << a.owned().size() << ", b owns "
                       << b.owned().size();
  EXPECT_EQ(a.owned().size(), 3u);
  EXPECT_EQ(b.owned().size(), 3u);
  {
    std::lock_guard lock(a.mu_);
    ASSERT_FALSE(a.revoked_.empty()) << "a must have revoked what b got";
    EXPECT_TRUE(a.lost_.empty());
  }

  // Status: the cluster's own view matches the callbacks'.
  ClusterStatus sa = a.Run([&] { return a.cluster().Status(); });
  EXPECT_EQ(sa.instance, "node-a");
  EXPECT_FALSE(sa.member_id.empty());
  EXPECT_GE(sa.generation, 1);
  EXPECT_EQ(std::set<int>(sa.partitions.begin(), sa.partitions.end()),
            a.owned());
  EXPECT_GE(sa.rebalances, 2u);  // assigned 6, revoked 3
  EXPECT_TRUE(sa.healthy) << sa.problem;

  // describe_cluster: both members with their partitions, as assigned.
  KafkaSinkSettings settings;
  settings.options = sink_;
  Result<ClusterDescription> d = Error::Internal("not asked", "test");
  const auto describe_deadline = Clock::now() + seconds(15);
  do {
    d = KafkaSinkDescriptor().describe_cluster(settings, options_, seconds(5));
    if (d && d->state == "Stable" && d->members.size() == 2) break;
    std::this_thread::sleep_for(milliseconds(200));
  } while (Clock::now() < describe_deadline);
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_EQ(d->group, options_.group);
  EXPECT_EQ(d->state, "Stable");
  EXPECT_EQ(d->partitions, 6);
  ASSERT_EQ(d->members.size(), 2u);
  EXPECT_EQ(d->members[0].instance, "node-a");
  EXPECT_EQ(d->members[1].instance, "node-b");
  EXPECT_EQ(d->members[0].member_id, sa.member_id);
  EXPECT_EQ(std::set<int>(d->members[0].partitions.begin(),
                          d->members[0].partitions.end()),
            a.owned());
  EXPECT_EQ(std::set<int>(d->members[1].partitions.begin(),
                          d->members[1].partitions.end()),
            b.owned());

  // a leaves: its partitions are revoked (callback) and move to b.
  const std::set<int> had = a.owned();
  const size_t b_assigned_before = b.assigned_.size();
  ASSERT_TRUE(a.Leave(kSession));
  EXPECT_TRUE(a.owned().empty());
  ASSERT_TRUE(b.WaitFor([&] { return b.owned_ == All6(); }, seconds(20)))
      << "b owns " << b.owned().size();
  std::lock_guard lock(b.mu_);
  ASSERT_GT(b.assigned_.size(), b_assigned_before);
  EXPECT_EQ(std::set<int>(b.assigned_.back().begin(), b.assigned_.back().end()),
            had);
}

TEST_F(KafkaClusterTest, NewOwnerRestoresTheLatestValuePerKey) {
  {
    Node a("restore-a");
    ASSERT_TRUE(a.Start(sink_, options_));
    ASSERT_TRUE(a.WaitFor([&] { return a.owned_ == All6(); }, seconds(20)));
    a.Run([&] {
      Cluster& c = a.cluster();
      c.Record(2, {"f/x", "v1"});
      c.Record(2, {"f/x", "v2"});
      c.Record(2, {"f/y", "y1"});
      c.Record(2, {"f/y", ""});  // tombstone
      c.Record(5, {"f/z", "z1"});
      c.Record(5, {"a/z/1", "{\"content_hash\":\"h\"}"});
      c.DeclareFeed(2, {"x", "{}"});
    });
    ASSERT_TRUE(a.Leave(kSession));
    // Partition 2 is not a's any more: a late record is dropped, not sent
    // over the next owner's state.
    a.Run([&] { a.cluster().Record(2, {"f/late", "stale"}); });
  }
  // The tombstone is a null value on the wire.
  auto raw =
      ReadTopic(sink_.brokers, KafkaStateTopic(options_), "read_uncommitted");
  ASSERT_EQ(raw.size(), 6u);
  int tombstones = 0;
  for (const auto& m : raw) tombstones += m.null_value ? 1 : 0;
  EXPECT_EQ(tombstones, 1);
  auto feeds =
      ReadTopic(sink_.brokers, KafkaFeedsTopic(options_), "read_uncommitted");
  ASSERT_EQ(feeds.size(), 1u);
  EXPECT_EQ(feeds[0].partition, 2);
  EXPECT_EQ(feeds[0].key, "x");

  Node b("restore-b");
  ASSERT_TRUE(b.Start(sink_, options_));
  ASSERT_TRUE(b.WaitFor([&] { return b.owned_ == All6(); }, seconds(20)));
  std::lock_guard lock(b.mu_);
  const std::map<std::string, std::string> expected = {
      {"f/x", "v2"}, {"f/z", "z1"}, {"a/z/1", "{\"content_hash\":\"h\"}"}};
  EXPECT_EQ(b.restored_, expected);
}

TEST_F(KafkaClusterTest,
       ExactlyOnceCommitsArticlesWithRecordsAndFencingAborts) {
  const std::string topic = testing::UniqueTopicName("nf-cluster-articles");
  ASSERT_TRUE(testing::CreateTopic(sink_.brokers, topic, 3));
  sink_.topic = topic;
  options_.exactly_once = true;
  options_.commit_interval = milliseconds(200);

  Node a("eos-a");
  ASSERT_TRUE(a.Start(sink_, options_));
  ASSERT_TRUE(a.WaitFor([&] { return a.owned_ == All6(); }, seconds(20)));

  std::mutex mu;
  std::map<std::string, std::vector<DeliveryOutcome>> outcomes;
  auto publish = [&](const std::vector<std::string>& ids) {
    a.Run([&] {
      for (const auto& id : ids) {
        a.sink().Publish(MakeArticle(id), SinkDestination{},
                         [&mu, &outcomes, id](DeliveryReport r) {
                           std::lock_guard lock(mu);
                           outcomes[id].push_back(r.outcome);
                         });
      }
    });
  };
  auto reported = [&](const std::vector<std::string>& ids, size_t n) {
    const auto deadline = Clock::now() + seconds(20);
    while (Clock::now() < deadline) {
      {
        std::lock_guard lock(mu);
        bool all = true;
        for (const auto& id : ids) all = all && outcomes[id].size() >= n;
        if (all) return true;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  };

  // Articles and a state record, committed together.
  const std::vector<std::string> first = {"a1", "a2", "a3", "a4", "a5"};
  publish(first);
  a.Run([&] { a.cluster().Record(1, {"f/feed-1", "state-1"}); });
  ASSERT_TRUE(reported(first, 1));
  for (const auto& id : first) {
    EXPECT_EQ(outcomes[id][0], DeliveryOutcome::kDelivered) << id;
  }

  // Fencing: another producer with the same transactional.id; the next
  // transaction of eos-a fails, its articles report kRetry, the producer
  // is recreated.
  {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    const std::string txn_id = options_.group + ".eos-a";
    rd_kafka_conf_set(conf, "bootstrap.servers", sink_.brokers.c_str(), err,
                      sizeof(err));
    rd_kafka_conf_set(conf, "transactional.id", txn_id.c_str(), err,
                      sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    rd_kafka_t* zombie =
        rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    ASSERT_NE(zombie, nullptr) << err;
    rd_kafka_error_t* e = rd_kafka_init_transactions(zombie, 10000);
    ASSERT_EQ(e, nullptr) << rd_kafka_error_string(e);
    rd_kafka_destroy(zombie);
  }
  const std::vector<std::string> fenced = {"x1", "x2", "x3"};
  publish(fenced);
  a.Run([&] { a.cluster().Record(1, {"f/feed-1", "state-2"}); });
  ASSERT_TRUE(reported(fenced, 1));
  for (const auto& id : fenced) {
    EXPECT_EQ(outcomes[id][0], DeliveryOutcome::kRetry) << id;
  }
  // Offered again (as the Publisher does): committed by the new producer.
  publish(fenced);
  ASSERT_TRUE(reported(fenced, 2));
  for (const auto& id : fenced) {
    EXPECT_EQ(outcomes[id][1], DeliveryOutcome::kDelivered) << id;
  }
  ClusterStatus s = a.Run([&] { return a.cluster().Status(); });
  EXPECT_GE(s.transactions_committed, 2u);
  EXPECT_GE(s.transactions_aborted, 1u);
  EXPECT_TRUE(s.healthy) << s.problem;
  ASSERT_TRUE(a.Leave(kSession));

  // read_committed: every article exactly once; the records that mark them
  // delivered exactly once each (the aborted batch's are not there); the
  // state record re-queued after the abort is there.
  std::map<std::string, int> articles;
  for (const auto& m : ReadTopic(sink_.brokers, topic, "read_committed")) {
    ++articles[m.key];
  }
  std::map<std::string, int> expected;
  for (const auto& id : first) expected[id] = 1;
  for (const auto& id : fenced) expected[id] = 1;
  EXPECT_EQ(articles, expected);
  std::map<std::string, std::vector<std::string>> state;
  for (const auto& m :
       ReadTopic(sink_.brokers, KafkaStateTopic(options_), "read_committed")) {
    state[m.key].push_back(m.value);
  }
  for (const auto& id : first) {
    EXPECT_EQ(state["a/" + id], std::vector<std::string>{"hash-" + id}) << id;
  }
  for (const auto& id : fenced) {
    EXPECT_EQ(state["a/" + id], std::vector<std::string>{"hash-" + id}) << id;
  }
  EXPECT_EQ(state["f/feed-1"],
            (std::vector<std::string>{"state-1", "state-2"}));
}

// A record Kafka rejects for good aborts its transaction; it must not
// abort every later one: the article is dead-lettered in the next
// transaction (kDeadLettered), its batch-mates report kRetry, the state
// record of the aborted batch is committed with the next one.
TEST_F(KafkaClusterTest, ExactlyOnceDeadLettersARejectedArticleWithoutLooping) {
  const std::string topic = testing::UniqueTopicName("nf-cluster-ok");
  const std::string dlq = testing::UniqueTopicName("nf-cluster-dlq");
  ASSERT_TRUE(testing::CreateTopic(sink_.brokers, topic, 1));
  ASSERT_TRUE(testing::CreateTopic(sink_.brokers, dlq, 1));
  sink_.topic = topic;
  sink_.dead_letter_topic = dlq;
  options_.exactly_once = true;
  options_.commit_interval = milliseconds(500);

  Node a("eos-dlq");
  ASSERT_TRUE(a.Start(sink_, options_));
  ASSERT_TRUE(a.WaitFor([&] { return a.owned_ == All6(); }, seconds(20)));
  std::mutex mu;
  std::map<std::string, std::vector<DeliveryReport>> reports;
  auto publish = [&](const std::string& id, const std::string& to) {
    a.Run([&] {
      a.sink().Publish(MakeArticle(id), SinkDestination{to, {}},
                       [&mu, &reports, id](DeliveryReport r) {
                         std::lock_guard lock(mu);
                         reports[id].push_back(std::move(r));
                       });
    });
  };
  publish("good", "");
  publish("bad", "bad topic name!");
  a.Run([&] { a.cluster().Record(3, {"f/feed-1", "kept"}); });
  const auto deadline = Clock::now() + seconds(30);
  auto done = [&] {
    std::lock_guard lock(mu);
    return !reports["bad"].empty() && !reports["good"].empty();
  };
  while (!done() && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(done());
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(reports["bad"].size(), 1u);
    EXPECT_EQ(reports["bad"][0].outcome, DeliveryOutcome::kDeadLettered)
        << reports["bad"][0].error;
    EXPECT_EQ(reports["bad"][0].dead_letter_reason, "invalid_topic");
    EXPECT_EQ(reports["good"][0].outcome, DeliveryOutcome::kRetry);
  }
  publish("good", "");
  const auto deadline2 = Clock::now() + seconds(10);
  auto good_twice = [&] {
    std::lock_guard lock(mu);
    return reports["good"].size() >= 2;
  };
  while (!good_twice() && Clock::now() < deadline2) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(good_twice());
  EXPECT_EQ(reports["good"][1].outcome, DeliveryOutcome::kDelivered);
  ClusterStatus s = a.Run([&] { return a.cluster().Status(); });
  EXPECT_TRUE(s.healthy) << s.problem;
  ASSERT_TRUE(a.Leave(kSession));

  auto dead = ReadTopic(sink_.brokers, dlq, "read_committed");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].key, "bad");
  auto ok = ReadTopic(sink_.brokers, topic, "read_committed");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].key, "good");
  std::map<std::string, std::vector<std::string>> state;
  for (const auto& m :
       ReadTopic(sink_.brokers, KafkaStateTopic(options_), "read_committed")) {
    state[m.key].push_back(m.value);
  }
  EXPECT_EQ(state["f/feed-1"], std::vector<std::string>{"kept"});
  EXPECT_EQ(state["a/good"], std::vector<std::string>{"hash-good"});
  EXPECT_EQ(state.count("a/bad"), 0u) << "a dead letter is not delivered";
}

// exactly_once through a cooperative rebalance: what the first instance
// committed for the partitions it hands over is what the second restores;
// a record appended while handing over is committed before the partition
// is released.
TEST_F(KafkaClusterTest, ExactlyOnceStateMovesWithThePartitions) {
  options_.exactly_once = true;
  const std::string topic = testing::UniqueTopicName("nf-cluster-move");
  ASSERT_TRUE(testing::CreateTopic(sink_.brokers, topic, 1));
  sink_.topic = topic;
  Node a("move-a");
  ASSERT_TRUE(a.Start(sink_, options_));
  ASSERT_TRUE(a.WaitFor([&] { return a.owned_ == All6(); }, seconds(20)));
  std::atomic<int> delivered{0};
  a.Run([&] {
    for (int p = 0; p < 6; ++p) {
      a.cluster().Record(p, {"f/feed-" + std::to_string(p), "from-a"});
    }
    a.sink().Publish(MakeArticle("m1"), SinkDestination{},
                     [&](DeliveryReport r) {
                       if (r.outcome == DeliveryOutcome::kDelivered) {
                         ++delivered;
                       }
                     });
  });
  const auto deadline = Clock::now() + seconds(10);
  while (delivered.load() == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_EQ(delivered.load(), 1);

  // On revocation a hands over one more record per revoked partition
  // (its last state): committed before the partition is released, so b
  // restores it.
  a.on_revoke_ = [&](const std::vector<int>& parts) {
    for (int p : parts) {
      a.cluster().Record(p, {"f/feed-" + std::to_string(p), "handed-over"});
    }
  };
  Node b("move-b");
  ASSERT_TRUE(b.Start(sink_, options_));
  ASSERT_TRUE(b.WaitFor([&] { return b.owned_.size() == 3; }, seconds(25)));
  ASSERT_TRUE(a.WaitFor([&] { return a.owned_.size() == 3; }, seconds(5)));
  std::map<std::string, std::string> expected;
  for (int p : b.owned()) {
    expected["f/feed-" + std::to_string(p)] = "handed-over";
  }
  // The record that marked m1 delivered (Node: partition 0).
  if (b.owned().count(0) != 0) expected["a/m1"] = "hash-m1";
  {
    std::lock_guard lock(b.mu_);
    EXPECT_EQ(b.restored_, expected);
  }
  ClusterStatus sa = a.Run([&] { return a.cluster().Status(); });
  EXPECT_GE(sa.transactions_committed, 1u);
  EXPECT_EQ(sa.transactions_aborted, 0u);
  ASSERT_TRUE(a.Leave(kSession));
  ASSERT_TRUE(b.Leave(kSession));
  int copies = 0;
  for (const auto& m : ReadTopic(sink_.brokers, topic, "read_committed")) {
    copies += m.key == "m1" ? 1 : 0;
  }
  EXPECT_EQ(copies, 1);
}

// Existing streams keep their partition count (not the configured one);
// two streams that disagree are refused with a clear error.
TEST_F(KafkaClusterTest, ExistingStreamsKeepTheirCountAndMustAgree) {
  ASSERT_TRUE(
      testing::CreateTopic(sink_.brokers, KafkaFeedsTopic(options_), 4));
  ASSERT_TRUE(
      testing::CreateTopic(sink_.brokers, KafkaStateTopic(options_), 4));
  {
    Node a("count-a");
    options_.partitions = 6;
    ASSERT_TRUE(a.Start(sink_, options_));
    EXPECT_EQ(a.Run([&] { return a.cluster().partitions(); }), 4);
    EXPECT_TRUE(a.WaitFor(
        [&] {
          return a.owned_ == std::set<int>{0, 1, 2, 3};
        },
        seconds(20)));
  }
  ClusterOptions other = options_;
  other.group = testing::UniqueTopicName("nf-cluster-disagree");
  ASSERT_TRUE(testing::CreateTopic(sink_.brokers, KafkaFeedsTopic(other), 2));
  ASSERT_TRUE(testing::CreateTopic(sink_.brokers, KafkaStateTopic(other), 3));
  Node b("count-b");
  Result<void> started = b.Start(sink_, other);
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().ToString().find("disagree"), std::string::npos)
      << started.error().ToString();
}

// A session timeout the broker refuses (below its
// group.min.session.timeout.ms, 6 s by default): the group never takes the
// instance in. That must show as unhealthy with the group's reason (readiness
// and STATUS= use it), not as a healthy daemon that owns nothing for ever.
TEST_F(KafkaClusterTest, AGroupThatRefusesTheInstanceMakesItUnhealthy) {
  ClusterOptions refused = options_;
  refused.session_timeout = milliseconds(3000);
  Node a("refused-a");
  ASSERT_TRUE(a.Start(sink_, refused));
  ClusterStatus status;
  const auto deadline = Clock::now() + seconds(20);
  while (Clock::now() < deadline) {
    status = a.Run([&] { return a.cluster().Status(); });
    if (!status.healthy) break;
    std::this_thread::sleep_for(milliseconds(200));
  }
  EXPECT_FALSE(status.healthy);
  EXPECT_NE(status.problem.find("session timeout"), std::string::npos)
      << status.problem;
  EXPECT_TRUE(a.owned().empty());
}

}  // namespace
}  // namespace newsflow
