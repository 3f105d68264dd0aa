#include "daemon/runtime/publisher.h"

#include <spdlog/spdlog.h>

#include <cassert>

#include "daemon/core/logging.h"

namespace newsflow {

Publisher::Publisher(const asio::any_io_executor& executor, Sink& sink,
                     StateStore& store, size_t max_in_flight)
    : sink_(sink),
      store_(store),
      max_in_flight_(max_in_flight == 0 ? 1 : max_in_flight),
      changed_(executor) {}

Awaitable<void> Publisher::WaitForCapacity() {
  while (in_flight_ids_.size() >= max_in_flight_) co_await changed_.Wait();
}

Awaitable<void> Publisher::WaitIdle() {
  while (!in_flight_ids_.empty()) co_await changed_.Wait();
}

void Publisher::Publish(const Article& article, const std::string& topic,
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
  sink_.Publish(article, topic,
                [this, record = std::move(record), is_update,
                 done = std::move(done)](DeliveryReport report) {
                  if (report.outcome == DeliveryOutcome::kDelivered) {
                    if (auto r = store_.MarkPublished(record); !r) {
                      // Delivered but not recorded: it will be published
                      // again after a restart (a duplicate, never a loss).
                      ++stats_.state_errors;
                      GetLogger("state")->error(
                          "Could not record a delivered article. id={} error={}",
                          record.id, r.error().ToString());
                    }
                    ++(is_update ? stats_.updated : stats_.published);
                  } else if (report.outcome == DeliveryOutcome::kRetry) {
                    ++stats_.retried;
                  } else {
                    ++stats_.dropped;
                    GetLogger(std::string(sink_.Name()))
                        ->error("Article dropped by the sink. id={} error={}",
                                record.id, report.error);
                  }
                  in_flight_ids_.erase(record.id);
                  changed_.NotifyAll();
                  if (done) done(report);
                });
}

}  // namespace newsflow
