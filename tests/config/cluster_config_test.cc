// `cluster:` (issue 15, decision 1): the fields, their defaults and ranges,
// FILE:LINE:COL errors, the rule "exactly one listed sink that can carry a
// cluster", and the reload table rows (restart-only).

#include <gtest/gtest.h>

#include <memory>

#include "config/config.h"
#include "config/reload_table.h"
#include "config/sink_registry.h"
#include "connectors/builtin.h"
#include "connectors/sinks/jsonl/jsonl_sink_descriptor.h"
#include "connectors/sinks/kafka/kafka_sink_descriptor.h"
#include "tests/testing/fake_cluster.h"

namespace newsflow {
namespace {

using namespace std::chrono_literals;

// jsonl that can carry a (fake) cluster, plus a plain jsonl-like second
// type that cannot.
const SinkRegistry& Registry() {
  static const SinkRegistry* registry = [] {
    auto* r = new SinkRegistry;
    r->Add(testing::WithFakeCluster(
        JsonlSinkDescriptor(), std::make_shared<testing::FakeClusterHub>()));
    return r;
  }();
  return *registry;
}

Result<DaemonConfig> Load(std::string_view yaml) {
  return LoadConfigString(yaml, "c.yaml", Registry());
}

std::string ErrorOf(std::string_view yaml, const SinkRegistry& sinks) {
  auto cfg = LoadConfigString(yaml, "c.yaml", sinks);
  if (cfg) return "OK";
  EXPECT_EQ(cfg.error().code(), Errc::kConfig);
  return cfg.error().ToString();
}

TEST(ClusterConfigTest, AbsentMeansSingleNode) {
  auto cfg = Load("jsonl_path: out.jsonl\n");
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  EXPECT_FALSE(cfg->cluster.has_value());
}

TEST(ClusterConfigTest, GroupAloneGivesTheDefaults) {
  auto cfg = Load("jsonl_path: out.jsonl\ncluster:\n  group: news-prod.1\n");
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  ASSERT_TRUE(cfg->cluster.has_value());
  EXPECT_EQ(cfg->cluster->group, "news-prod.1");
  EXPECT_FALSE(cfg->cluster->exactly_once);
  EXPECT_EQ(cfg->cluster->partitions, 0);
  EXPECT_EQ(cfg->cluster->instance, "");
  EXPECT_EQ(cfg->cluster->session_timeout, 10s);
  EXPECT_EQ(cfg->cluster->commit_interval, 200ms);
}

TEST(ClusterConfigTest, EveryFieldIsRead) {
  auto cfg = Load(
      "jsonl_path: out.jsonl\n"
      "cluster:\n"
      "  group: g\n"
      "  exactly_once: true\n"
      "  partitions: 12\n"
      "  instance: nf-a\n"
      "  session_timeout: 45s\n"
      "  commit_interval: 1s\n");
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  EXPECT_TRUE(cfg->cluster->exactly_once);
  EXPECT_EQ(cfg->cluster->partitions, 12);
  EXPECT_EQ(cfg->cluster->instance, "nf-a");
  EXPECT_EQ(cfg->cluster->session_timeout, 45s);
  EXPECT_EQ(cfg->cluster->commit_interval, 1000ms);
}

TEST(ClusterConfigTest, ErrorsPointAtTheValue) {
  const SinkRegistry& r = Registry();
  EXPECT_EQ(ErrorOf("jsonl_path: o\ncluster:\n  exactly_once: true\n", r),
            "c.yaml:3:3: cluster: missing required key \"group\"");
  EXPECT_EQ(ErrorOf("jsonl_path: o\ncluster:\n  group: \"a b\"\n", r),
            "c.yaml:3:10: cluster.group: invalid name \"a b\" (use 1-200 of "
            "A-Z a-z 0-9 . _ -)");
  EXPECT_EQ(ErrorOf("jsonl_path: o\ncluster:\n  group: " +
                        std::string(201, 'g') + "\n",
                    r)
                .substr(0, 35),
            "c.yaml:3:10: cluster.group: invalid");
  EXPECT_EQ(ErrorOf("jsonl_path: o\ncluster: {group: g, partitions: 0}\n", r),
            "c.yaml:2:33: cluster.partitions: 0 is out of range 1..100000");
  EXPECT_EQ(
      ErrorOf("jsonl_path: o\ncluster: {group: g, session_timeout: 2s}\n", r),
      "c.yaml:2:38: cluster.session_timeout: 2s is out of range 3s..5m");
  EXPECT_EQ(
      ErrorOf("jsonl_path: o\ncluster: {group: g, exactly_once: yes}\n", r),
      "c.yaml:2:35: cluster.exactly_once: invalid value \"yes\" "
      "(expected false or true)");
  EXPECT_EQ(
      ErrorOf("jsonl_path: o\ncluster: {group: g, instance: \"x/y\"}\n", r)
          .substr(0, 45),
      "c.yaml:2:31: cluster.instance: invalid name \"");
  EXPECT_EQ(ErrorOf("jsonl_path: o\ncluster: {group: g, partition: 3}\n", r)
                .substr(0, 46),
            "c.yaml:2:21: unknown key \"partition\" in cluste");
  EXPECT_EQ(ErrorOf("jsonl_path: o\ncluster: 5\n", r).substr(0, 12),
            "c.yaml:2:10:");
}

TEST(ClusterConfigTest, NeedsOneSinkThatCanCarryACluster) {
  // The built-in registry's sinks as they are on this branch; jsonl has
  // no cluster.
  EXPECT_EQ(ErrorOf("sinks: [jsonl]\njsonl_path: o\n"
                    "cluster:\n  group: g\n",
                    BuiltinSinks()),
            "c.yaml:4:3: cluster: sink \"jsonl\" cannot carry a cluster (use "
            "a sink that can, see docs/cluster.md)");
  // Two sinks (fan-out) and a cluster: refused even when one can.
  SinkRegistry two;
  two.Add(testing::WithFakeCluster(
      JsonlSinkDescriptor(), std::make_shared<testing::FakeClusterHub>()));
  two.Add(KafkaSinkDescriptor());
  EXPECT_EQ(ErrorOf("sinks: [jsonl, kafka]\njsonl_path: o\n"
                    "kafka: {brokers: \"b:1\"}\ncluster: {group: g}\n",
                    two),
            "c.yaml:4:10: cluster: needs exactly one sink in `sinks:` (2 "
            "listed; fan-out is not defined in cluster mode)");
  EXPECT_EQ(
      ErrorOf("sinks: [jsonl]\njsonl_path: o\ncluster: {group: g}\n", two),
      "OK");
}

TEST(ClusterConfigTest, EveryFieldIsRestartOnlyAndCompared) {
  const auto table = ConfigFieldTable(Registry());
  for (const char* path :
       {"cluster.group", "cluster.exactly_once", "cluster.partitions",
        "cluster.instance", "cluster.session_timeout",
        "cluster.commit_interval"}) {
    const ConfigField* row = FindConfigField(table, path);
    ASSERT_NE(row, nullptr) << path;
    EXPECT_EQ(row->reload, ReloadClass::kRestart) << path;
  }
  auto none = Load("jsonl_path: o\n");
  auto a = Load("jsonl_path: o\ncluster: {group: a}\n");
  auto b = Load("jsonl_path: o\ncluster: {group: a, partitions: 6}\n");
  ASSERT_TRUE(none && a && b);
  EXPECT_TRUE(ChangedFields(Registry(), *a, *a).empty());
  EXPECT_EQ(ChangedFields(Registry(), *a, *b),
            (std::vector<std::string>{"cluster.partitions"}));
  // Turning cluster mode on changes every cluster field.
  EXPECT_EQ(ChangedFields(Registry(), *none, *a).size(), 6u);
}

}  // namespace
}  // namespace newsflow
