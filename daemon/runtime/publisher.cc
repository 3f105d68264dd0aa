#include "daemon/runtime/publisher.h"

#include <spdlog/spdlog.h>

#include <cassert>

#include "daemon/core/logging.h"
#include "daemon/core/metrics.h"

namespace newsflow {

namespace {

Gauge& InFlightGauge() {
  static Gauge& g = MetricsRegistry::Global().GetGauge(
      "newsflow_articles_in_flight",
      "Articles handed to sinks and not yet acked.");
  return g;
}

Histogram& LatencyHistogram() {
  static Histogram& h = MetricsRegistry::Global().GetHistogram(
      "newsflow_delivery_latency_seconds",
      "Time from handing an article to the sink to its delivery report.",
      {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300});
  return h;
}

}  // namespace

Publisher::Publisher(const asio::any_io_executor& executor, Sink& sink,
                     StateStore& store, size_t max_in_flight)
    : sink_(sink),
      store_(store),
      max_in_flight_(max_in_flight == 0 ? 1 : max_in_flight),
      executor_(executor) {}

Awaitable<void> Publisher::WaitForCapacity() { return Wait(false); }

Awaitable<void> Publisher::Reserve() { return Wait(true); }

Awaitable<void> Publisher::Wait(bool reserve) {
  if (waiters_.empty() && HasRoom()) {
    if (reserve) ++reserved_;
    co_return;
  }
  auto waiter = std::make_shared<Waiter>(executor_);
  waiter->reserve = reserve;
  waiters_.push_back(waiter);
  while (!waiter->granted) {
    co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void Publisher::Grant() {
  while (!waiters_.empty() && HasRoom()) {
    std::shared_ptr<Waiter> waiter = std::move(waiters_.front());
    waiters_.pop_front();
    if (waiter->reserve) ++reserved_;
    waiter->granted = true;
    waiter->timer.cancel();
  }
}

void Publisher::Unreserve() {
  assert(reserved_ > 0);
  --reserved_;
  Grant();
}

void Publisher::Publish(const Article& article, const FeedSinkOptions& feed,
                        std::string item_hash,
                        std::function<void(const DeliveryReport&)> done) {
  assert(!IsInFlight(article.id));
  in_flight_ids_.insert(article.id);
  ArticleRecord record;
  record.id = article.id;
  record.feed_id = article.feed.id;
  record.item_hash = std::move(item_hash);
  record.content_hash = article.content_hash;
  record.first_published = article.fetched_at;
  record.last_published = article.fetched_at;
  const bool is_update = article.event == ArticleEvent::kUpdated;
  InFlightGauge().Set(static_cast<double>(in_flight_ids_.size()));
  const auto started = std::chrono::steady_clock::now();
  sink_.Publish(
      article, sink_.Route(article, feed),
      [this, record = std::move(record), is_update, started,
       done = std::move(done)](DeliveryReport report) {
        auto& metrics = MetricsRegistry::Global();
        LatencyHistogram().Observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                          started)
                .count());
        if (report.outcome == DeliveryOutcome::kDelivered) {
          metrics
              .GetCounter("newsflow_articles_published_total",
                          "Articles delivered (acked by the sink).",
                          {{"feed", record.feed_id},
                           {"event", is_update ? "updated" : "created"}})
              .Inc();
          if (auto r = store_.MarkPublished(record); !r) {
            // Delivered but not recorded: it will be published
            // again after a restart (a duplicate, never a loss).
            ++stats_.state_errors;
            GetLogger("state")->error(
                "Could not record a delivered article. id={} error={}",
                record.id, r.error().ToString());
          }
          ++(is_update ? stats_.updated : stats_.published);
        } else if (report.outcome == DeliveryOutcome::kDeadLettered) {
          // issue 12: final, recorded as seen with its reason.
          metrics
              .GetCounter("newsflow_articles_dead_lettered_total",
                          "Articles the sink rejected for good and sent to "
                          "its dead-letter destination.",
                          {{"feed", record.feed_id}})
              .Inc();
          ++stats_.dead_lettered;
          GetLogger(std::string(sink_.Name()))
              ->warn("Article dead-lettered. id={} reason={} error={}",
                     record.id, report.dead_letter_reason, report.error);
          if (auto r =
                  store_.MarkDeadLettered(record, report.dead_letter_reason);
              !r) {
            ++stats_.state_errors;
            GetLogger("state")->error(
                "Could not record a dead-lettered article. id={} error={}",
                record.id, r.error().ToString());
          }
        } else if (report.outcome == DeliveryOutcome::kRetry) {
          ++stats_.retried;
          metrics
              .GetCounter("newsflow_articles_failed_total",
                          "Deliveries that failed (retry: offered "
                          "again next poll; drop: never accepted).",
                          {{"feed", record.feed_id}, {"outcome", "retry"}})
              .Inc();
        } else {
          metrics
              .GetCounter("newsflow_articles_failed_total",
                          "Deliveries that failed (retry: offered "
                          "again next poll; drop: never accepted).",
                          {{"feed", record.feed_id}, {"outcome", "drop"}})
              .Inc();
          ++stats_.dropped;
          GetLogger(std::string(sink_.Name()))
              ->error("Article dropped by the sink. id={} error={}", record.id,
                      report.error);
        }
        in_flight_ids_.erase(record.id);
        InFlightGauge().Set(static_cast<double>(in_flight_ids_.size()));
        Grant();
        if (done) done(report);
      });
}

}  // namespace newsflow
