// The JSON-lines sink's descriptor (unit): `jsonl_path` is the sink's key,
// required only when `sinks:` lists jsonl, reported at the sinks node.

#include "connectors/sinks/jsonl/jsonl_sink_descriptor.h"

#include <gtest/gtest.h>

#include "config/config.h"
#include "connectors/builtin.h"

namespace newsflow {
namespace {

TEST(JsonlSinkDescriptorTest, PathIsReadAndRequiredOnlyWhenEnabled) {
  auto cfg = LoadConfigString("sinks: [jsonl]\njsonl_path: out.jsonl\n",
                              "j.yaml", BuiltinSinks());
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  EXPECT_EQ(static_cast<const JsonlSinkSettings&>(cfg->SinkSettingsFor("jsonl"))
                .options.path,
            "out.jsonl");
  EXPECT_TRUE(LoadConfigString("{}", "j.yaml", BuiltinSinks()));
  auto missing = LoadConfigString("sinks: [jsonl]\n", "j.yaml", BuiltinSinks());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().ToString(),
            "j.yaml:1:8: sinks: \"jsonl\" needs jsonl_path (a file, or \"-\" "
            "for stdout)");
  auto a = LoadConfigString("jsonl_path: a\n", "j.yaml", BuiltinSinks());
  auto b = LoadConfigString("jsonl_path: b\n", "j.yaml", BuiltinSinks());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(
      a->SinkSettingsFor("jsonl").ChangedPaths(b->SinkSettingsFor("jsonl")),
      std::vector<std::string>{"jsonl_path"});
}

}  // namespace
}  // namespace newsflow
