#include "daemon/runtime/publisher.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <cassert>
#include <nlohmann/json.hpp>

#include "daemon/core/json_writer.h"
#include "daemon/core/logging.h"
#include "daemon/core/metrics.h"
#include "daemon/core/stage_cpu.h"

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

// What the store records of a final report (delivered or dead-lettered).
ArticleRecord RecordOf(const Article& article, const std::string& item_hash) {
  ArticleRecord record;
  record.id = article.id;
  record.feed_id = article.feed.id;
  record.item_hash = item_hash;
  record.content_hash = article.content_hash;
  record.first_published = article.fetched_at;
  record.last_published = article.fetched_at;
  return record;
}

Counter& FailedCounter(const std::string& feed, const char* outcome) {
  return MetricsRegistry::Global().GetCounter(
      "newsflow_articles_failed_total",
      "Deliveries that failed (retry: kept in the outbox and offered "
      "again; drop: never accepted).",
      {{"feed", feed}, {"outcome", outcome}});
}

void WriteDestination(JsonWriter& w, const SinkDestination& d) {
  w.BeginObject();
  w.Field("name", d.name);
  w.Key("parts").BeginArray();
  for (const SinkDestination& part : d.parts) WriteDestination(w, part);
  w.EndArray();
  w.EndObject();
}

SinkDestination ReadDestination(const nlohmann::json& j) {
  SinkDestination d;
  d.name = j.at("name").get<std::string>();
  for (const nlohmann::json& part : j.at("parts")) {
    d.parts.push_back(ReadDestination(part));
  }
  return d;
}

}  // namespace

std::string EncodeDestination(const SinkDestination& destination) {
  JsonWriter w;
  WriteDestination(w, destination);
  return w.Take();
}

Result<SinkDestination> DecodeDestination(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Error(Errc::kParse, "destination: bad JSON");
  try {
    return ReadDestination(j);
  } catch (const nlohmann::json::exception& e) {
    return Error(Errc::kParse, std::string("destination: ") + e.what());
  }
}

Publisher::Publisher(const asio::any_io_executor& executor, Sink& sink,
                     StateStore& store, size_t max_in_flight, int64_t max_bytes)
    : executor_(executor),
      sink_(sink),
      store_(store),
      max_in_flight_(max_in_flight == 0 ? 1 : max_in_flight),
      max_bytes_(max_bytes <= 0 ? kUnbounded : max_bytes),
      retry_timer_(executor),
      changed_(executor),
      room_(executor),
      log_(GetLogger("outbox")) {
  auto& r = MetricsRegistry::Global();
  articles_gauge_ =
      &r.GetGauge("newsflow_outbox_articles",
                  "Articles in the durable outbox (built, not yet delivered).");
  bytes_gauge_ = &r.GetGauge("newsflow_outbox_bytes",
                             "Bytes in the durable outbox (fetching pauses at "
                             "newsflow_outbox_max_bytes).");
  max_bytes_gauge_ =
      &r.GetGauge("newsflow_outbox_max_bytes", "outbox.max_bytes as applied.");
  oldest_gauge_ =
      &r.GetGauge("newsflow_outbox_oldest_age_seconds",
                  "Age of the oldest article in the outbox; 0 when empty.");
}

Publisher::~Publisher() { FlushNow(); }

Result<void> Publisher::Resume() {
  constexpr size_t kPage = 10000;
  int64_t after = 0;
  for (;;) {
    auto rows = store_.OutboxLoad(after, kPage, /*with_value=*/false);
    if (!rows) return rows.error();
    for (OutboxEntry& e : *rows) {
      after = e.seq;
      PendingArticle& p = pending_[e.id];
      p.item_hash = e.item_hash;
      p.content_hash = e.content_hash;
      ++p.entries;
      bytes_ += e.bytes;
      index_.emplace(e.seq, IndexRow{std::move(e.id), e.bytes, e.created_at});
    }
    if (rows->size() < kPage) break;
  }
  last_seq_ = after;
  loaded_through_ = 0;
  UpdateGauges();
  if (!index_.empty()) {
    log_->info(
        "Resuming the outbox; delivering what the last run left first. "
        "articles={} bytes={}",
        index_.size(), bytes_);
  }
  Dispatch();
  return {};
}

Awaitable<void> Publisher::WaitForRoom() {
  while (OutboxFull()) {
    ++room_waiters_;
    co_await room_.Wait();
    --room_waiters_;
  }
}

const PendingArticle* Publisher::FindPending(const std::string& id) const {
  auto it = pending_.find(id);
  return it == pending_.end() ? nullptr : &it->second;
}

std::optional<TimePoint> Publisher::OldestEntry() const {
  if (index_.empty()) return std::nullopt;
  return index_.begin()->second.created_at;
}

void Publisher::UpdateGauges() const {
  articles_gauge_->Set(static_cast<double>(outbox_articles()));
  bytes_gauge_->Set(static_cast<double>(outbox_bytes()));
  max_bytes_gauge_->Set(
      static_cast<double>(max_bytes_ == kUnbounded ? 0 : max_bytes_));
  const auto oldest = OldestEntry();
  oldest_gauge_->Set(
      oldest ? std::chrono::duration<double>(Now() - *oldest).count() : 0.0);
  InFlightGauge().Set(static_cast<double>(in_flight_));
}

void Publisher::Publish(const Article& article, const FeedSinkOptions& feed,
                        std::string item_hash,
                        std::function<void(const DeliveryReport&)> done) {
  Staged s;
  s.destination = sink_.Route(article, feed);
  s.entry.id = article.id;
  s.entry.feed_id = article.feed.id;
  s.entry.item_hash = item_hash;
  s.entry.content_hash = article.content_hash;
  s.entry.destination = EncodeDestination(s.destination);
  {
    // The one serialization of the article (the sink sends these bytes).
    ScopedStageCpu cpu(CpuStage::kSerialize);
    s.entry.value = ArticleToJson(article);
  }
  s.entry.created_at = Now();
  s.article = article;
  s.done = std::move(done);
  // The same count OutboxAppend will set (value, destination, keys, row).
  const int64_t bytes = static_cast<int64_t>(
      s.entry.value.size() + s.entry.destination.size() + s.entry.id.size() +
      s.entry.feed_id.size() + s.entry.item_hash.size() +
      s.entry.content_hash.size() + 64);
  staged_bytes_ += bytes;
  PendingArticle& p = pending_[article.id];
  p.item_hash = std::move(item_hash);
  p.content_hash = article.content_hash;
  ++p.entries;
  staged_.push_back(std::move(s));
  ++staged_generation_;
  if (static_cast<size_t>(staged_bytes_) >= kMaxBatchBytes) {
    Flush();
  } else {
    ScheduleFlush();
  }
}

Awaitable<void> Publisher::Durable() {
  const uint64_t generation = staged_generation_;
  while (committed_generation_ < generation) co_await changed_.Wait();
}

void Publisher::StopDelivering() { delivering_ = false; }

void Publisher::StartDelivering() {
  delivering_ = true;
  Dispatch();
}

void Publisher::Park(const Loaded& entry) {
  parked_.emplace(entry.seq, ParkedRow{entry.article.feed.id, entry.article.id,
                                       entry.article.content_hash});
}

bool Publisher::MaySend(const Loaded& entry) {
  if (!owns_feed_) return true;
  if (!owns_feed_(entry.article.feed.id)) {
    Park(entry);
    return false;
  }
  auto recorded = store_.FindArticle(entry.article.id);
  if (recorded && recorded->has_value() && !(*recorded)->tombstone &&
      (*recorded)->content_hash == entry.article.content_hash) {
    // Delivered by the feed's previous owner (the restored changelog says
    // so): removed without sending.
    log_->info(
        "Outbox entry already delivered by the feed's previous owner; "
        "removed. id={} feed={}",
        entry.article.id, entry.article.feed.id);
    acks_.push_back({entry.seq, std::nullopt});
    acked_ids_.push_back(entry.article.id);
    ScheduleFlush();
    return false;
  }
  return true;
}

void Publisher::OwnershipChanged() {
  if (!owns_feed_) return;
  for (auto it = held_.begin(); it != held_.end();) {
    if (owns_feed_(it->second.article.feed.id)) {
      ++it;
      continue;
    }
    Park(it->second);
    it = held_.erase(it);
  }
  Dispatch();
}

void Publisher::Reconcile(const std::set<std::string>& feeds) {
  size_t removed = 0, restored = 0;
  for (auto it = parked_.begin(); it != parked_.end();) {
    if (!feeds.contains(it->second.feed)) {
      ++it;
      continue;
    }
    const int64_t seq = it->first;
    const ParkedRow row = it->second;
    it = parked_.erase(it);
    auto recorded = store_.FindArticle(row.id);
    if (recorded && recorded->has_value() && !(*recorded)->tombstone &&
        (*recorded)->content_hash == row.content_hash) {
      acks_.push_back({seq, std::nullopt});
      acked_ids_.push_back(row.id);
      ++removed;
      continue;
    }
    auto rows = store_.OutboxLoad(seq - 1, 1);
    if (!rows || rows->empty() || rows->front().seq != seq) continue;
    OutboxEntry& e = rows->front();
    auto article = ArticleFromJson(e.value);
    auto destination = DecodeDestination(e.destination);
    if (!article || !destination) continue;  // Dispatch reports damage
    Loaded l;
    l.seq = seq;
    l.item_hash = std::move(e.item_hash);
    l.article = std::move(*article);
    l.value = std::make_shared<const std::string>(std::move(e.value));
    l.destination = std::move(*destination);
    held_.emplace(seq, std::move(l));
    ++restored;
  }
  if (removed + restored > 0) {
    log_->info(
        "Outbox reconciled for assigned feeds. feeds={} removed={} "
        "deliverable={}",
        feeds.size(), removed, restored);
  }
  if (removed > 0) ScheduleFlush();
  Dispatch();
}

void Publisher::ScheduleFlush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  asio::post(executor_, [this] { Flush(); });
}

void Publisher::ReleasePending(const std::string& id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  if (--it->second.entries == 0) pending_.erase(it);
}

void Publisher::Flush() {
  flush_posted_ = false;
  auto& log = log_;
  if (!staged_.empty()) {
    std::vector<Staged> staged = std::move(staged_);
    staged_.clear();
    staged_bytes_ = 0;
    std::vector<OutboxEntry> entries;
    entries.reserve(staged.size());
    for (Staged& s : staged) entries.push_back(std::move(s.entry));
    auto appended = store_.OutboxAppend(entries);
    if (!appended) {
      ++stats_.state_errors;
      log->error(
          "Could not write built articles to the outbox; they are built "
          "again at the next poll. articles={} error={}",
          staged.size(), appended.error().ToString());
      for (Staged& s : staged) {
        ReleasePending(s.article.id);
        if (s.done)
          s.done({DeliveryOutcome::kRetry, appended.error().message()});
      }
    } else {
      const size_t window = 2 * max_in_flight_;
      for (size_t i = 0; i < entries.size(); ++i) {
        OutboxEntry& e = entries[i];
        Staged& s = staged[i];
        const bool backlog_on_disk = loaded_through_ < last_seq_;
        index_.emplace(e.seq, IndexRow{e.id, e.bytes, e.created_at});
        bytes_ += e.bytes;
        last_seq_ = e.seq;
        if (!backlog_on_disk && held_.size() + in_flight_ < window) {
          Loaded l;
          l.seq = e.seq;
          l.item_hash = std::move(e.item_hash);
          l.article = std::move(s.article);
          l.value = std::make_shared<const std::string>(std::move(e.value));
          l.destination = std::move(s.destination);
          l.done = std::move(s.done);
          held_.emplace(e.seq, std::move(l));
          loaded_through_ = e.seq;
        } else if (s.done) {
          dones_.emplace(e.seq, std::move(s.done));
        }
      }
    }
    committed_generation_ = staged_generation_;
  }
  if (!acks_.empty()) {
    if (auto r = store_.OutboxAck(acks_); !r) {
      // Delivered but not recorded: published again after a restart (a
      // duplicate, never a loss).
      ++stats_.state_errors;
      log->error("Could not record delivery reports. articles={} error={}",
                 acks_.size(), r.error().ToString());
    }
    for (const OutboxDone& done : acks_) {
      auto it = index_.find(done.seq);
      if (it == index_.end()) continue;
      bytes_ -= it->second.bytes;
      index_.erase(it);
    }
    for (const std::string& id : acked_ids_) ReleasePending(id);
    acks_.clear();
    acked_ids_.clear();
  }
  const bool full = OutboxFull();
  if (full != was_full_) {
    was_full_ = full;
    if (full) {
      log->warn(
          "Outbox full; feed polling pauses until deliveries drain it. "
          "articles={} bytes={} max_bytes={}",
          outbox_articles(), outbox_bytes(), max_bytes_);
    } else {
      log->info("Outbox has room again; feed polling resumes. articles={}",
                outbox_articles());
    }
  }
  UpdateGauges();
  changed_.NotifyAll();
  // Pollers waiting for room are woken once, when there is room — not at
  // every commit while the outbox stays full (10,000 waiting feeds would
  // each re-check at every turn of the drain).
  if (!full && room_waiters_ > 0) room_.NotifyAll();
  Dispatch();
}

void Publisher::Dispatch() {
  if (!delivering_) return;
  auto& log = log_;
  const size_t window = 2 * max_in_flight_;
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    // Keys skipped in this pass: a later entry of the same key must wait.
    std::unordered_set<std::string> blocked;
    std::optional<std::chrono::steady_clock::time_point> next_retry;
    for (auto it = held_.begin();
         it != held_.end() && in_flight_ < max_in_flight_;) {
      const std::string& key = it->second.article.id;
      if (in_flight_keys_.contains(key) || blocked.contains(key)) {
        blocked.insert(key);
        ++it;
        continue;
      }
      if (it->second.not_before > now) {
        blocked.insert(key);
        if (!next_retry || it->second.not_before < *next_retry) {
          next_retry = it->second.not_before;
        }
        ++it;
        continue;
      }
      Loaded entry = std::move(it->second);
      it = held_.erase(it);
      if (MaySend(entry)) Send(std::move(entry));
    }
    if (next_retry) ArmRetry(*next_retry);
    if (held_.size() + in_flight_ >= window || loaded_through_ >= last_seq_) {
      break;
    }
    auto rows =
        store_.OutboxLoad(loaded_through_, window - held_.size() - in_flight_);
    if (!rows) {
      log->error("Could not read the outbox. error={}",
                 rows.error().ToString());
      ArmRetry(now + kRetryDelay);
      break;
    }
    if (rows->empty()) {
      loaded_through_ = last_seq_;
      break;
    }
    for (OutboxEntry& e : *rows) {
      loaded_through_ = e.seq;
      if (!index_.contains(e.seq)) continue;  // acked, commit pending
      auto article = ArticleFromJson(e.value);
      auto destination = DecodeDestination(e.destination);
      if (!article || !destination) {
        // Written by this code, so only a damaged file gets here.
        log->error(
            "Outbox entry unreadable; removed. seq={} id={} error={}", e.seq,
            e.id,
            (!article ? article.error() : destination.error()).ToString());
        acks_.push_back({e.seq, std::nullopt});
        acked_ids_.push_back(e.id);
        ++stats_.dropped;
        ScheduleFlush();
        continue;
      }
      Loaded l;
      l.seq = e.seq;
      l.item_hash = std::move(e.item_hash);
      l.article = std::move(*article);
      l.value = std::make_shared<const std::string>(std::move(e.value));
      l.destination = std::move(*destination);
      if (auto d = dones_.find(e.seq); d != dones_.end()) {
        l.done = std::move(d->second);
        dones_.erase(d);
      }
      held_.emplace(e.seq, std::move(l));
    }
  }
  InFlightGauge().Set(static_cast<double>(in_flight_));
}

void Publisher::Send(Loaded entry) {
  ++in_flight_;
  in_flight_keys_.insert(entry.article.id);
  ++in_flight_by_feed_[entry.article.feed.id];
  // The copy the sink gets carries the item hash it was built from (not
  // serialized; a transactional sink's delivered record needs it).
  entry.article.item_hash = entry.item_hash;
  if (entry.value == nullptr) {  // every Loaded gets its row's value
    ScopedStageCpu cpu(CpuStage::kSerialize);
    entry.value =
        std::make_shared<const std::string>(ArticleToJson(entry.article));
  }
  auto shared = std::make_shared<Loaded>(std::move(entry));
  const auto started = std::chrono::steady_clock::now();
  sink_.PublishSerialized(shared->article, shared->value, shared->destination,
                          [this, shared, started](DeliveryReport report) {
                            LatencyHistogram().Observe(
                                std::chrono::duration<double>(
                                    std::chrono::steady_clock::now() - started)
                                    .count());
                            OnReport(std::move(*shared), std::move(report));
                          });
}

void Publisher::OnReport(Loaded entry, DeliveryReport report) {
  --in_flight_;
  in_flight_keys_.erase(entry.article.id);
  if (auto it = in_flight_by_feed_.find(entry.article.feed.id);
      it != in_flight_by_feed_.end() && --it->second == 0) {
    in_flight_by_feed_.erase(it);
  }
  const std::string& feed = entry.article.feed.id;
  if (report.outcome == DeliveryOutcome::kRetry) {
    ++stats_.retried;
    FailedCounter(feed, "retry").Inc();
    entry.not_before = std::chrono::steady_clock::now() + kRetryDelay;
    held_.emplace(entry.seq, std::move(entry));
  } else {
    OutboxDone done;
    done.seq = entry.seq;
    if (report.outcome == DeliveryOutcome::kDeadLettered) {
      // Final: the sink's dead-letter destination has it. Recorded as seen
      // (never rebuilt) with its reason; the outbox entry goes with this
      // turn's commit. A crash in between re-sends it to the dead-letter
      // destination once more (at least once there too).
      ++stats_.dead_lettered;
      MetricsRegistry::Global()
          .GetCounter("newsflow_articles_dead_lettered_total",
                      "Articles the sink rejected for good and sent to its "
                      "dead-letter destination.",
                      {{"feed", feed}})
          .Inc();
      GetLogger(std::string(sink_.Name()))
          ->warn("Article dead-lettered. id={} reason={} error={}",
                 entry.article.id, report.dead_letter_reason, report.error);
      const ArticleRecord record = RecordOf(entry.article, entry.item_hash);
      if (auto r = store_.MarkDeadLettered(record, report.dead_letter_reason);
          !r) {
        ++stats_.state_errors;
        GetLogger("state")->error(
            "Could not record a dead-lettered article. id={} error={}",
            record.id, r.error().ToString());
      }
    } else if (report.outcome == DeliveryOutcome::kDrop) {
      ++stats_.dropped;
      FailedCounter(feed, "drop").Inc();
      GetLogger(std::string(sink_.Name()))
          ->error("Article dropped by the sink. id={} error={}",
                  entry.article.id, report.error);
    } else {
      const bool is_update = entry.article.event == ArticleEvent::kUpdated;
      MetricsRegistry::Global()
          .GetCounter(
              "newsflow_articles_published_total",
              "Articles delivered (acked by the sink).",
              {{"feed", feed}, {"event", is_update ? "updated" : "created"}})
          .Inc();
      ++(is_update ? stats_.updated : stats_.published);
      done.record = RecordOf(entry.article, entry.item_hash);
    }
    acks_.push_back(std::move(done));
    acked_ids_.push_back(entry.article.id);
    // The store learns of it in this turn's commit, before `done` matters
    // to anyone waiting on the store (the poller does not).
    if (entry.done) entry.done(report);
  }
  ScheduleFlush();
}

void Publisher::ArmRetry(std::chrono::steady_clock::time_point at) {
  const auto now = std::chrono::steady_clock::now();
  if (retry_at_ > now && retry_at_ <= at) return;  // an earlier one is armed
  retry_at_ = at;
  retry_timer_.expires_at(at);
  retry_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    retry_at_ = {};
    Dispatch();
  });
}

}  // namespace newsflow
