#pragma once

// KafkaFeedEvents: the Kafka sink's event stream. Feed-level events
// (FeedEvent, handed over by Sink::PublishEvent) are published to
// `kafka.events_topic`, one JSON record per event (FeedEventToJson), key =
// feed id, CloudEvents binary-mode headers (ce_type
// "org.newsflow.feed.<type>"). Its own idempotent producer with the kafka
// section's settings (client id "<client_id>-events"), so a burst of events
// never queues behind articles.
//
// Delivery is best effort with retries: a record reported kRetry is sent
// again (up to kMaxAttempts), then logged and counted in
// newsflow_feed_events_failed_total; events are observability, articles
// never wait for them.
//
// Threading: io_context thread only (Emit, Close). The io_context must
// outlive it.

#include <chrono>
#include <memory>
#include <string>

#include "connectors/sinks/kafka/kafka_sink_config.h"
#include "daemon/core/error.h"
#include "daemon/core/feed_event.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace newsflow {

class KafkaSink;

class KafkaFeedEvents {
 public:
  static constexpr int kMaxAttempts = 5;

  // `options` as for the article sink (brokers, librdkafka, ...);
  // options.events_topic must not be empty. Fails like KafkaSink::Create.
  static Result<std::unique_ptr<KafkaFeedEvents>> Create(
      boost::asio::io_context& io, KafkaSinkOptions options);
  ~KafkaFeedEvents();
  KafkaFeedEvents(const KafkaFeedEvents&) = delete;
  KafkaFeedEvents& operator=(const KafkaFeedEvents&) = delete;

  // Queues `event` for publication; never blocks.
  void Emit(const FeedEvent& event);

  // Events handed to the producer and not yet acknowledged or given up.
  size_t pending() const { return pending_; }

  // Flushes up to `timeout`, then cancels what is left.
  Result<void> Close(std::chrono::milliseconds timeout);

 private:
  KafkaFeedEvents(std::unique_ptr<KafkaSink> sink, std::string topic);
  void Send(std::shared_ptr<const FeedEvent> event, int attempt);

  std::unique_ptr<KafkaSink> sink_;
  const std::string topic_;
  size_t pending_ = 0;
  bool closed_ = false;
};

}  // namespace newsflow
