#include "connectors/sinks/kafka/kafka_feed_events.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>

#include "connectors/sinks/kafka/kafka_sink.h"
#include "daemon/core/logging.h"
#include "daemon/core/metrics.h"

namespace newsflow {

KafkaFeedEvents::KafkaFeedEvents(std::unique_ptr<KafkaSink> sink,
                                 std::string topic)
    : sink_(std::move(sink)), topic_(std::move(topic)) {}

KafkaFeedEvents::~KafkaFeedEvents() {
  if (!closed_) (void)Close(std::chrono::milliseconds(0));
}

Result<std::unique_ptr<KafkaFeedEvents>> KafkaFeedEvents::Create(
    boost::asio::io_context& io, KafkaSinkOptions options) {
  std::string topic = std::move(options.events_topic);
  if (topic.empty())
    return Error::Config("feed events need a topic", "kafka.events_topic");
  options.events_topic.clear();  // the events producer has no event stream
  options.topic = topic;
  options.topics_by_category.clear();
  options.client_id += "-events";
  auto sink = KafkaSink::Create(io, std::move(options));
  if (!sink) return sink.error();
  return std::unique_ptr<KafkaFeedEvents>(
      new KafkaFeedEvents(std::move(*sink), std::move(topic)));
}

void KafkaFeedEvents::Emit(const FeedEvent& event) {
  Send(std::make_shared<const FeedEvent>(event), 1);
}

void KafkaFeedEvents::Send(std::shared_ptr<const FeedEvent> event,
                           int attempt) {
  if (closed_) return;
  ++pending_;
  // ce_id is unique per event: feed, type and time (ms) identify it; a
  // retried send keeps it, so consumers can drop duplicates.
  const std::string ce_id =
      event->feed_id + ":" + event->type + ":" +
      std::to_string(event->time.time_since_epoch().count());
  sink_->PublishRecord(
      topic_, event->feed_id, FeedEventToJson(*event),
      {{"content-type", "application/json; charset=utf-8"},
       {"ce_specversion", "1.0"},
       {"ce_id", ce_id},
       {"ce_source", "/feeds/" + event->feed_id},
       {"ce_type", "org.newsflow.feed." + event->type},
       {"ce_time", FormatRfc3339(event->time)},
       {"ce_subject", event->feed_id}},
      [this, event, attempt](DeliveryReport report) {
        --pending_;
        if (report.outcome == DeliveryOutcome::kDelivered) return;
        if (report.outcome == DeliveryOutcome::kRetry &&
            attempt < kMaxAttempts && !closed_) {
          Send(event, attempt + 1);
          return;
        }
        MetricsRegistry::Global()
            .GetCounter("newsflow_feed_events_failed_total",
                        "Feed events given up after retries.",
                        {{"feed", event->feed_id}})
            .Inc();
        GetLogger("events")->warn(
            "Feed event not delivered. type={} feed={} error={}", event->type,
            event->feed_id, report.error);
      });
}

Result<void> KafkaFeedEvents::Close(std::chrono::milliseconds timeout) {
  if (closed_) return {};
  closed_ = true;
  return sink_->Close(timeout);
}

}  // namespace newsflow
