#include "connectors/sinks/kafka/kafka_sink.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cassert>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "connectors/sinks/kafka/kafka_feed_events.h"
#include "connectors/sinks/kafka/kafka_transactions.h"
#include "daemon/core/logging.h"
#include "daemon/core/metrics.h"
#include "daemon/core/stage_cpu.h"
#include "daemon/core/time_util.h"

namespace newsflow {

// One record in flight. Owns (shares) the value bytes, which librdkafka
// references without copying until the delivery report (msgflags 0); the
// key and headers are copied by librdkafka, so the hot path keeps neither.
struct KafkaSink::Pending {
  Pending() = default;
  Pending(const Pending&) = delete;
  Pending& operator=(const Pending&) = delete;
  ~Pending() {
    if (headers != nullptr) rd_kafka_headers_destroy(headers);
  }

  // The value's bytes ("" for none).
  std::string_view Value() const {
    return value != nullptr ? std::string_view(*value) : std::string_view();
  }
  // Whether a retry could produce a smaller value.
  bool Shrinkable() const { return Value().size() <= limit; }

  SerializedArticle value;  // null: an empty value
  DeliveryCallback done;
  // Trim limit the value was built for; 0 for records that cannot be
  // trimmed (PublishRecord). A value above it is metadata only, too big.
  size_t limit = 0;
  bool dead_letterable = false;  // articles, with a dead-letter topic
  // Set only on the way to a dead-letter copy (a record rejected for
  // good): its key and a copy of its headers (owned).
  std::string key;
  rd_kafka_headers_t* headers = nullptr;
};

namespace {

constexpr int kPollIntervalMs = 100;
constexpr auto kProbeInterval = std::chrono::seconds(5);
constexpr int kProbeTimeoutMs = 3000;

std::shared_ptr<spdlog::logger> Logger() {
  // The daemon's shared logger: same format, sink and URL redaction as
  // every other component.
  static std::shared_ptr<spdlog::logger> logger = GetLogger("sink.kafka");
  return logger;
}

}  // namespace

// Errors after which the same record can never succeed (the reason put on
// its dead-letter copy), or nullptr: everything else (timeouts, transport,
// leader changes, queue full, purge, a fatal producer error, cluster-wide
// authorization, UNKNOWN_TOPIC_OR_PART while metadata propagates) is worth
// a retry. librdkafka turns a topic still missing after
// topic.metadata.propagation.max.ms (30 s) into the local __UNKNOWN_TOPIC:
// that one is final.
const char* KafkaPermanentReason(int code) {
  switch (static_cast<rd_kafka_resp_err_t>(code)) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
      return "message_too_large";
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:  // invalid topic name
      return "invalid_topic";
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return "unknown_topic";
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
      return "topic_authorization_failed";
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:  // CRC or format error
    case RD_KAFKA_RESP_ERR__BAD_MSG:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
      return "invalid_record";
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
      return "invalid_timestamp";
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return "invalid_argument";
    default:
      return nullptr;
  }
}

namespace {

bool IsPermanent(rd_kafka_resp_err_t err) {
  return KafkaPermanentReason(err) != nullptr;
}

bool IsTooLarge(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
         err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE;
}

DeliveryReport ReportFor(rd_kafka_resp_err_t err, std::string_view topic) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  DeliveryReport report;
  report.outcome =
      IsPermanent(err) ? DeliveryOutcome::kDrop : DeliveryOutcome::kRetry;
  report.error = "kafka topic '" + std::string(topic) +
                 "': " + rd_kafka_err2str(err) + " (" + rd_kafka_err2name(err) +
                 ")";
  return report;
}

// librdkafka's own log lines (from its threads) go through spdlog, which is
// thread-safe. syslog levels: 0 emerg .. 7 debug.
void OnLog(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  LogLibrdkafkaLine(*Logger(), level, fac, buf);
}

// Longest prefix of `s` of at most `n` bytes that does not split a UTF-8
// sequence.
std::string Utf8Prefix(const std::string& s, size_t n) {
  if (n >= s.size()) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

// ArticleToJson writes one compact object; the flag goes before its final
// brace (core's serializer knows nothing about transport limits).
std::string WithTruncatedFlag(std::string json) {
  if (!json.empty() && json.back() == '}') {
    json.insert(json.size() - 1, ",\"truncated\":true");
  }
  return json;
}

// CloudEvents Kafka protocol binding, binary mode: the value is the plain
// article JSON, attributes are ce_ headers. Calls add(name, value) for each
// header of `article`, in record order (string_views valid during the call
// only). The one definition of the article header set: the record's
// librdkafka headers (ArticleRdHeaders) and the transactional mode's copy
// (ArticleHeaders) both come from here.
template <class Add>
void ForEachArticleHeader(const Article& article, Add&& add) {
  // Constant per build: made once.
  static const std::string kSchemaVersionText = std::to_string(kSchemaVersion);
  static const std::string kTypeCreated =
      "org.newsflow.article." +
      std::string(ArticleEventName(ArticleEvent::kCreated));
  static const std::string kTypeUpdated =
      "org.newsflow.article." +
      std::string(ArticleEventName(ArticleEvent::kUpdated));
  // Per record, without allocating once warm (one io thread per sink; the
  // transactional mode's commit thread does not build headers).
  thread_local std::string scratch;
  add("content-type", "application/json; charset=utf-8");
  add("ce_specversion", "1.0");
  // ce_id must be unique per event: an update of the same article is a new
  // event, so the content hash is part of it.
  scratch.assign(article.id).append(":").append(article.content_hash);
  add("ce_id", scratch);
  scratch.assign("/feeds/").append(article.feed.id);
  add("ce_source", scratch);
  add("ce_type",
      article.event == ArticleEvent::kUpdated ? kTypeUpdated : kTypeCreated);
  add("ce_time", FormatRfc3339(article.fetched_at));
  add("ce_subject", article.id);
  add("ce_dataschema", kSchemaUri);
  add("schema-version", kSchemaVersionText);
}

std::vector<std::pair<std::string, std::string>> ArticleHeaders(
    const Article& article) {
  std::vector<std::pair<std::string, std::string>> kept;
  kept.reserve(9);
  ForEachArticleHeader(
      article, [&kept](std::string_view name, std::string_view value) {
        kept.emplace_back(std::string(name), std::string(value));
      });
  return kept;
}

// The record's headers, built straight into librdkafka's list (which
// copies names and values).
rd_kafka_headers_t* ArticleRdHeaders(const Article& article) {
  rd_kafka_headers_t* h = rd_kafka_headers_new(9);
  ForEachArticleHeader(
      article, [h](std::string_view name, std::string_view value) {
        rd_kafka_header_add(h, name.data(), static_cast<ssize_t>(name.size()),
                            value.data(), static_cast<ssize_t>(value.size()));
      });
  return h;
}

// Adds `headers` to `h` (dead-letter reasons).
void AddRdHeaders(
    rd_kafka_headers_t* h,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  for (const auto& [name, v] : headers) {
    rd_kafka_header_add(h, name.data(), static_cast<ssize_t>(name.size()),
                        v.data(), static_cast<ssize_t>(v.size()));
  }
}

}  // namespace

std::string KafkaRecordValue(const Article& article, size_t max_bytes,
                             bool* truncated) {
  if (truncated != nullptr) *truncated = false;
  std::string json = ArticleToJson(article);
  if (json.size() <= max_bytes) return json;
  if (truncated != nullptr) *truncated = true;
  constexpr size_t kFlagBytes = sizeof(",\"truncated\":true");
  Article trimmed = article;
  trimmed.content_html.clear();
  json = ArticleToJson(trimmed);
  if (json.size() + kFlagBytes <= max_bytes) return WithTruncatedFlag(json);
  // Longest text prefix that fits. JSON escaping makes the encoded size of
  // a prefix non-linear in its length (\uXXXX, \"), but monotonic: binary
  // search on the byte length. Rare path; ~log2(n) serializations.
  const std::string full_text = std::move(trimmed.content_text);
  auto fits = [&](size_t n) {
    trimmed.content_text = Utf8Prefix(full_text, n);
    return ArticleToJson(trimmed).size() + kFlagBytes <= max_bytes;
  };
  size_t lo = 0, hi = full_text.size();  // fits(lo) unknown, !fits(hi)
  if (!fits(0)) {
    // Too big even without a body: the summary is huge (feeds that put the
    // whole story in the description). Keep a teaser-sized summary, or none.
    constexpr size_t kSummaryBytes = 1000;
    trimmed.summary = Utf8Prefix(trimmed.summary, kSummaryBytes);
    if (!fits(0)) trimmed.summary.clear();
    if (!fits(0)) hi = 0;  // metadata alone is too big; Kafka will refuse it
  }
  while (lo + 1 < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (fits(mid)) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  trimmed.content_text = Utf8Prefix(full_text, lo);
  json = ArticleToJson(trimmed);
  return WithTruncatedFlag(json);
}

KafkaSink::KafkaSink(boost::asio::io_context& io, KafkaSinkOptions options)
    : io_(io),
      options_(std::move(options)),
      max_message_bytes_(EffectiveMaxMessageBytes(options_)) {}

Result<std::unique_ptr<KafkaSink>> KafkaSink::Create(
    boost::asio::io_context& io, KafkaSinkOptions options) {
  auto conf = BuildProducerConf(options);
  if (!conf) return conf.error();
  std::unique_ptr<KafkaSink> sink(new KafkaSink(io, std::move(options)));
  rd_kafka_conf_t* c = conf->get();
  rd_kafka_conf_set_opaque(c, sink.get());
  rd_kafka_conf_set_dr_msg_cb(c, &KafkaSink::OnDelivery);
  rd_kafka_conf_set_error_cb(c, &KafkaSink::OnError);
  rd_kafka_conf_set_log_cb(c, &OnLog);

  char errstr[512] = "";
  // On success rd_kafka_new() takes ownership of the conf.
  sink->producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof(errstr));
  if (sink->producer_ == nullptr) {
    return Error::Config(std::string("cannot create Kafka producer: ") + errstr,
                         "kafka");
  }
  conf->release();
  if (!sink->options_.events_topic.empty()) {
    auto events = KafkaFeedEvents::Create(io, sink->options_);
    if (!events) return events.error();
    sink->events_ = std::move(*events);
  }
  sink->poll_thread_ = std::thread([s = sink.get()] { s->PollLoop(); });
  Logger()->info("producer {} for {} (default topic {})",
                 rd_kafka_name(sink->producer_), sink->options_.brokers,
                 sink->options_.topic);
  return sink;
}

Result<std::unique_ptr<KafkaSink>> KafkaSink::CreateTransactional(
    boost::asio::io_context& io, KafkaSinkOptions options,
    std::shared_ptr<KafkaTransactions> transactions) {
  std::unique_ptr<KafkaSink> sink(new KafkaSink(io, std::move(options)));
  sink->transactions_ = std::move(transactions);
  sink->transactions_->SetTooLargeHook(
      [s = sink.get(), alive = std::weak_ptr<int>(sink->alive_)](size_t n) {
        // Commit thread; the limit is atomic. The sink outlives the
        // transactions' commit thread (Close() stops it).
        if (!alive.expired()) s->LowerSizeLimit(n);
      });
  if (!sink->options_.events_topic.empty()) {
    auto events = KafkaFeedEvents::Create(io, sink->options_);
    if (!events) return events.error();
    sink->events_ = std::move(*events);
  }
  Logger()->info("transactional sink for {} (default topic {})",
                 sink->options_.brokers, sink->options_.topic);
  return sink;
}

KafkaSink::~KafkaSink() {
  alive_.reset();  // posted recreations and dead letters become no-ops
  if (transactions_ != nullptr) {
    if (!closed_) (void)Close(std::chrono::milliseconds(0));
    return;
  }
  if (producer_ == nullptr) return;  // Create() failed half-way
  if (!closed_) (void)Close(std::chrono::milliseconds(0));
  rd_kafka_destroy(producer_);
}

void KafkaSink::SetReachable(bool reachable, std::string_view why) {
  if (!reachable) {
    std::lock_guard lock(problem_mu_);
    problem_ = why;
  }
  const int was = reachable_.exchange(reachable ? 1 : 0);
  if (was == (reachable ? 1 : 0)) return;
  if (reachable) {
    if (was == 0) Logger()->info("broker reachable again: {}", why);
  } else {
    Logger()->warn("broker unreachable: {}", why);
  }
}

void KafkaSink::PollLoop() {
  // First probe at once: readiness waits for it.
  auto next_probe = std::chrono::steady_clock::now();
  // librdkafka's own queue (messages waiting to be sent or acknowledged,
  // plus protocol requests): rd_kafka_outq_len, refreshed every poll.
  Gauge& queue = MetricsRegistry::Global().GetGauge(
      "newsflow_kafka_queue_messages",
      "Messages and requests in librdkafka's queues (rd_kafka_outq_len).");
  while (!stop_polling_.load(std::memory_order_acquire)) {
    Serve(kPollIntervalMs);
    queue.Set(rd_kafka_outq_len(producer_));
    if (std::chrono::steady_clock::now() < next_probe) continue;
    // A stalled broker keeps its TCP connections, so ALL_BROKERS_DOWN may
    // never come: readiness also asks for metadata (broker list only).
    const rd_kafka_metadata_t* md = nullptr;
    const rd_kafka_resp_err_t err =
        rd_kafka_metadata(producer_, 0, nullptr, &md, kProbeTimeoutMs);
    if (md != nullptr) rd_kafka_metadata_destroy(md);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      SetReachable(true, "metadata probe answered");
    } else {
      SetReachable(false, options_.brokers + ": " + rd_kafka_err2str(err));
    }
    next_probe = std::chrono::steady_clock::now() + kProbeInterval;
  }
}

SinkDestination KafkaSink::Route(const Article& article,
                                 const FeedSinkOptions& feed) const {
  return {KafkaTopicFor(options_, article, feed), {}};
}

void KafkaSink::PublishEvent(const FeedEvent& event) {
  if (events_ != nullptr) events_->Emit(event);
}

void KafkaSink::Publish(const Article& article,
                        const SinkDestination& destination,
                        DeliveryCallback done) {
  SerializedArticle json;
  {
    ScopedStageCpu cpu(CpuStage::kSerialize);
    json = std::make_shared<const std::string>(ArticleToJson(article));
  }
  PublishSerialized(article, std::move(json), destination, std::move(done));
}

void KafkaSink::PublishSerialized(const Article& article,
                                  SerializedArticle json,
                                  const SinkDestination& destination,
                                  DeliveryCallback done) {
  assert(json != nullptr);
  const std::string& t =
      destination.name.empty() ? options_.topic : destination.name;
  if (closed_) {
    boost::asio::post(io_, [done = std::move(done)] {
      done({DeliveryOutcome::kRetry, "kafka sink is closed"});
    });
    return;
  }
  auto pending = std::make_unique<Pending>();
  bool truncated = false;
  const size_t limit = max_message_bytes_.load(std::memory_order_relaxed);
  if (json->size() <= limit) {
    // KafkaRecordValue's result for a value that fits: the JSON itself.
    pending->value = std::move(json);
  } else {
    ScopedStageCpu cpu(CpuStage::kSerialize);
    pending->value = std::make_shared<const std::string>(
        KafkaRecordValue(article, limit, &truncated));
  }
  pending->limit = limit;
  if (truncated) {
    MetricsRegistry::Global()
        .GetCounter("newsflow_articles_truncated_total",
                    "Articles trimmed to fit the Kafka message size limit.",
                    {{"feed", article.feed.id}})
        .Inc();
    Logger()->warn("article {} trimmed to {} bytes (limit {})", article.id,
                   pending->value->size(), limit);
  }
  pending->done = std::move(done);
  pending->dead_letterable = !options_.dead_letter_topic.empty();

  if (transactions_ != nullptr) {
    KafkaTransactions::ArticleItem item;
    item.topic = t;
    item.key = article.id;
    item.value = *pending->value;
    item.headers = ArticleHeaders(article);
    item.limit = pending->limit;
    item.done = std::move(pending->done);
    auto [partition, record] = transactions_->DeliveredRecordFor(article);
    item.delivered_partition = partition;
    item.delivered = std::move(record);
    transactions_->AppendArticle(std::move(item));
    return;
  }
  Produce(t, article.id, std::move(pending), ArticleRdHeaders(article));
}

void KafkaSink::PublishRecord(
    const std::string& topic, std::string key, std::string value,
    const std::vector<std::pair<std::string, std::string>>& headers,
    DeliveryCallback done) {
  if (closed_) {
    boost::asio::post(io_, [done = std::move(done)] {
      done({DeliveryOutcome::kRetry, "kafka sink is closed"});
    });
    return;
  }
  if (transactions_ != nullptr) {
    // Not part of the transactional mode (feed events have their own
    // producer, KafkaFeedEvents).
    boost::asio::post(io_, [done = std::move(done)] {
      done({DeliveryOutcome::kRetry,
            "PublishRecord is not supported by the transactional sink"});
    });
    return;
  }
  auto pending = std::make_unique<Pending>();
  pending->value = std::make_shared<const std::string>(std::move(value));
  pending->done = std::move(done);
  rd_kafka_headers_t* h = rd_kafka_headers_new(headers.size() + 1);
  AddRdHeaders(h, headers);
  Produce(topic, key, std::move(pending), h);
}

void KafkaSink::Produce(const std::string& t, std::string_view key,
                        std::unique_ptr<Pending> pending,
                        rd_kafka_headers_t* headers) {
  Pending* raw = pending.get();
  const std::string_view value = raw->Value();
  // An empty value is sent as an empty value, not a null one (as before).
  rd_kafka_resp_err_t err = rd_kafka_producev(
      producer_, RD_KAFKA_V_TOPIC(t.c_str()),
      RD_KAFKA_V_KEY(key.data(), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.empty() ? "" : value.data()),
                       value.size()),
      RD_KAFKA_V_MSGFLAGS(0), RD_KAFKA_V_HEADERS(headers),
      RD_KAFKA_V_OPAQUE(raw), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Not enqueued: we still own the headers and the pending record. Both
    // stay with it for a dead-letter copy.
    raw->key = key;
    if (raw->headers != nullptr) rd_kafka_headers_destroy(raw->headers);
    raw->headers = headers;
    DeliveryReport report = ReportFor(err, t);
    if (IsTooLarge(err) && raw->Shrinkable()) {
      LowerSizeLimit(value.size());
      report.outcome = DeliveryOutcome::kRetry;
    }
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      Logger()->debug("back-pressure: {}", report.error);
    } else {
      Logger()->warn("record {} not enqueued: {}", raw->key, report.error);
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) ScheduleRecreate();
    Finish(pending.release(), t, err, std::move(report));
    return;
  }
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  pending.release();  // owned by librdkafka's opaque until OnDelivery
}

void KafkaSink::LowerSizeLimit(size_t rejected_size) {
  // A broker rejects whole batches: small records rejected beside a big one
  // are retried as they are; only big ones lower the limit, to 3/4 of what
  // was rejected (a few steps reach any sane topic limit).
  constexpr size_t kLowerFrom = 16 * 1024;
  if (rejected_size < kLowerFrom) return;
  const size_t target = rejected_size / 4 * 3;
  size_t current = max_message_bytes_.load(std::memory_order_relaxed);
  while (target < current) {
    if (max_message_bytes_.compare_exchange_weak(current, target,
                                                 std::memory_order_relaxed)) {
      Logger()->warn(
          "a {}-byte record was too large for the broker; trimming articles "
          "to {} bytes from now on (set librdkafka message.max.bytes to the "
          "topic's max.message.bytes)",
          rejected_size, target);
      return;
    }
  }
}

void KafkaSink::PostReport(Pending* pending, DeliveryReport report) {
  std::unique_ptr<Pending> owned(pending);
  boost::asio::post(
      io_, [done = std::move(owned->done),
            report = std::move(report)]() mutable { done(std::move(report)); });
}

void KafkaSink::QueueReport(Pending* pending, DeliveryReport report) {
  std::unique_ptr<Pending> owned(pending);
  std::lock_guard lock(reports_mu_);
  reports_.emplace_back(std::move(owned->done), std::move(report));
}

void KafkaSink::PostReports() {
  std::vector<std::pair<DeliveryCallback, DeliveryReport>> batch;
  {
    std::lock_guard lock(reports_mu_);
    if (reports_.empty()) return;
    batch.swap(reports_);
    reports_.reserve(batch.size());
  }
  // One closure per rd_kafka_poll round instead of one per record; the
  // callbacks run in report order. Names no sink state: it may run after
  // the sink is gone (Close() posts, the caller polls afterwards).
  boost::asio::post(io_, [batch = std::move(batch)]() mutable {
    for (auto& [done, report] : batch) done(std::move(report));
  });
}

void KafkaSink::Serve(int timeout_ms) {
  rd_kafka_poll(producer_, timeout_ms);
  PostReports();
}

void KafkaSink::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message,
                           void* opaque) {
  auto* self = static_cast<KafkaSink*>(opaque);
  auto* pending = static_cast<Pending*>(message->_private);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    // The hot path: nothing allocated but the batch slot.
    if (self->reachable_.load(std::memory_order_relaxed) != 1) {
      self->SetReachable(true, "deliveries succeed");
    }
    self->QueueReport(pending, {});
    self->in_flight_.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  const char* topic =
      message->rkt != nullptr ? rd_kafka_topic_name(message->rkt) : "?";
  const std::string_view key(static_cast<const char*>(message->key),
                             message->key != nullptr ? message->key_len : 0);
  DeliveryReport report = ReportFor(message->err, topic);
  if (IsTooLarge(message->err) && pending->Shrinkable()) {
    self->LowerSizeLimit(pending->Value().size());
    report.outcome = DeliveryOutcome::kRetry;
  }
  if (report.outcome == DeliveryOutcome::kDrop) {
    if (!pending->dead_letterable) {
      Logger()->error("dropping article {}: {}", key, report.error);
    } else {
      // For the dead-letter copy: the key and headers librdkafka holds.
      pending->key = key;
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(message, &headers) ==
              RD_KAFKA_RESP_ERR_NO_ERROR &&
          headers != nullptr) {
        pending->headers = rd_kafka_headers_copy(headers);
      }
    }
    self->Finish(pending, topic, message->err, std::move(report));
  } else {
    Logger()->debug("article {} to retry: {}", key, report.error);
    self->QueueReport(pending, std::move(report));
  }
  self->in_flight_.fetch_sub(1, std::memory_order_relaxed);
}

void KafkaSink::Finish(Pending* pending, std::string_view topic, int err,
                       DeliveryReport report) {
  if (report.outcome != DeliveryOutcome::kDrop || !pending->dead_letterable) {
    PostReport(pending, std::move(report));
    return;
  }
  // Rejected for good: a copy goes to the dead-letter topic, from the
  // io_context (Produce's thread); its report decides the article's.
  const char* reason = KafkaPermanentReason(err);
  auto owned = std::make_shared<std::unique_ptr<Pending>>(pending);
  boost::asio::post(io_, [this, alive = std::weak_ptr<int>(alive_), owned,
                          topic = std::string(topic),
                          reason = std::string(reason ? reason : "rejected"),
                          report = std::move(report)]() mutable {
    if (alive.expired()) return;  // unreachable: Close() serves reports
    DeadLetter(std::move(*owned), topic, reason, std::move(report));
  });
}

void KafkaSink::DeadLetter(std::unique_ptr<Pending> original,
                           const std::string& topic, const std::string& reason,
                           DeliveryReport rejected) {
  auto copy = std::make_unique<Pending>();
  // A value too large for its topic is likely too large here too: the
  // copy then carries the key and headers only (the story is identified
  // by them; its size is in a header).
  const size_t limit = max_message_bytes_.load(std::memory_order_relaxed);
  const size_t value_bytes = original->Value().size();
  const bool keep_value = reason != "message_too_large" && value_bytes <= limit;
  if (keep_value) copy->value = original->value;  // shared, not copied
  // The record's own headers (copied when it was rejected), then why.
  rd_kafka_headers_t* headers = original->headers != nullptr
                                    ? std::exchange(original->headers, nullptr)
                                    : rd_kafka_headers_new(4);
  AddRdHeaders(headers, {{"newsflow_dead_letter_reason", reason},
                         {"newsflow_dead_letter_error", rejected.error},
                         {"newsflow_original_topic", topic},
                         {"newsflow_original_value_bytes",
                          std::to_string(value_bytes)}});
  Logger()->error("article {} rejected for good ({}); to dead-letter topic {}",
                  original->key, rejected.error, options_.dead_letter_topic);
  copy->done = [done = std::move(original->done), reason,
                rejected = std::move(rejected)](DeliveryReport dlq) mutable {
    if (dlq.outcome == DeliveryOutcome::kDelivered) {
      done({DeliveryOutcome::kDeadLettered, rejected.error, reason});
      return;
    }
    // Not dead-lettered: retried when the dead-letter topic may still take
    // it, dropped (as without one) when it never will.
    DeliveryReport out;
    out.outcome = dlq.outcome == DeliveryOutcome::kRetry
                      ? DeliveryOutcome::kRetry
                      : DeliveryOutcome::kDrop;
    out.error = rejected.error + "; dead-letter topic: " + dlq.error;
    if (out.outcome == DeliveryOutcome::kDrop) {
      Logger()->error("dropping article: {}", out.error);
    }
    done(std::move(out));
  };
  if (closed_) {
    rd_kafka_headers_destroy(headers);
    PostReport(copy.release(),
               {DeliveryOutcome::kRetry, "kafka sink is closed"});
    return;
  }
  Produce(options_.dead_letter_topic, original->key, std::move(copy), headers);
}

void KafkaSink::OnError(rd_kafka_t* rk, int err, const char* reason,
                        void* opaque) {
  auto* self = static_cast<KafkaSink*>(opaque);
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    self->SetReachable(false, std::string("all brokers down: ") + reason);
  }
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512] = "";
    rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
    self->SetReachable(false, std::string("fatal producer error: ") + fatal);
    Logger()->error("fatal producer error: {}; recreating the producer", fatal);
    self->ScheduleRecreate();
    return;
  }
  Logger()->warn("{}: {}", rd_kafka_err2name(code), reason);
}

void KafkaSink::ScheduleRecreate() {
  // Any thread; one recreation at a time.
  if (recreate_pending_.exchange(true)) return;
  boost::asio::post(io_, [this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired()) return;
    RecreateProducer();
  });
}

void KafkaSink::RecreateProducer() {
  if (closed_) return;
  // After a fatal error the producer refuses everything: stop serving it,
  // fail what it holds back as kRetry (purge; the pipeline offers those
  // articles again), and start a fresh one with the same configuration.
  // The io_context waits for this (the poll thread's join: up to one probe,
  // 3 s). The idempotent producer's fresh id starts new sequences, so
  // nothing is rejected as out of order.
  stop_polling_.store(true, std::memory_order_release);
  if (poll_thread_.joinable()) poll_thread_.join();
  rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (in_flight_.load(std::memory_order_relaxed) > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    Serve(10);
  }
  Serve(0);
  const int lost = in_flight_.exchange(0);
  if (lost > 0) {
    // librdkafka did not report them within the bound; their callbacks
    // never run. Logged; must not happen.
    Logger()->error("{} record(s) unreported by the failed producer", lost);
  }
  rd_kafka_t* old = producer_;
  producer_ = nullptr;
  rd_kafka_destroy(old);
  ++producer_generation_;
  MetricsRegistry::Global()
      .GetCounter("newsflow_kafka_producer_recreated_total",
                  "Kafka producers recreated after a fatal error.")
      .Inc();
  auto conf = BuildProducerConf(options_);
  char errstr[512] = "";
  if (conf) {
    rd_kafka_conf_t* c = conf->get();
    rd_kafka_conf_set_opaque(c, this);
    rd_kafka_conf_set_dr_msg_cb(c, &KafkaSink::OnDelivery);
    rd_kafka_conf_set_error_cb(c, &KafkaSink::OnError);
    rd_kafka_conf_set_log_cb(c, &OnLog);
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof(errstr));
    if (producer_ != nullptr) conf->release();
  }
  if (producer_ == nullptr) {
    // The same configuration worked at start: a resource problem. The
    // daemon cannot deliver without a producer; let systemd restart it.
    Logger()->critical("cannot recreate the Kafka producer: {}",
                       conf ? errstr : conf.error().ToString());
    std::abort();
  }
  {
    std::lock_guard lock(problem_mu_);
    problem_ = "producer recreated after a fatal error";
  }
  reachable_.store(-1);
  recreate_pending_.store(false);
  stop_polling_.store(false, std::memory_order_release);
  poll_thread_ = std::thread([this] { PollLoop(); });
  Logger()->warn("producer recreated ({}) after a fatal error",
                 rd_kafka_name(producer_));
}

Result<void> KafkaSink::InjectFatalErrorForTest(const std::string& reason) {
  if (producer_ == nullptr) {
    return Error::Internal("no producer of its own (transactional mode)",
                           "sink.kafka");
  }
  const rd_kafka_resp_err_t err = rd_kafka_test_fatal_error(
      producer_, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
      reason.c_str());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error::Internal(
        std::string("rd_kafka_test_fatal_error: ") + rd_kafka_err2str(err),
        "sink.kafka");
  }
  return {};
}

SinkHealth KafkaSink::Health() const {
  if (transactions_ != nullptr) return transactions_->Health();
  if (reachable_.load() == 1) return {};
  std::lock_guard lock(problem_mu_);
  return {false, "Kafka unreachable (" + problem_ + ")"};
}

Result<void> KafkaSink::Close(std::chrono::milliseconds timeout) {
  if (closed_) return {};
  closed_ = true;
  if (events_ != nullptr) {
    (void)events_->Close(std::min(timeout, std::chrono::milliseconds(1000)));
  }
  if (transactions_ != nullptr) {
    // The cluster's Leave() committed what its feeds produced; anything
    // still open is cancelled (kRetry, posted).
    transactions_->Close(timeout);
    return {};
  }
  // flush() serves delivery reports itself, concurrently with the poll
  // thread (rd_kafka_poll is thread-safe; our callbacks only post).
  rd_kafka_flush(producer_, static_cast<int>(timeout.count()));
  PostReports();  // those flush served on this thread
  stop_polling_.store(true, std::memory_order_release);
  if (poll_thread_.joinable()) poll_thread_.join();

  const int left = in_flight_.load(std::memory_order_relaxed);
  if (left > 0) {
    Logger()->warn(
        "closing with {} undelivered record(s); they will be retried", left);
    rd_kafka_purge(producer_,
                   RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  }
  // Serve the purge reports (kRetry, posted) so that every callback runs;
  // rd_kafka_destroy() would drop them silently. Purging is immediate, the
  // bound only guards against a librdkafka bug.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (in_flight_.load(std::memory_order_relaxed) > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    Serve(10);
  }
  Serve(0);  // remaining error/log events
  if (left > 0) {
    return Error(Errc::kTimeout,
                 std::to_string(left) +
                     " record(s) not delivered before close; cancelled",
                 "sink.kafka");
  }
  return {};
}

}  // namespace newsflow
