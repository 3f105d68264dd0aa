// `newsflowd cluster status` (daemon/cli/cluster_command.cc) with a fake
// descriptor: per feed its partition and owner ("-" unowned) from the
// group description and the shared mapping; an unreachable group is one
// line on stderr and exit 1.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config.h"
#include "config/sink_registry.h"
#include "connectors/sinks/jsonl/jsonl_sink_descriptor.h"
#include "daemon/cli/commands.h"
#include "daemon/runtime/feed_partition.h"
#include "tests/testing/fake_cluster.h"

namespace newsflow {
namespace {

struct Captured {
  int rc = -1;
  std::string out, err;
};

std::string Slurp(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `cluster status` with stdout and stderr redirected to files.
Captured RunStatus(const std::string& config, const SinkRegistry& sinks) {
  std::fflush(stdout);
  std::fflush(stderr);
  char out_path[] = "/tmp/nf_cluster_cli_out_XXXXXX";
  char err_path[] = "/tmp/nf_cluster_cli_err_XXXXXX";
  const int out_fd = ::mkstemp(out_path);
  const int err_fd = ::mkstemp(err_path);
  const int saved_out = ::dup(1), saved_err = ::dup(2);
  ::dup2(out_fd, 1);
  ::dup2(err_fd, 2);
  Captured c;
  c.rc = RunClusterStatusCommand(config, sinks);
  std::fflush(stdout);
  std::fflush(stderr);
  ::dup2(saved_out, 1);
  ::dup2(saved_err, 2);
  ::close(saved_out);
  ::close(saved_err);
  ::close(out_fd);
  ::close(err_fd);
  c.out = Slurp(out_path);
  c.err = Slurp(err_path);
  ::unlink(out_path);
  ::unlink(err_path);
  return c;
}

class ClusterCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_ = std::make_shared<testing::FakeClusterHub>();
    registry_.Add(testing::WithFakeCluster(JsonlSinkDescriptor(), hub_));
    path_ = (std::filesystem::temp_directory_path() /
             ("nf_cluster_cli_" + std::to_string(::getpid()) + ".yaml"))
                .string();
    std::ofstream yaml(path_);
    yaml << "sinks: [jsonl]\njsonl_path: out.jsonl\n"
         << "cluster: {group: prod, partitions: 4}\nfeeds:\n";
    for (int i = 0; i < 6; ++i) {
      yaml << "  - {name: feed-" << i << ", url: \"http://x.example/" << i
           << "\"}\n";
    }
  }
  void TearDown() override { std::filesystem::remove(path_); }

  std::shared_ptr<testing::FakeClusterHub> hub_;
  SinkRegistry registry_;
  std::string path_;
};

TEST_F(ClusterCommandTest, PrintsTheOwnerOfEveryFeed) {
  ClusterDescription d;
  d.group = "prod";
  d.state = "Stable";
  d.partitions = 4;
  d.members = {{"m-1", "nf-a", "/10.0.0.1", {0, 1}},
               {"m-2", "nf-b", "/10.0.0.2", {2}}};  // partition 3: nobody
  hub_->description = d;
  const Captured c = RunStatus(path_, registry_);
  ASSERT_EQ(c.rc, kExitOk) << c.err;
  EXPECT_EQ(c.err, "");
  std::vector<std::string> names;
  for (int i = 0; i < 6; ++i) names.push_back("feed-" + std::to_string(i));
  const auto mapping = AssignFeedPartitions(names, 4);
  const char* owner_of[] = {"nf-a", "nf-a", "nf-b", "-"};
  std::istringstream lines(c.out);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "group prod: Stable, 2 members, 4 partitions");
  std::getline(lines, line);
  EXPECT_EQ(line.rfind("FEED", 0), 0u) << line;
  size_t owned = 0;
  std::set<std::string> owners;
  for (const std::string& name : names) {
    ASSERT_TRUE(std::getline(lines, line));
    std::istringstream cols(line);
    std::string feed, partition, owner;
    cols >> feed >> partition >> owner;
    EXPECT_EQ(feed, name);
    EXPECT_EQ(partition, std::to_string(mapping.at(name)));
    EXPECT_EQ(owner, owner_of[mapping.at(name)]) << line;
    if (owner != "-") {
      ++owned;
      owners.insert(owner);
    }
  }
  std::getline(lines, line);
  EXPECT_EQ(line, "6 feeds: " + std::to_string(owned) + " owned by " +
                      std::to_string(owners.size()) + " instances, " +
                      std::to_string(6 - owned) + " unowned");
}

TEST_F(ClusterCommandTest, UnreachableGroupIsOneLineAndExitOne) {
  hub_->description =
      Error(Errc::kSink, "group coordinator unreachable", "127.0.0.1:9");
  const Captured c = RunStatus(path_, registry_);
  EXPECT_EQ(c.rc, kExitBadInput);
  EXPECT_EQ(c.out, "");
  ASSERT_FALSE(c.err.empty());
  EXPECT_EQ(c.err.find('\n'), c.err.size() - 1) << c.err;
  EXPECT_NE(c.err.find("group coordinator unreachable"), std::string::npos);
}

TEST_F(ClusterCommandTest, ConfigWithoutClusterIsAnError) {
  std::ofstream(path_) << "sinks: [jsonl]\njsonl_path: out.jsonl\n";
  const Captured c = RunStatus(path_, registry_);
  EXPECT_EQ(c.rc, kExitBadInput);
  EXPECT_NE(c.err.find("no cluster: section"), std::string::npos) << c.err;
}

}  // namespace
}  // namespace newsflow
