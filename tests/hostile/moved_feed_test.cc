// Hostile publishers, item 4: a publisher's permanent redirect may move a
// feed, but the move belongs to the configured URL it came from. When the
// operator changes `url:`, the daemon polls the new configured URL, not the
// target the old one once redirected to.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "tests/testing/daemon_process.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow::testing {
namespace {

namespace fs = std::filesystem;

std::string Feed(const std::string& title) {
  return "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
         "<title>F</title><link>http://f.example/</link><item><title>" +
         title + "</title><guid>" + title + "</guid><link>http://f.example/" +
         title +
         "</link><description>Words.</description></item></channel></rss>\n";
}

TEST(HostileMovedFeedTest, ChangingTheConfiguredUrlUndoesAStoredMove) {
  LoopbackHttpServer server([](const TestRequest& req) {
    TestResponse r;
    if (req.path == "/old") {
      r.status = 301;
      r.headers.push_back({"Location", "/attacker-chosen"});
    } else {
      r.body = Feed(req.path.substr(1));
    }
    return r;
  });
  const fs::path dir = fs::temp_directory_path() /
                       ("nf_hostile_moved_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string config = (dir / "newsflow.yaml").string();
  auto write_config = [&](const std::string& path) {
    std::ofstream(config) << "metrics:\n  listen: \"\"\nstate:\n  path: "
                          << (dir / "state.db").string()
                          << "\nscheduler:\n  redirect_move_hits: 2\n"
                          << "sinks: [jsonl]\njsonl_path: "
                          << (dir / "out.jsonl").string()
                          << "\nfeeds:\n  - name: moving\n    url: "
                          << server.base_url() << path
                          << "\n    full_article: never\n";
  };
  write_config("/old");
  for (int i = 0; i < 3; ++i) {
    auto r = RunDaemonCommand({"run", "--config", config, "--once"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Confirmed after two hits: the third run went straight to the target.
  auto before = server.requests();
  ASSERT_FALSE(before.empty());
  EXPECT_EQ(before.back().path, "/attacker-chosen");
  // The operator points the feed elsewhere: the move is not carried over.
  write_config("/fixed");
  auto r = RunDaemonCommand({"run", "--config", config, "--once"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto after = server.requests();
  ASSERT_EQ(after.size(), before.size() + 1) << r.err;
  EXPECT_EQ(after.back().path, "/fixed") << r.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace newsflow::testing
