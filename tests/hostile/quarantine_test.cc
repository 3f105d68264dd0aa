// Hostile publishers, item 1 (second half): a feed whose document killed the
// process inside the parser must not kill it again at every restart. The
// parser's crash guard is set in the state store before a parse and cleared
// after; a test cannot crash today's parser (every recursion is bounded), so
// it leaves the guard set as a dead process would and runs the real binary.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "tests/hostile/hostile_site.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow::testing {
namespace {

namespace fs = std::filesystem;

// Runs `sql` on the state database; returns the first column of the first
// row as text ("" when none).
std::string Sql(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  EXPECT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(h, sql.c_str(), -1, &s, nullptr), SQLITE_OK)
      << sqlite3_errmsg(h);
  std::string out;
  if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  }
  sqlite3_finalize(s);
  sqlite3_close(h);
  return out;
}

TEST(HostileQuarantineTest, TwoParserDeathsInARowQuarantineTheFeed) {
  LoopbackHttpServer server([](const TestRequest&) {
    TestResponse r;
    r.body =
        "<rss version=\"2.0\"><channel><title>T</title><item><title>A</title>"
        "<guid>a</guid><link>http://q.example/a</link></item></channel></rss>";
    return r;
  });
  HostileSite site("quarantine");
  site.WriteConfig("  - name: q\n    url: " + server.base_url() +
                   "/feed\n    full_article: never\n");
  const auto db = site.state_db();
  auto run = [&] { return site.RunOnce(); };
  ASSERT_EQ(run().exit_code, 0);
  ASSERT_EQ(server.request_count(), 1u);
  // A clean parse leaves the guard clear.
  EXPECT_EQ(Sql(db, "SELECT parse_in_progress FROM feeds WHERE feed_id='q'"),
            "0");

  // One death inside the parser: counted, the feed is still polled, and a
  // clean parse then clears the count.
  Sql(db, "UPDATE feeds SET parse_in_progress=1 WHERE feed_id='q'");
  auto once = run();
  EXPECT_EQ(once.exit_code, 0) << once.err;
  EXPECT_EQ(server.request_count(), 2u);
  EXPECT_NE(once.err.find("died while parsing"), std::string::npos) << once.err;
  EXPECT_EQ(Sql(db, "SELECT parse_crashes FROM feeds WHERE feed_id='q'"), "0");

  // Two in a row: quarantined, not fetched, said in the log.
  Sql(db,
      "UPDATE feeds SET parse_in_progress=1, parse_crashes=1 WHERE "
      "feed_id='q'");
  auto twice = run();
  EXPECT_EQ(twice.exit_code, 1) << twice.err;
  EXPECT_EQ(server.request_count(), 2u) << "a quarantined feed was fetched";
  EXPECT_NE(twice.err.find("quarantined"), std::string::npos) << twice.err;
  EXPECT_EQ(Sql(db, "SELECT parse_crashes FROM feeds WHERE feed_id='q'"), "2");
  // Still quarantined at the next start (the pause is an hour).
  auto again = run();
  EXPECT_EQ(again.exit_code, 1) << again.err;
  EXPECT_EQ(server.request_count(), 2u);
}

}  // namespace
}  // namespace newsflow::testing
