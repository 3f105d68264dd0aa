#include "config/yaml_fields.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace newsflow::yaml_fields {
namespace {

using std::chrono::milliseconds;

TEST(ParseDurationTest, AcceptsDocumentedForms) {
  EXPECT_EQ(ParseDuration("90s"), milliseconds(90'000));
  EXPECT_EQ(ParseDuration("15m"), milliseconds(900'000));
  EXPECT_EQ(ParseDuration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(ParseDuration("1h30m"), milliseconds(5'400'000));
  EXPECT_EQ(ParseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(ParseDuration("1d"), milliseconds(86'400'000));
  EXPECT_EQ(ParseDuration("1m30s250ms"), milliseconds(90'250));
  EXPECT_EQ(ParseDuration("600"), milliseconds(600'000));  // bare = seconds
  EXPECT_EQ(ParseDuration(" 2m "), milliseconds(120'000));
  EXPECT_EQ(ParseDuration("0"), milliseconds(0));
}

TEST(ParseDurationTest, RejectsGarbageAndOverflow) {
  for (const char* bad : {"", "15x", "m", "1.5h", "-5s", "15 m", "1h30",
                          "99999999999999999999", "9999999999999999d"}) {
    EXPECT_FALSE(ParseDuration(bad).has_value()) << bad;
  }
}

TEST(ParseSizeTest, UnitsAndBytes) {
  EXPECT_EQ(ParseSize("16MiB"), 16u << 20);
  EXPECT_EQ(ParseSize("512KiB"), 512u << 10);
  EXPECT_EQ(ParseSize("1GiB"), 1u << 30);
  EXPECT_EQ(ParseSize("10MB"), 10'000'000u);
  EXPECT_EQ(ParseSize("4096"), 4096u);
  EXPECT_EQ(ParseSize("100 B"), 100u);
  EXPECT_EQ(ParseSize("2mib"), 2u << 20);
  EXPECT_FALSE(ParseSize("16XB").has_value());
  EXPECT_FALSE(ParseSize("MiB").has_value());
  EXPECT_FALSE(ParseSize("-1").has_value());
  EXPECT_FALSE(ParseSize("99999999999999999999GiB").has_value());
}

TEST(EditDistanceTest, Levenshtein) {
  EXPECT_EQ(EditDistance("interval", "interval"), 0u);
  EXPECT_EQ(EditDistance("intervall", "interval"), 1u);
  EXPECT_EQ(EditDistance("intreval", "interval"), 2u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(FormatDurationTest, Compact) {
  EXPECT_EQ(FormatDuration(milliseconds(5'400'000)), "1h30m");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1s500ms");
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
}

TEST(SubstituteEnvTest, VariablesDefaultsAndEscapes) {
  std::map<std::string, std::string> env = {{"A", "alpha"}, {"EMPTY", ""}};
  Source src("t", [&](const std::string& n) -> std::optional<std::string> {
    auto it = env.find(n);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
  EXPECT_EQ(*SubstituteEnv("x${A}y", src), "xalphay");
  EXPECT_EQ(*SubstituteEnv("${B:-beta}", src), "beta");
  EXPECT_EQ(*SubstituteEnv("${EMPTY:-dflt}", src), "dflt");
  EXPECT_EQ(*SubstituteEnv("[${EMPTY}]", src), "[]");
  EXPECT_EQ(*SubstituteEnv("$${A} $A", src), "${A} $A");
  EXPECT_EQ(*SubstituteEnv("${A}${A}", src), "alphaalpha");

  auto unset = SubstituteEnv("${NOPE}", src);
  ASSERT_FALSE(unset);
  EXPECT_EQ(unset.error().message(),
            "environment variable \"NOPE\" is not set (use ${NOPE:-default} "
            "for a default)");
  EXPECT_FALSE(SubstituteEnv("${A", src));
  EXPECT_FALSE(SubstituteEnv("${1A}", src));
  EXPECT_FALSE(SubstituteEnv("${}", src));
}

// systemd credentials (LoadCredential=): ${credential:NAME} reads
// $CREDENTIALS_DIRECTORY/NAME.
TEST(SubstituteEnvTest, SystemdCredentials) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("nf_creds_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "kafka-password") << "s3cr3t\n";
  std::ofstream(dir / "token.v2") << "abc";
  std::map<std::string, std::string> env = {
      {"CREDENTIALS_DIRECTORY", dir.string()}};
  Source src("t", [&](const std::string& n) -> std::optional<std::string> {
    auto it = env.find(n);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
  EXPECT_EQ(*SubstituteEnv("${credential:kafka-password}", src), "s3cr3t");
  EXPECT_EQ(*SubstituteEnv("Bearer ${credential:token.v2}", src), "Bearer abc");
  EXPECT_EQ(*SubstituteEnv("${credential:absent:-none}", src), "none");
  auto absent = SubstituteEnv("${credential:absent}", src);
  ASSERT_FALSE(absent);
  EXPECT_NE(absent.error().message().find("credential \"absent\": cannot read"),
            std::string::npos)
      << absent.error().message();
  EXPECT_FALSE(SubstituteEnv("${credential:../etc/passwd}", src));
  EXPECT_FALSE(SubstituteEnv("${credential:}", src));

  env.clear();  // not started with credentials
  auto no_dir = SubstituteEnv("${credential:kafka-password}", src);
  ASSERT_FALSE(no_dir);
  EXPECT_NE(no_dir.error().message().find("$CREDENTIALS_DIRECTORY is not set"),
            std::string::npos)
      << no_dir.error().message();
  std::filesystem::remove_all(dir);
}

TEST(SourceTest, WhereIsOneBased) {
  Source src("f.yaml");
  YAML::Mark m;
  m.line = 0;
  m.column = 0;
  EXPECT_EQ(src.Where(m), "f.yaml:1:1");
  EXPECT_EQ(src.Where(YAML::Mark::null_mark()), "f.yaml");
}

}  // namespace
}  // namespace newsflow::yaml_fields
