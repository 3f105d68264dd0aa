#pragma once

// The Kafka sink: publishes each article as one record (key = article id,
// value = ArticleToJson, CloudEvents binary-mode headers) with an idempotent
// librdkafka producer. Delivery semantics: at-least-once (see README.md).
//
// Threading: created, used and destroyed on the daemon's io_context thread
// (the Sink contract). A private poll thread serves librdkafka's callbacks
// and posts every delivery report to the io_context, where the Publish()
// callback runs exactly once. The io_context must outlive the sink.

#include <atomic>
#include <chrono>
#include <memory>
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

class KafkaSink : public Sink {
 public:
  // Creates the producer (does not wait for a broker: an unreachable one
  // shows up as kRetry reports and Healthy() == false). Fails with
  // Errc::kConfig on invalid or conflicting librdkafka settings.
  static Result<std::unique_ptr<KafkaSink>> Create(boost::asio::io_context& io,
                                                   KafkaSinkOptions options);

  // Calls Close(0) if Close() was not called: leftovers are cancelled and
  // their kRetry callbacks posted to the io_context.
  ~KafkaSink() override;

  std::string_view Name() const override { return "sink.kafka"; }

  // Enqueues the record; never blocks. Empty `topic`: options.topic.
  // Outcomes: kDelivered once the broker acked (acks=all); kRetry for
  // transient failures, back-pressure (local queue full), message timeout,
  // shutdown, and records rejected as too large (the trim limit is lowered,
  // the next attempt fits); kDrop for records Kafka can never accept
  // (invalid topic name, or too large even trimmed to metadata only).
  void Publish(const Article& article, const std::string& topic,
               DeliveryCallback done) override;

  // Publishes a record that is not an article (feed events): `value` as is,
  // with the given headers. `topic` must not be empty. Same outcomes and
  // callback contract as Publish().
  void PublishRecord(
      const std::string& topic, std::string key, std::string value,
      const std::vector<std::pair<std::string, std::string>>& headers,
      DeliveryCallback done);

  // Readiness (/readyz): false after librdkafka reported all brokers down or
  // a periodic metadata probe (every 5 s, 3 s timeout) failed, until the
  // next successful probe or delivery. Thread-safe.
  bool Healthy() const override;

  // Flushes up to `timeout`, stops the poll thread, then purges whatever is
  // left (their callbacks get kRetry, posted). Idempotent. Returns an error
  // (kTimeout) when records had to be purged.
  Result<void> Close(std::chrono::milliseconds timeout) override;

 private:
  struct Pending;

  KafkaSink(boost::asio::io_context& io, KafkaSinkOptions options);

  // librdkafka callbacks (poll thread); `opaque` is the KafkaSink.
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* message,
                         void* opaque);
  static void OnError(rd_kafka_t* rk, int err, const char* reason,
                      void* opaque);
  void PostReport(Pending* pending, DeliveryReport report);
  // Hands `pending` and `headers` (ownership of both) to librdkafka.
  void Produce(const std::string& topic, std::unique_ptr<Pending> pending,
               rd_kafka_headers_t* headers);
  void PollLoop();

  boost::asio::io_context& io_;
  const KafkaSinkOptions options_;
  rd_kafka_t* producer_ = nullptr;  // owned; destroyed in the destructor
  std::thread poll_thread_;
  std::atomic<bool> stop_polling_{false};
  std::atomic<bool> healthy_{true};
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
};

}  // namespace newsflow
