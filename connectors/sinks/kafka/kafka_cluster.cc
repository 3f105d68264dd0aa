#include "connectors/sinks/kafka/kafka_cluster.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cassert>
#include <cstring>
#include <utility>

#include "connectors/sinks/kafka/kafka_transactions.h"
#include "daemon/core/logging.h"

namespace newsflow {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kProbeInterval = std::chrono::seconds(5);
constexpr int kProbeTimeoutMs = 3000;
constexpr auto kStreamsTimeout = std::chrono::seconds(30);

std::shared_ptr<spdlog::logger> Logger() {
  static std::shared_ptr<spdlog::logger> logger = GetLogger("cluster.kafka");
  return logger;
}

void OnLog(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  LogLibrdkafkaLine(*Logger(), level, fac, buf);
}

// Connection settings of the sink's librdkafka map that every client of
// the cluster needs too (security, addressing); producer-only properties
// are not copied to consumers.
bool IsConnectionProperty(const std::string& key) {
  static const char* const kPrefixes[] = {
      "security.",  "sasl.",       "ssl.",       "socket.",        "broker.",
      "client.dns", "api.version", "reconnect.", "topic.metadata", "metadata."};
  for (const char* p : kPrefixes) {
    if (key.rfind(p, 0) == 0) return true;
  }
  return false;
}

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

// A client configuration: brokers, client.id, the sink's connection
// properties, then `extra`.
Result<ConfPtr> ClientConf(
    const KafkaSinkOptions& sink, const std::string& client_id,
    const std::vector<std::pair<std::string, std::string>>& extra) {
  ConfPtr conf(rd_kafka_conf_new());
  std::vector<std::pair<std::string, std::string>> all = {
      {"bootstrap.servers", sink.brokers}, {"client.id", client_id}};
  for (const auto& [k, v] : sink.librdkafka) {
    if (IsConnectionProperty(k)) all.emplace_back(k, v);
  }
  all.insert(all.end(), extra.begin(), extra.end());
  char errstr[512] = "";
  for (const auto& [k, v] : all) {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      return Error::Config("librdkafka property '" + k + "': " + errstr,
                           "cluster");
    }
  }
  rd_kafka_conf_set_log_cb(conf.get(), &OnLog);
  return conf;
}

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

Result<KafkaPtr> NewClient(rd_kafka_type_t type, ConfPtr conf) {
  char errstr[512] = "";
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof(errstr));
  if (rk == nullptr) {
    return Error::Config(std::string("cannot create Kafka client: ") + errstr,
                         "cluster");
  }
  (void)conf.release();  // owned by rk now
  return KafkaPtr(rk);
}

std::vector<int> Partitions(const rd_kafka_topic_partition_list_t* list) {
  std::vector<int> out;
  for (int i = 0; i < list->cnt; ++i) out.push_back(list->elems[i].partition);
  std::sort(out.begin(), out.end());
  return out;
}

// Partition count of `topic` once every partition has a leader; 0 while
// unknown or not ready; -1 when the broker did not answer.
int ReadyPartitions(rd_kafka_t* rk, const std::string& topic, int timeout_ms) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  int count = -1;
  if (rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms) ==
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    count = 0;
    for (int i = 0; i < md->topic_cnt; ++i) {
      const rd_kafka_metadata_topic_t& t = md->topics[i];
      if (topic != t.topic || t.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      count = t.partition_cnt;
      for (int p = 0; p < t.partition_cnt; ++p) {
        if (t.partitions[p].leader < 0) count = 0;
      }
    }
    rd_kafka_metadata_destroy(md);
  }
  rd_kafka_topic_destroy(rkt);
  return count;
}

// The generation in serialized group metadata (rd_kafka_consumer_group_
// metadata_write: "CGMDv2:" then the int32 generation, host order); -1 when
// the layout is not the one librdkafka 2.0.x writes.
int32_t GenerationOf(rd_kafka_t* consumer) {
  rd_kafka_consumer_group_metadata_t* cgmd =
      rd_kafka_consumer_group_metadata(consumer);
  if (cgmd == nullptr) return -1;
  void* buf = nullptr;
  size_t size = 0;
  int32_t generation = -1;
  rd_kafka_error_t* error =
      rd_kafka_consumer_group_metadata_write(cgmd, &buf, &size);
  constexpr char kMagic[] = "CGMDv2:";
  constexpr size_t kMagicLen = sizeof(kMagic) - 1;
  if (error == nullptr && size >= kMagicLen + sizeof(int32_t) &&
      std::memcmp(buf, kMagic, kMagicLen) == 0) {
    std::memcpy(&generation, static_cast<char*>(buf) + kMagicLen,
                sizeof(generation));
  }
  if (error != nullptr) rd_kafka_error_destroy(error);
  if (buf != nullptr) rd_kafka_mem_free(nullptr, buf);
  rd_kafka_consumer_group_metadata_destroy(cgmd);
  return generation;
}

std::string Join(const std::vector<int>& parts) {
  std::string out;
  for (int p : parts) {
    if (!out.empty()) out += ',';
    out += std::to_string(p);
  }
  return out;
}

}  // namespace

std::string KafkaFeedsTopic(const ClusterOptions& options) {
  return options.group + ".feeds";
}

std::string KafkaStateTopic(const ClusterOptions& options) {
  return options.group + ".state";
}

std::string KafkaClusterInstance(const ClusterOptions& options) {
  if (!options.instance.empty()) return options.instance;
  char host[256] = "";
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    return "newsflowd";
  }
  return host;
}

KafkaCluster::KafkaCluster(boost::asio::io_context& io,
                           KafkaSinkOptions sink_options,
                           ClusterOptions options,
                           std::shared_ptr<KafkaTransactions> transactions)
    : io_(io),
      sink_options_(std::move(sink_options)),
      options_(std::move(options)),
      instance_(KafkaClusterInstance(options_)),
      feeds_topic_(KafkaFeedsTopic(options_)),
      state_topic_(KafkaStateTopic(options_)),
      transactions_(std::move(transactions)) {}

Result<std::unique_ptr<KafkaCluster>> KafkaCluster::Create(
    boost::asio::io_context& io, KafkaSinkOptions sink_options,
    ClusterOptions options, std::shared_ptr<KafkaTransactions> transactions) {
  std::unique_ptr<KafkaCluster> cluster(
      new KafkaCluster(io, std::move(sink_options), std::move(options),
                       std::move(transactions)));
  // The record producer: idempotent (BuildProducerConf), never gives up on
  // a record (message.timeout.ms 0 = infinite), so records of one partition
  // arrive in order and at least once.
  KafkaSinkOptions records = cluster->sink_options_;
  records.client_id = cluster->instance_ + "-records";
  records.message_timeout_ms = 0;
  records.librdkafka.erase("message.timeout.ms");
  records.librdkafka.erase("transactional.id");
  records.linger_ms = 5;
  auto conf = BuildProducerConf(records);
  if (!conf) return conf.error();
  rd_kafka_conf_set_opaque(conf->get(), cluster.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &KafkaCluster::OnRecordDelivery);
  rd_kafka_conf_set_log_cb(conf->get(), &OnLog);
  char errstr[512] = "";
  cluster->records_ =
      rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), errstr, sizeof(errstr));
  if (cluster->records_ == nullptr) {
    return Error::Config(
        std::string("cannot create the cluster's record producer: ") + errstr,
        "cluster");
  }
  conf->release();
  if (cluster->transactions_ != nullptr) {
    cluster->transactions_->SetStateTopic(cluster->state_topic_);
  }
  return cluster;
}

KafkaCluster::~KafkaCluster() {
  alive_.reset();  // nothing posted from now on runs
  detached_.store(true);
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (transactions_ != nullptr) {
    transactions_->SetDeliveredRecord(nullptr);
    transactions_->SetConsumer(nullptr, "");
  }
  if (consumer_ != nullptr) rd_kafka_destroy(consumer_);
  if (records_ != nullptr) {
    if (rd_kafka_flush(records_, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Logger()->warn("{} state record(s) not sent before shutdown",
                     rd_kafka_outq_len(records_));
    }
    rd_kafka_destroy(records_);
  }
}

Result<int> KafkaCluster::EnsureStreams() {
  const int wanted =
      options_.partitions > 0 ? options_.partitions : kDefaultClusterPartitions;
  const std::string topics[] = {feeds_topic_, state_topic_};
  char errstr[512] = "";
  rd_kafka_NewTopic_t* nts[2] = {nullptr, nullptr};
  for (int i = 0; i < 2; ++i) {
    nts[i] = rd_kafka_NewTopic_new(topics[i].c_str(), wanted, -1, errstr,
                                   sizeof(errstr));
    if (nts[i] == nullptr) {
      if (i == 1) rd_kafka_NewTopic_destroy(nts[0]);
      return Error::Config(std::string("stream ") + topics[i] + ": " + errstr,
                           "cluster.group");
    }
    rd_kafka_NewTopic_set_config(nts[i], "cleanup.policy", "compact");
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(records_);
  rd_kafka_AdminOptions_t* admin =
      rd_kafka_AdminOptions_new(records_, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(admin, 15000, errstr,
                                            sizeof(errstr));
  rd_kafka_CreateTopics(records_, nts, 2, admin, queue);
  rd_kafka_NewTopic_destroy_array(nts, 2);
  rd_kafka_AdminOptions_destroy(admin);
  std::string failure;
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, 20000);
  if (ev == nullptr) {
    failure = "creating the streams timed out";
  } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    failure = rd_kafka_event_error_string(ev);
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(
            rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n; ++i) {
      const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        Logger()->info("created stream {} ({} partitions, compacted)",
                       rd_kafka_topic_result_name(results[i]), wanted);
      } else if (err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        const char* msg = rd_kafka_topic_result_error_string(results[i]);
        failure = std::string(rd_kafka_topic_result_name(results[i])) + ": " +
                  (msg != nullptr ? msg : rd_kafka_err2str(err));
      }
    }
  }
  if (ev != nullptr) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(queue);
  if (!failure.empty()) {
    return Error(Errc::kSink, "cannot create the cluster streams: " + failure,
                 sink_options_.brokers);
  }
  // Existing streams keep their count; both must agree (the same feed's
  // partition number in both).
  int counts[2] = {0, 0};
  const auto deadline = Clock::now() + kStreamsTimeout;
  for (int i = 0; i < 2; ++i) {
    while ((counts[i] = ReadyPartitions(records_, topics[i], 3000)) <= 0) {
      if (Clock::now() > deadline) {
        return Error(Errc::kSink,
                     "stream " + topics[i] +
                         " has no leader for every partition after 30 s",
                     sink_options_.brokers);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  if (counts[0] != counts[1]) {
    return Error(Errc::kSink,
                 "streams " + feeds_topic_ + " (" + std::to_string(counts[0]) +
                     " partitions) and " + state_topic_ + " (" +
                     std::to_string(counts[1]) +
                     " partitions) disagree; they must have the same count",
                 "cluster.partitions");
  }
  if (options_.partitions > 0 && counts[0] != options_.partitions) {
    Logger()->warn(
        "cluster.partitions is {} but the existing streams have {}; using {}",
        options_.partitions, counts[0], counts[0]);
  }
  return counts[0];
}

struct KafkaClusterCallbacks {
  static void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* partitions,
                        void* opaque) {
    KafkaCluster::OnRebalance(rk, err, partitions, opaque);
  }
};

Result<void> KafkaCluster::CreateConsumer() {
  const auto session = options_.session_timeout.count();
  auto conf =
      ClientConf(sink_options_, instance_,
                 {
                     {"group.id", options_.group},
                     {"partition.assignment.strategy", "cooperative-sticky"},
                     {"session.timeout.ms", std::to_string(session)},
                     {"heartbeat.interval.ms",
                      std::to_string(std::max<int64_t>(100, session / 3))},
                     {"enable.auto.commit", "false"},
                     {"auto.offset.reset", "earliest"},
                     {"isolation.level", "read_committed"},
                 });
  if (!conf) return conf.error();
  rd_kafka_conf_set_opaque(conf->get(), this);
  rd_kafka_conf_set_rebalance_cb(conf->get(),
                                 &KafkaClusterCallbacks::Rebalance);
  rd_kafka_conf_set_error_cb(conf->get(), &KafkaCluster::OnConsumerError);
  auto rk = NewClient(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!rk) return rk.error();
  consumer_ = rk->release();
  rd_kafka_poll_set_consumer(consumer_);
  rd_kafka_topic_partition_list_t* topics =
      rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, feeds_topic_.c_str(),
                                    RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error(Errc::kSink,
                 std::string("cannot subscribe to ") + feeds_topic_ + ": " +
                     rd_kafka_err2str(err),
                 "cluster");
  }
  return {};
}

Result<void> KafkaCluster::Start(Callbacks callbacks) {
  assert(!thread_.joinable() && "Start() twice");
  callbacks_ = std::move(callbacks);
  auto count = EnsureStreams();
  if (!count) return count.error();
  partitions_ = *count;
  if (auto r = CreateConsumer(); !r) return r.error();
  if (transactions_ != nullptr) {
    transactions_->SetDeliveredRecord(callbacks_.delivered_record);
    transactions_->SetConsumer(consumer_, feeds_topic_);
  }
  Logger()->info(
      "instance {} joining group {} on {} ({} partitions, session {} ms, {})",
      instance_, options_.group, feeds_topic_, partitions_,
      options_.session_timeout.count(),
      transactions_ != nullptr ? "exactly once" : "at least once");
  thread_ = std::thread([this] { GroupLoop(); });
  return {};
}

void KafkaCluster::GroupLoop() {
  auto next_probe = Clock::now() + kProbeInterval;
  while (!stop_.load()) {
    if (leaving_.load()) {
      // Revokes what is owned through OnRebalance (waiting for the
      // daemon's `done`), then leaves the group.
      const rd_kafka_resp_err_t err = rd_kafka_consumer_close(consumer_);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        Logger()->warn("leaving the group: {}", rd_kafka_err2str(err));
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          leave_deadline_ - Clock::now());
      rd_kafka_flush(records_,
                     static_cast<int>(std::max<int64_t>(0, left.count())));
      Logger()->info("instance {} left group {}", instance_, options_.group);
      boost::asio::post(io_, [done = std::move(leave_done_),
                              alive = std::weak_ptr<int>(alive_)] {
        if (!alive.expired() && done) done();
      });
      return;
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_, 100);
    if (m != nullptr) {
      // Feed declarations are not needed here: the mapping is computed
      // from the YAML. Reading them advances the positions committed with
      // each transaction.
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR &&
          m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        Logger()->warn("group consumer: {}", rd_kafka_message_errstr(m));
        if (m->err > 0) {  // a broker error, not a local one
          std::lock_guard lock(mu_);
          group_problem_ = rd_kafka_message_errstr(m);
        }
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_poll(records_, 0);
    if (Clock::now() >= next_probe) {
      const rd_kafka_metadata_t* md = nullptr;
      const rd_kafka_resp_err_t err =
          rd_kafka_metadata(consumer_, 0, nullptr, &md, kProbeTimeoutMs);
      if (md != nullptr) rd_kafka_metadata_destroy(md);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ClearProblem();
      } else {
        SetProblem(sink_options_.brokers + ": " + rd_kafka_err2str(err));
      }
      next_probe = Clock::now() + kProbeInterval;
    }
  }
  // Destructor: no daemon to wait for (detached_), close quietly.
  rd_kafka_consumer_close(consumer_);
}

void KafkaCluster::OnRebalance(rd_kafka_t* rk, int err,
                               rd_kafka_topic_partition_list_t* partitions,
                               void* opaque) {
  auto* self = static_cast<KafkaCluster*>(opaque);
  const bool cooperative =
      std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  switch (err) {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
      self->Assign(partitions);
      return;
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
      self->Revoke(partitions, rd_kafka_assignment_lost(rk) != 0);
      return;
    default:
      Logger()->error("rebalance failed: {}",
                      rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err)));
      self->SetProblem(std::string("rebalance failed: ") +
                       rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err)));
      if (cooperative) {
        rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, partitions);
        if (e != nullptr) rd_kafka_error_destroy(e);
      } else {
        rd_kafka_assign(rk, nullptr);
      }
      return;
  }
}

void KafkaCluster::Assign(rd_kafka_topic_partition_list_t* list) {
  rd_kafka_error_t* error = rd_kafka_incremental_assign(consumer_, list);
  if (error != nullptr) {
    Logger()->error("incremental_assign: {}", rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
  }
  {
    std::lock_guard lock(mu_);
    group_problem_.clear();  // the group took us in
  }
  std::vector<int> parts = Partitions(list);
  if (parts.empty()) return;  // a cooperative round that added nothing
  if (leaving_.load()) {
    // An assignment that arrives while the consumer closes (the others
    // left first): not restored and not handed to the daemon, which is
    // draining; the close revokes it again and the next owner takes it.
    Logger()->info("assigned partitions {} while leaving; not taken",
                   Join(parts));
    return;
  }
  const auto start = Clock::now();
  auto state = Restore(parts);
  if (!state) return;  // stopping
  Logger()->info("assigned partitions {} ({} state records restored in {} ms)",
                 Join(parts), state->size(),
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     Clock::now() - start)
                     .count());
  {
    std::lock_guard lock(mu_);
    owned_.insert(parts.begin(), parts.end());
    ++rebalances_;
  }
  boost::asio::post(
      io_, [this, alive = std::weak_ptr<int>(alive_), parts = std::move(parts),
            state = std::move(*state)]() mutable {
        if (alive.expired() || !callbacks_.assigned) return;
        callbacks_.assigned(std::move(parts), std::move(state));
      });
}

void KafkaCluster::Revoke(rd_kafka_topic_partition_list_t* list, bool lost) {
  std::vector<int> parts = Partitions(list);
  if (lost) {
    Logger()->warn("lost partitions {} (no handover)", Join(parts));
    if (transactions_ != nullptr) transactions_->DropPartitions(parts);
    boost::asio::post(io_, [this, alive = std::weak_ptr<int>(alive_), parts] {
      if (alive.expired() || !callbacks_.lost) return;
      callbacks_.lost(parts);
    });
  } else if (!parts.empty() && !detached_.load()) {
    // Hand over: the daemon stops the feeds, records their last state and
    // waits for their articles in the sink, then calls done.
    struct Done {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
    };
    auto state = std::make_shared<Done>();
    std::function<void()> done = [state] {
      std::lock_guard lock(state->mu);
      state->done = true;
      state->cv.notify_all();
    };
    boost::asio::post(
        io_, [this, alive = std::weak_ptr<int>(alive_), parts, done]() mutable {
          if (alive.expired()) return;
          if (!callbacks_.revoked) {
            done();
            return;
          }
          callbacks_.revoked(parts, std::move(done));
        });
    auto bound = options_.session_timeout;
    if (leaving_.load()) {
      bound =
          std::min(bound, std::chrono::duration_cast<std::chrono::milliseconds>(
                              leave_deadline_ - Clock::now()));
    }
    // In slices, so that the destructor (detached_) does not wait for it.
    const auto deadline = Clock::now() + bound;
    std::unique_lock lock(state->mu);
    while (!state->done && !detached_.load() && Clock::now() < deadline) {
      state->cv.wait_for(lock, std::chrono::milliseconds(100));
    }
    if (!state->done && !detached_.load()) {
      Logger()->warn(
          "revocation of partitions {} not acknowledged within {} ms; "
          "releasing them anyway",
          Join(parts), bound.count());
    }
    lock.unlock();
    // exactly_once: what the daemon handed over (last state records, the
    // feeds' articles) is committed before another instance may restore.
    if (transactions_ != nullptr &&
        !transactions_->CommitNow(options_.session_timeout)) {
      Logger()->warn("the commit before releasing partitions {} failed",
                     Join(parts));
    }
  }
  rd_kafka_error_t* error = rd_kafka_incremental_unassign(consumer_, list);
  if (error != nullptr) {
    Logger()->error("incremental_unassign: {}", rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
  }
  if (!parts.empty()) {
    Logger()->info("released partitions {}", Join(parts));
    std::lock_guard lock(mu_);
    for (int p : parts) owned_.erase(p);
    ++rebalances_;
  }
}

std::optional<std::vector<StateRecord>> KafkaCluster::Restore(
    const std::vector<int>& partitions) {
  // librdkafka's consumer needs a group id even for assign(); this one
  // never joins, subscribes or commits.
  auto conf = ClientConf(sink_options_, instance_ + "-restore",
                         {
                             {"group.id", options_.group + ".restore"},
                             // Reaching the end is what we wait for: do
                             // not let the broker hold an empty fetch for
                             // librdkafka's default 500 ms.
                             {"fetch.wait.max.ms", "10"},
                             {"enable.partition.eof", "true"},
                             {"isolation.level", "read_committed"},
                             {"enable.auto.commit", "false"},
                             {"auto.offset.reset", "earliest"},
                         });
  std::map<std::string, std::string> latest;
  if (!conf) {
    // Properties that worked for the group consumer: cannot happen.
    Logger()->critical("restore consumer: {}", conf.error().ToString());
    std::abort();
  }
  auto rk = NewClient(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!rk) {
    Logger()->critical("restore consumer: {}", rk.error().ToString());
    std::abort();
  }
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
  for (int p : partitions) {
    rd_kafka_topic_partition_list_add(list, state_topic_.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk->get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  std::set<int> at_end;
  const auto start = Clock::now();
  auto next_log = start + std::chrono::seconds(10);
  bool stopped = false;
  rd_kafka_resp_err_t last_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  while (at_end.size() < partitions.size()) {
    if (stop_.load() && !leaving_.load()) {
      stopped = true;
      break;
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk->get(), 100);
    if (Clock::now() > next_log) {
      Logger()->warn(
          "restoring {}: {} of {} partitions read after {} s", state_topic_,
          at_end.size(), partitions.size(),
          std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start)
              .count());
      next_log = Clock::now() + std::chrono::seconds(10);
    }
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      at_end.insert(m->partition);
    } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->err != last_error) {
        Logger()->warn("restoring {}: {}", state_topic_,
                       rd_kafka_message_errstr(m));
      }
      last_error = m->err;
    } else if (m->key != nullptr) {
      std::string key(static_cast<const char*>(m->key), m->key_len);
      if (m->payload == nullptr || m->len == 0) {
        latest.erase(key);  // tombstone
      } else {
        latest[std::move(key)].assign(static_cast<const char*>(m->payload),
                                      m->len);
      }
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_assign(rk->get(), nullptr);
  rd_kafka_consumer_close(rk->get());
  if (stopped) return std::nullopt;
  std::vector<StateRecord> out;
  out.reserve(latest.size());
  for (auto& [key, value] : latest) out.push_back({key, std::move(value)});
  return out;
}

void KafkaCluster::Record(int partition, StateRecord record) {
  {
    // A partition released (or never assigned) belongs to another instance
    // now: a late record would overwrite the state it restored.
    std::lock_guard lock(mu_);
    if (owned_.count(partition) == 0) {
      if (records_unowned_++ == 0) {
        Logger()->warn(
            "record {} for partition {}, which this instance does not own: "
            "dropped (further ones at debug level)",
            record.key, partition);
      } else {
        Logger()->debug("record {} for unowned partition {} dropped",
                        record.key, partition);
      }
      return;
    }
  }
  if (transactions_ != nullptr) {
    transactions_->AppendRecord(partition, std::move(record));
    return;
  }
  Produce(state_topic_, partition, std::move(record));
}

void KafkaCluster::DeclareFeed(int partition, StateRecord feed) {
  Produce(feeds_topic_, partition, std::move(feed));
}

void KafkaCluster::Produce(const std::string& topic, int partition,
                           StateRecord record) {
  const bool tombstone = record.value.empty();
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      records_, RD_KAFKA_V_TOPIC(topic.c_str()),
      RD_KAFKA_V_PARTITION(partition),
      RD_KAFKA_V_KEY(record.key.data(), record.key.size()),
      RD_KAFKA_V_VALUE(tombstone ? nullptr : record.value.data(),
                       tombstone ? 0 : record.value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    records_failed_.fetch_add(1);
    Logger()->error("record {} to {}/{} not sent: {}", record.key, topic,
                    partition, rd_kafka_err2str(err));
  }
}

void KafkaCluster::OnRecordDelivery(rd_kafka_t*,
                                    const rd_kafka_message_t* message,
                                    void* opaque) {
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  auto* self = static_cast<KafkaCluster*>(opaque);
  self->records_failed_.fetch_add(1);
  Logger()->error(
      "record to {}/{} failed: {}",
      message->rkt != nullptr ? rd_kafka_topic_name(message->rkt) : "?",
      message->partition, rd_kafka_err2str(message->err));
}

void KafkaCluster::OnConsumerError(rd_kafka_t*, int err, const char* reason,
                                   void* opaque) {
  auto* self = static_cast<KafkaCluster*>(opaque);
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
      code == RD_KAFKA_RESP_ERR__FATAL) {
    self->SetProblem(std::string(rd_kafka_err2name(code)) + ": " + reason);
  } else if (code > 0) {
    // A broker error code (not a local one, < 0): the group refused
    // something, e.g. INVALID_SESSION_TIMEOUT when cluster.session_timeout
    // is outside the broker's group.min/max.session.timeout.ms.
    std::lock_guard lock(self->mu_);
    self->group_problem_ = std::string(rd_kafka_err2name(code)) + ": " + reason;
  }
  Logger()->warn("group consumer: {}: {}", rd_kafka_err2name(code), reason);
}

void KafkaCluster::SetProblem(std::string problem) {
  std::lock_guard lock(mu_);
  problem_ = std::move(problem);
}

void KafkaCluster::ClearProblem() {
  std::lock_guard lock(mu_);
  problem_.clear();
}

ClusterStatus KafkaCluster::Status() const {
  ClusterStatus s;
  s.instance = instance_;
  if (consumer_ != nullptr) {
    char* member = rd_kafka_memberid(consumer_);
    if (member != nullptr) {
      s.member_id = member;
      rd_kafka_mem_free(nullptr, member);
    }
    s.generation = GenerationOf(consumer_);
  }
  {
    std::lock_guard lock(mu_);
    s.partitions.assign(owned_.begin(), owned_.end());
    s.rebalances = rebalances_;
    if (!group_problem_.empty()) {
      s.healthy = false;
      s.problem = "Kafka group: " + group_problem_;
    } else if (!problem_.empty()) {
      s.healthy = false;
      s.problem = "Kafka group: " + problem_;
    }
  }
  if (transactions_ != nullptr) {
    s.transactions_committed = transactions_->committed();
    s.transactions_aborted = transactions_->aborted();
    if (SinkHealth h = transactions_->Health(); !h.ok && s.healthy) {
      s.healthy = false;
      s.problem = h.problem;
    }
  }
  return s;
}

void KafkaCluster::Leave(std::chrono::milliseconds timeout,
                         std::function<void()> done) {
  if (!thread_.joinable() || leaving_.load()) {
    boost::asio::post(io_, [done = std::move(done)] {
      if (done) done();
    });
    return;
  }
  leave_done_ = std::move(done);
  leave_deadline_ = Clock::now() + timeout;
  leaving_.store(true);
}

Result<ClusterDescription> DescribeKafkaCluster(
    const KafkaSinkOptions& sink_options, const ClusterOptions& options,
    std::chrono::milliseconds timeout) {
  const std::string feeds = KafkaFeedsTopic(options);
  auto conf = ClientConf(sink_options, "newsflowd-cluster-status", {});
  if (!conf) return conf.error();
  auto rk = NewClient(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk) return rk.error();
  const int timeout_ms = static_cast<int>(timeout.count());
  ClusterDescription out;
  out.group = options.group;
  out.partitions = ReadyPartitions(rk->get(), feeds, timeout_ms);
  if (out.partitions < 0) {
    return Error(
        Errc::kSink,
        "no Kafka broker answered within " + std::to_string(timeout_ms) + " ms",
        sink_options.brokers);
  }

  char errstr[512] = "";
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk->get());
  rd_kafka_AdminOptions_t* admin = rd_kafka_AdminOptions_new(
      rk->get(), RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
  rd_kafka_AdminOptions_set_request_timeout(admin, timeout_ms, errstr,
                                            sizeof(errstr));
  const char* groups[] = {options.group.c_str()};
  rd_kafka_DescribeConsumerGroups(rk->get(), groups, 1, admin, queue);
  rd_kafka_AdminOptions_destroy(admin);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, timeout_ms + 1000);
  std::string failure;
  if (ev == nullptr) {
    failure = "DescribeConsumerGroups timed out";
  } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    failure = rd_kafka_event_error_string(ev);
  } else {
    size_t n = 0;
    const rd_kafka_ConsumerGroupDescription_t** descs =
        rd_kafka_DescribeConsumerGroups_result_groups(
            rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
    for (size_t i = 0; i < n; ++i) {
      const rd_kafka_ConsumerGroupDescription_t* g = descs[i];
      if (const rd_kafka_error_t* e =
              rd_kafka_ConsumerGroupDescription_error(g);
          e != nullptr) {
        failure = rd_kafka_error_string(e);
        break;
      }
      out.state = rd_kafka_consumer_group_state_name(
          rd_kafka_ConsumerGroupDescription_state(g));
      const size_t members = rd_kafka_ConsumerGroupDescription_member_count(g);
      for (size_t m = 0; m < members; ++m) {
        const rd_kafka_MemberDescription_t* md =
            rd_kafka_ConsumerGroupDescription_member(g, m);
        ClusterMember member;
        member.member_id = rd_kafka_MemberDescription_consumer_id(md);
        member.instance = rd_kafka_MemberDescription_client_id(md);
        member.host = rd_kafka_MemberDescription_host(md);
        const rd_kafka_topic_partition_list_t* assigned =
            rd_kafka_MemberAssignment_partitions(
                rd_kafka_MemberDescription_assignment(md));
        if (assigned != nullptr) {
          for (int p = 0; p < assigned->cnt; ++p) {
            if (feeds == assigned->elems[p].topic) {
              member.partitions.push_back(assigned->elems[p].partition);
            }
          }
        }
        std::sort(member.partitions.begin(), member.partitions.end());
        out.members.push_back(std::move(member));
      }
    }
  }
  if (ev != nullptr) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(queue);
  if (!failure.empty()) {
    return Error(Errc::kSink,
                 "describing group " + options.group + ": " + failure,
                 sink_options.brokers);
  }
  std::sort(out.members.begin(), out.members.end(),
            [](const ClusterMember& a, const ClusterMember& b) {
              return a.instance != b.instance ? a.instance < b.instance
                                              : a.member_id < b.member_id;
            });
  return out;
}

}  // namespace newsflow
