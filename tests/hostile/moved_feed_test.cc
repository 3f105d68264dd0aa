// Hostile publishers, item 4: a publisher's permanent redirect may move a
// feed, but the move belongs to the configured URL it came from. When the
// operator changes `url:`, the daemon polls the new configured URL, not the
// target the old one once redirected to.

#include <gtest/gtest.h>

#include <string>

#include "tests/hostile/hostile_site.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow::testing {
namespace {

TEST(HostileMovedFeedTest, ChangingTheConfiguredUrlUndoesAStoredMove) {
  LoopbackHttpServer server([](const TestRequest& req) {
    TestResponse r;
    if (req.path == "/old") {
      r.status = 301;
      r.headers.push_back({"Location", "/attacker-chosen"});
    } else {
      r.body = RssFeed({req.path.substr(1)});
    }
    return r;
  });
  HostileSite site("moved");
  auto write_config = [&](const std::string& path) {
    site.WriteConfig("  - name: moving\n    url: " + server.base_url() + path +
                         "\n    full_article: never\n",
                     "scheduler:\n  redirect_move_hits: 2\n");
  };
  write_config("/old");
  for (int i = 0; i < 3; ++i) {
    auto r = site.RunOnce();
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Confirmed after two hits: the third run went straight to the target.
  auto before = server.requests();
  ASSERT_FALSE(before.empty());
  EXPECT_EQ(before.back().path, "/attacker-chosen");
  // The operator points the feed elsewhere: the move is not carried over.
  write_config("/fixed");
  auto r = site.RunOnce();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto after = server.requests();
  ASSERT_EQ(after.size(), before.size() + 1) << r.err;
  EXPECT_EQ(after.back().path, "/fixed") << r.err;
}

}  // namespace
}  // namespace newsflow::testing
