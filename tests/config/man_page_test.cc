// newsflow.yaml(5) documents every key of the annotated example config
// (which ConfigTest loads with the real loader, so it holds only keys the
// loader accepts).

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "config/reload_table.h"
#include "connectors/builtin.h"

namespace newsflow {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The words set in bold by .B / .BR lines of the page.
std::set<std::string> BoldWords(const std::string& page) {
  std::set<std::string> words;
  std::istringstream lines(page);
  const std::regex word(R"([A-Za-z_][A-Za-z0-9_.]*)");
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(".B ", 0) == 0) {
      words.insert(line.substr(3));
    } else if (line.rfind(".BR ", 0) == 0) {
      // .BR a ", " b  -> a and b are bold (every other argument).
      std::istringstream args(line.substr(4));
      bool bold = true;
      for (std::string arg; args >> std::quoted(arg); bold = !bold) {
        if (!bold) continue;
        for (std::sregex_iterator it(arg.begin(), arg.end(), word), end;
             it != end; ++it) {
          words.insert(it->str());
        }
      }
    }
  }
  return words;
}

TEST(ManPageTest, EveryExampleKeyIsDocumented) {
  const std::string src = NEWSFLOW_SOURCE_DIR;
  const auto words = BoldWords(ReadFile(src + "/docs/newsflow.yaml.5"));
  ASSERT_FALSE(words.empty());
  const YAML::Node root = YAML::LoadFile(src + "/config/newsflow.example.yaml");
  // The keys of the feeds' and defaults' entries are documented by name
  // under FEEDS; sections' keys by their dotted path. Maps below those
  // (librdkafka properties, headers) hold the operator's own keys.
  std::set<std::string> missing;
  for (const auto& top : root) {
    const std::string section = top.first.as<std::string>();
    const YAML::Node& value = top.second;
    if (section == "feeds" || section == "defaults" || !value.IsMap()) {
      if (!words.contains(section)) missing.insert(section);
    }
    if (section == "feeds") {
      for (const auto& feed : value) {
        for (const auto& key : feed) {
          const std::string k = key.first.as<std::string>();
          if (!words.contains(k)) missing.insert("feeds[]." + k);
        }
      }
    } else if (section == "defaults") {
      for (const auto& key : value) {
        const std::string k = key.first.as<std::string>();
        if (!words.contains(k)) missing.insert("defaults." + k);
      }
    } else if (value.IsMap()) {
      for (const auto& key : value) {
        const std::string path = section + "." + key.first.as<std::string>();
        if (!words.contains(path)) missing.insert(path);
      }
    }
  }
  std::string list;
  for (const auto& m : missing) list += " " + m;
  EXPECT_TRUE(missing.empty()) << "not in docs/newsflow.yaml.5:" << list;
}

// The reference is checked against the same table the loader and reload
// use (config/reload_table.h): every field the loader accepts, including
// each sink's, is named in the page.
TEST(ManPageTest, EveryFieldOfTheLoadersTableIsDocumented) {
  const std::string src = NEWSFLOW_SOURCE_DIR;
  const auto words = BoldWords(ReadFile(src + "/docs/newsflow.yaml.5"));
  ASSERT_FALSE(words.empty());
  std::string missing;
  for (const ConfigField& field : ConfigFieldTable(BuiltinSinks())) {
    std::string name = field.path;
    // Per-feed keys are documented by their own name under FEEDS.
    for (const char* prefix : {"feeds[].", "defaults."}) {
      if (name.rfind(prefix, 0) == 0) name = name.substr(std::strlen(prefix));
    }
    if (!words.contains(name)) missing += " " + field.path;
  }
  EXPECT_EQ(missing, "") << "not in docs/newsflow.yaml.5";
}

}  // namespace
}  // namespace newsflow
