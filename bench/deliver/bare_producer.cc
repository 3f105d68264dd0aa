// deliver_bare: the ceiling of our client library on this machine. A bare
// librdkafka producer loop with KafkaSink's exact producer properties
// (BuildProducerConf: idempotent, acks=all, zstd, linger.ms=50,
// murmur2_random), the same record values (deliver_bench --dump, cycled),
// the same key format, the same nine headers (CloudEvents) and the same cap of
// 1000 records in flight as the daemon's Publisher; delivery reports served
// by rd_kafka_poll on the producing thread. Everything KafkaSink adds on
// top (article serialization, header building from the Article, the poll
// thread posting reports to an io_context, the completion callbacks) is
// what the ratio KafkaSink/this measures.
//
//   deliver_bare --brokers B --topic T --payloads FILE [--count N]
//                [--in-flight 1000]
// Prints one JSON line like deliver_bench's.

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "connectors/sinks/kafka/kafka_sink_config.h"
#include "daemon/core/article.h"

namespace {

using Clock = std::chrono::steady_clock;

struct State {
  int acked = 0;
  int failed = 0;
  size_t in_flight = 0;
  std::vector<Clock::time_point> sent;  // by record index
  std::vector<double> latency_ms;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* st = static_cast<State*>(opaque);
  --st->in_flight;
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++st->acked;
    const auto index = reinterpret_cast<uintptr_t>(m->_private);
    st->latency_ms.push_back(std::chrono::duration<double, std::milli>(
                                 Clock::now() - st->sent[index])
                                 .count());
  } else {
    ++st->failed;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string brokers, topic, payload_file;
  int count = 20000;
  size_t max_in_flight = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--brokers")
      brokers = value;
    else if (flag == "--topic")
      topic = value;
    else if (flag == "--payloads")
      payload_file = value;
    else if (flag == "--count")
      count = std::stoi(value);
    else if (flag == "--in-flight")
      max_in_flight = std::stoul(value);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  std::vector<std::string> values;
  {
    std::ifstream in(payload_file);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) values.push_back(line);
  }
  if (values.empty() || count < 1) {
    std::fprintf(stderr, "no payloads in %s\n", payload_file.c_str());
    return 2;
  }
  size_t value_bytes = 0;
  for (int i = 0; i < count; ++i)
    value_bytes += values[i % values.size()].size();

  newsflow::KafkaSinkOptions options;
  options.brokers = brokers;
  options.topic = topic;
  auto conf = newsflow::BuildProducerConf(options);
  if (!conf) {
    std::fprintf(stderr, "%s\n", conf.error().ToString().c_str());
    return 1;
  }
  State st;
  st.sent.resize(count + 1);
  st.latency_ms.reserve(count);
  rd_kafka_conf_t* c = conf->release();
  rd_kafka_conf_set_dr_msg_cb(c, &OnDelivery);
  rd_kafka_conf_set_opaque(c, &st);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
  if (rk == nullptr) {
    std::fprintf(stderr, "rd_kafka_new: %s\n", err);
    return 1;
  }
  const std::string ct = "application/json; charset=utf-8";
  auto produce = [&](int i) {
    const std::string& v = values[i % values.size()];
    char key[40];
    std::snprintf(key, sizeof key, "%032x", static_cast<unsigned>(i * 40503u));
    rd_kafka_headers_t* h = rd_kafka_headers_new(10);
    const std::string id = std::string(key) + ":" + std::string(64, 'a');
    rd_kafka_header_add(h, "content-type", -1, ct.data(), ct.size());
    rd_kafka_header_add(h, "ce_specversion", -1, "1.0", 3);
    rd_kafka_header_add(h, "ce_id", -1, id.data(), id.size());
    rd_kafka_header_add(h, "ce_source", -1, "/feeds/bench-feed", 17);
    rd_kafka_header_add(h, "ce_type", -1, "org.newsflow.article.created", 28);
    rd_kafka_header_add(h, "ce_time", -1, "2026-11-28T21:00:00.000Z", 24);
    rd_kafka_header_add(h, "ce_subject", -1, key, 32);
    rd_kafka_header_add(h, "ce_dataschema", -1, newsflow::kSchemaUri, -1);
    rd_kafka_header_add(h, "schema-version", -1, "1", 1);
    st.sent[i] = Clock::now();
    for (;;) {
      rd_kafka_resp_err_t e = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key, 32),
          RD_KAFKA_V_VALUE(const_cast<char*>(v.data()), v.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
          RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(i))),
          RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_headers_destroy(h);
        ++st.failed;
        return;
      }
      rd_kafka_poll(rk, 10);
    }
    ++st.in_flight;
  };

  // Warm-up, as deliver_bench: metadata, topic creation, connections.
  produce(count);  // index `count`: its own slot in `sent`
  while (st.acked + st.failed < 1) rd_kafka_poll(rk, 100);
  st.acked = st.failed = 0;
  st.latency_ms.clear();

  const auto start = Clock::now();
  int next = 0;
  while (st.acked + st.failed < count) {
    while (st.in_flight < max_in_flight && next < count) produce(next++);
    rd_kafka_poll(rk, next < count ? 0 : 50);
    if (st.in_flight >= max_in_flight) rd_kafka_poll(rk, 1);
  }
  const double secs =
      std::chrono::duration<double>(Clock::now() - start).count();
  rd_kafka_flush(rk, 10000);
  rd_kafka_destroy(rk);

  std::sort(st.latency_ms.begin(), st.latency_ms.end());
  auto pct = [&](double p) {
    return st.latency_ms.empty()
               ? 0.0
               : st.latency_ms[std::min(
                     st.latency_ms.size() - 1,
                     static_cast<size_t>(p * st.latency_ms.size()))];
  };
  std::printf(
      "{\"articles\":%d,\"failed\":%d,\"seconds\":%.3f,\"articles_per_s\":%.1f,"
      "\"mb_per_s\":%.2f,\"avg_value_bytes\":%zu,\"p50_ms\":%.1f,\"p99_ms\":%."
      "1f}\n",
      st.acked, st.failed, secs, st.acked / secs, value_bytes / secs / 1e6,
      value_bytes / count, pct(0.50), pct(0.99));
  return st.failed == 0 && st.acked == count ? 0 : 1;
}
