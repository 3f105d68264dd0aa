#pragma once

// Helpers for tests against the real local Kafka broker started by
// scripts/kafka-broker (ctest fixture `kafka_broker`, tests/testing/
// kafka.cmake). They use librdkafka's C API directly, independent of the
// code under test. Blocking; call from the test thread.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/core/error.h"

namespace newsflow::testing {

// The state directory of this build tree's test broker: $NEWSFLOW_KAFKA_DIR
// (ctest sets it for the fixture and every Kafka test, tests/testing/
// kafka.cmake), else <build dir>/kafka-broker. Never the script's per-user
// default, so two build trees (or another user's newsflow) cannot stop each
// other's broker.
std::string TestBrokerDir();

// Bootstrap address ("127.0.0.1:PORT") of the test broker: runs
// `scripts/kafka-broker status`, and `start` when it is not running (a test
// binary run outside ctest). A broker this process started is stopped when
// the process exits (atexit). The error message is meant for
// ADD_FAILURE()/FAIL().
Result<std::string> TestBrokerBootstrap();

// Creates `topic` with `partitions` partitions (RF 1) and waits until every
// partition has a leader. An already existing topic is an error.
Result<void> CreateTopic(const std::string& bootstrap, const std::string& topic,
                         int partitions = 3);

struct ConsumedMessage {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;  // in order

  // The value of the first header called `name`, or "" when absent.
  std::string Header(std::string_view name) const;
};

// The consumer's `isolation.level`: read_uncommitted sees every message
// (aborted transactions included); read_committed only committed ones, and
// an open transaction holds back what follows it until it ends.
enum class Isolation { kReadUncommitted, kReadCommitted };

// Reads every partition of `topic` from the beginning (assign, no consumer
// group) until at least `min_count` messages arrived and then none arrived
// for `settle`, or until `timeout` passed. Returns what was read, in
// per-partition order.
std::vector<ConsumedMessage> ConsumeAll(
    const std::string& bootstrap, const std::string& topic, size_t min_count,
    std::chrono::milliseconds timeout,
    std::chrono::milliseconds settle = std::chrono::milliseconds(1000),
    Isolation isolation = Isolation::kReadUncommitted);

// Reads every partition of `topic` from the beginning until the consumer
// reached, on every partition, the high watermark that partition had when
// this was called (read_committed: a transaction still open there holds
// the end back until it commits or aborts). Deterministic once the
// producers have exited: no "nothing more arrived" guess. An error when
// `timeout` passes first (the message says which partitions lag).
Result<std::vector<ConsumedMessage>> ConsumeToEnd(
    const std::string& bootstrap, const std::string& topic, Isolation isolation,
    std::chrono::milliseconds timeout);

// Number of messages in `topic` now: the sum over its partitions of the
// high minus the low watermark (rd_kafka_query_watermark_offsets). Exact
// once every producer has exited or flushed, and it does not depend on a
// consumer keeping up: "nothing more arrived" is this count not growing.
Result<int64_t> TopicMessageCount(const std::string& bootstrap,
                                  const std::string& topic);

// `prefix` + "-" + time and pid suffix; legal Kafka topic characters only.
std::string UniqueTopicName(std::string_view prefix);

// A private broker (its own state dir, scripts/kafka-broker) for a test
// that SIGSTOPs it: other tests on the build tree's broker are not
// disturbed. Stopped and removed by the destructor.
class PrivateBroker {
 public:
  explicit PrivateBroker(const std::string& tag);
  ~PrivateBroker();
  PrivateBroker(const PrivateBroker&) = delete;
  PrivateBroker& operator=(const PrivateBroker&) = delete;

  // "127.0.0.1:PORT", or "" when it did not start.
  const std::string& address() const { return address_; }
  // The broker's pid, or -1 unless the pid file names a live process that
  // is this broker (never 0 or -1: kill(2) reads them as process groups).
  pid_t pid() const;
  // SIGSTOP; false when nothing was signalled.
  [[nodiscard]] bool Pause();
  void Resume();

 private:
  std::string dir_;
  std::string address_;
};

}  // namespace newsflow::testing
