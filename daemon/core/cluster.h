#pragma once

// Cluster mode (issue 15): several daemons with the same `cluster.group`
// share the configured feeds, fail over and move per-feed state with the
// feed, with no coordinator of their own. The daemon knows the cluster only
// through this interface; the implementation lives with the sink that
// provides it (SinkDescriptor::create_cluster, config/sink_registry.h), so
// nothing under daemon/ names the broker.
//
// Model (docs/cluster.md):
//  - The feeds are mapped onto `partitions` numbered 0..partitions-1
//    (AssignFeedPartitions, daemon/runtime/feed_partition.h: every daemon
//    computes the same mapping from the same YAML). A daemon polls the feeds
//    of the partitions the group assigned to it.
//  - Per-feed state lives in a changelog: records (key, value) written to
//    the feed's partition. The latest record of a key wins; an empty value
//    deletes the key. On assignment the cluster reads the changelog of the
//    new partitions to its end and hands the surviving records to the
//    daemon before any feed of them is polled.
//  - exactly_once: records given to Record() and articles given to the sink
//    the cluster created are committed together in one transaction of this
//    instance; a record is visible to a restore only when committed.
//
// Threading: created, used and destroyed on the daemon's io_context thread.
// Every callback runs on that thread (the implementation posts them from
// its own threads).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "daemon/core/article.h"
#include "daemon/core/error.h"
#include "daemon/core/sink.h"

namespace newsflow {

// The `cluster:` section of the YAML (config/config.h holds it).
struct ClusterOptions {
  // Group id of the daemons sharing the feeds; also the prefix of the
  // internal topics/streams ("<group>.feeds", "<group>.state"). Required.
  std::string group;
  // Articles and state records committed in one transaction per commit.
  bool exactly_once = false;
  // Partitions of the internal feeds and state streams (created with this
  // count when missing; an existing stream keeps its own). 0 = the default:
  // kDefaultClusterPartitions.
  int partitions = 0;
  // This daemon's stable name within the group (the transactional identity
  // that fences its previous incarnation); "" = the host name.
  std::string instance;
  // A daemon silent this long leaves the group and its feeds move.
  std::chrono::milliseconds session_timeout{10000};
  // exactly_once: how often the open transaction is committed.
  std::chrono::milliseconds commit_interval{200};
};

// 60 divides evenly among 1, 2, 3, 4, 5, 6, 10, 12, 15, 20 and 30 daemons.
inline constexpr int kDefaultClusterPartitions = 60;

// One changelog record. `value` empty = delete `key`.
struct StateRecord {
  std::string key;
  std::string value;
};

// What the cluster reports about itself (STATUS=, /metrics).
struct ClusterStatus {
  std::string instance;
  std::string member_id;        // "" before the first join
  int32_t generation = -1;      // of the group, -1 before the first join
  std::vector<int> partitions;  // owned now, ascending
  uint64_t rebalances = 0;      // assignments + revocations seen
  uint64_t transactions_committed = 0;  // exactly_once
  uint64_t transactions_aborted = 0;    // exactly_once
  bool healthy = true;
  std::string problem;  // one line when !healthy
};

// One member of the group as the group coordinator describes it
// (`newsflowd cluster status`).
struct ClusterMember {
  std::string member_id;
  std::string instance;  // the member's client id = ClusterOptions::instance
  std::string host;
  std::vector<int> partitions;  // assigned, ascending
};

struct ClusterDescription {
  std::string group;
  std::string state;  // e.g. "Stable", "PreparingRebalance", "Empty"
  int partitions = 0;
  std::vector<ClusterMember> members;
};

class Cluster {
 public:
  struct Callbacks {
    // The group gave this instance `partitions`; `state` holds the latest
    // committed record of every live key in their changelog. Feeds of these
    // partitions may start polling once this returns.
    std::function<void(std::vector<int> partitions,
                       std::vector<StateRecord> state)>
        assigned;
    // `partitions` are being taken away (cooperative rebalance, shutdown).
    // Stop their feeds, hand their last state records to Record(), wait for
    // the articles of those feeds already in the sink, then call `done`
    // (exactly once, on the io thread). The cluster then commits and
    // releases the partitions. If `done` is not called within the session
    // timeout, the partitions are released anyway.
    std::function<void(std::vector<int> partitions, std::function<void()> done)>
        revoked;
    // Ownership of `partitions` was lost without a handover (session
    // expired, fenced): stop their feeds at once; nothing of theirs may be
    // committed any more.
    std::function<void(std::vector<int> partitions)> lost;
    // exactly_once: the changelog record that marks `article` delivered,
    // with its partition. The transactional sink calls it in Publish() (io
    // thread) and puts the record in the same transaction as the article,
    // so one is never committed without the other.
    std::function<std::pair<int, StateRecord>(const Article& article)>
        delivered_record;
  };

  Cluster() = default;
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;
  virtual ~Cluster() = default;

  // Creates the internal streams if missing and joins the group. Failures
  // after the start (broker gone) show up in Status(), not here.
  virtual Result<void> Start(Callbacks callbacks) = 0;

  // The partition count in use (the existing stream's, or the configured).
  // Valid after Start().
  virtual int partitions() const = 0;

  // Writes `record` to the changelog of `partition` (which this instance
  // should own). exactly_once: joins the open transaction, committed with
  // the articles handed to the sink before the next commit; otherwise sent
  // at once, at least once, in order per partition. Never blocks.
  virtual void Record(int partition, StateRecord record) = 0;

  // Writes the feeds of `partition` to the feeds stream (key = feed name,
  // value = its description), so the stream says which feed lives where.
  virtual void DeclareFeed(int partition, StateRecord feed) = 0;

  virtual ClusterStatus Status() const = 0;

  // Shutdown: revokes what is owned (callbacks.revoked, as above, waiting
  // up to `timeout` in total), commits, leaves the group. Called once, on
  // the io thread, while it still runs handlers (the drain).
  virtual void Leave(std::chrono::milliseconds timeout,
                     std::function<void()> done) = 0;
};

// A cluster and the sink bound to it (with exactly_once the sink's
// deliveries are reported when the transaction holding them commits).
struct ClusterParts {
  std::unique_ptr<Cluster> cluster;
  std::unique_ptr<Sink> sink;
};

}  // namespace newsflow
