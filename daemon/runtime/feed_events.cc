#include "daemon/runtime/feed_events.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>

#include "connectors/sinks/kafka/kafka_sink.h"
#include "daemon/core/json_writer.h"
#include "daemon/core/logging.h"
#include "daemon/core/metrics.h"

namespace newsflow {

std::string FeedEventToJson(const FeedEvent& event) {
  JsonWriter w;
  w.BeginObject();
  w.Field("type", event.type);
  w.Key("feed").BeginObject();
  w.Field("id", event.feed_id);
  w.Field("url", event.feed_url);
  w.EndObject();
  w.Field("time", FormatRfc3339(event.time));
  w.Key("details").BeginObject();
  for (const auto& [key, value] : event.details) w.Field(key, value);
  w.EndObject();
  w.EndObject();
  return w.Take();
}

FeedEvents::FeedEvents(std::unique_ptr<KafkaSink> sink, std::string topic)
    : sink_(std::move(sink)), topic_(std::move(topic)) {}

FeedEvents::~FeedEvents() {
  if (!closed_) (void)Close(std::chrono::milliseconds(0));
}

Result<std::unique_ptr<FeedEvents>> FeedEvents::Create(
    boost::asio::io_context& io, KafkaSinkOptions options, std::string topic) {
  if (topic.empty())
    return Error::Config("feed events need a topic", "kafka.events_topic");
  options.topic = topic;
  options.client_id += "-events";
  auto sink = KafkaSink::Create(io, std::move(options));
  if (!sink) return sink.error();
  return std::unique_ptr<FeedEvents>(
      new FeedEvents(std::move(*sink), std::move(topic)));
}

void FeedEvents::Emit(FeedEvent event) {
  if (event.time == TimePoint{}) event.time = Now();
  GetLogger("events")->info("Feed event. type={} feed={}", event.type,
                            event.feed_id);
  Send(std::make_shared<const FeedEvent>(std::move(event)), 1);
}

void FeedEvents::Send(std::shared_ptr<const FeedEvent> event, int attempt) {
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

Result<void> FeedEvents::Close(std::chrono::milliseconds timeout) {
  if (closed_) return {};
  closed_ = true;
  return sink_->Close(timeout);
}

}  // namespace newsflow
