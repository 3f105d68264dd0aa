// The reload table (config/reload_table.h) against the loader: every field
// the loader accepts has a row (class, default, description), no row names
// a field the loader does not accept, and every non-feed row of the
// loader's own can be compared on reload.

#include "config/reload_table.h"

#include <gtest/gtest.h>

#include <set>

#include "config/config.h"
#include "config/sink_registry.h"
#include "connectors/builtin.h"

namespace newsflow {
namespace {

TEST(ReloadTableTest, EveryFieldTheLoaderAcceptsHasAClass) {
  const auto table = ConfigFieldTable(BuiltinSinks());
  const auto paths = LoaderFieldPaths(BuiltinSinks());
  ASSERT_GT(paths.size(), 40u) << "the walk found too few fields";
  for (const std::string& path : paths) {
    const ConfigField* row = FindConfigField(table, path);
    ASSERT_NE(row, nullptr) << path
                            << " is read by the loader but has no reload "
                               "class: add it to config/reload_table.cc (or "
                               "its sink descriptor's fields)";
    EXPECT_FALSE(row->description.empty()) << path;
  }
}

TEST(ReloadTableTest, EveryRowIsAFieldTheLoaderAccepts) {
  const auto paths = LoaderFieldPaths(BuiltinSinks());
  const std::set<std::string> known(paths.begin(), paths.end());
  std::set<std::string> seen;
  for (const ConfigField& row : ConfigFieldTable(BuiltinSinks())) {
    EXPECT_TRUE(known.contains(row.path)) << "stale row " << row.path;
    EXPECT_TRUE(seen.insert(row.path).second) << "row twice: " << row.path;
  }
}

TEST(ReloadTableTest, NonFeedRowsCanBeCompared) {
  // Sink-owned rows compare through SinkSettings::ChangedPaths; the
  // loader's own rows outside feeds need `same`.
  std::set<std::string> sink_rows;
  for (const SinkDescriptor& d : BuiltinSinks().descriptors()) {
    for (const ConfigField& f : d.fields) sink_rows.insert(f.path);
  }
  for (const ConfigField& row : ConfigFieldTable(BuiltinSinks())) {
    if (row.reload == ReloadClass::kFeedRestart) continue;
    if (sink_rows.contains(row.path)) continue;
    EXPECT_TRUE(row.same != nullptr) << row.path << " cannot be compared";
  }
}

TEST(ReloadTableTest, ChangedFieldsNamesWhatDiffers) {
  auto a =
      LoadConfigString("http: {user_agent: a}\n", "a.yaml", BuiltinSinks());
  auto b = LoadConfigString(
      "http: {user_agent: b}\nstate: {path: /tmp/x.db}\n"
      "kafka: {brokers: \"b:1\"}\njsonl_path: out.jsonl\n"
      "feeds: [{name: n, url: \"http://n/\"}]\n",
      "b.yaml", BuiltinSinks());
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(ChangedFields(BuiltinSinks(), *a, *a).empty());
  EXPECT_EQ(ChangedFields(BuiltinSinks(), *a, *b),
            (std::vector<std::string>{"state.path", "http.user_agent",
                                      "kafka.brokers", "jsonl_path"}));
  const auto table = ConfigFieldTable(BuiltinSinks());
  EXPECT_EQ(FindConfigField(table, "http.user_agent")->reload,
            ReloadClass::kLive);
  EXPECT_EQ(FindConfigField(table, "state.path")->reload,
            ReloadClass::kRestart);
  EXPECT_EQ(FindConfigField(table, "kafka.brokers")->reload,
            ReloadClass::kRestart);
  EXPECT_EQ(FindConfigField(table, "defaults.interval")->reload,
            ReloadClass::kFeedRestart);
  EXPECT_EQ(ReloadClassName(ReloadClass::kFeedRestart), "per-feed-restart");
}

// pipeline.max_polls_in_progress is restart-only (the slots are sized at
// start): a reload that changes it names it, and the running daemon keeps
// the old bound (reported in STATUS= as pending a restart).
TEST(ReloadTableTest, MaxPollsInProgressIsRestartOnly) {
  auto a = LoadConfigString("pipeline: {max_polls_in_progress: 4}\n", "a.yaml",
                            BuiltinSinks());
  auto b = LoadConfigString("pipeline: {max_polls_in_progress: 8}\n", "b.yaml",
                            BuiltinSinks());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(ChangedFields(BuiltinSinks(), *a, *b),
            (std::vector<std::string>{"pipeline.max_polls_in_progress"}));
  const auto table = ConfigFieldTable(BuiltinSinks());
  const ConfigField* row =
      FindConfigField(table, "pipeline.max_polls_in_progress");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->reload, ReloadClass::kRestart);
  EXPECT_EQ(row->default_value, "256");
}

}  // namespace
}  // namespace newsflow
