#pragma once

// FeedEvents: feed-level events (fetch failures, recoveries, moved feeds,
// article id policy changes) published to the optional `kafka.events_topic`,
// one JSON record per event, key = feed id, CloudEvents binary-mode headers
// (ce_type "org.newsflow.feed.<type>"). Separate from articles: its own
// idempotent producer with the kafka section's settings, so a burst of
// events never competes with the article in-flight bound.
//
// Delivery is best effort with retries: a record reported kRetry is sent
// again (up to kMaxAttempts), then logged and counted in
// newsflow_feed_events_failed_total; events are observability, articles
// never wait for them.
//
// Threading: io_context thread only (Emit, Close). The io_context must
// outlive it.

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "connectors/sinks/kafka/kafka_sink_config.h"
#include "daemon/core/error.h"
#include "daemon/core/time_util.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace newsflow {

class KafkaSink;

struct FeedEvent {
  // "fetch_failed" | "recovered" | "moved" | "id_policy_changed".
  std::string type;
  std::string feed_id;   // feed name from config
  std::string feed_url;  // configured URL
  TimePoint time{};      // when it happened; epoch = now
  // Type-specific string fields, e.g. {"error": ...}, {"to": new_url},
  // {"policy": "url", "reason": "guids_changed"}.
  std::map<std::string, std::string> details;
};

// The record value: {"type","feed":{"id","url"},"time","details":{...}}.
std::string FeedEventToJson(const FeedEvent& event);

class FeedEvents {
 public:
  static constexpr int kMaxAttempts = 5;

  // `options` as for the article sink (brokers, librdkafka, ...); `topic`
  // must not be empty. Fails like KafkaSink::Create.
  static Result<std::unique_ptr<FeedEvents>> Create(boost::asio::io_context& io,
                                                    KafkaSinkOptions options,
                                                    std::string topic);
  ~FeedEvents();
  FeedEvents(const FeedEvents&) = delete;
  FeedEvents& operator=(const FeedEvents&) = delete;

  // Queues `event` for publication; never blocks.
  void Emit(FeedEvent event);

  // Events handed to the producer and not yet acknowledged or given up.
  size_t pending() const { return pending_; }

  // Flushes up to `timeout`, then cancels what is left.
  Result<void> Close(std::chrono::milliseconds timeout);

 private:
  FeedEvents(std::unique_ptr<KafkaSink> sink, std::string topic);
  void Send(std::shared_ptr<const FeedEvent> event, int attempt);

  std::unique_ptr<KafkaSink> sink_;
  const std::string topic_;
  size_t pending_ = 0;
  bool closed_ = false;
};

}  // namespace newsflow
