// Issue 13 through the real binary: pages decoded with the charset of their
// HTTP Content-Type (`fetch`, `extract`), and the content hash covering the
// headline (an edited title is `updated`; hashes stored by the older,
// text-only definition do not republish anything after an upgrade).

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/core/hash.h"
#include "tests/hostile/hostile_site.h"
#include "tests/testing/loopback_http_server.h"

namespace newsflow::testing {
namespace {

// "Привет, мир! Новости из Москвы." in KOI8-R.
std::string Koi8rSentence() {
  const std::string hex =
      "f0d2c9d7c5d42c20cdc9d22120eecfd7cfd3d4c920c9da20edcfd3cbd7d92e";
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// A page whose charset is given only by the HTTP header.
std::string Koi8rPage() {
  const std::string s = Koi8rSentence();
  return "<html><head><title>News</title></head><body><article><p>" + s + " " +
         s + "</p><p>" + s + "</p></article></body></html>";
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

TEST(ContentConsumersTest, FetchDecodesAPageWithTheCharsetOfItsHttpHeader) {
  LoopbackHttpServer server([](const TestRequest& req) {
    TestResponse r;
    if (req.path == "/feed") {
      r.headers.push_back({"Content-Type", "application/rss+xml"});
      r.body =
          "<rss version=\"2.0\"><channel><title>T</title><item>"
          "<title>Moscow</title><guid>m</guid>"
          "<link>http://p.example/story</link><description>Teaser."
          "</description></item></channel></rss>";
    } else {
      r.headers.push_back({"Content-Type", "text/html; charset=KOI8-R"});
      r.body = Koi8rPage();
    }
    return r;
  });
  auto r = RunDaemonCommand({"fetch", "http://p.example/feed", "--full-article",
                             "--proxy", server.base_url()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out << r.err;
  auto v = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(v["content_source"], "page");
  const std::string text = v["content_text"].get<std::string>();
  EXPECT_NE(text.find("Привет, мир! Новости из Москвы."), std::string::npos)
      << text;
  EXPECT_EQ(text.find("\xEF\xBF\xBD"), std::string::npos) << text;
  EXPECT_EQ(v["word_count"], 15);
}

TEST(ContentConsumersTest, ExtractTakesTheContentTypeCharset) {
  HostileSite site("extract_ct");
  const std::string file = site.Write("page.html", Koi8rPage());
  auto with = RunDaemonCommand(
      {"extract", file, "--content-type", "text/html; charset=koi8-r"});
  ASSERT_EQ(with.exit_code, 0) << with.err;
  EXPECT_NE(with.out.find("Привет, мир! Новости из Москвы."), std::string::npos)
      << with.out;
  // Without it the bytes are not UTF-8 and name no charset: windows-1252.
  auto without = RunDaemonCommand({"extract", file});
  ASSERT_EQ(without.exit_code, 0) << without.err;
  EXPECT_EQ(without.out.find("Привет"), std::string::npos) << without.out;
}

// A feed whose one item's title the test changes between runs.
class EditableFeed {
 public:
  EditableFeed()
      : server_([this](const TestRequest&) {
          TestResponse r;
          r.headers.push_back({"Content-Type", "application/rss+xml"});
          std::lock_guard lock(mu_);
          r.body =
              "<rss version=\"2.0\"><channel><title>T</title><item><title>" +
              title_ +
              "</title><guid>story-1</guid>"
              "<link>http://e.example/story-1</link><description>"
              "The council approved the budget on Tuesday after a long "
              "debate about the new tram line and the harbour works."
              "</description>" +
              extra_ + "</item></channel></rss>";
          return r;
        }) {}
  void SetTitle(std::string t) {
    std::lock_guard lock(mu_);
    title_ = std::move(t);
  }
  // Something else in the item (the item hash changes, the story does not).
  void SetExtra(std::string e) {
    std::lock_guard lock(mu_);
    extra_ = std::move(e);
  }
  std::string base_url() const { return server_.base_url(); }

 private:
  std::mutex mu_;
  std::string title_ = "Council approves budget";
  std::string extra_;
  LoopbackHttpServer server_;
};

void WriteConfig(HostileSite& site, const EditableFeed& feed) {
  site.WriteConfig(
      "  - name: city\n    url: http://e.example/feed\n"
      "    full_article: never\n",
      "http:\n  proxy: \"" + feed.base_url() + "\"\n");
}

TEST(ContentConsumersTest, EditedHeadlineWithTheSameBodyIsUpdated) {
  EditableFeed feed;
  HostileSite site("headline");
  WriteConfig(site, feed);
  auto first = site.RunOnce();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(Lines(site.Output()).size(), 1u) << first.err;
  feed.SetTitle("Council approves budget after all-night session");
  auto second = site.RunOnce();
  ASSERT_EQ(second.exit_code, 0) << second.err;
  auto lines = Lines(site.Output());
  ASSERT_EQ(lines.size(), 2u) << second.err;
  auto a = nlohmann::json::parse(lines[0]);
  auto b = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(b["event"], "updated");
  EXPECT_EQ(b["id"], a["id"]);
  EXPECT_EQ(b["content_text"], a["content_text"]);
  EXPECT_NE(b["content_hash"], a["content_hash"]);
  // The documented definition: sha256(title + "\n" + content_text).
  EXPECT_EQ(b["content_hash"], Sha256Hex(b["title"].get<std::string>() + "\n" +
                                         b["content_text"].get<std::string>()));
  // Unchanged afterwards: nothing more.
  auto third = site.RunOnce();
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_EQ(Lines(site.Output()).size(), 2u) << third.err;
}

void Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
      << sql << ": " << (err ? err : "");
  sqlite3_free(err);
}

// The stored row's content_hash and content_hash_version.
std::pair<std::string, int> StoredHash(const std::string& db_path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT content_hash, content_hash_version FROM articles",
                     -1, &s, nullptr);
  std::pair<std::string, int> out{"", -1};
  if (sqlite3_step(s) == SQLITE_ROW) {
    out.first = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    out.second = sqlite3_column_int(s, 1);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

// A state file written before content_hash covered the title: no
// content_hash_version column, text-only hashes. The first poll after the
// upgrade that sees the item changed (here: a new pubDate) must not
// publish the unchanged story as `updated`; it re-stores the hash by the
// new definition, after which a headline edit is an update.
TEST(ContentConsumersTest, UpgradeFromTextOnlyHashesRepublishesNothing) {
  EditableFeed feed;
  HostileSite site("hash_upgrade");
  WriteConfig(site, feed);
  auto first = site.RunOnce();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto lines = Lines(site.Output());
  ASSERT_EQ(lines.size(), 1u) << first.err;
  auto a = nlohmann::json::parse(lines[0]);
  const std::string text = a["content_text"].get<std::string>();

  // Turn the file into what the previous release left behind.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(site.state_db().c_str(), &db), SQLITE_OK);
    Exec(db, "ALTER TABLE articles DROP COLUMN content_hash_version");
    Exec(db, "ALTER TABLE tombstones DROP COLUMN content_hash_version");
    Exec(db, "UPDATE articles SET content_hash = '" + Sha256Hex(text) + "'");
    sqlite3_close(db);
  }
  feed.SetExtra("<pubDate>Tue, 10 Nov 2026 10:00:00 GMT</pubDate>");
  auto second = site.RunOnce();
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(Lines(site.Output()).size(), 1u)
      << "republished after the upgrade\n"
      << site.Output() << second.err;
  auto stored = StoredHash(site.state_db().string());
  EXPECT_EQ(stored.second, 2);
  EXPECT_EQ(stored.first, a["content_hash"]);

  // A later headline edit is published.
  feed.SetTitle("Council approves budget, tram line delayed");
  auto third = site.RunOnce();
  ASSERT_EQ(third.exit_code, 0) << third.err;
  lines = Lines(site.Output());
  ASSERT_EQ(lines.size(), 2u) << third.err;
  EXPECT_EQ(nlohmann::json::parse(lines[1])["event"], "updated");
}

// After the upgrade a text that differs from the stored (text-only) hash
// is still an edit.
TEST(ContentConsumersTest, UpgradeStillPublishesABodyEdit) {
  EditableFeed feed;
  HostileSite site("hash_upgrade_body");
  WriteConfig(site, feed);
  ASSERT_EQ(site.RunOnce().exit_code, 0);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(site.state_db().c_str(), &db), SQLITE_OK);
    Exec(db, "ALTER TABLE articles DROP COLUMN content_hash_version");
    Exec(db, "UPDATE articles SET content_hash = '" +
                 Sha256Hex("An older text of the story.") + "'");
    sqlite3_close(db);
  }
  feed.SetExtra("<pubDate>Tue, 10 Nov 2026 10:00:00 GMT</pubDate>");
  auto second = site.RunOnce();
  ASSERT_EQ(second.exit_code, 0) << second.err;
  auto lines = Lines(site.Output());
  ASSERT_EQ(lines.size(), 2u) << second.err;
  EXPECT_EQ(nlohmann::json::parse(lines[1])["event"], "updated");
  EXPECT_EQ(StoredHash(site.state_db().string()).second, 2);
}

}  // namespace
}  // namespace newsflow::testing
