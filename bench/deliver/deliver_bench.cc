// deliver_bench: pushes N realistic articles (2-8 KB of JSON each) through
// the real KafkaSink code path into a broker, keeping at most --in-flight
// outstanding like the daemon's Publisher, and prints one JSON line:
// articles/s, MB/s, publish->ack latency p50/p99.
//
// The call is the Publisher's: KafkaSink::PublishSerialized with the
// article and its ArticleToJson value, which the daemon made once for the
// outbox row (so it is made here before the clock starts, as the bare loop
// reads its values from the dump); the sink checks the size limit, builds
// the CloudEvents headers and produces (idempotent acks=all zstd).
// --serialize 1 times the sink's own Publish() instead, which serializes
// the article itself (the path before issue 16; no daemon caller uses it).
//
//   deliver_bench --brokers 127.0.0.1:PORT --topic T [--count N]
//                 [--in-flight 1000] [--serialize 0|1] [-X key=value ...]
//   deliver_bench --dump PATH [--count N]   writes the N record values, one
//                 per line (ProducerPerformance --payload-file), and exits

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench/deliver/bench_articles.h"
#include "connectors/sinks/kafka/kafka_sink.h"
#include "daemon/core/article.h"
#include "daemon/core/time_util.h"

namespace {

using Clock = std::chrono::steady_clock;

using newsflow::bench::MakeArticle;

}  // namespace

int main(int argc, char** argv) {
  std::string brokers = "127.0.0.1:9092", topic = "bench.deliver";
  int count = 20000;
  size_t max_in_flight = 1000;  // the daemon's pipeline.max_in_flight default
  std::string dump;
  bool serialize = false;
  newsflow::KafkaSinkOptions options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--brokers")
      brokers = value;
    else if (flag == "--topic")
      topic = value;
    else if (flag == "--count")
      count = std::stoi(value);
    else if (flag == "--dump")
      dump = value;
    else if (flag == "--in-flight")
      max_in_flight = std::stoul(value);
    else if (flag == "--serialize")
      serialize = value == "1";
    else if (flag == "-X" && value.find('=') != std::string::npos) {
      options.librdkafka[value.substr(0, value.find('='))] =
          value.substr(value.find('=') + 1);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  options.brokers = brokers;
  options.topic = topic;

  std::vector<newsflow::Article> articles;
  // The outbox rows' values (what the Publisher hands the sink).
  std::vector<newsflow::SerializedArticle> values;
  articles.reserve(count);
  values.reserve(count);
  size_t value_bytes = 0;
  for (int i = 0; i < count; ++i) {
    articles.push_back(MakeArticle(i));
    values.push_back(std::make_shared<const std::string>(
        newsflow::ArticleToJson(articles.back())));
    value_bytes += values.back()->size();
  }

  if (!dump.empty()) {
    FILE* f = std::fopen(dump.c_str(), "w");
    if (f == nullptr) return 1;
    for (const auto& v : values) std::fprintf(f, "%s\n", v->c_str());
    return std::fclose(f) == 0 ? 0 : 1;
  }

  boost::asio::io_context io(1);
  // Reports are posted from the sink's poll thread: keep run_one_for waiting.
  auto work = boost::asio::make_work_guard(io);
  auto sink = newsflow::KafkaSink::Create(io, options);
  if (!sink) {
    std::fprintf(stderr, "%s\n", sink.error().ToString().c_str());
    return 1;
  }

  // Warm-up: metadata, topic auto-creation, connection set-up.
  bool warm = false;
  for (int attempt = 0; attempt < 10 && !warm; ++attempt) {
    bool reported = false;
    (*sink)->PublishSerialized(
        articles[0], values[0], newsflow::SinkDestination{},
        [&](newsflow::DeliveryReport r) {
          reported = true;
          warm = r.outcome == newsflow::DeliveryOutcome::kDelivered;
          if (!warm) std::fprintf(stderr, "warm-up: %s\n", r.error.c_str());
        });
    while (!reported && io.run_one_for(std::chrono::seconds(60)) > 0) {
    }
  }
  if (!warm) {
    std::fprintf(stderr, "warm-up message not delivered\n");
    return 1;
  }

  std::vector<double> latency_ms;
  latency_ms.reserve(count);
  int next = 0, acked = 0, failed = 0;
  size_t in_flight = 0;
  std::function<void()> pump = [&] {
    while (in_flight < max_in_flight && next < count) {
      const auto t0 = Clock::now();
      ++in_flight;
      const int i = next++;
      auto report = [&, t0](newsflow::DeliveryReport r) {
        --in_flight;
        if (r.outcome == newsflow::DeliveryOutcome::kDelivered) {
          ++acked;
          latency_ms.push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - t0)
                  .count());
        } else {
          ++failed;
        }
        pump();
      };
      if (serialize) {
        (*sink)->Publish(articles[i], newsflow::SinkDestination{},
                         std::move(report));
      } else {
        (*sink)->PublishSerialized(articles[i], values[i],
                                   newsflow::SinkDestination{},
                                   std::move(report));
      }
    }
  };
  const auto start = Clock::now();
  pump();
  while (acked + failed < count &&
         io.run_one_for(std::chrono::seconds(60)) > 0) {
  }
  const double secs =
      std::chrono::duration<double>(Clock::now() - start).count();
  (void)(*sink)->Close(std::chrono::seconds(10));
  work.reset();
  io.poll();

  std::sort(latency_ms.begin(), latency_ms.end());
  auto pct = [&](double p) {
    return latency_ms.empty()
               ? 0.0
               : latency_ms[std::min(
                     latency_ms.size() - 1,
                     static_cast<size_t>(p * latency_ms.size()))];
  };
  std::printf(
      "{\"articles\":%d,\"failed\":%d,\"seconds\":%.3f,\"articles_per_s\":%.1f,"
      "\"mb_per_s\":%.2f,\"avg_value_bytes\":%zu,\"p50_ms\":%.1f,\"p99_ms\":%."
      "1f}\n",
      acked, failed, secs, acked / secs,
      value_bytes / secs / 1e6 * acked / count, value_bytes / count, pct(0.50),
      pct(0.99));
  return failed == 0 && acked == count ? 0 : 1;
}
