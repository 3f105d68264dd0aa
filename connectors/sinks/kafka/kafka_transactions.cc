#include "connectors/sinks/kafka/kafka_transactions.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdlib>
#include <utility>

#include "connectors/sinks/kafka/kafka_sink.h"
#include "daemon/core/logging.h"
#include "daemon/core/metrics.h"

namespace newsflow {

// One record of a batch. Articles carry their callback and (optionally)
// the changelog record that marks them delivered; state records carry a
// partition of the state topic; a dead-letter copy reports kDeadLettered
// to the original article's callback once committed.
struct KafkaTransactions::Item {
  enum class Kind { kArticle, kRecord, kDeadLetter };
  Kind kind = Kind::kRecord;
  std::string topic;
  int32_t partition = RD_KAFKA_PARTITION_UA;
  std::string key;
  std::string value;
  bool null_value = false;  // tombstone
  std::vector<std::pair<std::string, std::string>> headers;
  size_t limit = 0;  // articles: trim limit the value was built for
  DeliveryCallback done;
  int owner_partition = -1;         // changelog partition (lost ownership)
  std::unique_ptr<Item> delivered;  // articles: their delivered record
  std::string dead_letter_reason;   // kDeadLetter
  std::string dead_letter_error;    // kDeadLetter
  // Delivery result in the current transaction: 0 ok, -1 not reported.
  int err = -1;
};

namespace {

constexpr auto kProbeInterval = std::chrono::seconds(5);
constexpr int kProbeTimeoutMs = 3000;

std::shared_ptr<spdlog::logger> Logger() {
  static std::shared_ptr<spdlog::logger> logger = GetLogger("sink.kafka");
  return logger;
}

void OnLog(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  LogLibrdkafkaLine(*Logger(), level, fac, buf);
}

bool IsTooLarge(int err) {
  return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
         err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE;
}

// What a transactional call's error means for the batch.
enum class Step { kOk, kRetriable, kAbort, kFatal };

Step Classify(rd_kafka_error_t* error, const char* what, std::string* why) {
  if (error == nullptr) return Step::kOk;
  *why = std::string(what) + ": " + rd_kafka_error_string(error) + " (" +
         rd_kafka_error_name(error) + ")";
  Step step = Step::kAbort;
  if (rd_kafka_error_is_fatal(error)) {
    step = Step::kFatal;
  } else if (rd_kafka_error_txn_requires_abort(error)) {
    step = Step::kAbort;
  } else if (rd_kafka_error_is_retriable(error)) {
    step = Step::kRetriable;
  }
  rd_kafka_error_destroy(error);
  return step;
}

Counter& TransactionsCounter(const char* outcome) {
  return MetricsRegistry::Global().GetCounter(
      "newsflow_kafka_transactions_total",
      "Kafka transactions of the cluster's exactly-once sink, by outcome.",
      {{"outcome", outcome}});
}

}  // namespace

KafkaTransactions::KafkaTransactions(boost::asio::io_context& io,
                                     KafkaTransactionsOptions options)
    : io_(io), options_(std::move(options)) {}

Result<std::shared_ptr<KafkaTransactions>> KafkaTransactions::Create(
    boost::asio::io_context& io, KafkaTransactionsOptions options) {
  std::shared_ptr<KafkaTransactions> t(
      new KafkaTransactions(io, std::move(options)));
  if (auto r = t->NewProducer(); !r) return r.error();
  t->thread_ = std::thread([raw = t.get()] { raw->CommitLoop(); });
  return t;
}

Result<void> KafkaTransactions::NewProducer() {
  KafkaSinkOptions sink = options_.sink;
  // librdkafka requires message.timeout.ms <= transaction.timeout.ms.
  sink.message_timeout_ms =
      static_cast<int>(options_.transaction_timeout.count());
  sink.librdkafka.erase("message.timeout.ms");
  auto conf = BuildProducerConf(sink);
  if (!conf) return conf.error();
  rd_kafka_conf_t* c = conf->get();
  char errstr[512] = "";
  const std::pair<const char*, std::string> txn[] = {
      {"transactional.id", options_.transactional_id},
      {"transaction.timeout.ms",
       std::to_string(options_.transaction_timeout.count())},
  };
  for (const auto& [key, value] : txn) {
    if (rd_kafka_conf_set(c, key, value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      return Error::Config(
          std::string("librdkafka property '") + key + "': " + errstr,
          "cluster");
    }
  }
  rd_kafka_conf_set_opaque(c, this);
  rd_kafka_conf_set_dr_msg_cb(c, &KafkaTransactions::OnDelivery);
  rd_kafka_conf_set_error_cb(c, &KafkaTransactions::OnError);
  rd_kafka_conf_set_log_cb(c, &OnLog);
  producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof(errstr));
  if (producer_ == nullptr) {
    return Error::Config(
        std::string("cannot create the transactional Kafka producer: ") +
            errstr,
        "kafka");
  }
  conf->release();
  producer_ready_ = false;
  return {};
}

KafkaTransactions::~KafkaTransactions() {
  if (!closed_) Close(std::chrono::milliseconds(0));
}

void KafkaTransactions::SetStateTopic(std::string topic) {
  std::lock_guard lock(mu_);
  state_topic_ = std::move(topic);
}

void KafkaTransactions::SetConsumer(rd_kafka_t* consumer,
                                    std::string feeds_topic) {
  std::lock_guard lock(consumer_mu_);
  consumer_ = consumer;
  feeds_topic_ = std::move(feeds_topic);
}

void KafkaTransactions::SetDeliveredRecord(
    std::function<std::pair<int, StateRecord>(const Article&)> fn) {
  std::lock_guard lock(mu_);
  delivered_fn_ = std::move(fn);
}

std::pair<int, StateRecord> KafkaTransactions::DeliveredRecordFor(
    const Article& article) {
  std::function<std::pair<int, StateRecord>(const Article&)> fn;
  {
    std::lock_guard lock(mu_);
    fn = delivered_fn_;
  }
  if (!fn) return {-1, {}};
  return fn(article);
}

void KafkaTransactions::SetTooLargeHook(std::function<void(size_t)> hook) {
  std::lock_guard lock(mu_);
  too_large_hook_ = std::move(hook);
}

void KafkaTransactions::AppendArticle(ArticleItem article) {
  auto item = std::make_unique<Item>();
  item->kind = Item::Kind::kArticle;
  item->topic = std::move(article.topic);
  item->key = std::move(article.key);
  item->value = std::move(article.value);
  item->headers = std::move(article.headers);
  item->limit = article.limit;
  item->done = std::move(article.done);
  std::lock_guard lock(mu_);
  if (article.delivered_partition >= 0) {
    auto rec = std::make_unique<Item>();
    rec->kind = Item::Kind::kRecord;
    rec->topic = state_topic_;
    rec->partition = article.delivered_partition;
    rec->owner_partition = article.delivered_partition;
    rec->key = std::move(article.delivered.key);
    rec->null_value = article.delivered.value.empty();
    rec->value = std::move(article.delivered.value);
    item->owner_partition = article.delivered_partition;
    item->delivered = std::move(rec);
  }
  if (stop_) {
    Report(*item, {DeliveryOutcome::kRetry, "kafka sink is closed"});
    return;
  }
  open_.push_back(std::move(item));
  ++appended_seq_;
}

void KafkaTransactions::AppendRecord(int partition, StateRecord record) {
  auto item = std::make_unique<Item>();
  item->kind = Item::Kind::kRecord;
  item->partition = partition;
  item->owner_partition = partition;
  item->key = std::move(record.key);
  item->null_value = record.value.empty();
  item->value = std::move(record.value);
  std::lock_guard lock(mu_);
  if (stop_) {
    Logger()->warn("state record {} after close: not committed", item->key);
    return;
  }
  item->topic = state_topic_;
  open_.push_back(std::move(item));
  ++appended_seq_;
}

bool KafkaTransactions::CommitNow(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const uint64_t target = appended_seq_;
  if (committed_seq_ >= target) return last_commit_ok_;
  commit_requested_ = true;
  cv_.notify_all();
  const bool ended = cv_.wait_for(
      lock, timeout, [&] { return committed_seq_ >= target || stop_; });
  return ended && committed_seq_ >= target && last_commit_ok_;
}

void KafkaTransactions::DropPartitions(const std::vector<int>& partitions) {
  const std::set<int> lost(partitions.begin(), partitions.end());
  std::lock_guard lock(mu_);
  Batch keep;
  for (auto& item : open_) {
    if (item->owner_partition < 0 || lost.count(item->owner_partition) == 0) {
      keep.push_back(std::move(item));
      continue;
    }
    if (item->done) {
      Report(*item, {DeliveryOutcome::kRetry,
                     "ownership of its feed was lost before the commit"});
    }
  }
  open_ = std::move(keep);
}

void KafkaTransactions::Report(Item& item, DeliveryReport report) {
  if (!item.done) return;
  boost::asio::post(
      io_, [done = std::move(item.done), report = std::move(report)]() mutable {
        done(std::move(report));
      });
  item.done = nullptr;
}

void KafkaTransactions::SetProblem(std::string problem) {
  {
    std::lock_guard lock(problem_mu_);
    problem_ = std::move(problem);
  }
  healthy_.store(false);
}

SinkHealth KafkaTransactions::Health() const {
  if (healthy_.load()) return {};
  std::lock_guard lock(problem_mu_);
  return {false, "Kafka transactions failing (" + problem_ + ")"};
}

void KafkaTransactions::OnDelivery(rd_kafka_t*,
                                   const rd_kafka_message_t* message,
                                   void* opaque) {
  auto* self = static_cast<KafkaTransactions*>(opaque);
  auto* item = static_cast<Item*>(message->_private);
  if (item != nullptr) item->err = message->err;
  self->in_flight_.fetch_sub(1);
}

void KafkaTransactions::OnError(rd_kafka_t* rk, int err, const char* reason,
                                void* opaque) {
  auto* self = static_cast<KafkaTransactions*>(opaque);
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512] = "";
    rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
    self->SetProblem(std::string("fatal producer error: ") + fatal);
    Logger()->error("transactional producer: fatal error: {}", fatal);
    return;
  }
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    self->SetProblem(std::string("all brokers down: ") + reason);
  }
  Logger()->warn("transactional producer: {}: {}", rd_kafka_err2name(code),
                 reason);
}

void KafkaTransactions::Probe() {
  // A stalled broker keeps its TCP connections and nothing may be
  // committed for a while: readiness asks for metadata, as the sink does.
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err =
      rd_kafka_metadata(producer_, 0, nullptr, &md, kProbeTimeoutMs);
  if (md != nullptr) rd_kafka_metadata_destroy(md);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    SetProblem(options_.sink.brokers + ": " + rd_kafka_err2str(err));
  } else if (!failing_) {
    failing_ = false;
    healthy_.store(true);
  }
}

void KafkaTransactions::CommitLoop() {
  const auto interval = options_.commit_interval;
  auto next = std::chrono::steady_clock::now() + interval;
  Probe();  // readiness waits for the first answer
  auto next_probe = std::chrono::steady_clock::now() + kProbeInterval;
  for (;;) {
    Batch batch;
    uint64_t seq = 0;
    {
      std::unique_lock lock(mu_);
      cv_.wait_until(lock, next, [&] { return stop_ || commit_requested_; });
      if (stop_) break;
      if (!commit_requested_ && std::chrono::steady_clock::now() < next) {
        continue;
      }
      commit_requested_ = false;
      batch = std::move(open_);
      open_.clear();
      seq = appended_seq_;
      if (batch.empty()) {
        committed_seq_ = seq;
        last_commit_ok_ = true;
        cv_.notify_all();
      }
    }
    rd_kafka_poll(producer_, 0);  // error events
    if (!batch.empty()) {
      bool committed = false;
      Batch back = CommitBatch(std::move(batch), &committed);
      std::lock_guard lock(mu_);
      for (auto it = back.rbegin(); it != back.rend(); ++it) {
        open_.push_front(std::move(*it));
      }
      committed_seq_ = seq;
      last_commit_ok_ = committed;
      cv_.notify_all();
    }
    if (std::chrono::steady_clock::now() >= next_probe) {
      Probe();
      next_probe = std::chrono::steady_clock::now() + kProbeInterval;
    }
    // After a failure (broker away, fenced), retry once a second.
    next =
        std::chrono::steady_clock::now() +
        (producer_ready_ ? interval
                         : std::max(interval, std::chrono::milliseconds(1000)));
  }
}

int KafkaTransactions::ProduceItem(Item& item) {
  rd_kafka_headers_t* headers = nullptr;
  if (!item.headers.empty()) {
    headers = rd_kafka_headers_new(item.headers.size());
    for (const auto& [name, v] : item.headers) {
      rd_kafka_header_add(headers, name.data(),
                          static_cast<ssize_t>(name.size()), v.data(),
                          static_cast<ssize_t>(v.size()));
    }
  }
  item.err = -1;
  const void* value = item.null_value ? nullptr : item.value.data();
  const size_t value_len = item.null_value ? 0 : item.value.size();
  // librdkafka copies key and value (F_COPY): an item may be re-queued
  // while an aborted transaction's reports are still being served.
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      producer_, RD_KAFKA_V_TOPIC(item.topic.c_str()),
      RD_KAFKA_V_PARTITION(item.partition),
      RD_KAFKA_V_KEY(item.key.data(), item.key.size()),
      RD_KAFKA_V_VALUE(const_cast<void*>(value), value_len),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
      RD_KAFKA_V_OPAQUE(&item), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (headers != nullptr) rd_kafka_headers_destroy(headers);
    item.err = err;
    return err;
  }
  in_flight_.fetch_add(1);
  return 0;
}

void KafkaTransactions::DrainReports() {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_poll(producer_, 10);
  }
  rd_kafka_poll(producer_, 0);
}

KafkaTransactions::Batch KafkaTransactions::CommitBatch(Batch batch,
                                                        bool* committed) {
  *committed = false;
  const int timeout_ms = static_cast<int>(options_.transaction_timeout.count());
  std::string why;
  if (!producer_ready_) {
    // First use, or a recreated producer: fences the previous incarnation
    // of this transactional.id and aborts its open transaction.
    const Step step =
        Classify(rd_kafka_init_transactions(producer_, timeout_ms),
                 "init_transactions", &why);
    if (step == Step::kFatal) {
      RecreateProducer();
    }
    if (step != Step::kOk) {
      failing_ = true;
      SetProblem(why);
      Logger()->warn("transactional producer not ready: {}", why);
      return batch;  // everything waits for the next attempt
    }
    producer_ready_ = true;
    Logger()->info("transactional producer {} ready ({})",
                   rd_kafka_name(producer_), options_.transactional_id);
  }

  Step step = Classify(rd_kafka_begin_transaction(producer_),
                       "begin_transaction", &why);
  // Every item and, for articles, the record that marks them delivered.
  if (step == Step::kOk) {
    for (auto& item : batch) {
      int err = ProduceItem(*item);
      if (err == 0 && item->delivered != nullptr) {
        err = ProduceItem(*item->delivered);
      }
      if (err != 0) {
        why = "produce to " + item->topic + ": " +
              rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err));
        step = Step::kAbort;
        break;
      }
    }
  }
  if (step == Step::kOk) {
    rd_kafka_topic_partition_list_t* offsets = nullptr;
    rd_kafka_consumer_group_metadata_t* cgmd = nullptr;
    {
      std::lock_guard lock(consumer_mu_);
      rd_kafka_topic_partition_list_t* assignment = nullptr;
      if (consumer_ != nullptr && rd_kafka_assignment(consumer_, &assignment) ==
                                      RD_KAFKA_RESP_ERR_NO_ERROR) {
        offsets = rd_kafka_topic_partition_list_new(assignment->cnt);
        for (int i = 0; i < assignment->cnt; ++i) {
          if (feeds_topic_ == assignment->elems[i].topic) {
            rd_kafka_topic_partition_list_add(offsets, feeds_topic_.c_str(),
                                              assignment->elems[i].partition);
          }
        }
        rd_kafka_topic_partition_list_destroy(assignment);
        rd_kafka_position(consumer_, offsets);
        // A partition nothing was read from yet has no position: commit
        // its start, so that every owned partition is in the transaction
        // (that is what fences a zombie, KIP-447).
        for (int i = 0; i < offsets->cnt; ++i) {
          if (offsets->elems[i].offset < 0) offsets->elems[i].offset = 0;
        }
        cgmd = rd_kafka_consumer_group_metadata(consumer_);
      }
    }
    if (offsets != nullptr && offsets->cnt > 0 && cgmd != nullptr) {
      for (int attempt = 0; attempt < 3; ++attempt) {
        step = Classify(rd_kafka_send_offsets_to_transaction(producer_, offsets,
                                                             cgmd, timeout_ms),
                        "send_offsets_to_transaction", &why);
        if (step != Step::kRetriable) break;
      }
      if (step == Step::kRetriable) step = Step::kAbort;
    }
    if (offsets != nullptr) rd_kafka_topic_partition_list_destroy(offsets);
    if (cgmd != nullptr) rd_kafka_consumer_group_metadata_destroy(cgmd);
  }
  if (step == Step::kOk) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      step = Classify(rd_kafka_commit_transaction(producer_, timeout_ms),
                      "commit_transaction", &why);
      if (step != Step::kRetriable) break;
    }
    if (step == Step::kRetriable) step = Step::kAbort;
  }
  if (step == Step::kOk) {
    DrainReports();
    *committed = true;
    committed_.fetch_add(1);
    TransactionsCounter("committed").Inc();
    failing_ = false;
    healthy_.store(true);
    for (auto& item : batch) {
      if (item->kind == Item::Kind::kArticle) {
        Report(*item, {});
      } else if (item->kind == Item::Kind::kDeadLetter) {
        Report(*item, {DeliveryOutcome::kDeadLettered, item->dead_letter_error,
                       item->dead_letter_reason});
      }
    }
    return {};
  }

  // Not committed: abort (an abortable error), or give up on the producer.
  Logger()->warn("transaction of {} record(s) not committed: {}", batch.size(),
                 why);
  if (step != Step::kFatal) {
    std::string abort_why;
    Step abort = Step::kRetriable;
    for (int attempt = 0; attempt < 3 && abort == Step::kRetriable; ++attempt) {
      abort = Classify(rd_kafka_abort_transaction(producer_, timeout_ms),
                       "abort_transaction", &abort_why);
    }
    if (abort != Step::kOk) {
      Logger()->warn("{}; recreating the transactional producer", abort_why);
      step = Step::kFatal;
    }
  }
  DrainReports();
  aborted_.fetch_add(1);
  TransactionsCounter("aborted").Inc();
  if (step == Step::kFatal) {
    failing_ = true;
    SetProblem(why);
    RecreateProducer();
  }
  return SettleAborted(std::move(batch), why);
}

KafkaTransactions::Batch KafkaTransactions::SettleAborted(
    Batch batch, const std::string& why) {
  std::function<void(size_t)> too_large;
  {
    std::lock_guard lock(mu_);
    too_large = too_large_hook_;
  }
  const std::string error = "kafka transaction aborted: " + why;
  Batch back;
  for (auto& item : batch) {
    const int err = item->err > 0 ? item->err : 0;
    const char* permanent = err != 0 ? KafkaPermanentReason(err) : nullptr;
    switch (item->kind) {
      case Item::Kind::kRecord:
        if (permanent != nullptr) {
          // Never committable: re-queueing it would abort every later
          // transaction too.
          Logger()->error(
              "dropping state record {} ({}): {}", item->key, permanent,
              rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err)));
          continue;
        }
        back.push_back(std::move(item));
        continue;
      case Item::Kind::kDeadLetter:
        Report(*item,
               {permanent != nullptr ? DeliveryOutcome::kDrop
                                     : DeliveryOutcome::kRetry,
                item->dead_letter_error + "; dead-letter topic: " + error});
        continue;
      case Item::Kind::kArticle:
        break;
    }
    // An article: its delivered record goes with it.
    const std::string rejected =
        "kafka topic '" + item->topic +
        "': " + rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err)) + " (" +
        rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)) + ")";
    if (permanent == nullptr) {
      Report(*item, {DeliveryOutcome::kRetry, error});
      continue;
    }
    if (IsTooLarge(err) && item->value.size() <= item->limit) {
      // Trimmable further: the sink lowers its limit, the next attempt fits.
      if (too_large) too_large(item->value.size());
      Report(*item, {DeliveryOutcome::kRetry, rejected});
      continue;
    }
    if (options_.sink.dead_letter_topic.empty()) {
      Logger()->error("dropping article {}: {}", item->key, rejected);
      Report(*item, {DeliveryOutcome::kDrop, rejected});
      continue;
    }
    // Dead-lettered in the next transaction (its outcome then decides).
    auto copy = std::make_unique<Item>();
    copy->kind = Item::Kind::kDeadLetter;
    copy->topic = options_.sink.dead_letter_topic;
    copy->key = item->key;
    const bool keep_value = std::string(permanent) != "message_too_large" &&
                            item->value.size() <= item->limit;
    if (keep_value) copy->value = item->value;
    copy->headers = std::move(item->headers);
    copy->headers.emplace_back("newsflow_dead_letter_reason", permanent);
    copy->headers.emplace_back("newsflow_dead_letter_error", rejected);
    copy->headers.emplace_back("newsflow_original_topic", item->topic);
    copy->headers.emplace_back("newsflow_original_value_bytes",
                               std::to_string(item->value.size()));
    copy->done = std::move(item->done);
    copy->owner_partition = item->owner_partition;
    copy->dead_letter_reason = permanent;
    copy->dead_letter_error = rejected;
    Logger()->error(
        "article {} rejected for good ({}); to dead-letter topic {} in the "
        "next transaction",
        item->key, rejected, options_.sink.dead_letter_topic);
    back.push_back(std::move(copy));
  }
  return back;
}

void KafkaTransactions::RecreateProducer() {
  rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  DrainReports();
  in_flight_.store(0);
  rd_kafka_destroy(producer_);
  producer_ = nullptr;
  producer_generation_.fetch_add(1);
  MetricsRegistry::Global()
      .GetCounter("newsflow_kafka_producer_recreated_total",
                  "Kafka producers recreated after a fatal error.")
      .Inc();
  if (auto r = NewProducer(); !r) {
    // The same configuration worked at start: a resource problem.
    Logger()->critical("cannot recreate the transactional producer: {}",
                       r.error().ToString());
    std::abort();
  }
  Logger()->warn("transactional producer recreated ({})",
                 rd_kafka_name(producer_));
}

void KafkaTransactions::Close(std::chrono::milliseconds timeout) {
  (void)timeout;  // the commit in progress is bounded by its own timeouts
  if (closed_) return;
  closed_ = true;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  Batch left;
  {
    std::lock_guard lock(mu_);
    left = std::move(open_);
    open_.clear();
    cv_.notify_all();
  }
  size_t records = 0;
  for (auto& item : left) {
    if (item->done) {
      Report(*item, {DeliveryOutcome::kRetry, "kafka sink is closed"});
    } else {
      ++records;
    }
  }
  if (records > 0) {
    Logger()->warn("{} state record(s) not committed at close", records);
  }
  if (producer_ != nullptr) {
    rd_kafka_purge(producer_,
                   RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    DrainReports();
    rd_kafka_destroy(producer_);
    producer_ = nullptr;
  }
}

}  // namespace newsflow
