// `newsflowd COMMAND --help` for every command: exit 0, the command's own
// synopsis on stdout (run --help used to exit 2).

#include "daemon/cli/commands.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace newsflow {
namespace {

struct Captured {
  int rc = -1;
  std::string out;
};

// Runs the command line with stdout redirected to a file.
Captured RunCli(const std::vector<std::string>& args) {
  std::fflush(stdout);
  char path[] = "/tmp/nf_cli_test_XXXXXX";
  const int fd = ::mkstemp(path);
  const int saved = ::dup(1);
  ::dup2(fd, 1);
  Captured c;
  c.rc = RunCommandLine(args);
  std::fflush(stdout);
  ::dup2(saved, 1);
  ::close(saved);
  ::close(fd);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  ::unlink(path);
  c.out = ss.str();
  return c;
}

TEST(CommandsTest, EveryCommandHasHelp) {
  for (const std::string command :
       {"run", "check-config", "fetch", "parse", "extract", "cluster"}) {
    for (const std::string flag : {"--help", "-h"}) {
      const Captured c = RunCli({command, flag});
      EXPECT_EQ(c.rc, kExitOk) << command << " " << flag;
      EXPECT_EQ(c.out.rfind("usage: newsflowd " + command, 0), 0u)
          << command << " " << flag << ": " << c.out;
    }
  }
}

TEST(CommandsTest, HelpWinsOverOtherArguments) {
  const Captured c = RunCli({"run", "--config", "/nonexistent.yaml", "--help"});
  EXPECT_EQ(c.rc, kExitOk);
  EXPECT_NE(c.out.find("--once"), std::string::npos) << c.out;
}

TEST(CommandsTest, TopLevelHelpPointsAtCommandHelp) {
  const Captured c = RunCli({"--help"});
  EXPECT_EQ(c.rc, kExitOk);
  EXPECT_NE(c.out.find("COMMAND --help"), std::string::npos) << c.out;
}

}  // namespace
}  // namespace newsflow
