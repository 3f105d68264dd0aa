// outbox_bench: what the durable outbox costs. The same N articles (2-8 KB
// of JSON, as deliver_bench) go into a broker through the real KafkaSink,
// handed to the sink directly (at most --in-flight outstanding), the same
// plus MarkPublished per ack (the Publisher before the outbox), and
// through the daemon's Publisher (outbox in a
// SQLite state file in --dir, the same in-flight cap), each to its own
// topic; and the time to drain --spool articles left in the outbox by an
// outage (written with delivery stopped, then a fresh Publisher resumes and
// delivers them). Prints one JSON line per run.
//
//   outbox_bench --brokers HOST:PORT --topic PREFIX --dir DIR
//                [--count N] [--spool N] [--in-flight 1000]
//                [--mode direct|marked|outbox|drain|all]

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "bench/deliver/bench_articles.h"
#include "connectors/sinks/kafka/kafka_sink.h"
#include "daemon/core/article.h"
#include "daemon/core/time_util.h"
#include "daemon/runtime/publisher.h"
#include "daemon/state/state_store.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace asio = boost::asio;

using newsflow::bench::MakeArticle;

struct Options {
  std::string brokers = "127.0.0.1:9092";
  std::string topic = "bench.outbox";
  std::string dir = "/tmp/nf-outbox-bench";
  std::string mode = "all";
  int count = 30000;
  int spool = 100000;
  size_t in_flight = 1000;
};

std::unique_ptr<newsflow::KafkaSink> MakeSink(asio::io_context& io,
                                              const Options& o,
                                              const std::string& topic) {
  newsflow::KafkaSinkOptions options;
  options.brokers = o.brokers;
  options.topic = topic;
  auto sink = newsflow::KafkaSink::Create(io, options);
  if (!sink) {
    std::fprintf(stderr, "%s\n", sink.error().ToString().c_str());
    std::exit(1);
  }
  // Warm-up: metadata, topic auto-creation, connection set-up.
  bool delivered = false;
  for (int attempt = 0; attempt < 10 && !delivered; ++attempt) {
    bool reported = false;
    (*sink)->Publish(
        MakeArticle(0, "warm"), {}, [&](newsflow::DeliveryReport r) {
          reported = true;
          delivered = r.outcome == newsflow::DeliveryOutcome::kDelivered;
        });
    while (!reported && io.run_one_for(std::chrono::seconds(60)) > 0) {
    }
  }
  if (!delivered) {
    std::fprintf(stderr, "warm-up message not delivered\n");
    std::exit(1);
  }
  return std::move(*sink);
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

void Print(const char* mode, int n, double secs, std::vector<double>& lat,
           const std::string& extra = "") {
  const double p50 = Percentile(lat, 0.5), p99 = Percentile(lat, 0.99);
  std::printf(
      "{\"mode\":\"%s\",\"articles\":%d,\"seconds\":%.3f,\"articles_per_s\":"
      "%.1f,\"p50_ms\":%.1f,\"p99_ms\":%.1f%s}\n",
      mode, n, secs, n / secs, p50, p99, extra.c_str());
  std::fflush(stdout);
}

// Publishes `n` articles with at most o.in_flight outstanding through
// `publish(article, done)`; returns seconds, fills latencies (ms).
double Pump(asio::io_context& io, int n, const Options& o,
            const std::string& salt,
            const std::function<void(const newsflow::Article&,
                                     std::function<void(bool)>)>& publish,
            std::vector<double>& latency) {
  std::vector<newsflow::Article> articles;
  articles.reserve(n);
  for (int i = 0; i < n; ++i) articles.push_back(MakeArticle(i, salt));
  int next = 0, finished = 0, failed = 0;
  size_t outstanding = 0;
  std::function<void()> pump = [&] {
    while (outstanding < o.in_flight && next < n) {
      const auto t0 = Clock::now();
      ++outstanding;
      publish(articles[next++], [&, t0](bool ok) {
        --outstanding;
        ++finished;
        if (ok) {
          latency.push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - t0)
                  .count());
        } else {
          ++failed;
        }
        pump();
      });
    }
  };
  const auto start = Clock::now();
  pump();
  while (finished < n && io.run_one_for(std::chrono::seconds(60)) > 0) {
  }
  const double secs =
      std::chrono::duration<double>(Clock::now() - start).count();
  if (failed > 0) std::fprintf(stderr, "%d deliveries failed\n", failed);
  return secs;
}

std::unique_ptr<newsflow::StateStore> OpenStore(const Options& o,
                                                const std::string& name,
                                                bool fresh) {
  std::filesystem::create_directories(o.dir);
  const std::string path = o.dir + "/" + name;
  if (fresh) {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path + suffix);
    }
  }
  auto store = newsflow::StateStore::Open(path);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().ToString().c_str());
    std::exit(1);
  }
  return std::move(*store);
}

// Without the outbox. `mark`: as the Publisher did before it — each ack
// marks the article seen in the state store (MarkPublished, one
// transaction per article); otherwise the bare sink.
void RunDirect(const Options& o, bool mark) {
  asio::io_context io(1);
  auto work = asio::make_work_guard(io);
  auto sink = MakeSink(io, o, o.topic + (mark ? ".marked" : ".direct"));
  auto store = OpenStore(o, "direct-run.db", true);
  std::vector<double> latency;
  const double secs = Pump(
      io, o.count, o, mark ? "m" : "d",
      [&](const newsflow::Article& a, std::function<void(bool)> done) {
        newsflow::ArticleRecord record;
        record.id = a.id;
        record.feed_id = a.feed.id;
        record.item_hash = "item";
        record.content_hash = a.content_hash;
        record.first_published = record.last_published = a.fetched_at;
        sink->Publish(a, {},
                      [&, done, mark, record](newsflow::DeliveryReport r) {
                        const bool ok =
                            r.outcome == newsflow::DeliveryOutcome::kDelivered;
                        if (ok && mark) (void)store->MarkPublished(record);
                        done(ok);
                      });
      },
      latency);
  (void)sink->Close(std::chrono::seconds(10));
  Print(mark ? "no_outbox_marked" : "sink_only", o.count, secs, latency);
}

void RunOutbox(const Options& o) {
  asio::io_context io(1);
  auto work = asio::make_work_guard(io);
  auto sink = MakeSink(io, o, o.topic + ".outbox");
  auto store = OpenStore(o, "outbox-run.db", true);
  newsflow::Publisher publisher(io.get_executor(), *sink, *store, o.in_flight);
  std::vector<double> latency;
  const double secs = Pump(
      io, o.count, o, "o",
      [&](const newsflow::Article& a, std::function<void(bool)> done) {
        publisher.Publish(
            a, {}, "item", [done](const newsflow::DeliveryReport& r) {
              done(r.outcome == newsflow::DeliveryOutcome::kDelivered);
            });
      },
      latency);
  io.poll();  // the last acks' commit
  (void)sink->Close(std::chrono::seconds(10));
  Print("outbox", o.count, secs, latency,
        ",\"left_in_outbox\":" + std::to_string(publisher.outbox_articles()));
}

void RunDrain(const Options& o) {
  const std::string name = "outbox-drain.db";
  double spool_secs = 0;
  int64_t spooled_bytes = 0;
  {
    // The outage: delivery stopped, everything goes to disk.
    asio::io_context io(1);
    struct NoSink final : newsflow::Sink {
      std::string_view Name() const override { return "sink.none"; }
      void Publish(const newsflow::Article&, const newsflow::SinkDestination&,
                   newsflow::DeliveryCallback) override {}
      newsflow::Result<void> Close(std::chrono::milliseconds) override {
        return {};
      }
    } none;
    auto store = OpenStore(o, name, true);
    newsflow::Publisher publisher(io.get_executor(), none, *store, o.in_flight);
    publisher.StopDelivering();
    const auto start = Clock::now();
    for (int i = 0; i < o.spool; ++i) {
      publisher.Publish(MakeArticle(i, "s"), {}, "item", nullptr);
      if (i % 1000 == 999) {
        io.restart();
        io.poll();
      }
    }
    io.restart();
    io.poll();
    publisher.FlushNow();
    spool_secs = std::chrono::duration<double>(Clock::now() - start).count();
    spooled_bytes = publisher.outbox_bytes();
  }
  asio::io_context io(1);
  auto work = asio::make_work_guard(io);
  auto sink = MakeSink(io, o, o.topic + ".drain");
  auto store = OpenStore(o, name, false);
  newsflow::Publisher publisher(io.get_executor(), *sink, *store, o.in_flight);
  const auto start = Clock::now();
  if (auto r = publisher.Resume(); !r) {
    std::fprintf(stderr, "%s\n", r.error().ToString().c_str());
    std::exit(1);
  }
  const size_t resumed = publisher.outbox_articles();
  while (publisher.outbox_articles() > 0 &&
         io.run_one_for(std::chrono::seconds(60)) > 0) {
  }
  const double secs =
      std::chrono::duration<double>(Clock::now() - start).count();
  (void)sink->Close(std::chrono::seconds(10));
  std::vector<double> none;
  char extra[200];
  std::snprintf(extra, sizeof extra,
                ",\"resumed\":%zu,\"spool_seconds\":%.3f,\"spooled_mb\":%.1f",
                resumed, spool_secs, spooled_bytes / 1e6);
  Print("drain", static_cast<int>(resumed), secs, none, extra);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--brokers") {
      o.brokers = value;
    } else if (flag == "--topic") {
      o.topic = value;
    } else if (flag == "--dir") {
      o.dir = value;
    } else if (flag == "--mode") {
      o.mode = value;
    } else if (flag == "--count") {
      o.count = std::stoi(value);
    } else if (flag == "--spool") {
      o.spool = std::stoi(value);
    } else if (flag == "--in-flight") {
      o.in_flight = std::stoul(value);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (o.mode == "direct" || o.mode == "all") RunDirect(o, false);
  if (o.mode == "marked" || o.mode == "all") RunDirect(o, true);
  if (o.mode == "outbox" || o.mode == "all") RunOutbox(o);
  if (o.mode == "drain" || o.mode == "all") RunDrain(o);
  return 0;
}
