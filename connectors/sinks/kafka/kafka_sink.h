#pragma once

// The Kafka sink: publishes each article as one record (key = article id,
// value = ArticleToJson, CloudEvents binary-mode headers) with an idempotent
// librdkafka producer. Delivery semantics: at-least-once (see README.md).
//
// Threading: created, used and destroyed on the daemon's io_context thread
// (the Sink contract). A private poll thread serves librdkafka's callbacks
// and posts the delivery reports of each rd_kafka_poll round to the
// io_context as one batch, where every Publish() callback runs exactly
// once, in report order. The io_context must outlive the sink.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "connectors/sinks/kafka/kafka_sink_config.h"
#include "daemon/core/sink.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_message_s rd_kafka_message_t;
typedef struct rd_kafka_headers_s rd_kafka_headers_t;

namespace newsflow {

// The record value for `article`: ArticleToJson, or, when that exceeds
// `max_bytes`, a trimmed copy (content_html emptied first, then content_text
// cut at a UTF-8 boundary) with "truncated": true added. content_hash and
// word_count keep describing the full text, so the identity of the story
// does not change. *truncated (optional) tells which happened. Any thread.
std::string KafkaRecordValue(const Article& article, size_t max_bytes,
                             bool* truncated = nullptr);

// Why librdkafka error `code` (an rd_kafka_resp_err_t) is final for a
// record: a snake_case reason ("message_too_large", "invalid_topic",
// "unknown_topic", "topic_authorization_failed", "invalid_record",
// "invalid_timestamp", "invalid_argument"), or nullptr when a retry may
// succeed. Any thread.
const char* KafkaPermanentReason(int code);

class KafkaFeedEvents;
class KafkaTransactions;

class KafkaSink : public Sink {
 public:
  // Creates the producer (does not wait for a broker: an unreachable one
  // shows up as kRetry reports and an unhealthy Health()), and with
  // options.events_topic the event stream's own producer. Fails with
  // Errc::kConfig on invalid or conflicting librdkafka settings.
  static Result<std::unique_ptr<KafkaSink>> Create(boost::asio::io_context& io,
                                                   KafkaSinkOptions options);

  // Cluster mode with exactly_once (issue 15, kafka_transactions.h): the
  // same sink, but Publish() only appends the article (and the changelog
  // record that marks it delivered, from `transactions`' delivered-record
  // callback) to the open transaction; its callback runs when that
  // transaction commits (kDelivered) or aborts (kRetry; kDeadLettered /
  // kDrop for records Kafka rejects for good). Routing, trimming, headers
  // and feed events are the same as Create()'s. See README.md "Cluster mode".
  static Result<std::unique_ptr<KafkaSink>> CreateTransactional(
      boost::asio::io_context& io, KafkaSinkOptions options,
      std::shared_ptr<KafkaTransactions> transactions);

  // Calls Close(0) if Close() was not called: leftovers are cancelled and
  // their kRetry callbacks posted to the io_context.
  ~KafkaSink() override;

  std::string_view Name() const override { return "sink.kafka"; }

  // KafkaTopicFor(options, article, feed): the feed's `topic`, else
  // options.topics_by_category, else options.topic.
  SinkDestination Route(const Article& article,
                        const FeedSinkOptions& feed) const override;

  // Enqueues the record for topic destination.name (empty: options.topic);
  // never blocks. Outcomes: kDelivered once the broker acked (acks=all); kRetry
  // for transient failures, back-pressure (local queue full), message timeout,
  // shutdown, a fatal producer error (the producer is recreated), and records
  // rejected as too large (the trim limit is lowered, the next attempt
  // fits); for records Kafka can never accept (KafkaPermanentReason: too
  // large even trimmed to metadata only, invalid or unknown topic, not
  // authorized, ...) kDeadLettered once a copy is in
  // options.dead_letter_topic, kDrop without one (or when that topic
  // refuses it for good too).
  //
  // Serializes the article (ArticleToJson) and continues as
  // PublishSerialized().
  void Publish(const Article& article, const SinkDestination& destination,
               DeliveryCallback done) override;

  // The daemon's path (the Publisher hands over its outbox value): the
  // record value is `json` itself, kept by the pending record until its
  // delivery report (no copy, no second serialization), or, above the trim
  // limit, KafkaRecordValue(article): the same bytes Publish() sends.
  // REQUIRES: *json == ArticleToJson(article). Same outcomes as Publish().
  void PublishSerialized(const Article& article, SerializedArticle json,
                         const SinkDestination& destination,
                         DeliveryCallback done) override;

  // To options.events_topic through KafkaFeedEvents; ignored without one.
  void PublishEvent(const FeedEvent& event) override;

  // Publishes a record that is not an article (feed events): `value` as is,
  // with the given headers. `topic` must not be empty. Same outcomes and
  // callback contract as Publish().
  void PublishRecord(
      const std::string& topic, std::string key, std::string value,
      const std::vector<std::pair<std::string, std::string>>& headers,
      DeliveryCallback done);

  // The health check readiness asks (/readyz, READY=1, STATUS=): not ok
  // ("Kafka unreachable (<why>)") until the first metadata probe (at
  // start, then every 5 s, 3 s timeout) or delivery succeeded, and after
  // librdkafka reported all brokers down, a fatal error or a failed probe,
  // until the next successful probe or delivery. Thread-safe.
  SinkHealth Health() const override;

  // Flushes up to `timeout`, stops the poll thread, then purges whatever is
  // left (their callbacks get kRetry, posted). Idempotent. Returns an error
  // (kTimeout) when records had to be purged.
  Result<void> Close(std::chrono::milliseconds timeout) override;

  // Test hook (librdkafka's rd_kafka_test_fatal_error): raises a fatal
  // producer error as the idempotent producer would. io_context thread.
  Result<void> InjectFatalErrorForTest(const std::string& reason);

  // How many times the producer was recreated after a fatal error.
  // io_context thread.
  int producer_generation() const { return producer_generation_; }

 private:
  struct Pending;

  KafkaSink(boost::asio::io_context& io, KafkaSinkOptions options);

  // librdkafka callbacks (poll thread); `opaque` is the KafkaSink.
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* message,
                         void* opaque);
  static void OnError(rd_kafka_t* rk, int err, const char* reason,
                      void* opaque);
  // Posts the report of `pending` (ownership) to the io_context at once.
  void PostReport(Pending* pending, DeliveryReport report);
  // Adds the report of `pending` (ownership) to the current batch (poll
  // thread, or whoever serves librdkafka's callbacks: flush, Close()).
  void QueueReport(Pending* pending, DeliveryReport report);
  // Posts the batch collected so far, if any, as one closure. Called after
  // every rd_kafka_poll / rd_kafka_flush, by the thread that made it.
  void PostReports();
  // rd_kafka_poll(producer_, timeout_ms), then PostReports().
  void Serve(int timeout_ms);
  // Reports `pending` (ownership) as `report`; a kDrop of an article goes
  // to DeadLetter() first when there is a dead-letter topic. Any thread.
  void Finish(Pending* pending, std::string_view topic, int err,
              DeliveryReport report);
  // io_context: produces a copy of `original` to options.dead_letter_topic
  // with the reason headers; its report decides the article's outcome.
  void DeadLetter(std::unique_ptr<Pending> original, const std::string& topic,
                  const std::string& reason, DeliveryReport rejected);
  // After a fatal producer error (any thread): posts RecreateProducer once.
  void ScheduleRecreate();
  // io_context: purges the failed producer (its records are reported
  // kRetry), destroys it and starts a new one with the same configuration.
  void RecreateProducer();
  // Hands `pending` and `headers` (ownership of both) to librdkafka, with
  // record key `key` (librdkafka copies it).
  void Produce(const std::string& topic, std::string_view key,
               std::unique_ptr<Pending> pending, rd_kafka_headers_t* headers);
  void PollLoop();
  // Records the broker state from a probe, a delivery or an error
  // callback (any thread); logs transitions.
  void SetReachable(bool reachable, std::string_view why);

  boost::asio::io_context& io_;
  const KafkaSinkOptions options_;
  rd_kafka_t* producer_ = nullptr;  // owned; destroyed in the destructor
  std::thread poll_thread_;
  std::atomic<bool> stop_polling_{false};
  // -1 unknown (not probed yet), 0 unreachable, 1 reachable.
  std::atomic<int> reachable_{-1};
  mutable std::mutex problem_mu_;
  std::string problem_ = "no broker answered yet";  // guarded by problem_mu_
  std::unique_ptr<KafkaFeedEvents> events_;         // null without events_topic
  // Records handed to librdkafka whose delivery report was not served yet
  // (rd_kafka_outq_len also counts pending error events, so it is not used).
  std::atomic<int> in_flight_{0};
  // Trim threshold (KafkaRecordValue). Starts at EffectiveMaxMessageBytes
  // and is lowered when the broker rejects a record as too large (a topic
  // with a smaller max.message.bytes): that record is reported kRetry and
  // goes out trimmed on the next poll instead of being lost.
  std::atomic<size_t> max_message_bytes_;
  // Lowers max_message_bytes_ below a big `rejected_size`.
  void LowerSizeLimit(size_t rejected_size);
  bool closed_ = false;
  std::atomic<bool> recreate_pending_{false};
  int producer_generation_ = 0;
  // Expires with the sink: posted work that names `this` checks it.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  // Delivery reports served but not yet posted (QueueReport); the poll
  // thread and, during Close(), rd_kafka_flush on the io thread append.
  std::mutex reports_mu_;
  std::vector<std::pair<DeliveryCallback, DeliveryReport>> reports_;
  // Transactional mode (CreateTransactional): set, and producer_ is null.
  std::shared_ptr<KafkaTransactions> transactions_;
};

}  // namespace newsflow
