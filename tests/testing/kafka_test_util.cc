#include "tests/testing/kafka_test_util.h"

#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <thread>

namespace newsflow::testing {

namespace {

using Clock = std::chrono::steady_clock;

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

// Runs `command`; returns its exit status and the last non-empty stdout line.
std::pair<int, std::string> RunLastLine(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  std::string last;
  char buf[512];
  while (fgets(buf, sizeof(buf), pipe) != nullptr) {
    std::string line(buf);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
      line.pop_back();
    }
    if (!line.empty()) last = line;
  }
  int status = pclose(pipe);
  return {status, last};
}

Result<KafkaPtr> NewClient(rd_kafka_type_t type, const std::string& bootstrap,
                           bool consumer_settings,
                           Isolation isolation = Isolation::kReadUncommitted,
                           bool eof = false) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const char* k, const std::string& v) {
    return rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof(err)) ==
           RD_KAFKA_CONF_OK;
  };
  bool ok = set("bootstrap.servers", bootstrap) &&
            set("client.id", "nf-test") && set("log_level", "3");
  if (consumer_settings) {
    ok = ok && set("enable.auto.commit", "false") &&
         set("enable.partition.eof", eof ? "true" : "false") &&
         set("isolation.level", isolation == Isolation::kReadCommitted
                                    ? "read_committed"
                                    : "read_uncommitted") &&
         set("group.id", "nf-test-unused");  // assign() only; never joins
  }
  if (!ok) {
    rd_kafka_conf_destroy(conf);
    return Error(Errc::kSink, err, "test kafka client");
  }
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof(err));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Error(Errc::kSink, err, "test kafka client");
  }
  return KafkaPtr(rk);
}

// Assigns partitions 0..partitions-1 of `topic` to `rk`, from the start.
void AssignFromBeginning(rd_kafka_t* rk, const std::string& topic,
                         int partitions) {
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
}

// Partition count of `topic` once every partition has a leader; 0 while the
// topic is unknown or not ready.
int ReadyPartitions(rd_kafka_t* rk, const std::string& topic) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  int count = 0;
  if (rd_kafka_metadata(rk, 0, rkt, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < md->topic_cnt; ++i) {
      const rd_kafka_metadata_topic_t& t = md->topics[i];
      if (topic != t.topic || t.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      count = t.partition_cnt;
      for (int p = 0; p < t.partition_cnt; ++p) {
        if (t.partitions[p].leader < 0) count = 0;
      }
    }
    rd_kafka_metadata_destroy(md);
  }
  rd_kafka_topic_destroy(rkt);
  return count;
}

// The message as a ConsumedMessage (topic, partition, offset, key, value,
// headers in order).
ConsumedMessage ToConsumed(const rd_kafka_message_t* m) {
  ConsumedMessage msg;
  msg.topic = rd_kafka_topic_name(m->rkt);
  msg.partition = m->partition;
  msg.offset = m->offset;
  if (m->key != nullptr) {
    msg.key.assign(static_cast<const char*>(m->key), m->key_len);
  }
  if (m->payload != nullptr) {
    msg.value.assign(static_cast<const char*>(m->payload), m->len);
  }
  rd_kafka_headers_t* hdrs = nullptr;
  // rd_kafka_message_headers takes a non-const message but only reads it.
  if (rd_kafka_message_headers(const_cast<rd_kafka_message_t*>(m), &hdrs) ==
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* val;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) ==
                       RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      msg.headers.emplace_back(
          name, val != nullptr
                    ? std::string(static_cast<const char*>(val), size)
                    : std::string());
    }
  }
  return msg;
}

}  // namespace

std::string ConsumedMessage::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

std::string TestBrokerDir() {
  const char* env = std::getenv("NEWSFLOW_KAFKA_DIR");
  if (env != nullptr && *env != '\0') return env;
  return NEWSFLOW_TEST_KAFKA_DIR;
}

namespace {

// `scripts/kafka-broker <verb>` for TestBrokerDir(), as a shell command.
std::string BrokerCommand(const std::string& verb) {
  return "NEWSFLOW_KAFKA_DIR='" + TestBrokerDir() + "' " +
         std::string(NEWSFLOW_SOURCE_DIR) + "/scripts/kafka-broker " + verb;
}

void StopBrokerWeStarted() {
  (void)std::system((BrokerCommand("stop") + " >/dev/null 2>&1").c_str());
}

}  // namespace

Result<std::string> TestBrokerBootstrap() {
  auto [status, addr] = RunLastLine(BrokerCommand("status") + " 2>/dev/null");
  if (status == 0 && !addr.empty()) return addr;
  std::tie(status, addr) = RunLastLine(BrokerCommand("start"));
  if (status != 0 || addr.empty()) {
    return Error(Errc::kSink,
                 "`scripts/kafka-broker start` failed (exit status " +
                     std::to_string(status) + "); see its stderr above",
                 TestBrokerDir());
  }
  // Outside ctest nobody else stops it: do not leave a broker behind.
  static bool registered = false;
  if (!registered) {
    registered = true;
    std::atexit(StopBrokerWeStarted);
  }
  return addr;
}

Result<int64_t> TopicMessageCount(const std::string& bootstrap,
                                  const std::string& topic) {
  auto rk = NewClient(RD_KAFKA_PRODUCER, bootstrap, false);
  if (!rk) return rk.error();
  const int partitions = ReadyPartitions(rk->get(), topic);
  if (partitions == 0) {
    return Error(Errc::kSink, "topic unknown or without leaders", topic);
  }
  int64_t total = 0;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        rk->get(), topic.c_str(), p, &low, &high, 10000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error(Errc::kSink, rd_kafka_err2str(err),
                   topic + "/" + std::to_string(p));
    }
    total += high - low;
  }
  return total;
}

Result<void> CreateTopic(const std::string& bootstrap, const std::string& topic,
                         int partitions) {
  auto rk = NewClient(RD_KAFKA_PRODUCER, bootstrap, false);
  if (!rk) return rk.error();
  char err[512];
  rd_kafka_NewTopic_t* nt =
      rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof(err));
  if (nt == nullptr) return Error(Errc::kSink, err, topic);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk->get());
  rd_kafka_CreateTopics(rk->get(), &nt, 1, nullptr, queue);
  rd_kafka_NewTopic_destroy(nt);

  std::string failure;
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, 30000);
  if (ev == nullptr) {
    failure = "CreateTopics timed out";
  } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    failure = rd_kafka_event_error_string(ev);
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(
            rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n; ++i) {
      if (rd_kafka_topic_result_error(results[i]) !=
          RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* msg = rd_kafka_topic_result_error_string(results[i]);
        failure = msg != nullptr ? msg : "CreateTopics failed";
      }
    }
  }
  if (ev != nullptr) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(queue);
  if (!failure.empty()) return Error(Errc::kSink, failure, topic);

  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (ReadyPartitions(rk->get(), topic) != partitions) {
    if (Clock::now() > deadline) {
      return Error(Errc::kSink, "partitions have no leader after 30 s", topic);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return {};
}

std::vector<ConsumedMessage> ConsumeAll(const std::string& bootstrap,
                                        const std::string& topic,
                                        size_t min_count,
                                        std::chrono::milliseconds timeout,
                                        std::chrono::milliseconds settle,
                                        Isolation isolation) {
  std::vector<ConsumedMessage> out;
  auto rk = NewClient(RD_KAFKA_CONSUMER, bootstrap, true, isolation);
  if (!rk) return out;
  const auto deadline = Clock::now() + timeout;

  int partitions = 0;
  while ((partitions = ReadyPartitions(rk->get(), topic)) == 0 &&
         Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (partitions == 0) return out;

  AssignFromBeginning(rk->get(), topic, partitions);

  auto last_arrival = Clock::now();
  while (Clock::now() < deadline) {
    if (out.size() >= min_count && Clock::now() - last_arrival >= settle) break;
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk->get(), 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ConsumedMessage msg = ToConsumed(m);
      out.push_back(std::move(msg));
      last_arrival = Clock::now();
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_assign(rk->get(), nullptr);
  rd_kafka_consumer_close(rk->get());
  return out;
}

Result<std::vector<ConsumedMessage>> ConsumeToEnd(
    const std::string& bootstrap, const std::string& topic, Isolation isolation,
    std::chrono::milliseconds timeout) {
  auto rk = NewClient(RD_KAFKA_CONSUMER, bootstrap, true, isolation,
                      /*eof=*/true);
  if (!rk) return rk.error();
  const int partitions = ReadyPartitions(rk->get(), topic);
  if (partitions == 0) {
    return Error(Errc::kSink, "topic unknown or without leaders", topic);
  }
  // The end to reach: the high watermarks now.
  std::vector<int64_t> end(partitions, 0);
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0;
    const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        rk->get(), topic.c_str(), p, &low, &end[p], 10000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error(Errc::kSink, rd_kafka_err2str(err),
                   topic + "/" + std::to_string(p));
    }
  }
  AssignFromBeginning(rk->get(), topic, partitions);

  // Where each partition's consumer stands: the offset after the last
  // message or the offset of the last end-of-partition event. Control
  // records (transaction markers) and aborted messages are skipped by the
  // consumer, so a position reaches the end only through the EOF event.
  std::vector<int64_t> reached(partitions, 0);
  auto done = [&] {
    for (int p = 0; p < partitions; ++p) {
      if (reached[p] < end[p]) return false;
    }
    return true;
  };
  std::vector<ConsumedMessage> out;
  const auto deadline = Clock::now() + timeout;
  while (!done() && Clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk->get(), 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      out.push_back(ToConsumed(m));
      if (m->partition >= 0 && m->partition < partitions) {
        reached[m->partition] = std::max(reached[m->partition], m->offset + 1);
      }
    } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF &&
               m->partition >= 0 && m->partition < partitions) {
      reached[m->partition] = std::max(reached[m->partition], m->offset);
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_assign(rk->get(), nullptr);
  rd_kafka_consumer_close(rk->get());
  if (!done()) {
    std::string lag;
    for (int p = 0; p < partitions; ++p) {
      if (reached[p] < end[p]) {
        lag += " " + std::to_string(p) + ":" + std::to_string(reached[p]) +
               "/" + std::to_string(end[p]);
      }
    }
    return Error(Errc::kSink,
                 "end not reached in time (partition:reached/end" + lag + ")",
                 topic);
  }
  return out;
}

std::string UniqueTopicName(std::string_view prefix) {
  static int counter = 0;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  std::string name(prefix.substr(0, 180));
  for (char& c : name) {
    const bool legal = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!legal) c = '-';  // '_' too: avoids the '.'/'_' metric-name clash
  }
  name += "-" + std::to_string(ns) + "-" + std::to_string(getpid()) + "-" +
          std::to_string(++counter);
  return name;  // <= 180 + 1 + 19 + 1 + 10 + 1 + 10 < 249 chars
}

// --- PrivateBroker -----------------------------------------------------------

PrivateBroker::PrivateBroker(const std::string& tag)
    : dir_("/tmp/nf-" + tag + "-broker-" + std::to_string(::getpid())) {
  address_ = RunLastLine("NEWSFLOW_KAFKA_DIR=" + dir_ +
                         " " NEWSFLOW_SOURCE_DIR
                         "/scripts/kafka-broker start 2>/dev/null")
                 .second;
  if (address_.find("127.0.0.1:") == std::string::npos) address_.clear();
}

PrivateBroker::~PrivateBroker() {
  Resume();
  (void)RunLastLine("NEWSFLOW_KAFKA_DIR=" + dir_ +
                    " " NEWSFLOW_SOURCE_DIR
                    "/scripts/kafka-broker stop 2>/dev/null");
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

pid_t PrivateBroker::pid() const {
  std::ifstream in(dir_ + "/pid");
  long p = -1;
  if (!(in >> p) || p <= 1) return -1;
  std::ifstream cmdline("/proc/" + std::to_string(p) + "/cmdline");
  std::string args((std::istreambuf_iterator<char>(cmdline)),
                   std::istreambuf_iterator<char>());
  std::replace(args.begin(), args.end(), '\0', ' ');
  if (args.find("kafka.Kafka " + dir_ + "/server.properties") ==
      std::string::npos) {
    return -1;
  }
  return static_cast<pid_t>(p);
}

bool PrivateBroker::Pause() {
  const pid_t p = pid();
  return p > 1 && ::kill(p, SIGSTOP) == 0;
}

void PrivateBroker::Resume() {
  if (const pid_t p = pid(); p > 1) ::kill(p, SIGCONT);
}

}  // namespace newsflow::testing
